"""SIGKILL while a night publishes to PostgreSQL: the warehouse shows the previous run or the
whole new one, never part of it, and the rerun matches an uninterrupted night."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql

from segmentation.config import load_config
from segmentation.io import parquet
from segmentation.layout import Home
from tests.conftest import LAST, postgres, write_config

pytestmark = pytest.mark.integration

DAY = LAST
URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def schema() -> Iterator[str]:
    _, conn = postgres()
    name = f"crash_{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        conn.close()


def rows_by_run(schema: str) -> dict[str, int]:
    """customer_segments rows per run date in the warehouse (empty before the first publish)."""
    with psycopg.connect(URL) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", [f"{schema}.customer_segments"]).fetchone()
        if not exists or exists[0] is None:
            return {}
        query = sql.SQL("SELECT run_date::text, count(*) FROM {}.customer_segments GROUP BY 1")
        return dict(conn.execute(query.format(sql.Identifier(schema))).fetchall())


def night(folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SEGMENTATION_WAREHOUSE_URL": URL}
    return subprocess.Popen(
        [sys.executable, "-m", "segmentation.cli", "run", "--config", str(folder / "config.yaml"),
         "--date", DAY.isoformat()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip


@pytest.mark.slow
def test_killed_nights_leave_the_warehouse_whole(
    published: Path, landing: Path, tmp_path: Path, schema: str
) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(published, reference)
    write_config(reference, landing, warehouse={"schema": f"{schema}_ref"})
    write_config(published, landing, warehouse={"schema": schema})
    started = time.perf_counter()
    assert night(reference).wait(timeout=300) == 0
    duration = time.perf_counter() - started
    expected = rows_by_run(f"{schema}_ref")
    customers = len(parquet.read_published(Home(load_config(reference / "config.yaml").home),
                                           "customer_segments", DAY))  # fmt: skip
    assert expected == {DAY.isoformat(): customers}

    for delay in np.linspace(duration * 0.4, duration * 0.98, 6):  # around the publish steps
        proc = night(published)
        time.sleep(float(delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        seen = rows_by_run(schema)
        assert seen in ({}, expected), seen  # nothing, or the whole night, never part of it
    assert night(published).wait(timeout=300) == 0
    assert rows_by_run(schema) == expected
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(f"{schema}_ref")))  # fmt: skip
