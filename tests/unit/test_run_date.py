"""Which day a run processes: the param, else the day before the logical date, else an error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from segmentation.config import parse_config
from segmentation.errors import SegmentationError
from segmentation.pipeline import resolve_run_date

pytestmark = pytest.mark.unit

UTC = dt.UTC


def test_the_param_wins() -> None:
    cfg = parse_config({}, base_dir=Path("."))
    logical = dt.datetime(2025, 7, 1, tzinfo=UTC)
    assert resolve_run_date("2025-03-04", logical, cfg) == dt.date(2025, 3, 4)


def test_a_nightly_run_processes_the_day_that_just_closed_in_the_configured_zone() -> None:
    logical = dt.datetime(2025, 7, 1, 0, 0, tzinfo=UTC)  # the @daily run at midnight UTC
    assert resolve_run_date(None, logical, parse_config({}, Path("."))) == dt.date(2025, 6, 30)
    # in Shanghai it is already 08:00 on 07-01: the day that closed is 06-30 there too
    shanghai = parse_config({"timezone": "Asia/Shanghai"}, Path("."))
    assert resolve_run_date(None, logical, shanghai) == dt.date(2025, 6, 30)
    # in Los Angeles it is still 06-30 (17:00): the last closed day is 06-29
    la = parse_config({"timezone": "America/Los_Angeles"}, Path("."))
    assert resolve_run_date(None, logical, la) == dt.date(2025, 6, 29)


def test_no_date_at_all_fails_fast_and_a_bad_param_is_named() -> None:
    cfg = parse_config({}, base_dir=Path("."))
    with pytest.raises(SegmentationError, match='"run_date": "YYYY-MM-DD"'):
        resolve_run_date(None, None, cfg)
    with pytest.raises(SegmentationError, match="run_date '2025-02-30' is not a date"):
        resolve_run_date("2025-02-30", None, cfg)
