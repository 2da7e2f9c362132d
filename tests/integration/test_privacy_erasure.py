"""``segmentation forget``: the customers leave every file under home and every warehouse
table, every table still opens, and the next night keeps them out of a source that still
holds them."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation import pipeline
from segmentation.cli import main
from segmentation.config import load_config
from segmentation.errors import SegmentationError
from segmentation.layout import Home
from segmentation.pipeline.forget import erasures
from segmentation.privacy.pseudonyms import audit_keys, customer_keys
from tests.conftest import LAST, START, postgres, snapshot, write_config
from tests.scan import traces, warehouse_traces

pytestmark = pytest.mark.integration

KEY = "erasure-test-key"


def _customers_of_last_day(landing: Path, n: int) -> tuple[list[str], int]:
    """``n`` customers with events in the last day's file (so the next night reads them
    again), and how many rows of that file are theirs."""
    events = pd.read_csv(landing / "events" / f"{LAST}.csv", dtype=str)
    ids = sorted(events["customer_id"].unique())[:n]
    return ids, int(events["customer_id"].isin(ids).sum())


def test_forget_reaches_every_copy_and_the_next_night_keeps_them_out(
    published: Path, landing: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    url, conn = postgres()
    conn.close()
    schema = f"seg_forget_{np.random.default_rng().integers(1 << 40):x}"
    monkeypatch.setenv("SEGMENTATION_WAREHOUSE_URL", url)
    monkeypatch.setenv("SEGMENTATION_PSEUDONYM_KEY", KEY)
    erasure_list = published / "forgotten.txt"
    config = write_config(
        published,
        landing,
        warehouse={"schema": schema},
        privacy={"erasure_list": str(erasure_list)},
    )
    cfg = load_config(config)
    home = Home(cfg.home)
    day = LAST - dt.timedelta(days=1)
    try:
        pipeline.run(cfg, day)  # the night again, now mirrored into the warehouse
        ids, rows_tonight = _customers_of_last_day(landing, 3)
        keys = list(customer_keys(np.array(ids, dtype=object), KEY.encode()))
        assert len(traces(home.root, ids)) > 10  # they were everywhere
        assert warehouse_traces(url, schema, ids)[0]

        args = ["forget", "--config", str(config), "--customer", ids[0], "--customer", ids[1]]
        (published / "more.txt").write_text(f"# one more\n{ids[2]}\n\n")
        assert main([*args, "--file", str(published / "more.txt")]) == 0
        result = json.loads(capsys.readouterr().out)

        assert result["customers"] == 3
        assert result["rows"]["lake/events"] > 0 and result["rows"]["state"] > 0
        assert result["warehouse_rows"]["customer_segments"] == 3
        assert erasure_list.read_text().split() == ids
        assert traces(home.root, ids + keys) == []
        found, tables = warehouse_traces(url, schema, ids + keys)
        assert found == [] and tables >= 10

        [entry] = erasures(home)
        assert entry["customers"] == 3 and entry["newest_night"] == day.isoformat()
        assert entry["customers_hmac"] == audit_keys(ids, KEY.encode())
        assert entry["rows"] == result["rows"]

        # the next night reads them again from its file, and drops them, counted
        tonight = pipeline.run(cfg, LAST)
        record = json.loads(home.validation_record(LAST).read_text())
        assert record["rows_erased"] == rows_tonight > 0
        assert record["rows_read"] == sum(
            record[k] for k in ("rows_valid", "rows_quarantined", "rows_duplicate", "rows_erased")
        )
        assert "erased_since_first_run" not in tonight["extract_events"]
        assert traces(home.root, ids + keys) == []
        assert warehouse_traces(url, schema, ids + keys)[0] == []

        # a rerun of a night from before the erasure lacks them, and says so
        again = pipeline.run(cfg, day)
        assert again["extract_events"]["erased_since_first_run"] == 3
        assert traces(home.root, ids + keys) == []
    finally:
        _, conn = postgres()
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()


def test_forget_refuses_without_an_erasure_list_or_a_key(
    published: Path, landing: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    config = write_config(published, landing)
    assert main(["forget", "--config", str(config), "--customer", "C0000001"]) == 2
    assert "forget needs privacy.erasure_list" in capsys.readouterr().err
    config = write_config(
        published, landing, privacy={"erasure_list": str(published / "f.txt"), "key_env": "NOPE"}
    )
    monkeypatch.delenv("NOPE", raising=False)
    assert main(["forget", "--config", str(config), "--customer", "C0000001"]) == 2
    assert "environment variable NOPE is not set" in capsys.readouterr().err
    assert not (published / "f.txt").exists()


STEP = """
import sys
from pathlib import Path
from segmentation.io import locks
from segmentation.layout import Home
with locks.steps(Home(Path(sys.argv[1]))):
    print("running", flush=True)
    sys.stdin.readline()
"""


def test_forget_runs_between_nights_only(
    published: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGMENTATION_PSEUDONYM_KEY", KEY)
    erasure_list = published / "forgotten.txt"
    cfg = load_config(write_config(published, landing, privacy={"erasure_list": str(erasure_list)}))
    home = Home(cfg.home)
    before = snapshot(cfg.home)
    at = dt.datetime(2024, 2, 10, tzinfo=dt.UTC)
    # a step of a night running in another process (an Airflow task)
    step = subprocess.Popen(
        [sys.executable, "-c", STEP, str(cfg.home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert step.stdout is not None and step.stdout.readline().strip() == "running"
        with pytest.raises(SegmentationError, match="a step of a night is running"):
            pipeline.forget(cfg, ["C0000001"], at)
    finally:
        step.communicate("done\n", timeout=30)
    # a night between its tasks: its staged events wait for validate_events
    pipeline.extract_events(cfg, LAST)
    with pytest.raises(SegmentationError, match=f"the night.s. of {LAST} are in progress"):
        pipeline.forget(cfg, ["C0000001"], at)
    assert snapshot(cfg.home) == before and not erasure_list.exists()
    pipeline.validate_events(cfg, LAST)
    assert pipeline.forget(cfg, ["C0000001"], at)["customers"] == 1
    assert home.erasure_audit.is_file()


@pytest.mark.slow
def test_forget_on_a_home_with_30_nights_and_the_warehouse(
    tmp_path: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: three customers forgotten after 30 published nights (every table's
    30 partitions, the history, the exports, the reports), then the next night."""
    url, conn = postgres()
    conn.close()
    schema = f"seg_forget30_{np.random.default_rng().integers(1 << 40):x}"
    monkeypatch.setenv("SEGMENTATION_WAREHOUSE_URL", url)
    monkeypatch.setenv("SEGMENTATION_PSEUDONYM_KEY", KEY)
    config = write_config(
        tmp_path,
        landing,
        warehouse={"schema": schema},
        privacy={"erasure_list": str(tmp_path / "forgotten.txt")},
        retention={"state_days": 30},  # every night's state and partitions kept, to be scanned
    )
    cfg = load_config(config)
    home = Home(cfg.home)
    nights = [LAST - dt.timedelta(days=30 - i) for i in range(30)]
    try:
        pipeline.ingest(cfg, START, nights[0] - dt.timedelta(days=1))
        for night in nights:
            pipeline.run(cfg, night)
        assert len(list(home.table_root("customer_segments").iterdir())) == 30
        ids, rows_tonight = _customers_of_last_day(landing, 3)
        assert len(traces(home.root, ids)) > 100

        result = pipeline.forget(cfg, ids, dt.datetime(2024, 2, 9, tzinfo=dt.UTC))

        assert result["warehouse_rows"]["customer_segments"] > 30
        keys = list(customer_keys(np.array(ids, dtype=object), KEY.encode()))
        assert traces(home.root, ids + keys) == []
        found, tables = warehouse_traces(url, schema, ids + keys)
        assert found == [] and tables >= 20
        pipeline.run(cfg, LAST)  # the next night: its file still holds them
        record = json.loads(home.validation_record(LAST).read_text())
        assert record["rows_erased"] == rows_tonight > 0
        assert traces(home.root, ids + keys) == []
        assert warehouse_traces(url, schema, ids + keys)[0] == []
    finally:
        _, conn = postgres()
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()
