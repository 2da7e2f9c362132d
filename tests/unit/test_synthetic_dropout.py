"""The generator's dropout process: customers stop at their persona's rate, and nothing else
changes.

With ``dropout=1.0``, a year of 5,000 customers: deterministic for a seed, no event after a
customer's ``dropout_day``, the share of dropped-out customers in the planted order of the
personas' hazards, and ``dropout=0`` the generator as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from segmentation import synthetic

pytestmark = pytest.mark.unit

START = dt.date(2024, 1, 1)
# personas active the whole year (at_risk for most of it): their shares follow the hazards
WHOLE_YEAR = ("at_risk", "window_shoppers", "bargain_hunters", "loyal", "champions")


def _year(seed: int = 7, **dropout: float) -> synthetic.GeneratedData:
    """A year of 5,000 customers (``dropout`` as given, or left out)."""
    return synthetic.generate(5000, START, 365, seed=seed, **dropout)


@pytest.fixture(scope="module")
def year() -> synthetic.GeneratedData:
    return _year(dropout=1.0)


def _dropped_share(data: synthetic.GeneratedData) -> pd.Series:
    return data.ground_truth.groupby("persona")["dropout_day"].apply(lambda d: d.notna().mean())


def _after_dropout(data: synthetic.GeneratedData) -> pd.DataFrame:
    """The events on a day after their customer's ``dropout_day``."""
    ev = data.events.merge(data.ground_truth, on="customer_id", how="left")
    day = ev["event_time"].dt.tz_localize(None).dt.normalize()
    return ev[day > ev["dropout_day"]]


def test_dropout_is_deterministic_for_a_seed(year: synthetic.GeneratedData) -> None:
    again = _year(dropout=1.0)
    assert again.events.equals(year.events)
    assert again.customers.equals(year.customers)
    assert again.ground_truth.equals(year.ground_truth)
    other = _year(seed=8, dropout=1.0)
    assert not other.ground_truth["dropout_day"].equals(year.ground_truth["dropout_day"])


def test_no_customer_has_an_event_after_their_dropout_day(year: synthetic.GeneratedData) -> None:
    truth = year.ground_truth
    assert list(truth.columns) == ["customer_id", "persona", "taste", "dropout_day"]
    assert _after_dropout(year).empty
    days = truth["dropout_day"].dropna()
    assert days.between(pd.Timestamp(START), pd.Timestamp(START) + pd.Timedelta(days=364)).all()
    # with drift and newcomers too: a drifted customer's second span is cut as well
    mixed = synthetic.generate(
        2000,
        START,
        120,
        seed=3,
        dropout=2.0,
        drift_from=START + dt.timedelta(days=40),
        emerging_from=START + dt.timedelta(days=60),
    )
    assert _after_dropout(mixed).empty
    assert (_dropped_share(mixed) > 0).all()  # every persona, the newcomers included


def test_dropout_shares_follow_the_planted_hazards(year: synthetic.GeneratedData) -> None:
    share = _dropped_share(year)
    assert 0.3 < year.ground_truth["dropout_day"].notna().mean() < 0.6
    hazards = [synthetic.DROPOUT_HAZARDS[name] for name in WHOLE_YEAR]
    assert hazards == sorted(hazards, reverse=True)
    assert share[list(WHOLE_YEAR)].is_monotonic_decreasing
    assert share["at_risk"] > share["window_shoppers"] + 0.03
    assert share["loyal"] > share["champions"] + 0.05
    # a whole year at rate r leaves exp(-r) active: the shares give back the planted rates
    # (a little low for the quiet personas: who drops out before a first event is not in
    # the ground truth)
    for name in WHOLE_YEAR[1:]:
        rate = -math.log(1 - share[name])
        assert rate == pytest.approx(synthetic.DROPOUT_HAZARDS[name], rel=0.3), name


def test_dropout_only_takes_events_away(year: synthetic.GeneratedData) -> None:
    base = _year()
    cols = [c for c in synthetic.EVENT_COLUMNS if c != "event_id"]
    kept = year.events[cols].merge(base.events[cols], how="left", indicator=True)
    assert (kept["_merge"] == "both").all()  # every event of the dropout run is a base event
    # (who dropped out before a first event is not in the ground truth, nor has events)
    ev = base.events.merge(year.ground_truth, on="customer_id")
    sure = ev[~(ev["event_time"].dt.tz_localize(None) >= ev["dropout_day"])][cols]
    # and every base event before its customer's dropout day is in the dropout run
    there = sure.merge(year.events[cols], how="left", indicator=True)
    assert (there["_merge"] == "both").all()
    assert len(sure) <= len(year.events) < len(base.events)
    assert year.customers.equals(base.customers)


def test_dropout_zero_is_the_generator_as_it_was() -> None:
    drift_from = START + dt.timedelta(days=20)
    for bad_rows, drift in ((0, None), (12, drift_from)):
        base = synthetic.generate(800, START, 60, seed=2, drift_from=drift, bad_rows=bad_rows)
        zero = synthetic.generate(
            800, START, 60, seed=2, drift_from=drift, bad_rows=bad_rows, dropout=0.0
        )
        assert zero.events.equals(base.events)
        assert zero.customers.equals(base.customers)
        assert zero.ground_truth.equals(base.ground_truth)
        assert "dropout_day" not in zero.ground_truth
    with pytest.raises(ValueError, match="dropout must be a rate of 0 or more"):
        synthetic.generate(10, START, 5, seed=1, dropout=-0.5)


def test_every_persona_has_a_dropout_hazard() -> None:
    names = {p.name for p in (*synthetic.PERSONAS, synthetic.EMERGING)}
    assert set(synthetic.DROPOUT_HAZARDS) == names
    assert all(h > 0 for h in synthetic.DROPOUT_HAZARDS.values())


def _cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> dict:
    from segmentation.cli import main

    argv = ["generate", "--out", str(tmp_path / name), "--customers", "300", "--start"]
    assert main([*argv, START.isoformat(), "--days", "30", "--seed", "5", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_cli_drops_customers_out_and_says_how_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _cli(tmp_path, capsys, "base")
    zero = _cli(tmp_path, capsys, "zero", "--dropout", "0")
    assert base["dropped_out_customers"] == zero["dropped_out_customers"] == 0
    for rel in ("ground_truth.csv", "customers/customers.csv", "events/2024-01-30.csv"):
        assert (tmp_path / "zero" / rel).read_bytes() == (tmp_path / "base" / rel).read_bytes()
    lines = _cli(tmp_path, capsys, "lines", "--order-lines")
    out = _cli(tmp_path, capsys, "out", "--dropout", "3", "--order-lines")
    truth = pd.read_csv(tmp_path / "out" / "ground_truth.csv")
    assert list(truth.columns) == ["customer_id", "persona", "taste", "dropout_day"]
    assert out["dropped_out_customers"] == truth["dropout_day"].notna().sum() > 0
    assert out["events"] < lines["events"] and out["events_files"] == 30
    from segmentation.cli import main

    argv = ["generate", "--out", str(tmp_path / "bad"), "--start", START.isoformat()]
    for rate in ("-1", "lots", "inf"):
        with pytest.raises(SystemExit):
            main([*argv, "--dropout", rate])
        assert f"{rate!r} is not a rate of 0 or more" in capsys.readouterr().err
