"""The whole night, in the DAG's order, under the date's lock."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from segmentation.config import Config
from segmentation.io import locks
from segmentation.layout import Home
from segmentation.pipeline.assign import assign_segments
from segmentation.pipeline.audiences import export_audiences
from segmentation.pipeline.campaigns import measure_campaigns
from segmentation.pipeline.cleanup import clean_up
from segmentation.pipeline.drift import compute_drift
from segmentation.pipeline.extract import extract_events, validate_events
from segmentation.pipeline.features import build_features
from segmentation.pipeline.predict import predict_customers
from segmentation.pipeline.publish import publish_tables
from segmentation.pipeline.recommend import recommend_items
from segmentation.pipeline.train import train_model

log = logging.getLogger(__name__)

STEPS = (
    extract_events,
    validate_events,
    build_features,
    train_model,
    assign_segments,
    predict_customers,
    recommend_items,
    publish_tables,
    export_audiences,
    measure_campaigns,
    compute_drift,
    clean_up,
)


def run(cfg: Config, day: dt.date) -> dict[str, Any]:
    """The full nightly run for ``day``: the same steps, in the same order, as the DAG.

    Holds the date's lock throughout, so a second run of the date is refused at once.
    """
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    with locks.run_lock(Home(cfg.home), day, "run"):
        for step in STEPS:
            started = time.perf_counter()
            results[step.__name__] = step(cfg, day)
            seconds[step.__name__] = round(time.perf_counter() - started, 2)
            log.info("%s for %s took %.1f s", step.__name__, day, seconds[step.__name__])
    return {**results, "seconds": seconds}
