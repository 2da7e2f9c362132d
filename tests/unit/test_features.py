"""Features on small hand-computed frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from segmentation.config import parse_config
from segmentation.features.build import SHARE_PRIOR, build_features

pytestmark = pytest.mark.unit

AS_OF = dt.date(2024, 3, 10)


def events(rows: list[tuple[str, str, str, float, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["customer_id", "event_time", "event_type", "amount", "category"]
    )
    frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True)
    return frame


def config(**features: int) -> object:
    return parse_config({"features": features} if features else {}, base_dir=Path("."))


def test_rfm_tenure_and_activity_by_hand() -> None:
    frame = events(
        [
            # a: first seen 2024-01-01, bought on 03-01 (9 days before 03-10) and 03-10
            ("a", "2024-01-01T10:00:00Z", "view", 0.0, "toys"),
            ("a", "2024-03-01T08:00:00Z", "purchase", 30.0, "toys"),
            ("a", "2024-03-10T23:59:59Z", "purchase", 10.0, "books"),
            ("a", "2024-03-10T12:00:00Z", "view", 0.0, "books"),
            # b: only views, first seen 2024-03-05
            ("b", "2024-03-05T00:00:00Z", "view", 0.0, "books"),
            # after the as-of day: must be ignored entirely
            ("a", "2024-03-11T00:00:00Z", "purchase", 999.0, "toys"),
            ("c", "2024-03-11T09:00:00Z", "view", 0.0, "toys"),
        ]
    )
    f = build_features(frame, AS_OF, config()).set_index("customer_id")
    assert list(f.index) == ["a", "b"]  # c only appears after the day
    a, b = f.loc["a"], f.loc["b"]
    assert a["recency_days"] == 0  # bought on the as-of day itself
    assert a["days_since_last_event"] == 0
    assert a["frequency"] == 2
    assert a["monetary"] == 40.0
    assert a["avg_order_value"] == 20.0
    assert a["tenure_days"] == 69  # 2024-01-01 -> 2024-03-10 (leap year: 31 + 29 + 9)
    assert a["active_days"] == 3  # 01-01, 03-01, 03-10
    assert a["n_view"] == 2 and a["n_purchase"] == 2
    assert a["conversion"] == 1.0  # 2 purchases / max(2 views, 2 purchases)
    # b never purchased: recency falls back to tenure (5 days), nothing spent
    assert b["recency_days"] == b["tenure_days"] == 5
    assert b["frequency"] == 0 and b["monetary"] == 0 and b["conversion"] == 0


def test_orders_refunds_and_net_spend_by_hand() -> None:
    frame = pd.DataFrame(
        [
            # o: one order of two lines (20 + 10), then a return of 5 (a negative line) and a
            # refund event of 1: 1 order, net spend 24, 2 refunds
            ("o", "2024-03-01T09:00:00Z", "purchase", 20.0, 2.0, "A1"),
            ("o", "2024-03-01T09:00:00Z", "purchase", 10.0, 1.0, "A1"),
            ("o", "2024-03-04T09:00:00Z", "purchase", -5.0, -1.0, "A1"),
            ("o", "2024-03-06T09:00:00Z", "refund", 1.0, None, None),
            ("o", "2024-03-06T10:00:00Z", "view", 0.0, None, None),
            # p: two orders without ids (8 and 4), a refund of 30: net spend stays at 0
            ("p", "2024-03-02T09:00:00Z", "purchase", 8.0, None, None),
            ("p", "2024-03-03T09:00:00Z", "purchase", 4.0, None, None),
            ("p", "2024-03-09T09:00:00Z", "refund", -30.0, None, None),
        ],
        columns=["customer_id", "event_time", "event_type", "amount", "quantity", "order_id"],
    ).assign(category="toys", event_time=lambda f: pd.to_datetime(f["event_time"], utc=True))
    f = build_features(frame, AS_OF, config()).set_index("customer_id")
    columns = ["frequency", "monetary", "avg_order_value", "n_refunds", "refund_amount"]
    assert f.loc["o", columns].tolist() == [1, 24.0, 24.0, 2, 6.0]
    assert f.loc["p", columns].tolist() == [2, 0.0, 0.0, 1, 30.0]
    assert f.loc["o", "refund_rate"] == 2.0 and f.loc["p", "refund_rate"] == 0.5
    # a return moves neither the last purchase nor recency: o last bought on 03-01
    assert f.loc["o", "recency_days"] == 9
    assert f.loc["o", "days_since_last_event"] == 4  # the refund and the view on 03-06
    assert f.loc["o", "conversion"] == 1.0  # 1 order / max(1 view, 1 order)
    # the return's day is no purchase day; p's lifetime net spend stays at 0 (12 - 30)
    life = ["purchase_days", "first_purchase_days_ago", "lifetime_spend"]
    assert f.loc["o", life].tolist() == [1, 9, 24.0]
    assert f.loc["p", life].tolist() == [2, 8, 0.0]


def test_category_shares_are_smoothed_towards_the_population() -> None:
    frame = events(
        [
            ("a", "2024-03-01T00:00:00Z", "view", 0.0, "toys"),
            ("a", "2024-03-02T00:00:00Z", "view", 0.0, "toys"),
            ("a", "2024-03-03T00:00:00Z", "view", 0.0, "books"),
            ("b", "2024-03-03T00:00:00Z", "view", 0.0, "books"),
        ]
    )
    f = build_features(frame, AS_OF, config()).set_index("customer_id")
    # population: 2 toys, 2 books -> prior share 0.5 each
    assert f.loc["a", "category_share_toys"] == pytest.approx(
        (2 + SHARE_PRIOR * 0.5) / (3 + SHARE_PRIOR)
    )
    assert f.loc["b", "category_share_toys"] == pytest.approx(
        (0 + SHARE_PRIOR * 0.5) / (1 + SHARE_PRIOR)
    )
    shares = f[["category_share_toys", "category_share_books"]].sum(axis=1)
    assert shares.tolist() == pytest.approx([1.0, 1.0])


def test_window_limits_frequency_but_not_tenure() -> None:
    frame = events(
        [
            ("a", "2024-01-01T00:00:00Z", "purchase", 50.0, None),  # 69 days before
            ("a", "2024-03-05T00:00:00Z", "purchase", 5.0, None),
        ]
    )
    f = build_features(frame, AS_OF, config(window_days=30)).set_index("customer_id")
    assert f.loc["a", "frequency"] == 1
    assert f.loc["a", "monetary"] == 5.0
    assert f.loc["a", "tenure_days"] == 69
    # the lifetime columns see the whole history: two purchase days, the first 69 days ago
    life = ["purchase_days", "first_purchase_days_ago", "lifetime_spend"]
    assert f.loc["a", life].tolist() == [2, 69, 55.0]


def test_silent_customer_keeps_exactly_one_row() -> None:
    frame = events(
        [
            ("old", "2022-01-01T00:00:00Z", "purchase", 20.0, None),
            ("new", "2024-03-10T00:00:00Z", "purchase", 20.0, None),
        ]
    )
    f = build_features(frame, AS_OF, config())
    assert f["customer_id"].tolist() == ["new", "old"]
    old = f.set_index("customer_id").loc["old"]
    assert old["frequency"] == 0  # outside the 365-day window
    assert old["recency_days"] == (AS_OF - dt.date(2022, 1, 1)).days


def test_day_boundaries_follow_the_configured_timezone() -> None:
    # 2024-03-10 16:30 UTC is 00:30 on 03-11 in Shanghai: after the as-of day there
    frame = events(
        [
            ("a", "2024-03-10T16:30:00Z", "purchase", 1.0, None),
            ("a", "2024-03-10T15:30:00Z", "purchase", 2.0, None),
        ]
    )
    cfg = parse_config({"timezone": "Asia/Shanghai"}, base_dir=Path("."))
    f = build_features(frame, AS_OF, cfg)
    assert f.loc[0, "monetary"] == 2.0


def test_categories_that_differ_only_by_case_or_punctuation_stay_apart() -> None:
    frame = events(
        [
            ("a", "2024-03-01T00:00:00Z", "view", 0.0, "Toys"),
            ("a", "2024-03-02T00:00:00Z", "view", 0.0, "Home & Garden"),
            ("a", "2024-03-03T00:00:00Z", "view", 0.0, "Home & Garden"),
            ("b", "2024-03-03T00:00:00Z", "view", 0.0, "toys"),
            ("b", "2024-03-04T00:00:00Z", "view", 0.0, "home-garden"),
        ]
    )
    f = build_features(frame, AS_OF, config()).set_index("customer_id")
    shares = sorted(c for c in f.columns if c.startswith("category_share_"))
    assert len(shares) == 4  # Home & Garden, Toys, home-garden, toys: none overwritten
    assert f.loc["a", "category_share_home_garden"] > f.loc["b", "category_share_home_garden"]
    assert f.loc["b", "category_share_home_garden_2"] > f.loc["a", "category_share_home_garden_2"]


def test_days_ago_are_calendar_days_across_a_dst_change() -> None:
    # New York springs forward on 2024-03-10: that day has 23 hours
    frame = events([("a", "2024-03-10T04:30:00Z", "purchase", 1.0, None)])  # 03-09 23:30 local
    cfg = parse_config({"timezone": "America/New_York"}, base_dir=Path("."))
    f = build_features(frame, AS_OF, cfg)
    assert f.loc[0, "recency_days"] == 1
    assert f.loc[0, "tenure_days"] == 1


def test_demographics_from_the_customers_source_are_encoded() -> None:
    frame = events(
        [
            ("a", "2024-03-01T00:00:00Z", "purchase", 10.0, None),
            ("b", "2024-03-02T00:00:00Z", "view", 0.0, None),
            ("c", "2024-03-02T00:00:00Z", "view", 0.0, None),
        ]
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b"],  # c has no attributes
            "age": [34, 61],
            "gender": ["female", "male"],
            "region": ["North", "south-east"],
        }
    )
    f = build_features(frame, AS_OF, config(), customers).set_index("customer_id")
    assert f.loc["a", "age"] == 34 and f.loc["b", "age"] == 61
    assert pd.isna(f.loc["c", "age"])
    assert f["gender_female"].tolist() == [1, 0, 0]
    assert f["gender_male"].tolist() == [0, 1, 0]
    assert f["region_north"].tolist() == [1, 0, 0]
    assert f["region_south_east"].tolist() == [0, 1, 0]
