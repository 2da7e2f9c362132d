"""Generated data: deterministic for a seed, drift and bad rows where asked.

That the personas differ in the planted ways needs a year of a large shop: that check is in
tests/quality/test_planted_personas.py, on the data the quality tier shares.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from segmentation import synthetic

pytestmark = pytest.mark.unit

START = dt.date(2024, 1, 1)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        synthetic.write(synthetic.generate(300, START, 20, seed=9), tmp_path / name, "csv")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert len(files) == 20 + 2  # one events file per day, customers, ground truth
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    other = synthetic.generate(300, START, 20, seed=10)
    assert not other.events.equals(synthetic.generate(300, START, 20, seed=9).events)


def test_drift_moves_a_share_of_customers_from_the_given_date() -> None:
    drift_from = START + dt.timedelta(days=30)
    base = synthetic.generate(2000, START, 60, seed=4)
    drifted = synthetic.generate(2000, START, 60, seed=4, drift_from=drift_from, drift_share=0.3)
    share = (drifted.ground_truth["persona"] == "bargain_hunters").mean()
    before = (base.ground_truth["persona"] == "bargain_hunters").mean()
    assert share > before + 0.15
    early = drifted.events[drifted.events["event_time"] < pd.Timestamp(drift_from, tz="UTC")]
    early_base = base.events[base.events["event_time"] < pd.Timestamp(drift_from, tz="UTC")]
    # same customers, same behaviour before the drift date
    assert len(early) == pytest.approx(len(early_base), rel=0.05)


def test_bad_rows_break_the_contract() -> None:
    data = synthetic.generate(300, START, 20, seed=2, bad_rows=40)
    ev = data.events
    assert ev["customer_id"].isna().sum() == 10
    assert (ev["amount"] > 1e6).sum() == 10
    assert (ev["event_type"] == "refund_request").sum() == 10
    assert ev["event_id"].duplicated().sum() >= 9


def test_personas_listed_by_the_cli_are_the_planted_ones() -> None:
    from segmentation.cli import PERSONA_NAMES

    assert tuple(p.name for p in synthetic.PERSONAS) == PERSONA_NAMES


def test_order_lines_and_returns_look_like_a_shop_export() -> None:
    from segmentation.synthetic_shop import order_lines

    data = synthetic.generate(200, START, 30, seed=4)
    purchases = data.events[data.events["event_type"] == "purchase"]
    shop = order_lines(data.events, seed=4, refund_rate=0.1)
    assert shop.equals(order_lines(data.events, seed=4, refund_rate=0.1))  # deterministic
    refunds = shop[shop["event_id"].str.startswith("R")]
    lines = shop[(shop["event_type"] == "purchase") & ~shop["event_id"].str.startswith("R")]
    # every purchase became one order of 1..4 lines at its time, with its customer
    assert lines["order_id"].nunique() == len(purchases)
    per_order = lines.groupby("order_id").agg(
        n=("event_id", "size"), times=("event_time", "nunique"), who=("customer_id", "nunique")
    )
    assert per_order["n"].between(1, 4).all() and (per_order[["times", "who"]] == 1).all().all()
    assert (lines["amount"] == (lines["quantity"] * lines["unit_price"]).round(2)).all()
    # every tenth order returns one line, 2 to 6 days later: half refunds, half negative lines
    assert len(refunds) == len(purchases) // 10
    negative = refunds[refunds["event_type"] == "purchase"]
    assert len(negative) == len(refunds) // 2
    assert (negative["quantity"] == -1).all() and (negative["amount"] < 0).all()
    assert (refunds.loc[refunds["event_type"] == "refund", "amount"] > 0).all()
    bought = lines.drop_duplicates("order_id").set_index("order_id")["event_time"]
    delay = refunds["event_time"] - refunds["order_id"].map(bought)
    assert delay.between(pd.Timedelta(days=2), pd.Timedelta(days=6)).all()
    assert set(shop["event_type"]) == {"view", "add_to_cart", "purchase", "refund"}
