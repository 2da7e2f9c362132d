"""Bad input from real shops' exports: numbers with currency symbols, rows cut short in the
middle of a file, order lines mapped by half.

Refusals go through ``run_cli`` (exit status 2, one message naming the file, the column or
line and the fix, no published table changed); a decimal-comma export is accepted with
``source.decimal`` and lands in the lake with the same amounts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.bad_input.test_bad_input import DAY, configure, edit_day, run_cli
from tests.bad_input.test_bad_input_catalogue import ingest_ok, source_lines, write_day

pytestmark = pytest.mark.bad_input


def test_amount_with_a_currency_symbol(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An amount written with its currency ("€12.50") is refused, naming the file, the
    column, the value and its line, and how to export plain numbers; it is not read as a
    missing amount."""
    edit_day(published, landing, {(2, "amount"): "€12.50"})
    err = run_cli(published, capsys)
    assert f"{DAY}.csv" in err
    assert "column 'amount' (amount)" in err and "'€12.50' at line 3" in err
    assert "currency symbol" in err and "source.decimal" in err


def test_short_row_in_the_middle_of_a_file(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row with fewer fields than the header in the middle of the file (not the last,
    still-being-written line) is a bad row quoting the file, its row number and field
    counts, instead of being read with its missing cells silently empty; one more bad row
    than the day may have, it quarantines the day."""
    lines = source_lines(landing)
    lines[3] = lines[3].rsplit(",", 1)[0]  # line 4 loses its last field
    write_day(published, landing, lambda _: ("\n".join(lines) + "\n").encode())
    err = run_cli(published, capsys)
    assert f"{DAY}.csv row 4 (the header is row 1) has 8 of the header's 9 fields" in err
    assert "Fix the source data" in err


def test_quantity_mapped_without_unit_price_or_amount(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mapping quantity but neither unit_price nor amount is refused by the config check,
    naming the key and both fixes (amount would otherwise silently be 0)."""
    configure(published, columns={"customer_id": "customer_id", "quantity": "quantity"})
    err = run_cli(published, capsys)
    assert "config.yaml" in err
    assert "source.columns maps quantity but neither unit_price nor amount" in err
    assert "Map source.columns.unit_price too, or map source.columns.amount" in err


def test_decimal_comma_amounts_are_read_with_source_decimal(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An export writing amounts as "19,99" (quoted, as a comma-separated file must) lands
    in the lake with the same amounts once ``source.decimal: ","`` is set."""
    lines = source_lines(landing)
    col = lines[0].split(",").index("amount")
    expected = {}
    for i in range(1, len(lines)):
        cells = lines[i].split(",")
        expected[cells[0]] = float(cells[col])
        cells[col] = '"' + cells[col].replace(".", ",") + '"'
        lines[i] = ",".join(cells)
    write_day(published, landing, lambda _: ("\n".join(lines) + "\n").encode())
    configure(published, decimal=",")
    events = ingest_ok(published, capsys).set_index("event_id")
    day_ids = [event_id for event_id in expected if event_id in events.index]
    assert len(day_ids) > 0
    assert events.loc[day_ids, "amount"].tolist() == [expected[i] for i in day_ids]
    assert events["order_id"].isna().all()  # in the lake as text, empty when not exported


def test_events_more_than_late_days_late(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two rows in tonight's file dated 40 days back (events.late_days is 30) are more than
    the day may hold back: the night is refused, saying how late they are and both fixes."""
    old = (DAY - dt.timedelta(days=40)).isoformat()
    edit_day(
        published,
        landing,
        {(2, "event_time"): f"{old}T10:00:00Z", (3, "event_time"): f"{old}T11:00:00Z"},
    )
    err = run_cli(published, capsys)
    assert "2 of them arrived more than events.late_days (30) days after their day" in err
    assert "raise events.late_days" in err
    assert "published tables are unchanged" in err
