"""Two runs of one date: the second is refused with a clear message; a killed run frees it."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segmentation import pipeline
from segmentation.config import load_config
from segmentation.errors import SegmentationError
from tests.conftest import LAST, snapshot

pytestmark = pytest.mark.integration

HOLD = """
import datetime as dt, sys, time
from pathlib import Path
from segmentation.io import locks
from segmentation.layout import Home
with locks.run_lock(Home(Path(sys.argv[1])), dt.date.fromisoformat(sys.argv[2]), "run"):
    print("holding", flush=True)
    time.sleep(600)
"""


def test_a_second_run_of_a_date_is_refused_and_a_killed_run_frees_it(published: Path) -> None:
    cfg = load_config(published / "config.yaml")
    day = LAST - dt.timedelta(days=1)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(cfg.home), day.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        before = snapshot(cfg.home)
        with pytest.raises(SegmentationError, match=rf"{day} is being processed by another run"):
            pipeline.run(cfg, day)
        with pytest.raises(SegmentationError, match=f"pid {holder.pid}, run"):
            pipeline.assign_segments(cfg, day)  # a single step (an Airflow task) too
        assert snapshot(cfg.home) == before  # nothing was touched
        # another date is not blocked
        pipeline.build_features(cfg, day - dt.timedelta(days=1))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
    time.sleep(0.1)
    assert pipeline.run(cfg, day)["compute_drift"]["run_date"] == day.isoformat()
