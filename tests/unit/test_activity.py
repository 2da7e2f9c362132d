"""Rolling the activity state forward day by day gives what a full rebuild gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from segmentation.config import parse_config
from segmentation.features import activity
from segmentation.features.activity import category_column

pytestmark = pytest.mark.unit


def events(rows: list[tuple[str, str, str, float, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["customer_id", "event_time", "event_type", "amount", "category"]
    )
    frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True)
    return frame


# a 3-day window over 2024-01-01 .. 01-08: "a" goes quiet after the 5th, "b" is seen once on
# the 2nd (its category "garden" leaves the window on the 5th and never comes back), "c"
# arrives on the 6th (one event without a category), "d" buys toys on the 4th and the 7th
EVENTS = events(
    [
        ("a", "2024-01-01T09:00:00Z", "purchase", 10.0, "toys"),
        ("a", "2024-01-02T10:00:00Z", "view", 0.0, "books"),
        ("b", "2024-01-02T11:00:00Z", "view", 0.0, "garden"),
        ("d", "2024-01-04T08:00:00Z", "purchase", 7.5, "toys"),
        ("a", "2024-01-05T12:00:00Z", "view", 0.0, "books"),
        ("a", "2024-01-05T12:30:00Z", "purchase", 20.0, "books"),
        ("c", "2024-01-06T13:00:00Z", "purchase", 5.0, "books"),
        ("c", "2024-01-06T14:00:00Z", "add_to_cart", 0.0, None),
        ("d", "2024-01-07T15:00:00Z", "purchase", 2.25, "toys"),
    ]
)


def micros(timestamp: str) -> int:
    return int(pd.Timestamp(timestamp).value // 1000)


def test_advance_matches_full_rebuild_as_days_enter_and_leave_the_window() -> None:
    cfg = parse_config({"features": {"window_days": 3}}, base_dir=Path("."))
    dates = EVENTS["event_time"].dt.date

    def one_day(day: dt.date) -> pd.DataFrame:
        return activity.day_activity(EVENTS[dates == day], day, cfg)

    start = dt.date(2024, 1, 3)
    state = activity.full_state(EVENTS, start, cfg)
    for i in range(1, 6):  # 01-04 .. 01-08: every day one enters and one leaves the window
        day = start + dt.timedelta(days=i)
        state = activity.advance_state(state, one_day(day), one_day(day - dt.timedelta(days=3)))
        full = activity.full_state(EVENTS, day, cfg)
        # the rolled state keeps zero columns for categories that left the window
        extra = [c for c in state.columns if c not in full.columns]
        assert (state[extra] == 0).all().all()
        pd.testing.assert_frame_equal(state.drop(columns=extra), full)
    assert extra == [category_column("garden")]  # the case above did occur
    assert state["customer_id"].tolist() == ["a", "b", "c", "d"]

    # the state of 01-08 by hand: window 01-06 .. 01-08
    by = state.set_index("customer_id")
    assert by.loc["a", "first_t"] == micros("2024-01-01T09:00:00Z")
    assert by.loc["a", "last_t"] == by.loc["a", "last_purchase_t"] == micros("2024-01-05T12:30Z")
    assert by.loc["a", ["active_days", "amount", "n_purchase", "n_view"]].tolist() == [0, 0, 0, 0]
    assert pd.isna(by.loc["b", "last_purchase_t"])
    assert by.loc["c", ["active_days", "amount", "n_purchase", "n_add_to_cart"]].tolist() == [
        1,
        5.0,
        1,
        1,
    ]
    assert by.loc["c", category_column("books")] == 1  # the event without a category counts none
    assert by.loc["d", ["active_days", "amount", category_column("toys")]].tolist() == [1, 2.25, 1]


# order lines and returns over 2024-01-01 .. 01-06, window 3 days:
# "o" buys invoice A1 as two lines on the 1st (10 + 5), invoice A2 (one line, 8) on the 4th,
# returns 3 of A2 on the 5th as a negative line, and a refund event of 4 on the 6th;
# "p" buys without order ids (two purchases on the 5th) and refunds 30 on the 6th;
# "q" only ever refunds (an order from before the data)
LINES = pd.DataFrame(
    [
        ("o", "2024-01-01T09:00:00Z", "purchase", 10.0, 2.0, "A1"),
        ("o", "2024-01-01T09:00:00Z", "purchase", 5.0, 1.0, "A1"),
        ("o", "2024-01-04T10:00:00Z", "purchase", 8.0, 1.0, "A2"),
        ("o", "2024-01-05T10:00:00Z", "purchase", -3.0, -1.0, "A2"),
        ("o", "2024-01-06T10:00:00Z", "refund", 4.0, None, None),
        ("p", "2024-01-05T11:00:00Z", "purchase", 12.0, None, None),
        ("p", "2024-01-05T12:00:00Z", "purchase", 6.0, None, None),
        ("p", "2024-01-06T12:00:00Z", "refund", -30.0, None, None),
        ("q", "2024-01-02T12:00:00Z", "refund", 9.0, None, None),
    ],
    columns=["customer_id", "event_time", "event_type", "amount", "quantity", "order_id"],
).assign(category="toys", event_time=lambda f: pd.to_datetime(f["event_time"], utc=True))


def test_orders_are_order_lines_and_refunds_never_count_as_orders() -> None:
    cfg = parse_config({"features": {"window_days": 3}}, base_dir=Path("."))
    dates = LINES["event_time"].dt.date

    def one_day(day: dt.date) -> pd.DataFrame:
        return activity.day_activity(LINES[dates == day], day, cfg)

    state = activity.full_state(LINES, dt.date(2024, 1, 2), cfg)
    for day in (dt.date(2024, 1, d) for d in range(3, 7)):
        state = activity.advance_state(state, one_day(day), one_day(day - dt.timedelta(days=3)))
        pd.testing.assert_frame_equal(state, activity.full_state(LINES, day, cfg))
    by = state.set_index("customer_id")  # 01-06: window 01-04 .. 01-06
    columns = ["orders", "amount", "refunds", "refund_amount", "n_purchase"]
    assert by.loc["o", columns].tolist() == [1, 8.0, 2, 7.0, 2]
    assert by.loc["p", columns].tolist() == [2, 18.0, 1, 30.0, 2]
    assert by.loc["q", columns].tolist() == [0, 0.0, 0, 0.0, 0]  # its refund left the window
    # the negative line of the 5th does not move o's last purchase (the 4th)
    assert by.loc["o", "last_purchase_t"] == micros("2024-01-04T10:00:00Z")
    assert by.loc["p", "last_purchase_t"] == micros("2024-01-05T12:00:00Z")
    # lifetime counters never leave the window: o bought on the 1st and the 4th (the negative
    # line of the 5th is a return), 10 + 5 + 8 in all, and returned 3 + 4
    life = ["life_purchase_days", "life_amount", "life_refund_amount"]
    assert by.loc["o", life].tolist() == [2, 23.0, 7.0]
    assert by.loc["p", life].tolist() == [1, 18.0, 30.0]
    assert by.loc["q", life].tolist() == [0, 0.0, 9.0]
    assert by.loc["o", "first_purchase_t"] == micros("2024-01-01T09:00:00Z")
    assert pd.isna(by.loc["q", "first_purchase_t"])

    early = activity.full_state(LINES, dt.date(2024, 1, 2), cfg).set_index("customer_id")
    assert early.loc["o", columns].tolist() == [1, 15.0, 0, 0.0, 2]  # two lines, one order
    assert early.loc["q", ["orders", "refunds", "refund_amount"]].tolist() == [0, 1, 9.0]
    assert pd.isna(early.loc["q", "last_purchase_t"])


def test_negative_purchases_are_not_refunds_when_the_config_rejects_them() -> None:
    cfg = parse_config(
        {"features": {"window_days": 3}, "events": {"negative_amounts": "reject"}},
        base_dir=Path("."),
    )
    by = activity.full_state(LINES, dt.date(2024, 1, 6), cfg).set_index("customer_id")
    # (validation refuses such rows first; counted here as the purchases they claim to be:
    # A2's negative line on the 5th is an order of that day, 8 - 3 is bought)
    assert by.loc["o", ["orders", "amount", "refunds", "refund_amount"]].tolist() == [
        2,
        5.0,
        1,
        4.0,
    ]
