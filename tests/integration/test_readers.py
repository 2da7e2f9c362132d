"""Every output table reads the obvious way in pandas, pyarrow, DuckDB and Polars.

A downstream engineer points a reader at ``<home>/output/<table>`` and gets every run's rows,
with ``run_date`` from the folder names; each published file has its table's declared schema
(``segmentation.catalog``); and partitions written before a column was added read beside
newer ones (the column null in the old rows), with each reader's way of merging schemas.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from segmentation.catalog import TABLES, table
from segmentation.io import schema
from segmentation.layout import Home
from tests.conftest import LAST

pytestmark = pytest.mark.integration

PER_RUN = [t.name for t in TABLES if t.per_run]
NIGHTS = [LAST - dt.timedelta(days=1), LAST]
DATE_PARTITIONING = ds.partitioning(pa.schema([("run_date", pa.date32())]), flavor="hive")
# each reader's name for a contract type (written out here, not derived from the code)
DUCKDB_TYPES = {
    "DATE": "date",
    "VARCHAR": "string",
    "BIGINT": "int64",
    "TINYINT": "int8",
    "DOUBLE": "double",
    "BOOLEAN": "bool",
    "VARCHAR[]": "list",
}
POLARS_TYPES = {
    pl.Date: "date",
    pl.String: "string",
    pl.Int64: "int64",
    pl.Int8: "int8",
    pl.Float64: "double",
    pl.Boolean: "bool",
    pl.List(pl.String): "list",
}
ARROW_TYPES = {
    pa.date32(): "date",
    pa.large_string(): "string",
    pa.int64(): "int64",
    pa.int8(): "int8",
    pa.float64(): "double",
    pa.bool_(): "bool",
}


def arrow_type(t: pa.DataType) -> str:
    """The contract type of an Arrow type (a list's item may be named item or element)."""
    if pa.types.is_large_list(t) and t.value_type == pa.large_string():
        return "list"
    return ARROW_TYPES[t]


# a night may have no rule at all (these 400 customers' 40 days never do): the table's file
# is there, with its schema, and no rows
MAY_BE_EMPTY = {"association_rules"}


@pytest.fixture(scope="module")
def output(two_nights_home: Path) -> Path:
    return Home(two_nights_home / "home").output


def by_file(root: Path) -> pd.DataFrame:
    """The reference: each partition's file read on its own, run_date from the folder name."""
    frames = []
    for night in NIGHTS:
        file = root / f"run_date={night}" / "part-0.parquet"
        frames.append(pq.read_table(file).to_pandas().assign(run_date=night))
    return pd.concat(frames, ignore_index=True)


def canonical(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows as sorted tuples of plain values (dates as ISO text, NaN as None)."""
    out = frame[columns].astype(object).where(frame[columns].notna(), None)
    rows = []
    for row in out.itertuples(index=False):
        rows.append(tuple(_plain(v) for v in row))
    return sorted(rows, key=repr)


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | list):  # a list column's value
        return tuple(_plain(v) for v in value)
    return value


@pytest.mark.parametrize("name", PER_RUN)
def test_every_reader_gets_the_same_rows_and_types(output: Path, name: str) -> None:
    root = output / name
    reference = by_file(root)
    columns = list(reference.columns)
    expected = canonical(reference, columns)
    declared = {c: table(name).column(c).type for c in columns}  # type: ignore[union-attr]

    arrow = ds.dataset(root, partitioning=DATE_PARTITIONING).to_table()
    assert {c: arrow_type(arrow.schema.field(c).type) for c in columns} == declared
    assert canonical(arrow.to_pandas(), columns) == expected

    # without a schema, pyarrow (and so pandas) discovers partition values as text
    plain = ds.dataset(root, partitioning="hive").to_table()
    assert plain.schema.field("run_date").type == pa.string()
    assert canonical(plain.to_pandas(), columns) == expected
    frame = pd.read_parquet(root)
    assert isinstance(frame["run_date"].dtype, pd.CategoricalDtype)
    assert sorted(frame["run_date"].cat.categories) == [str(n) for n in NIGHTS]
    assert canonical(frame, columns) == expected

    sql = f"SELECT * FROM read_parquet('{root}/*/*.parquet', hive_partitioning = true)"
    rel = duckdb.sql(sql)
    assert {c: DUCKDB_TYPES[str(t)] for c, t in zip(rel.columns, rel.types, strict=True)} == (
        declared
    )
    assert canonical(rel.df(), columns) == expected

    polars = pl.scan_parquet(root, hive_partitioning=True).collect()
    assert {c: POLARS_TYPES[polars.schema[c]] for c in columns} == declared
    assert canonical(polars.to_pandas(), columns) == expected


@pytest.mark.parametrize("name", PER_RUN)
def test_current_keeps_run_date_and_equals_the_newest_partition(output: Path, name: str) -> None:
    current = pq.read_table(output / "current" / f"{name}.parquet")
    assert current.column_names[0] == "run_date"
    assert current.schema.field("run_date").type == pa.date32()
    newest = pq.read_table(output / name / f"run_date={LAST}" / "part-0.parquet")
    assert current.drop_columns(["run_date"]).to_pylist() == newest.to_pylist()
    assert newest.num_rows > 0 or name in MAY_BE_EMPTY
    assert set(current["run_date"].to_pylist()) <= {LAST}


def test_every_published_file_has_its_declared_schema(output: Path) -> None:
    files = sorted(output.rglob("*.parquet"))
    checked = set()
    for file in files:
        name = file.stem if file.parent.name == "current" else file.parent.parent.name
        entry = table(name)
        read = pq.read_table(file)
        wanted = schema.arrow_schema(entry, read.column_names, run_date=file.stem == name)
        assert read.schema.remove_metadata() == wanted, file
        for column in entry.published_columns():
            if not column.nullable and column.name in read.column_names:
                assert read[column.name].null_count == 0, (file, column.name)
        frame = read.to_pandas()
        assert not frame.duplicated(list(entry.key)).any(), (file, entry.key)
        checked.add(name)
    assert checked == {t.name for t in TABLES}


@pytest.fixture
def evolved(tmp_path: Path, output: Path) -> Path:
    """``customer_segments`` whose older partition was written before ``rfm_segment`` existed."""
    root = tmp_path / "customer_segments"
    shutil.copytree(output / "customer_segments", root)
    shutil.copy(output / "current" / "customer_segments.parquet", tmp_path / "current.parquet")
    old = root / f"run_date={NIGHTS[0]}" / "part-0.parquet"
    pq.write_table(pq.read_table(old).drop_columns(["rfm_segment"]), old)
    return root


def test_partitions_before_and_after_a_new_column_read_together(
    evolved: Path, output: Path
) -> None:
    """Union by name: the old rows have the new column null, the new rows their values."""
    newest = pq.read_table(output / "customer_segments" / f"run_date={LAST}" / "part-0.parquet")
    old_rows = pq.read_metadata(evolved / f"run_date={NIGHTS[0]}" / "part-0.parquet").num_rows
    want = sorted(newest["rfm_segment"].to_pylist())
    latest = pq.read_schema(evolved.parent / "current.parquet")  # the newest schema

    def check(frame: pd.DataFrame) -> None:
        assert len(frame) == old_rows + newest.num_rows
        dates = pd.to_datetime(frame["run_date"].astype(str)).dt.date
        assert frame.loc[dates == NIGHTS[0], "rfm_segment"].isna().all()
        assert sorted(frame.loc[dates == LAST, "rfm_segment"]) == want

    check(ds.dataset(evolved, schema=latest, partitioning=DATE_PARTITIONING).to_table().to_pandas())
    check(pd.read_parquet(evolved, schema=latest, partitioning=DATE_PARTITIONING))
    check(
        duckdb.sql(
            f"SELECT * FROM read_parquet('{evolved}/*/*.parquet', hive_partitioning = true, "
            "union_by_name = true)"
        ).df()
    )
    newest_schema = pl.read_parquet_schema(evolved.parent / "current.parquet")
    scan = pl.scan_parquet(
        evolved, hive_partitioning=True, schema=newest_schema, missing_columns="insert"
    )
    check(scan.collect().to_pandas())


def test_the_readme_snippets_read_the_tables(output: Path) -> None:
    """The Python snippets of the README's "Reading the tables", run on a published home."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Reading the tables", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    code = "\n".join(b for b in blocks if "spark." not in b)
    assert code.count("read_parquet") >= 6
    code = code.replace("data/demo/output", str(output))
    code = code.replace("2025-12-25", str(LAST)).replace(
        "pl.date(2025, 12, 25)", f"pl.date({LAST.year}, {LAST.month}, {LAST.day})"
    )
    names: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), names)
    rows = {
        n: pq.read_metadata(
            output / "customer_segments" / f"run_date={n}" / "part-0.parquet"
        ).num_rows
        for n in NIGHTS
    }
    assert len(names["newest"]) == rows[LAST]
    assert len(names["nights"]) == len(names["merged"]) == sum(rows.values())
    assert len(names["week"]) == len(names["segments"]) == rows[LAST]
    assert set(names["week"]["run_date"]) == {LAST}
    assert names["sizes"]["customers"].sum() == rows[LAST]
    assert len(names["merged_duck"]) == names["merged_polars"].height == sum(rows.values())
    assert names["newest_profiles"].height > 0
