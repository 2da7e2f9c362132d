"""Predict what every customer will do: BG/NBD, Gamma-Gamma and the churn classifier.

Runs after ``assign_segments`` (whose staged ``segment_profiles`` gain the prediction means)
and before ``publish_tables``, which publishes ``customer_predictions`` and
``prediction_quality`` with the rest of the night.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd

from segmentation.config import Config
from segmentation.engines import engine_for
from segmentation.errors import SegmentationError
from segmentation.io import lake, locks, sources
from segmentation.io.parquet import read_table, stage_table
from segmentation.layout import EVENT_KEY, RUN_KEY, Home
from segmentation.pipeline import store
from segmentation.predictions import churn, lifetime, night, registry, tables
from segmentation.privacy import keymap

# the feature table's columns the predictions need (older feature files lack them)
NEEDED = ("purchase_days", "first_purchase_days_ago", "lifetime_spend", "recency_days")


@locks.locked
def predict_customers(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Fit BG/NBD and Gamma-Gamma on tonight's customers, train and decide tonight's churn
    classifier out of time, score every customer and stage the prediction tables."""
    home, p = Home(cfg.home), cfg.predictions
    if not p.enabled:
        return {"run_date": day.isoformat(), "skipped": "predictions.enabled is false"}
    if not home.staged_table("segment_profiles", day).is_file():
        raise SegmentationError(f"nothing staged for {day}; run assign_segments first")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    now = store.features_of(home, day)
    missing = [c for c in NEEDED if c not in now]
    if missing:
        raise SegmentationError(
            f"the features of {day} lack {', '.join(missing)} (built by an older version); "
            f"rerun build_features for {day}, then the steps after it"
        )
    seconds["read"] = time.perf_counter() - clock
    h = lifetime.histories(now, p.time_unit)
    fitted = lifetime.fit(h, p)
    seconds["btyd_fit"] = time.perf_counter() - clock - seconds["read"]
    cutoff = day - dt.timedelta(days=p.churn_days)
    outcome, holdout, holdout_why = _churn(cfg, home, day, cutoff, now)
    seconds["churn"] = time.perf_counter() - clock - sum(seconds.values())
    btyd_version = f"b{day:%Y%m%d}" if fitted.bgnbd is not None else None
    predictions = tables.customer_predictions(
        now["customer_id"],
        lifetime.predict(h, fitted, p),
        night.score(outcome.scorer, now, p.churn_bands),
        outcome.scorer_version,
        btyd_version,
    )
    seconds["score"] = time.perf_counter() - clock - sum(seconds.values())
    quality = tables.quality_table(
        fitted, btyd_version or "", (holdout, holdout_why), outcome, f"b{cutoff:%Y%m%d}"
    )
    # the profiles first: publish_tables refuses staged predictions older than the profiles
    # (assign_segments run again since), whose prediction columns would be empty
    _restage_profiles(home, day, predictions, p.horizon_days)
    pseudonyms = keymap.for_config(cfg)
    for name, frame in (("prediction_quality", quality), ("customer_predictions", predictions)):
        stage_table(frame, name, day, home.staged_table(name, day), pseudonyms)
    seconds["write"] = time.perf_counter() - clock - sum(seconds.values())
    return {
        "run_date": day.isoformat(),
        "customers": len(predictions),
        "bgnbd": fitted.bgnbd_reason or "fitted",
        "churn": outcome.skipped or (outcome.record.reason if outcome.record else "scored"),
        "churn_model": outcome.scorer_version,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }


def _churn(
    cfg: Config, home: Home, day: dt.date, cutoff: dt.date, now: pd.DataFrame
) -> tuple[night.ChurnNight, dict[str, float], str | None]:
    """Tonight's churn challenger (saved) and the BG/NBD holdout, both from the cutoff's
    features; with too little history, only the champion (if any) scores."""
    p = cfg.predictions
    champion = _champion(home, day)
    why = night.too_little_history(_history_days(home, day), p)
    if why:
        return night.champion_only(champion, why), {}, None
    # a sample by id: the same customers every night, each in the same split part
    at_cutoff = churn.sample_by_id(
        features_as_of(cfg, home, cutoff), p.train_sample, p.random_state
    )
    later = churn.rows_of(now, at_cutoff["customer_id"], f"the features of {day}")
    baseline, holdout, holdout_why = lifetime.at_cutoff(at_cutoff, later, p)
    outcome = night.train(at_cutoff, later, day, p, champion, baseline)
    if outcome.record is not None:
        with locks.shared(home):
            registry.save(outcome.challenger, outcome.record, home.churn_models)
    return outcome, holdout, holdout_why


def features_as_of(cfg: Config, home: Home, day: dt.date) -> pd.DataFrame:
    """The feature table of night ``day`` as that night knew it: its own file when it has
    every column the predictions need, else rebuilt from the lake partitions <= ``day``
    (only rows ingested by then)."""
    if home.features_file(day).is_file():
        frame = lake.read_partition(home.features, RUN_KEY, day)
        if all(c in frame for c in NEEDED):
            return frame
    engine = engine_for(cfg)
    files = lake.partition_files(home.lake, EVENT_KEY, upto=day)
    customers = sources.read_customers(cfg.customers) if cfg.customers else None
    return engine.features(engine.full_state(files, day, cfg), day, cfg, customers)


def _history_days(home: Home, day: dt.date) -> int:
    days = [d for d in lake.partition_days(home.lake, EVENT_KEY) if d <= day]
    return (day - min(days)).days + 1 if days else 0


def _champion(home: Home, day: dt.date) -> tuple[Any, registry.ChurnRecord] | None:
    with locks.shared(home):
        record = registry.champion_as_of(home.churn_models, day, strictly_before=True)
        if record is None:
            return None
        return registry.load(home.churn_models, record.model_version), record


def _restage_profiles(
    home: Home, day: dt.date, predictions: pd.DataFrame, horizons: tuple[int, ...]
) -> None:
    """Fill tonight's staged ``segment_profiles`` with the segments' prediction means."""
    staged = home.staged_table("customer_segments", day)
    segments = read_table(home, "customer_segments", staged, ["customer_id", "segment_id"])
    segment_id = segments["segment_id"]
    if not segments["customer_id"].equals(predictions["customer_id"].astype("string")):
        # both follow the feature table's order; align by id should that ever change
        by_id = segments.set_index("customer_id")["segment_id"]
        segment_id = by_id.reindex(predictions["customer_id"].astype("string"))
    clv = "predicted_clv_365d" if 365 in horizons else None
    means = tables.profile_columns(segment_id, predictions, clv)
    store.restage_profiles(home, day, means[list(tables.PROFILE_COLUMNS)].astype("float64"))
