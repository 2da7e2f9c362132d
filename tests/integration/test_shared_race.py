"""Two dates publishing at once: ``current`` never moves backwards, no history fold is lost.

The per-date lock lets a backfill of an older date run beside the nightly run; what both
share (``current``, ``segment_history``, the registry) is written under the home's
shared-state lock. Here an older night (a rerun of DAY1) and the newest (DAY2) publish at the
same instant, many times, each time from the same starting home.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
from pathlib import Path

import pandas as pd
import pytest

from segmentation import layout, pipeline
from segmentation.config import load_config
from segmentation.io import lake, parquet
from segmentation.layout import RUN_KEY, Home
from segmentation.segments import history
from tests.conftest import LAST

pytestmark = pytest.mark.integration

DAY1, DAY2 = LAST - dt.timedelta(days=1), LAST
ROUNDS = 12


def _publish(config: Path, day: dt.date, barrier: multiprocessing.synchronize.Barrier) -> None:
    cfg = load_config(config)
    barrier.wait(timeout=60)
    pipeline.publish_tables(cfg, day)


def _from_scratch(home: Home) -> pd.DataFrame:
    frame, previous = None, None
    for run in lake.partition_days(home.table_root("customer_segments"), RUN_KEY):
        assignments = parquet.read_published(
            home, "customer_segments", run, ["customer_id", "segment_id", "segment_name"]
        )
        assert assignments is not None
        frame, previous = history.advance(frame, previous, run, assignments), run
    assert frame is not None
    return frame


def test_an_old_and_a_new_night_publishing_at_once_never_move_current_back(
    published: Path, tmp_path: Path
) -> None:
    config = published / "config.yaml"
    cfg = load_config(config)
    home = Home(cfg.home)
    # DAY2 ready to publish; DAY1 (already published) staged again, as a rerun would
    pipeline.ingest(cfg, DAY2, DAY2)
    for step in (pipeline.build_features, pipeline.train_model, pipeline.assign_segments):
        step(cfg, DAY2)
    pipeline.predict_customers(cfg, DAY2)
    pipeline.recommend_items(cfg, DAY2)
    pipeline.assign_segments(cfg, DAY1)
    pipeline.predict_customers(cfg, DAY1)
    pipeline.recommend_items(cfg, DAY1)
    start = tmp_path / "start"
    shutil.copytree(home.root, start)
    fork = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        shutil.rmtree(home.root)
        shutil.copytree(start, home.root)
        barrier = fork.Barrier(2)
        # alternate which process starts first, so either may win the race
        days = (DAY1, DAY2) if round_ % 2 == 0 else (DAY2, DAY1)
        workers = [fork.Process(target=_publish, args=(config, d, barrier)) for d in days]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert [w.exitcode for w in workers] == [0, 0], f"round {round_}"
        shown = {t: parquet.current_run_date(home, t) for t in layout.TABLE_NAMES}
        # drift_metrics is published by compute_drift, which ran for DAY1 only
        expected = {t.name: DAY2 if t.step == "publish_tables" else DAY1 for t in layout.TABLES}
        assert shown == expected, f"round {round_}: current moved backwards: {shown}"
        folded = pd.read_parquet(home.current_table("segment_history"))
        pd.testing.assert_frame_equal(folded, _from_scratch(home), obj=f"history, round {round_}")
