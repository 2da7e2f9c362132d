"""The file source: column mapping, defaults, formats, time parsing, de-duplication."""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path

import pandas as pd
import pytest

from segmentation import pipeline
from segmentation.config import SourceConfig, parse_config
from segmentation.io import files, sources
from segmentation.io.postgres_source import PostgresSource

pytestmark = pytest.mark.unit

UTC = parse_config({}, base_dir=Path(".")).tz
DAY = dt.date(2024, 5, 1)


def test_every_source_kind_has_one_adapter_named_for_messages(tmp_path: Path) -> None:
    kinds = typing.get_args(typing.get_type_hints(SourceConfig)["kind"])
    assert sorted(sources.SOURCES) == sorted(kinds)
    template = str(tmp_path / "{ds}.csv")
    from_files = sources.event_source(SourceConfig(path=template), UTC)
    from_table = sources.event_source(SourceConfig(kind="postgres", table="sales.events"), UTC)
    assert isinstance(from_files, files.FileSource) and from_files.name == template
    assert isinstance(from_table, PostgresSource) and from_table.name == "sales.events"


def test_an_existing_transaction_log_maps_by_configuration_alone(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(
        "order_no,client,ts,total\n"
        "1,0042,20240501 10:00,19.5\n"
        "2,0042,20240501 11:00,5\n"
        "3,0007,20240502 09:00,7\n"  # the next day: not this batch
    )
    src = SourceConfig(
        path=str(tmp_path / "log.csv"),
        columns={
            "customer_id": "client",
            "event_time": "ts",
            "amount": "total",
            "event_id": "order_no",
        },
        event_time_format="%Y%m%d %H:%M",
        defaults={"event_type": "purchase", "channel": "store"},
    )
    events = sources.event_source(src, UTC).read_events(DAY, DAY)
    assert events["customer_id"].tolist() == ["0042", "0042"]  # ids stay text, zeros kept
    assert events["event_type"].tolist() == ["purchase", "purchase"]
    assert events["channel"].tolist() == ["store", "store"]
    assert events["amount"].tolist() == [19.5, 5.0]
    assert events["event_id"].tolist() == ["1", "2"]
    assert str(events["event_time"].dtype) == "datetime64[us, UTC]"
    assert events["category"].isna().all()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_each_format_reads_the_same_events(tmp_path: Path, fmt: str) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "event_time": pd.to_datetime(
                ["2024-05-01T01:00:00Z", "2024-05-01T02:00:00Z"], utc=True
            ),
            "event_type": ["view", "purchase"],
            "amount": [0.0, 3.5],
        }
    )
    path = tmp_path / f"events.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path)
    else:
        text = frame.assign(event_time=frame["event_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if fmt == "csv":
            text.to_csv(path, index=False)
        else:
            text.to_json(path, orient="records", lines=True)
    source = sources.event_source(SourceConfig(path=str(tmp_path), format=fmt), UTC)  # type: ignore[arg-type]
    events = source.read_events(DAY, DAY)
    assert events[["customer_id", "event_type", "amount"]].to_dict("list") == {
        "customer_id": ["a", "b"],
        "event_type": ["view", "purchase"],
        "amount": [0.0, 3.5],
    }


def test_naive_times_are_local_and_offsets_are_converted(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type\n"
        "a,2024-05-01T00:30:00+08:00,view\n"  # 2024-04-30 16:30 UTC
        "b,2024-05-01T23:30:00+02:00,view\n"  # 2024-05-01 21:30 UTC
    )
    src = SourceConfig(path=str(tmp_path / "e.csv"))
    events = sources.event_source(src, UTC).read_events(DAY, DAY)
    assert events["customer_id"].tolist() == ["b"]
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type\na,2024-05-01 00:30:00,view\n"
    )
    shanghai = parse_config({"timezone": "Asia/Shanghai"}, base_dir=Path(".")).tz
    local = sources.event_source(src, shanghai).read_events(DAY, DAY)
    assert local["event_time"].tolist() == [pd.Timestamp("2024-04-30T16:30:00Z")]


def test_a_long_history_in_one_file_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = pd.date_range("2024-05-01", periods=5, freq="D", tz="UTC")
    rows = [f"c{i},{d:%Y-%m-%dT%H:%M:%SZ},view" for i, d in enumerate(days)]
    (tmp_path / "history.csv").write_text(
        "customer_id,event_time,event_type\n" + "\n".join(rows) + "\n"
    )
    cfg = parse_config(
        {"home": str(tmp_path / "home"), "source": {"path": str(tmp_path / "history.csv")}},
        base_dir=tmp_path,
    )
    reads: list[Path] = []
    real = files.read_raw
    monkeypatch.setattr(files, "read_raw", lambda path, *a: reads.append(path) or real(path, *a))
    staged = pipeline.extract_range(cfg, DAY, DAY + dt.timedelta(days=4))
    assert reads == [tmp_path / "history.csv"]
    assert [s["rows"] for s in staged] == [1, 1, 1, 1, 1]


def test_naive_parquet_times_are_local_like_csv(tmp_path: Path) -> None:
    shanghai = parse_config({"timezone": "Asia/Shanghai"}, base_dir=Path(".")).tz
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "event_time": pd.to_datetime(
                ["2024-05-01 09:00", "2024-05-01 17:00", "2024-05-01 23:30"]
            ),
            "event_type": ["view"] * 3,
        }
    )
    frame.to_parquet(tmp_path / "e.parquet")
    src = SourceConfig(path=str(tmp_path / "e.parquet"), format="parquet")
    assert sources.event_source(src, shanghai).read_events(DAY, DAY)["customer_id"].tolist() == [
        "a",
        "b",
        "c",
    ]


def test_the_repeated_hour_when_clocks_go_back_is_kept(tmp_path: Path) -> None:
    new_york = parse_config({"timezone": "America/New_York"}, base_dir=Path(".")).tz
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type\n"
        "a,2024-11-03 00:30:00,view\nb,2024-11-03 01:30:00,view\nc,2024-11-03 02:30:00,view\n"
    )
    day = dt.date(2024, 11, 3)
    events = sources.event_source(SourceConfig(path=str(tmp_path / "e.csv")), new_york).read_events(
        day, day
    )
    assert events["customer_id"].tolist() == ["a", "b", "c"]


def test_the_source_drops_no_copy_the_intake_counts_them(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(
        "event_id,customer_id,event_time,event_type\n"
        "x,a,2024-05-01T10:00:00Z,view\nx,a,2024-05-01T10:00:00Z,view\n"
        "x,a,2024-05-02T10:00:00Z,view\n"
    )
    src = SourceConfig(path=str(tmp_path / "e.csv"))
    both = sources.event_source(src, UTC).read_events(DAY, DAY + dt.timedelta(days=1))
    assert both["event_time"].dt.day.tolist() == [1, 1, 2]
    assert both["event_id"].tolist() == ["x", "x", "x"]


def test_offsets_in_a_custom_format_may_differ_row_to_row(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type\n"
        "a,01/05/2024 10:00 +0800,view\nb,01/05/2024 10:00 +0200,view\n"
    )
    src = SourceConfig(path=str(tmp_path / "e.csv"), event_time_format="%d/%m/%Y %H:%M %z")
    events = sources.event_source(src, UTC).read_events(DAY, DAY)
    assert events["event_time"].tolist() == [
        pd.Timestamp("2024-05-01T02:00:00Z"),
        pd.Timestamp("2024-05-01T08:00:00Z"),
    ]


def test_numeric_ids_in_a_folder_of_daily_parquet_files(tmp_path: Path) -> None:
    for day, hour in (("2024-05-01", 10), ("2024-05-02", 11)):
        pd.DataFrame(
            {
                "client_no": [42],  # numbers, not text
                "event_time": pd.to_datetime([f"{day}T{hour}:00:00Z"], utc=True),
                "event_type": ["purchase"],
            }
        ).to_parquet(tmp_path / f"{day}.parquet")
    src = SourceConfig(path=str(tmp_path), format="parquet", columns={"customer_id": "client_no"})
    # one of the two files has no row for the day: its empty id column must still be text
    events = sources.event_source(src, UTC).read_events(DAY, DAY)
    assert events["customer_id"].tolist() == ["42"]


def test_a_day_read_alone_finds_its_events_in_the_neighbouring_exports(tmp_path: Path) -> None:
    # exports cut at UTC midnight, pipeline days in Berlin (UTC+2 in May)
    (tmp_path / "2024-04-30.csv").write_text(
        "customer_id,event_time,event_type\na,2024-04-30T23:00:00Z,view\n"  # 05-01 01:00 Berlin
    )
    (tmp_path / "2024-05-01.csv").write_text(
        "customer_id,event_time,event_type\nb,2024-05-01T12:00:00Z,view\n"
        "c,2024-05-01T22:30:00Z,view\n"  # 05-02 00:30 in Berlin: not this day
    )
    berlin = parse_config({"timezone": "Europe/Berlin"}, base_dir=Path(".")).tz
    src = SourceConfig(path=str(tmp_path / "{ds}.csv"))
    alone = sources.event_source(src, berlin).read_events(DAY, DAY)
    assert alone["customer_id"].tolist() == ["a", "b"]
    in_range = sources.event_source(src, berlin).read_events(DAY - dt.timedelta(days=1), DAY)
    assert in_range["customer_id"].tolist() == ["a", "b"]  # the same day, the same events


def test_empty_cells_take_the_default_and_text_that_is_no_number_does_not(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(
        "customer_id,event_time,event_type,amount\n"
        "a,2024-05-01T10:00:00Z,view,\n"
        "b,2024-05-01T11:00:00Z,,12.5\n"
        "c,2024-05-01T12:00:00Z,purchase,12;5\n"
    )
    src = SourceConfig(path=str(tmp_path / "e.csv"), defaults={"event_type": "purchase"})
    events = sources.event_source(src, UTC).read_events(DAY, DAY)
    assert events["event_type"].tolist() == ["view", "purchase", "purchase"]
    assert events["amount"].tolist()[:2] == [0.0, 12.5]
    assert pd.isna(events["amount"].iloc[2])  # left for the validation gate to report
