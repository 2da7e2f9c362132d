"""Interactions, baskets and tonight's lists from a small lake written by hand: refunded items
are no positives, baskets are orders or a customer's day, and nothing bought is offered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.config import Config, RecommendationsConfig
from segmentation.recommendations import items, night
from segmentation.recommendations.registry import ItemModel

pytestmark = pytest.mark.unit

DAY = dt.date(2025, 3, 10)


def lake(tmp_path: Path, rows: list[tuple]) -> list[Path]:
    frame = pd.DataFrame(
        rows,
        columns=["customer_id", "event_type", "product_id", "order_id", "amount", "hour"],
    )
    frame["event_time"] = pd.Timestamp(DAY, tz="UTC") + pd.to_timedelta(frame.pop("hour"), "h")
    frame["category"] = "home"
    frame["quantity"] = 1.0
    path = tmp_path / "part-0.parquet"
    frame.to_parquet(path)
    return [path]


ROWS = [
    # a: buys P1 and P2 in one order, returns P1 (a refund event), views P3
    ("a", "purchase", "P1", "O1", 10.0, 1),
    ("a", "purchase", "P2", "O1", 5.0, 1),
    ("a", "refund", "P1", None, 10.0, 5),
    ("a", "view", "P3", None, 0.0, 6),
    # b: buys P1 and P3 without an order id on the day (one basket), P2 returned as a
    # negative purchase line, adds P4 to the cart twice
    ("b", "purchase", "P1", None, 10.0, 2),
    ("b", "purchase", "P3", None, 7.0, 3),
    ("b", "purchase", "P2", None, -5.0, 4),
    ("b", "add_to_cart", "P4", None, 0.0, 4),
    ("b", "add_to_cart", "P4", None, 0.0, 5),
    # c: a purchase with no product
    ("c", "purchase", None, None, 3.0, 2),
]


def test_refunded_items_are_bought_but_no_positive(tmp_path: Path) -> None:
    got = items.read(lake(tmp_path, ROWS), Config(), DAY, DAY)
    assert got.kind == "product"
    assert got.customers.tolist() == ["a", "b"]  # c named no item
    assert got.items.tolist() == ["P1", "P2", "P3", "P4"]
    weights = pd.DataFrame(got.weights.toarray(), index=got.customers, columns=got.items)
    # a: P1 refunded (no positive), P2 bought (1.0), P3 viewed (0.1)
    assert weights.loc["a"].tolist() == pytest.approx([0.0, 1.0, 0.1, 0.0])
    # b: P1 and P3 bought, P2 returned as a negative line, P4 in the cart twice (2 x 0.3)
    assert weights.loc["b"].tolist() == pytest.approx([1.0, 0.0, 1.0, 0.6])
    bought = pd.DataFrame(got.bought.toarray(), index=got.customers, columns=got.items)
    assert bought.loc["a"].tolist() == [1, 1, 0, 0]
    assert bought.loc["b"].tolist() == [1, 1, 1, 0]
    assert got.purchases_without_item == 1


def test_a_basket_is_an_order_or_a_customers_day(tmp_path: Path) -> None:
    got = items.read(lake(tmp_path, ROWS), Config(), DAY, DAY)
    baskets = got.baskets.assign(item=got.items[got.baskets["item"]])
    sets = sorted(tuple(sorted(g)) for _, g in baskets.groupby("basket")["item"])
    # a's order O1 (P1, P2); b's day (P1, P3): refunds and returned lines are no purchases
    assert sets == [("P1", "P2"), ("P1", "P3")]


def test_the_window_is_of_local_event_dates(tmp_path: Path) -> None:
    files = lake(tmp_path, ROWS)
    assert (
        items.read(
            files, Config(), DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
        ).customers.size
        == 0
    )


def test_nothing_bought_is_offered_and_light_customers_get_their_segments_items(
    tmp_path: Path,
) -> None:
    got = items.read(lake(tmp_path, ROWS), Config(), DAY, DAY)
    customers = np.array(["a", "b", "z"])  # z: no interaction in the window
    segment = np.array([0, 0, 0])
    cfg = RecommendationsConfig(top_n=4, min_items=2)
    # a model that would rank the bought items first: they must still not appear
    model = ItemModel(got.items, np.eye(4, 2, dtype=np.float32) + 0.1)
    lists = night.serve(got, customers, segment, model, cfg)
    offered = pd.DataFrame({"c": customers[lists.row], "item": lists.item, "src": lists.source})
    bought = {("a", "P1"), ("a", "P2"), ("b", "P1"), ("b", "P2"), ("b", "P3")}
    assert not bought & set(zip(offered["c"], offered["item"], strict=True))
    # a and b weighed 2 and 3 items: the model's; z: the segment's most bought (P1, P2, P3)
    assert set(offered.loc[offered["c"] != "z", "src"]) == {"collaborative"}
    z = offered[offered["c"] == "z"]
    assert z["item"].tolist()[:3] == ["P1", "P2", "P3"] and set(z["src"]) == {"segment_popular"}


def test_light_customers_get_what_the_rules_say_goes_with_what_they_bought_first(
    tmp_path: Path,
) -> None:
    got = items.read(lake(tmp_path, ROWS), Config(), DAY, DAY)
    customers = np.array(["a", "b"])
    segment = np.array([0, 1])
    rules = pd.DataFrame(
        {
            "segment_id": pd.array([0, 1, None], dtype="Int64"),
            "antecedent": [["P2"], ["P2"], ["P1", "P3"]],
            "consequent": [["P4"], ["P4"], ["P4"]],
            "confidence": [0.4, 0.9, 0.2],
        }
    )
    # a weighed 2 items (light): segment 0's rule P2 -> P4 applies (a bought P2);
    # b weighed 3 but min_items is 4 here: the overall rule P1 + P3 -> P4 and segment 1's
    # P2 -> P4 (b's returned line counts as bought) both offer P4, the most confident wins
    cfg = RecommendationsConfig(top_n=2, min_items=4)
    lists = night.serve(got, customers, segment, None, cfg, rules)
    first = (
        pd.DataFrame(
            {
                "c": customers[lists.row],
                "rank": lists.rank,
                "item": lists.item,
                "src": lists.source,
                "score": lists.score,
            }
        )
        .query("rank == 1")
        .set_index("c")
    )
    assert first.loc["a", ["item", "src"]].tolist() == ["P4", "rule"]
    assert first.loc["a", "score"] == pytest.approx(0.4)
    assert first.loc["b", ["item", "src"]].tolist() == ["P4", "rule"]
    assert first.loc["b", "score"] == pytest.approx(0.9)


def test_a_window_without_events_recommends_nothing_and_does_not_fail(tmp_path: Path) -> None:
    empty = items.read(lake(tmp_path, ROWS), Config(), DAY + dt.timedelta(days=1), DAY)
    assert empty.weights.shape == (0, 0) and empty.baskets.empty
    lists = night.serve(empty, np.array(["a"]), np.array([0]), None, RecommendationsConfig())
    assert len(lists.item) == 0
