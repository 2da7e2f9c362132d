"""Generated data: deterministic for a seed, drift and bad rows where asked.

That the personas differ in the planted ways needs a year of a large shop: that check is in
tests/quality/test_planted_personas.py, on the data the quality tier shares.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation import synthetic
from segmentation.synthetic_arrival import Arrivals, arrange_arrivals

pytestmark = pytest.mark.unit

START = dt.date(2024, 1, 1)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        synthetic.write(synthetic.generate(300, START, 20, seed=9), tmp_path / name, "csv")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    # one events file per day, customers, ground truth, products, bundles
    assert len(files) == 20 + 4
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


def _log() -> pd.DataFrame:
    """A hand-made log of 5 days: views, orders of lines (same order_id and time), a refund."""
    rows = [  # event_id, day, hour, order_id
        ("E1", 0, 1, None),
        ("E2-1", 0, 2, "INV1"),
        ("E2-2", 0, 2, "INV1"),
        ("E3", 0, 3, None),
        ("E4", 1, 5, None),
        ("E5-1", 2, 1, "INV2"),
        ("E5-2", 2, 1, "INV2"),
        ("E5-3", 2, 1, "INV2"),
        ("RE2-1", 2, 9, "INV1"),  # a return of INV1's first line: not part of the order
        ("E6", 3, 4, None),
        ("E7", 3, 6, None),
        ("E8", 4, 2, None),
        ("E9-1", 4, 3, "INV3"),
    ]
    return pd.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "event_time": [
                pd.Timestamp(START, tz="UTC") + pd.Timedelta(days=r[1], hours=r[2]) for r in rows
            ],
            "order_id": [r[3] for r in rows],
        }
    )


def _files(arrived: Arrivals) -> dict[int, list[str]]:
    return {day: arrived.rows.loc[arrived.file_day == day, "event_id"].tolist() for day in range(5)}


def test_with_no_late_share_and_no_resend_every_row_stays_in_its_own_day() -> None:
    arrived = arrange_arrivals(_log(), START, 5, seed=1)
    assert arrived.rows.equals(_log())
    assert arrived.file_day.tolist() == [0, 0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 4, 4]
    assert (arrived.late_events, arrived.resent_events, arrived.resent_days) == (0, 0, ())


def test_all_late_moves_every_day_but_the_last_late_by_days_or_into_the_last_file() -> None:
    arrived = arrange_arrivals(_log(), START, 5, seed=1, late_share=1.0, late_by=2)
    assert _files(arrived) == {
        0: [],
        1: [],
        2: ["E1", "E2-1", "E2-2", "E3"],
        3: ["E4"],
        # its own rows first, then day 2's (2 + 2) and day 3's (past the end: the last file)
        4: ["E8", "E9-1", "E5-1", "E5-2", "E5-3", "RE2-1", "E6", "E7"],
    }
    assert arrived.late_events == 11


def test_a_late_share_moves_that_share_of_orders_and_events_whole() -> None:
    log = _log()
    # eligible (days 0 to 3): E1, INV1, E3, E4, INV2, RE2-1, E6, E7 = 8; round(0.6 x 8) = 5
    arrived = arrange_arrivals(log, START, 5, seed=7, late_share=0.6, late_by=2)
    assert sorted(arrived.rows["event_id"]) == sorted(log["event_id"])  # none lost or added
    own = arrived.rows["event_time"].dt.day.to_numpy() - 1  # January 1st is day 0
    late = arrived.file_day != own
    assert (arrived.file_day[late] == np.minimum(own[late] + 2, 4)).all()
    moved = arrived.rows[late]
    units = moved["order_id"].fillna(moved["event_id"]) + moved["event_time"].astype(str)
    assert units.nunique() == 5
    assert arrived.late_events == len(moved)
    # an order's lines arrive together
    lines = arrived.rows.assign(file=arrived.file_day).query("order_id == 'INV2'")
    assert lines["file"].nunique() == 1
    again = arrange_arrivals(log, START, 5, seed=7, late_share=0.6, late_by=2)
    assert again.rows.equals(arrived.rows) and (again.file_day == arrived.file_day).all()
    choices = {
        tuple(arrange_arrivals(log, START, 5, seed=s, late_share=0.6).file_day) for s in range(6)
    }
    assert len(choices) > 1  # the seed decides which


def test_resent_files_are_copied_after_the_file_two_days_later() -> None:
    # 5 days: only days 0, 1 and 2 have a day two later, so --resend 3 sends all three
    arrived = arrange_arrivals(_log(), START, 5, seed=1, late_share=1.0, late_by=2, resend=3)
    assert arrived.resent_days == (
        START,
        START + dt.timedelta(days=1),
        START + dt.timedelta(days=2),
    )
    assert _files(arrived) == {
        0: [],
        1: [],
        2: ["E1", "E2-1", "E2-2", "E3"],  # day 0's file (empty as first sent) adds nothing
        3: ["E4"],
        4: ["E8", "E9-1", "E5-1", "E5-2", "E5-3", "RE2-1", "E6", "E7", "E1", "E2-1", "E2-2", "E3"],
    }
    assert arrived.resent_events == 4
    with pytest.raises(ValueError, match="only 3 of 5 days"):
        arrange_arrivals(_log(), START, 5, seed=1, resend=4)


def _generate(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> dict:
    from segmentation.cli import main

    argv = ["generate", "--out", str(tmp_path / name), "--customers", "150", "--start"]
    argv += [START.isoformat(), "--days", "12", "--seed", "5", "--order-lines", *extra]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _rows(folder: Path) -> dict[str, list[str]]:
    """Each day's file as its data lines (header left out)."""
    files = sorted((folder / "events").glob("*.csv"))
    return {p.stem: p.read_text(encoding="utf-8").splitlines()[1:] for p in files}


def test_the_cli_writes_late_and_resent_rows_and_says_how_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _generate(tmp_path, capsys, "base")
    assert (base["late_events"], base["resent_events"], base["resent_days"]) == (0, 0, [])
    zero = _generate(tmp_path, capsys, "zero", "--late-share", "0", "--resend", "0")
    assert _rows(tmp_path / "zero") == _rows(tmp_path / "base")
    before = _rows(tmp_path / "base")
    late = _generate(tmp_path, capsys, "late", "--late-share", "0.25", "--late-by", "3")
    after = _rows(tmp_path / "late")
    assert _all_rows(after) == _all_rows(before)  # the same rows, none lost, none added
    moved = [(day, _day_of(row)) for day, rows in after.items() for row in rows]
    moved = [(day, own) for day, own in moved if day != own.isoformat()]
    assert len(moved) == late["late_events"] > 0
    last = START + dt.timedelta(days=11)
    assert all(day == min(own + dt.timedelta(days=3), last).isoformat() for day, own in moved)
    _generate(tmp_path, capsys, "again", "--late-share", "0.25", "--late-by", "3")
    assert _rows(tmp_path / "again") == after
    sent = _generate(tmp_path, capsys, "sent", "--resend", "1")
    (day,) = sent["resent_days"]
    later = (dt.date.fromisoformat(day) + dt.timedelta(days=2)).isoformat()
    twice = _rows(tmp_path / "sent")
    assert twice[later] == before[later] + before[day]
    assert sum(map(len, twice.values())) == sum(map(len, before.values())) + len(before[day])
    assert sent["resent_events"] == len(before[day]) and zero["events"] == sent["events"]
    del twice[later], before[later]
    assert twice == before


def _all_rows(files: dict[str, list[str]]) -> list[str]:
    return sorted(row for rows in files.values() for row in rows)


def _day_of(row: str) -> dt.date:
    return dt.date.fromisoformat(row.split(",")[2][:10])  # event_time, the third column


def test_the_cli_refuses_a_share_outside_0_1_and_more_resent_days_than_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmentation.cli import main

    argv = ["generate", "--out", str(tmp_path), "--start", START.isoformat(), "--days", "4"]
    with pytest.raises(SystemExit):
        main([*argv, "--late-share", "1.5"])
    assert "'1.5' is not a share between 0 and 1" in capsys.readouterr().err
    assert main([*argv, "--customers", "20", "--resend", "3"]) == 2
    assert "--resend 3: only 2 of the 4 days" in capsys.readouterr().err
