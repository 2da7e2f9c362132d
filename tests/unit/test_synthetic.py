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
    assert (ev["amount"] < 0).sum() == 10
    assert (ev["event_type"] == "refund_request").sum() == 10
    assert ev["event_id"].duplicated().sum() >= 9


def test_personas_listed_by_the_cli_are_the_planted_ones() -> None:
    from segmentation.cli import PERSONA_NAMES

    assert tuple(p.name for p in synthetic.PERSONAS) == PERSONA_NAMES
