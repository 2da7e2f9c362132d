"""What to offer: the association rules per segment and every customer's recommendations.

Runs after ``predict_customers`` (``assign_segments`` staged tonight's segments) and before
``publish_tables``, which publishes ``association_rules``, ``customer_recommendations`` and
``recommendation_quality`` with the rest of the night.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmentation.catalog import RULES_PROFILE_COLUMN
from segmentation.config import Config
from segmentation.errors import SegmentationError
from segmentation.io import lake, locks
from segmentation.io.parquet import read_table, stage_table
from segmentation.layout import EVENT_KEY, Home
from segmentation.pipeline import store
from segmentation.privacy import keymap
from segmentation.recommendations import items, night, registry, rules, tables


@locks.locked
def recommend_items(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Mine tonight's rules, retrain the collaborative model when it is due, and stage every
    customer's recommendations."""
    home, r = Home(cfg.home), cfg.recommendations
    if not r.enabled:
        return {"run_date": day.isoformat(), "skipped": "recommendations.enabled is false"}
    staged = home.staged_table("customer_segments", day)
    if not staged.is_file():
        raise SegmentationError(f"nothing staged for {day}; run assign_segments first")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    segments = read_table(home, "customer_segments", staged, ["customer_id", "segment_id"])
    customers = segments["customer_id"].astype(str).to_numpy()
    first = day - dt.timedelta(days=r.window_days - 1)
    tonight = items.read(_files(home, first, day), cfg, first, day)
    seconds["read"] = time.perf_counter() - clock
    codes, segment_ids = pd.factorize(segments["segment_id"], sort=True)
    found = rules.mine(
        tonight.baskets, _segment_of(tonight.customers, customers, codes), tonight.items, r.rules
    )
    seconds["rules"] = time.perf_counter() - clock - sum(seconds.values())
    record, skipped = _model_of(cfg, home, day, tonight.kind)
    seconds["retrain"] = time.perf_counter() - clock - sum(seconds.values())
    model = registry.load(home.recommendation_models, record) if record and record.serves else None
    lists = night.serve(tonight, customers, codes, model, r, found)
    found["segment_id"] = _segment_ids(found["segment_id"], segment_ids)
    version = record.model_version if model is not None and record else None
    recommended = tables.customer_recommendations(lists, customers, version)
    seconds["score"] = time.perf_counter() - clock - sum(seconds.values())
    quality = tables.quality_table(record, skipped)
    said = tables.bought_together(found, cfg.personas.language)
    store.restage_profiles(home, day, said.astype("string").to_frame(RULES_PROFILE_COLUMN))
    for name, frame in (
        ("association_rules", found),
        ("recommendation_quality", quality),
        ("customer_recommendations", recommended),
    ):
        stage_table(frame, name, day, home.staged_table(name, day), keymap.for_config(cfg))
    seconds["write"] = time.perf_counter() - clock - sum(seconds.values())
    return {
        "run_date": day.isoformat(),
        "items": f"{len(tonight.items)} {tonight.kind}s",
        "rules": len(found),
        "recommendations": len(recommended),
        "model": record.model_version if record else None,
        "served": "collaborative" if model is not None else "segment_popular",
        "purchases_without_item": tonight.purchases_without_item,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }


def _files(home: Home, first: dt.date, last: dt.date) -> list[Path]:
    """The lake partitions that can hold rows of local dates ``first`` .. ``last`` known by
    ``last``: a row is ingested on its day's night or later, never before."""
    return lake.partition_files(home.lake, EVENT_KEY, upto=last, since=first)


def _segment_ids(coded: pd.Series, segment_ids: Any) -> pd.Series:
    """Segment codes (null: all customers) as the segments' ids."""
    ids = np.asarray(segment_ids)[coded.fillna(0).astype(int).to_numpy()]
    return pd.Series(ids, index=coded.index, dtype="Int64").mask(coded.isna())


def _segment_of(ids: np.ndarray, customers: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The segment code of each of ``ids`` (-1: not among ``customers``, whose codes are
    ``codes``; the tables list customers by id, but nothing here relies on it)."""
    order = np.argsort(customers, kind="stable")
    at = night.positions(customers[order], ids)
    return np.where(at >= 0, codes[order][at.clip(0)], -1)


def _model_of(
    cfg: Config, home: Home, day: dt.date, kind: str
) -> tuple[registry.RecommenderRecord | None, str | None]:
    """The model that serves tonight, retrained first when it is due; and why none was
    trained, when one was due and could not be."""
    with locks.shared(home):
        record = registry.latest_as_of(home.recommendation_models, day)
    due = record is None or record.item_kind != kind
    if (
        record is not None
        and (day - record.trained_run_date).days >= cfg.recommendations.retrain_days
    ):
        due = True
    if not due:
        return record, None
    new, skipped = retrain_model(cfg, day, kind)
    if new is None and record is not None and record.item_kind == kind:
        return record, skipped  # the older model keeps serving
    return new, skipped


def retrain_model(
    cfg: Config, day: dt.date, kind: str | None = None
) -> tuple[registry.RecommenderRecord | None, str | None]:
    """Fit ALS on the window ending ``holdout_days`` before ``day`` (lake partitions up to
    then only), evaluate it and the baselines on the purchases since, and save it as
    ``r<day>``; None and the reason when it cannot be fitted. Its items are of ``kind``
    (tonight's: product or category), else as ``recommendations.item`` finds them."""
    home, r = Home(cfg.home), cfg.recommendations
    cutoff = day - dt.timedelta(days=r.holdout_days)
    first = cutoff - dt.timedelta(days=r.window_days - 1)
    before = items.read(_files(home, first, cutoff), cfg, first, cutoff, kind)
    after = cutoff + dt.timedelta(days=1)
    holdout = items.read(_files(home, after, day), cfg, after, day, before.kind)
    # the baseline's segments as known at the cutoff; before any was published, one group:
    # tonight's segments would carry the holdout's purchases into the baseline
    at_cutoff = store.previous_segments(home, after)
    segment = np.zeros(len(before.customers), dtype=int)
    note = " (no segments published by the cutoff: segment popularity is everyone's)"
    if at_cutoff is not None:
        codes, _ = pd.factorize(at_cutoff["segment_id"], sort=True)
        ids = at_cutoff["customer_id"].astype(str).to_numpy()
        segment = _segment_of(before.customers, ids, codes)
        segment = np.where(segment >= 0, segment, int(codes.max(initial=-1)) + 1)
        note = ""
    trained = night.train(before, holdout, segment, r)
    if trained.model is None:
        return None, trained.reason
    new = registry.RecommenderRecord(
        model_version=registry.version(day),
        trained_run_date=day,
        cutoff=cutoff,
        item_kind=before.kind,
        metrics=trained.metrics,
        serves=trained.serves,
        reason=trained.reason + note,
    )
    with locks.shared(home):
        registry.save(trained.model, new, home.recommendation_models)
    return new, None
