"""Ids and numbers as shops write them; order lines; CSV rows of the wrong length."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.config import SourceConfig, parse_config
from segmentation.errors import MalformedSource
from segmentation.io import files, sources
from segmentation.io.values import affixed_numbers, parse_numbers, text_ids

pytestmark = pytest.mark.unit

UTC = parse_config({}, base_dir=Path(".")).tz
DAY = dt.date(2024, 5, 1)


def read(src: SourceConfig) -> pd.DataFrame:
    return sources.event_source(src, UTC).read_events(DAY, DAY)


# ---------------------------------------------------------------- ids


def test_text_ids_are_trimmed_and_keep_their_leading_zeros() -> None:
    ids = text_ids(pd.Series([" 007 ", "007", "42", None, "7.0"], dtype=object))
    assert ids.tolist() == ["007", "007", "42", pd.NA, "7.0"]  # text is never reinterpreted
    assert str(ids.dtype) == "string"


def test_numeric_ids_are_the_text_of_the_number() -> None:
    assert text_ids(pd.Series([7, 42], dtype="int64")).tolist() == ["7", "42"]
    floats = pd.Series([7.0, np.nan, 12345678901.0, 7.5])  # a Parquet id column with nulls
    assert text_ids(floats).tolist() == ["7", pd.NA, "12345678901", "7.5"]
    mixed = pd.Series([7, "007", 7.0, " 8"], dtype=object)  # JSON numbers beside text
    assert text_ids(mixed).tolist() == ["7", "007", "7", "8"]


def test_an_integer_id_in_one_file_and_a_text_one_in_another_are_one_customer(
    tmp_path: Path,
) -> None:
    times = pd.to_datetime(["2024-05-01T10:00:00Z"], utc=True)
    for name, ids in (("a", pd.Series([7], dtype="int64")), ("b", pd.Series(["7"]))):
        frame = pd.DataFrame({"customer_id": ids, "event_time": times, "event_type": "view"})
        frame.to_parquet(tmp_path / f"{name}.parquet")
    pd.DataFrame({"customer_id": [7.0], "event_time": times, "event_type": "view"}).to_parquet(
        tmp_path / "c.parquet"
    )  # a float column (nullable ids in pandas)
    events = read(SourceConfig(path=str(tmp_path), format="parquet"))
    assert events["customer_id"].tolist() == ["7", "7", "7"]
    assert events["customer_id"].nunique() == 1


def test_json_numbers_and_text_ids_and_csv_zeros(tmp_path: Path) -> None:
    rows = [
        {"customer_id": 7, "event_time": "2024-05-01T10:00:00Z", "event_type": "view"},
        {"customer_id": " 007", "event_time": "2024-05-01T11:00:00Z", "event_type": "view"},
    ]
    (tmp_path / "e.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    events = read(SourceConfig(path=str(tmp_path / "e.jsonl"), format="jsonl"))
    assert events["customer_id"].tolist() == ["7", "007"]
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type\n 007 ,2024-05-01T10:00:00Z,view\n"
    )
    assert read(SourceConfig(path=str(tmp_path / "e.csv")))["customer_id"].tolist() == ["007"]


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "decimal", "thousands", "expected"),
    [
        ("1.234,56", ",", ".", 1234.56),
        ("1234,56", ",", ".", 1234.56),
        ("-1.000", ",", ".", -1000.0),
        ("12,5", ",", None, 12.5),
        ("1,234.56", ".", ",", 1234.56),
        ("1 234,56", ",", " ", 1234.56),
        ("1'234.5", ".", "'", 1234.5),
        ("12.50", ",", None, None),  # a point when the decimal is a comma: 12.5 or 1250?
        ("1.2345,6", ",", ".", None),  # not groups of three
        ("1,23", ".", ",", None),
        ("12.5", ".", None, 12.5),
        ("inf", ",", ".", float("inf")),  # no separator: read as pandas reads it
    ],
)
def test_numbers_with_the_sources_separators(
    text: str, decimal: str, thousands: str | None, expected: float | None
) -> None:
    parsed = parse_numbers(pd.Series([text], dtype=object), decimal, thousands)
    if expected is None:
        assert np.isnan(parsed.iloc[0])
    else:
        assert parsed.iloc[0] == pytest.approx(expected)


def test_numbers_a_file_typed_as_numbers_are_kept_whatever_the_separators() -> None:
    mixed = pd.Series([12.5, "2,5", None, 3], dtype=object)  # JSON numbers beside text
    assert parse_numbers(mixed, ",", ".").tolist()[:2] == [12.5, 2.5]
    assert np.isnan(parse_numbers(mixed, ",", ".").iloc[2])
    assert parse_numbers(pd.Series([1.5, 2.0]), ",", ".").tolist() == [1.5, 2.0]


def test_currency_symbols_and_units_are_recognised() -> None:
    values = pd.Series(["€12.50", "$3", "12,50 zł", "12;5", "NaN", "12.5", "EUR 4", None])
    parsed = parse_numbers(values)
    assert affixed_numbers(values, parsed).tolist() == [
        True,
        True,
        True,
        False,  # a typo is no currency: left for the validation gate
        False,
        False,
        True,
        False,
    ]


def test_a_shops_decimal_comma_file_reads_with_decimal_and_thousands(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type,amount,quantity\n"
        'a,2024-05-01T10:00:00Z,purchase,"1.234,56","2,5"\n'
        "b,2024-05-01T11:00:00Z,view,,\n"
    )
    src = SourceConfig(path=str(tmp_path / "e.csv"), decimal=",", thousands=".")
    events = read(src)
    assert events["amount"].tolist() == [1234.56, 0.0]
    assert events["quantity"].tolist()[0] == 2.5
    assert np.isnan(events["quantity"].iloc[1])


def test_a_currency_symbol_is_refused_naming_the_file_column_and_value(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type,total\n"
        "a,2024-05-01T10:00:00Z,purchase,12.50\n"
        "b,2024-05-01T11:00:00Z,purchase,€12.50\n"
    )
    src = SourceConfig(path=str(tmp_path / "e.csv"), columns={"amount": "total"})
    with pytest.raises(MalformedSource) as err:
        read(src)
    message = str(err.value)
    assert str(tmp_path / "e.csv") in message
    assert "column 'total' (amount)" in message and "'€12.50' at line 3" in message
    assert "source.decimal" in message


# ---------------------------------------------------------------- order lines


def test_amount_is_quantity_times_unit_price_and_order_ids_stay_text(tmp_path: Path) -> None:
    (tmp_path / "lines.csv").write_text(
        "InvoiceNo,StockCode,Quantity,UnitPrice,InvoiceDate,CustomerID\n"
        '536365,85123A,6,"2,55",2024-05-01 08:26,17850\n'
        '536365,71053,2,"3,39",2024-05-01 08:26,17850\n'
        '536366,22633,,"1,85",2024-05-01 08:28,017850\n'  # empty quantity: its default
        "536367,22632,3,,2024-05-01 08:30,13047\n"  # empty price, no default: amount 0
    )
    src = SourceConfig(
        path=str(tmp_path / "lines.csv"),
        columns={
            "order_id": "InvoiceNo",
            "product_id": "StockCode",
            "quantity": "Quantity",
            "unit_price": "UnitPrice",
            "event_time": "InvoiceDate",
            "customer_id": "CustomerID",
        },
        defaults={"event_type": "purchase", "quantity": 1},
        decimal=",",
    )
    events = read(src)
    assert events["amount"].tolist() == pytest.approx([15.3, 6.78, 1.85, 0.0])
    assert events["order_id"].tolist() == ["536365", "536365", "536366", "536367"]
    assert events["customer_id"].tolist() == ["17850", "17850", "017850", "13047"]
    assert events["quantity"].tolist() == [6.0, 2.0, 1.0, 3.0]
    assert "unit_price" not in events  # used for the amount, not kept in the lake


def test_an_order_line_with_a_price_that_is_no_number_has_no_amount(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type,quantity,unit_price\n"
        "a,2024-05-01T10:00:00Z,purchase,2,1.5\n"
        "a,2024-05-01T11:00:00Z,purchase,2,1;5\n"
    )
    events = read(SourceConfig(path=str(tmp_path / "e.csv")))  # found by their own names
    assert events["amount"].iloc[0] == 3.0
    assert np.isnan(events["amount"].iloc[1])  # for the validation gate to report


def test_a_mapped_amount_wins_over_quantity_and_unit_price(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type,amount,quantity,unit_price\n"
        "a,2024-05-01T10:00:00Z,purchase,10,2,1.5\n"
    )
    assert read(SourceConfig(path=str(tmp_path / "e.csv")))["amount"].tolist() == [10.0]


# ---------------------------------------------------------------- rows of the wrong length


def test_misshapen_rows_are_found_by_line_with_their_field_counts(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "a,b,c\n"
        "1,2,3\n"
        "1,2\n"  # line 3: short
        '1,"two, with a comma",3\n'
        '1,"two\nlines",3\n'  # lines 5-6: one row, the fifth
        "1,2,3,4\n"  # line 7, the sixth row: long
        "1,2,\n"  # an empty last cell is a cell
    )
    assert files.misshapen_rows(path) == [
        files.MisshapenRow(3, 2, 3),
        files.MisshapenRow(6, 4, 3),  # rows are counted, not lines: a quoted line break
    ]
    path.write_text("a,b,c\n1,2,3\n")
    assert files.misshapen_rows(path) == []


def test_short_and_long_rows_in_the_middle_become_rows_that_quote_them(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "customer_id,event_time,event_type,amount\n"
        "a,2024-05-01T10:00:00Z,view,0\n"
        "b,2024-05-01T11:00:00Z,view\n"
        "c,2024-05-01T12:00:00Z,view,0\n"
        "d,2024-05-01T13:00:00Z,view,0,9\n"
    )
    events = read(SourceConfig(path=str(path)))
    # the good rows keep their cells; each misshapen one is a row of missing cells that
    # says what it was, for validation to quarantine (pandas would fill or refuse them)
    assert events["customer_id"].fillna("-").tolist() == ["a", "c", "-", "-"]
    assert events[sources.PROBLEM].fillna("-").tolist() == [
        "-",
        "-",
        "e.csv row 3 (the header is row 1) has 3 of the header's 4 fields: "
        "'b,2024-05-01T11:00:00Z,view'",
        "e.csv row 5 (the header is row 1) has 5 of the header's 4 fields: "
        "'d,2024-05-01T13:00:00Z,view,0,9'",
    ]
    assert events["event_time"].isna().tolist() == [False, False, True, True]


def test_customer_attributes_ids_are_the_events_ids(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("customer_id,age\n 007 ,41\n")
    pd.DataFrame({"customer_id": [7, 8], "age": [30, 52]}).to_parquet(tmp_path / "b.parquet")
    from_csv = sources.read_customers(SourceConfig(path=str(tmp_path / "a.csv")))
    from_parquet = sources.read_customers(
        SourceConfig(path=str(tmp_path / "b.parquet"), format="parquet")
    )
    assert from_csv["customer_id"].tolist() == ["007"]
    assert from_parquet["customer_id"].tolist() == ["7", "8"]
    assert from_csv["age"].tolist() == [41.0]
