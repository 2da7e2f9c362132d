"""Rolling the activity state forward day by day gives what a full rebuild gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from segmentation import synthetic
from segmentation.config import parse_config
from segmentation.features import activity

pytestmark = pytest.mark.unit


def test_advance_matches_full_rebuild_as_days_enter_and_leave_the_window() -> None:
    cfg = parse_config({"features": {"window_days": 10}}, base_dir=Path("."))
    events = synthetic.generate(500, dt.date(2024, 1, 1), 40, seed=3).events
    dates = events["event_time"].dt.date

    def one_day(day: dt.date) -> pd.DataFrame:
        return activity.day_activity(events[dates == day], day, cfg)

    start = dt.date(2024, 1, 25)
    state = activity.full_state(events, start, cfg)
    for i in range(1, 12):
        day = start + dt.timedelta(days=i)
        state = activity.advance_state(state, one_day(day), one_day(day - dt.timedelta(days=10)))
        full = activity.full_state(events, day, cfg)
        # the rolled state keeps zero columns for categories that left the window
        extra = [c for c in state.columns if c not in full.columns]
        assert (state[extra] == 0).all().all()
        pd.testing.assert_frame_equal(state.drop(columns=extra), full)
    assert state["customer_id"].is_unique
