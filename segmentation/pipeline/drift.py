"""Drift of tonight's features and segments against the champion's reference; the report."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from typing import Any

import numpy as np
import pandas as pd

from segmentation import model, report
from segmentation.config import Config
from segmentation.errors import SegmentationError
from segmentation.io import lake, locks, sinks
from segmentation.io.parquet import read_published, stage_table
from segmentation.layout import Home
from segmentation.model import registry
from segmentation.monitoring import drift
from segmentation.pipeline import store
from segmentation.pipeline.publish import asset_facts
from segmentation.privacy import suppression

log = logging.getLogger(__name__)


@locks.locked
def compute_drift(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Drift of today's features and segments against the champion in force before today.

    The reference is that champion's reference day (its own training day, or for a champion
    that only refined its predecessor's segments, the predecessor's); the first run has none.
    Publishes ``drift_metrics`` (with the night's bad, late and duplicate row counts from its
    validation record) and returns the decision: ok, warn or alert.
    """
    home = Home(cfg.home)
    current = read_published(home, "customer_segments", day, ["customer_id", "segment_id"])
    if current is None:
        raise SegmentationError(
            f"customer_segments for {day} is not published; run publish_tables first"
        )
    # the rate from tonight's and the previous segments: the published migrations hide
    # their small cells
    previous = store.previous_segments(home, day)
    moves = drift.migrations(current, previous)
    metrics, level, drifted = drift.evaluate(
        drift_parts(cfg, home, day, current, previous),
        drift.migration_rate(moves),
        drift.row_counts(lake.read_json(home.validation_record(day))),
    )
    metrics = suppression.suppress_drift(
        metrics, current["segment_id"].value_counts(), cfg.privacy.min_group_size
    )
    staged = stage_table(metrics, "drift_metrics", day, home.staged_table("drift_metrics", day))
    try:
        moved = sinks.publish_files(sinks.sinks_for(cfg), day, {"drift_metrics": staged})
    finally:
        shutil.rmtree(home.work(day), ignore_errors=True)
    if drifted:
        log.warning("features drifted on %s: %s", day, ", ".join(drifted))
    with locks.shared(home):  # whether the current report moves, like the tables
        path = report.write_report(home, day, cfg.personas.language, psi_warn=cfg.drift.psi_warn)
    log.info("drift %s on %s; report: %s", level, day, path)
    return {
        "run_date": day.isoformat(),
        "level": level,
        "drifted_features": drifted,
        "report": str(path),
        "assets": asset_facts(home, day, moved),
    }


def drift_parts(
    cfg: Config, home: Home, day: dt.date, current: pd.DataFrame, previous: pd.DataFrame | None
) -> list[pd.DataFrame]:
    """Feature, segment and membership drift rows of ``day`` (the run rows come after), given
    tonight's segments and the previous night's (None: there is none)."""
    champion = store.champion(home, day, strictly_before=True)
    parts = []
    reference_segments = None
    shifts: dict[int, float] = {}
    if champion is not None:
        features = store.features_of(home, day)
        feature_metrics, scaled = feature_drift(cfg, home, champion, features, day)
        if feature_metrics is not None:
            parts.append(feature_metrics)
        reference_segments = store.segments_of(home, champion.reference_day)
        same_rows = np.array_equal(
            features["customer_id"].to_numpy(dtype=object),
            current["customer_id"].to_numpy(dtype=object),
        )
        if scaled is not None and same_rows:
            shifts = centroid_shifts(home, champion, scaled, current["segment_id"].to_numpy())
    reference = None if reference_segments is None else reference_segments["segment_id"]
    parts.append(
        drift.segment_drift(
            current["segment_id"],
            None if previous is None else previous["segment_id"],
            reference,
            shifts,
            cfg.drift.share_warn,
        )
    )
    parts.append(drift.membership_chisquare(current["segment_id"], reference))
    return parts


def centroid_shifts(
    home: Home, champion: registry.ModelRecord, scaled: np.ndarray, segment_ids: np.ndarray
) -> dict[int, float]:
    """How far each segment's mean today is from the champion's centre for that id.

    Measured in the champion's scaled space (standard units), on today's published segments.
    """
    segmenter, _ = store.load_model(home, champion.model_version)
    centres = dict(zip(champion.segment_ids, segmenter.centers_scaled_, strict=True))
    means = pd.DataFrame(scaled).groupby(segment_ids, sort=True).mean()
    ids = [int(s) for s in means.index.to_numpy()]
    return {
        sid: float(np.linalg.norm(row - centres[sid]))
        for sid, row in zip(ids, means.to_numpy(), strict=True)
        if sid in centres
    }


def feature_drift(
    cfg: Config,
    home: Home,
    champion: registry.ModelRecord,
    features: pd.DataFrame,
    day: dt.date,
    sample: int | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """Today's features against the champion's reference day, raw and on the model's scale.

    Returns the metrics (None when the reference features are gone) and today's features on
    the champion's scale (None when it cannot transform them). ``sample`` limits both sides
    to a seeded sample (the retrain decision); ``compute_drift`` uses everyone.
    """
    reference_day = champion.reference_day
    path = home.features_file(reference_day)
    if not path.is_file():
        return None, None
    cols = [c for c in champion.features if c in features and c in lake.column_names(path)]
    reference = drift.aged(store.features_of(home, reference_day, cols), (day - reference_day).days)
    current = features[cols]
    if sample is not None:
        reference = reference.iloc[model.sample_rows(len(reference), sample, seed)]
        current = current.iloc[model.sample_rows(len(current), sample, seed)]
    reference_scaled = current_scaled = None
    if cols == champion.features:
        segmenter, _ = store.load_model(home, champion.model_version)
        reference_scaled = segmenter.transform(reference)
        current_scaled = segmenter.transform(current)
    metrics = drift.feature_drift(reference, current, reference_scaled, current_scaled, cfg.drift)
    return metrics, current_scaled
