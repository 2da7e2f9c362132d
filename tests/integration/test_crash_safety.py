"""SIGKILL at many points of a night: readers see the previous run's tables or the new ones,
complete, never a partial file; rerunning gives what an uninterrupted run gives."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation.config import load_config
from segmentation.io import parquet
from segmentation.layout import TABLE_NAMES, Home
from tests.conftest import LAST, write_config

pytestmark = pytest.mark.integration

DAY = LAST  # the published fixture has the night before published
CLI = [sys.executable, "-m", "segmentation.cli"]


def night(folder: Path) -> subprocess.Popen[bytes]:
    config = folder / "config.yaml"
    return subprocess.Popen(
        [*CLI, "run", "--config", str(config), "--date", DAY.isoformat()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def tables(home: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for table in TABLE_NAMES:
        if table == "segment_history":
            out[table] = pd.read_parquet(Home(home).current_table(table))
        else:
            frame = parquet.read_published(Home(home), table, DAY)
            assert frame is not None, table
            out[table] = frame
    return out


def assert_readers_see_whole_tables(home: Path) -> None:
    """Every published file opens; each current table is the previous run's or tonight's."""
    for path in (Home(home).output).rglob("*.parquet"):
        if not path.name.startswith("."):
            pq.read_table(path)  # a half-written file would fail here
    for table in TABLE_NAMES:
        shown = parquet.current_run_date(Home(home), table)
        assert shown in (DAY, DAY - pd.Timedelta(days=1).to_pytimedelta()), (table, shown)


@pytest.mark.slow
def test_killed_nights_leave_whole_tables_and_a_rerun_matches(
    published: Path, landing: Path, tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(published, reference)
    write_config(reference, landing)
    started = time.perf_counter()
    assert night(reference).wait(timeout=300) == 0
    duration = time.perf_counter() - started
    expected = tables(load_config(reference / "config.yaml").home)

    cfg = load_config(published / "config.yaml")
    # kill points spread over the whole night: extract, validation, training, publishing...
    for delay in np.linspace(0.3, duration * 0.95, 8):
        proc = night(published)
        time.sleep(float(delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert_readers_see_whole_tables(cfg.home)
    assert night(published).wait(timeout=300) == 0
    got = tables(cfg.home)
    for table, frame in expected.items():
        pd.testing.assert_frame_equal(got[table], frame, obj=table)
