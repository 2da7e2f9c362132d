"""Publish the night's tables to every sink, and fold the night into the membership history."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from segmentation import layout
from segmentation.config import Config
from segmentation.errors import SegmentationError
from segmentation.io import lake, locks, sinks
from segmentation.io.parquet import (
    current_run_date,
    read_published,
    read_table,
    segment_names,
    stage_table,
)
from segmentation.layout import RUN_KEY, Home
from segmentation.model import registry
from segmentation.pipeline.suppress import suppress_staged
from segmentation.privacy import keymap
from segmentation.segments import history

HISTORY = "segment_history"


@locks.locked
def publish_tables(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Publish the staged assignments, the model registry and the history for ``day``."""
    home = Home(cfg.home)
    work = home.work(day)
    staged = {
        t.name: home.staged_table(t.name, day)
        for t in layout.staged_tables()
        if t.stager == "assign_segments"
        or (t.stager == "predict_customers" and cfg.predictions.enabled)
        or (t.stager == "recommend_items" and cfg.recommendations.enabled)
    }
    # assign_segments again after a later step: that step's tables (and its columns of the
    # segment profiles) are of the previous assignment
    segments = staged["customer_segments"]
    for step, table in (
        ("predict_customers", "customer_predictions"),
        ("recommend_items", "customer_recommendations"),
    ):
        later = staged.get(table)
        if (
            segments.is_file()
            and later is not None
            and later.is_file()
            and (later.stat().st_mtime_ns < segments.stat().st_mtime_ns)
        ):
            raise SegmentationError(
                f"assign_segments ran again for {day} after {step}; run {step} again, so "
                "its tables and the segment profiles follow the new segments"
            )
    if not all(path.is_file() for path in staged.values()):
        missing = sorted({layout.table(t).stager for t, p in staged.items() if not p.is_file()})
        raise SegmentationError(
            f"nothing staged to publish for {day}; run {' and '.join(missing)} first"
        )
    staged.update(suppress_staged(cfg, day, staged))
    with locks.shared(home):
        frames = {
            "model_registry": registry.registry_table(home.models, day),
            "segment_lineage": registry.lineage_table(home.models, day),
        }
    for table, frame in frames.items():
        staged[table] = stage_table(frame, table, day, home.staged_table(table, day))
    targets = sinks.sinks_for(cfg)
    per_run = {t: f for t, f in staged.items() if layout.table(t).per_run}
    moved = sinks.publish_files(targets[:1], day, per_run)
    with locks.shared(home):  # the fold reads and rewrites what every date shares
        as_of, folded = fold_history(home, day, keymap.for_config(cfg))
        moved.update(sinks.publish_files(targets[:1], as_of, {HISTORY: folded}))
    # the warehouse mirrors the night in one transaction (drift_metrics: compute_drift)
    sinks.publish_files(targets[1:], day, {**per_run, HISTORY: folded})
    shutil.rmtree(work)  # only once everything is published: a retry still finds it all
    paths = {t: str(home.partition(t, day).parent) for t in per_run}
    paths[HISTORY] = str(home.current_table(HISTORY))
    return {
        "run_date": day.isoformat(),
        "tables": paths,
        "assets": asset_facts(home, day, moved),
    }


def fold_history(
    home: Home, day: dt.date, pseudonyms: keymap.Pseudonyms | None = None
) -> tuple[dt.date, Path]:
    """Stage the membership history with ``day`` folded in; the run it is as of, its file.

    The history is one file (it grows with changes, not days), as of the newest run folded
    into it, and always equals a build from scratch over the published ``customer_segments``
    (``history.plan_refold``). Call under the home's shared-state lock.
    """
    runs = lake.partition_days(home.table_root("customer_segments"), RUN_KEY)
    current = home.current_table(HISTORY)
    plan = history.plan_refold(
        runs, current_run_date(home, HISTORY) if current.is_file() else None, day
    )
    frame = None
    if plan.base == "file":
        frame = read_table(home, HISTORY, current)
    elif plan.base == "truncate":
        assert plan.previous is not None
        frame = history.truncate(
            read_table(home, HISTORY, current), plan.previous, segment_names(home, plan.previous)
        )
    previous = plan.previous
    for run in plan.todo:
        assignments = read_published(
            home, "customer_segments", run, ["customer_id", "segment_id", "segment_name"]
        )
        if assignments is None:
            raise SegmentationError(f"customer_segments for {run} vanished while folding it")
        frame = history.advance(frame, previous, run, assignments)
        previous = run
    assert frame is not None and previous is not None  # today's segments are published
    path = home.staged_table(HISTORY, day)
    return previous, stage_table(frame, HISTORY, previous, path, pseudonyms)


def asset_facts(home: Home, day: dt.date, moved: dict[str, bool]) -> dict[str, dict[str, Any]]:
    """Per published table, what its Asset event says: the run date, whether ``current``
    moved (False for a backfill of an older date), and the rows of the run."""
    facts = {}
    for table, current_moved in moved.items():
        path = (
            home.partition(table, day) if layout.table(table).per_run else home.current_table(table)
        )
        facts[table] = {
            "run_date": day.isoformat(),
            "current_moved": bool(current_moved),
            "rows": lake.row_count(path),
        }
    return facts
