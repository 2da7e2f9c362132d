"""Erasure file by file: Parquet rows, CSV lines and JSON values of the forgotten go; the rest,
the schema and its metadata stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.privacy.erasure import (
    Forgotten,
    append_erasure_list,
    area_of,
    erase_files,
    read_erasure_list,
)

pytestmark = pytest.mark.unit

WHO = Forgotten(ids=frozenset({"C2"}), keys=frozenset({"k2"}))


def test_parquet_rows_go_by_id_or_key_and_the_schema_stays(tmp_path: Path) -> None:
    schema = pa.schema([("customer_id", pa.string()), ("x", pa.int64())], metadata={b"m": b"1"})
    by_id = tmp_path / "state" / "run_date=2024-01-01" / "part-0.parquet"
    by_id.parent.mkdir(parents=True)
    pq.write_table(pa.table({"customer_id": ["C1", "C2", None], "x": [1, 2, 3]}, schema), by_id)
    by_key = tmp_path / "output" / "current" / "customer_segments.parquet"
    by_key.parent.mkdir(parents=True)
    pq.write_table(pa.table({"customer_key": ["k1", "k2", "k2"]}), by_key)
    untouched = tmp_path / "output" / "current" / "segment_profiles.parquet"
    pq.write_table(pa.table({"segment_id": [1, 2]}), untouched)
    before = untouched.read_bytes()

    removed = erase_files(tmp_path, WHO)

    assert removed == {"state": 1, "output/current/customer_segments": 2}
    kept = pq.read_table(by_id)
    assert kept.to_pydict() == {"customer_id": ["C1", None], "x": [1, 3]}
    assert kept.schema.metadata[b"m"] == b"1"
    assert pq.read_table(by_key).num_rows == 1
    assert untouched.read_bytes() == before
    assert erase_files(tmp_path, WHO) == {}  # nothing left: nothing rewritten


@pytest.mark.parametrize(
    ("name", "text", "left"),
    [
        (  # the other lines as they were written
            "members.csv",
            'customer_id,email\nC1,"a,b"\nC2,x\r\nC3,1.50\nC4,\n',
            'customer_id,email\nC1,"a,b"\nC3,1.50\nC4,\n',
        ),
        (  # a quoted line break is inside one cell: it goes whole with its row
            "changes.csv",
            'customer_key,address\nk1,a\nk2,"12 Main St\nApt 4"\nk3,x\u2028y\n',
            "customer_key,address\nk1,a\nk3,x\u2028y\n",
        ),
    ],
)
def test_an_audience_files_rows_go(tmp_path: Path, name: str, text: str, left: str) -> None:
    path = tmp_path / "output" / "audiences" / "a" / "run_date=2024-01-01" / name
    path.parent.mkdir(parents=True)
    path.write_text(text)
    assert erase_files(tmp_path, WHO) == {"output/audiences/a": 1}
    assert path.read_text() == left


def test_a_killed_writers_leftovers_go(tmp_path: Path) -> None:
    state = tmp_path / "state" / "run_date=2024-01-01"
    state.mkdir(parents=True)
    (state / ".tmp-part-0.parquet-0123abcd").write_bytes(b"C2 half written")
    (tmp_path / "models" / ".old-m20240101-0123").mkdir(parents=True)
    (tmp_path / "models" / ".old-m20240101-0123" / "model.joblib").write_bytes(b"x")
    (tmp_path / "features" / ".deleting-run_date=2023-01-01-0123").mkdir(parents=True)
    assert erase_files(tmp_path, WHO) == {}
    assert [p.name for p in tmp_path.rglob("*") if p.name.startswith(".")] == []


def test_json_values_equal_to_an_id_are_replaced(tmp_path: Path) -> None:
    record = tmp_path / "validation" / "events" / "run_date=2024-01-01.json"
    record.parent.mkdir(parents=True)
    record.write_text(
        json.dumps({"unexpected": ["C2", "C22", {"value": "C2", "count": 2}], "n": 2, "C2": 1})
    )
    assert erase_files(tmp_path, WHO) == {"validation/events": 2}
    assert json.loads(record.read_text()) == {
        "unexpected": ["[erased]", "C22", {"value": "[erased]", "count": 2}],
        "n": 2,
        "C2": 1,  # keys are names, never ids
    }


def test_area_names_leave_partitions_out() -> None:
    assert area_of(Path("lake/events/event_date=2024-01-01/part-0.parquet")) == "lake/events"
    assert area_of(Path("quarantine/events/event_date=2024-01-01/rows.parquet")) == (
        "quarantine/events/rows"
    )


def test_the_erasure_list_grows_once_per_id(tmp_path: Path) -> None:
    path = tmp_path / "forget.txt"
    assert read_erasure_list(path) == frozenset()
    path.write_text("# asked 2024-05-01\nC9")  # no newline at the end
    assert append_erasure_list(path, ["C2", "C9", "C1"]) == ["C1", "C2"]
    assert path.read_text() == "# asked 2024-05-01\nC9\nC1\nC2\n"
    assert read_erasure_list(path) == {"C1", "C2", "C9"}
