"""A whole night's logs, at DEBUG and from every library, name no customer."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from segmentation import pipeline
from segmentation.config import load_config
from tests.conftest import LAST

pytestmark = pytest.mark.integration


def test_a_night_logs_no_customer_id(
    published: Path, landing: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = load_config(published / "config.yaml")
    ids = set(pd.concat(pd.read_csv(f, dtype=str) for f in (landing / "events").glob("*.csv"))
              ["customer_id"])  # fmt: skip
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records reach it
    result = pipeline.run(cfg, LAST)
    pipeline.run(cfg, LAST)  # a rerun logs its own lines too
    records = [f"{r.name}: {r.getMessage()}" for r in caplog.records]
    assert len(records) > 20
    pattern = re.compile("|".join(sorted(ids)))
    named = [line for line in records if pattern.search(line)]
    assert named == []
    assert not pattern.search(repr(result))  # nor what the DAG keeps as XCom
    assert dt.date.fromisoformat(result["publish_tables"]["run_date"]) == LAST
