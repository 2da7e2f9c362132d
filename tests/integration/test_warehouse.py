"""The SQL sink against a real PostgreSQL (127.0.0.1:5432, database ``test``).

Each test run works in its own schema, dropped at the end. Without a server the module is
skipped, except on CI (``CI=true``) where a missing server is a failure.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from segmentation import identifiers
from segmentation.errors import (
    BadInput,
    ConfigError,
    SegmentationError,
    SinkError,
    SourceError,
    WarehouseUnavailable,
)
from segmentation.io import warehouse
from tests.conftest import postgres

pytestmark = pytest.mark.integration

HOST, PORT, DB = "127.0.0.1", 5432, "test"
PASSWORD = "S3cret-Pa55"
D1, D2, D3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, str]]:
    """(url, schema): a server URL that works, and a fresh schema dropped at the end."""
    url, conn = postgres()
    schema = f"seg_test_{uuid.uuid4().hex[:10]}"
    try:
        yield url, schema
    finally:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.close()


def query(url: str, statement: Any, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(statement, params).fetchall()


def segments(n: int, seed: int = 0, shift: int = 0) -> pd.DataFrame:
    """A small customer_segments-like frame."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "segment_id": rng.integers(0, 5, n) + shift,
            "segment_name": rng.choice(["Champions", "At risk", "New"], n),
            "monetary": rng.gamma(2.0, 50.0, n),
            "is_control": rng.random(n) < 0.1,
        }
    )


def rows_of(url: str, schema: str, table: str, day: dt.date) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            sql.SQL("SELECT * FROM {} WHERE run_date = %s ORDER BY customer_id").format(
                sql.Identifier(schema, table)
            ),
            [day],
        )
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description or ()])


def test_current_shows_newest_and_backfill_replaces_only_its_run(pg: tuple[str, str]) -> None:
    url, schema = pg
    warehouse.publish(url, schema, "customer_segments", D1, segments(50, seed=1))
    warehouse.publish(url, schema, "customer_segments", D2, segments(60, seed=2, shift=10))
    now = warehouse.current(url, schema, "customer_segments")
    assert len(now) == 60 and set(now["run_date"]) == {D2}
    assert (now["segment_id"] >= 10).all()

    # types: the contract's columns mapped onto PostgreSQL types
    types = dict(
        query(
            url,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'customer_segments'",
            [schema],
        )
    )
    assert types == {
        "run_date": "date",
        "customer_id": "text",
        "segment_id": "bigint",
        "segment_name": "text",
        "monetary": "double precision",
        "is_control": "boolean",
    }

    # a backfill of D1 replaces exactly D1's rows; current still shows D2
    again = segments(30, seed=3, shift=100)
    warehouse.publish(url, schema, "customer_segments", D1, again)
    d1 = rows_of(url, schema, "customer_segments", D1)
    assert len(d1) == 30 and (d1["segment_id"] >= 100).all()
    pd.testing.assert_series_equal(
        d1["monetary"], again["monetary"], check_names=False, check_exact=True
    )
    assert len(rows_of(url, schema, "customer_segments", D2)) == 60
    now = warehouse.current(url, schema, "customer_segments")
    assert len(now) == 60 and set(now["run_date"]) == {D2}


def test_nulls_dates_and_empty_strings_round_trip(pg: tuple[str, str]) -> None:
    url, schema = pg
    frame = pd.DataFrame(
        {
            "from_segment_id": pd.array([None, 1, 2], dtype="Int64"),
            "to_segment_id": [1, 1, 2],
            "share": [0.5, np.nan, 0.25],
            "note": ["", None, 'a "quoted", multi\nline text'],
            "valid_to": [dt.date(2024, 1, 5), None, dt.date(2024, 2, 1)],
        }
    )
    warehouse.publish(url, schema, "segment_migrations", D1, frame)
    got = warehouse.current(url, schema, "segment_migrations").sort_values("to_segment_id")
    assert str(got["from_segment_id"].dtype) == "Int64"
    assert got["from_segment_id"].isna().tolist() == [True, False, False]
    assert got["from_segment_id"].tolist()[1:] == [1, 2]
    assert got["share"].tolist()[0] == 0.5 and got["share"].isna().tolist() == [False, True, False]
    notes = got["note"].tolist()
    assert len(notes) == 3 and None in notes and "" in notes  # an empty text is not NULL
    assert 'a "quoted", multi\nline text' in notes
    assert sorted(got["valid_to"].dropna()) == [dt.date(2024, 1, 5), dt.date(2024, 2, 1)]


def test_one_transaction_for_all_tables_of_a_run(pg: tuple[str, str]) -> None:
    url, schema = pg
    first = {"tx_a": segments(20, seed=1), "tx_b": segments(10, seed=2)}
    warehouse.publish_many(url, schema, D1, first)
    before = rows_of(url, schema, "tx_a", D1)

    bad = segments(10, seed=4)
    bad.loc[3, "segment_name"] = "NUL \x00 byte"  # PostgreSQL text cannot hold it: COPY fails
    with pytest.raises(SegmentationError, match=r"tx_b .*rolled back"):
        warehouse.publish_many(url, schema, D1, {"tx_a": segments(99, seed=9), "tx_b": bad})
    pd.testing.assert_frame_equal(rows_of(url, schema, "tx_a", D1), before)
    assert len(rows_of(url, schema, "tx_b", D1)) == 10

    # a value that does not fit the existing column type: refused, nothing changes either
    wrong = segments(10, seed=5)
    wrong["segment_id"] = wrong["segment_id"] + 0.5
    with pytest.raises(SegmentationError, match=r"'segment_id'.*bigint"):
        warehouse.publish_many(url, schema, D1, {"tx_a": segments(99, seed=9), "tx_b": wrong})
    pd.testing.assert_frame_equal(rows_of(url, schema, "tx_a", D1), before)


@pytest.mark.parametrize(
    ("schema", "table"),
    [
        ('seg"; DROP TABLE x; --', "customer_segments"),
        ("Segmentation", "customer_segments"),
        ("ok_schema", "customer segments"),
        ("ok_schema", 'cust"omer'),
        ("ok_schema", "Customer_Segments"),
        ("ok_schema", "1table"),
        ("ok_schema", "t" * 60),  # fits 63, but not with "_current"
    ],
)
def test_unsafe_identifiers_are_refused(pg: tuple[str, str], schema: str, table: str) -> None:
    url, _ = pg
    with pytest.raises(ConfigError, match=r"^warehouse(\.schema| table name): .*must (match|fit)"):
        warehouse.publish(url, schema, table, D1, segments(3))


def test_identifier_message_names_key_and_rule() -> None:
    with pytest.raises(ConfigError) as info:
        identifiers.check_identifier("Bad Name", "warehouse.schema")
    assert "warehouse.schema" in str(info.value)
    assert identifiers.IDENTIFIER_RULE in str(info.value)


def test_a_column_added_in_a_later_run_appears(pg: tuple[str, str]) -> None:
    url, schema = pg
    warehouse.publish(url, schema, "grow", D1, segments(5))
    later = segments(5).assign(rfm_score=[111, 222, 333, 444, 555])
    warehouse.publish(url, schema, "grow", D2, later)
    now = warehouse.current(url, schema, "grow")
    assert sorted(now["rfm_score"]) == [111, 222, 333, 444, 555]
    old = rows_of(url, schema, "grow", D1)
    assert old["rfm_score"].isna().all()  # the older run has no value for it


def test_indexes_exist(pg: tuple[str, str]) -> None:
    url, schema = pg
    warehouse.publish(url, schema, "indexed", D1, segments(5))
    defs = [d for (d,) in query(url, "SELECT indexdef FROM pg_indexes WHERE schemaname = %s "
                                "AND tablename = 'indexed'", [schema])]  # fmt: skip
    assert any("(run_date)" in d for d in defs), defs
    assert any("(customer_id)" in d for d in defs), defs


def test_whole_table_replace_mode(pg: tuple[str, str]) -> None:
    url, schema = pg
    history = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "segment_id": [1, 2],
            "segment_name": ["A", "B"],
            "valid_from": [D1, D1],
            "valid_to": [None, None],
        }
    )
    warehouse.publish(url, schema, "segment_history", D1, history)
    newer = history.assign(valid_to=[D2, None])
    newer = pd.concat([newer, newer.iloc[[0]].assign(segment_id=3, valid_from=D3, valid_to=None)])
    warehouse.publish(url, schema, "segment_history", D3, newer)
    now = warehouse.current(url, schema, "segment_history")
    assert len(now) == 3 and "run_date" not in now.columns
    assert sorted(now["segment_id"]) == [1, 2, 3]
    defs = [d for (d,) in query(url, "SELECT indexdef FROM pg_indexes WHERE schemaname = %s "
                                "AND tablename = 'segment_history'", [schema])]  # fmt: skip
    assert any("(customer_id)" in d for d in defs), defs


def test_concurrent_publishes_of_one_run_do_not_interleave(pg: tuple[str, str]) -> None:
    url, schema = pg
    frame = segments(20_000, seed=7)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            warehouse.publish(url, schema, "race", D1, frame)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    [(count, distinct)] = query(
        url,
        sql.SQL("SELECT count(*), count(DISTINCT customer_id) FROM {} WHERE run_date = %s").format(
            sql.Identifier(schema, "race")
        ),
        [D1],
    )
    assert count == distinct == len(frame)


def test_publish_waits_for_the_advisory_lock(pg: tuple[str, str]) -> None:
    url, schema = pg
    done = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            warehouse.publish(url, schema, "locked", D1, segments(5))
            done.set()
        except BaseException as exc:
            failures.append(exc)

    with psycopg.connect(url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext(%s || '.' || 'publish'))", [schema])
        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.5)
        assert not done.is_set()  # blocked behind the other transaction
    thread.join()
    assert not failures and done.is_set()


def test_unreachable_port_names_host_and_env_not_password() -> None:
    url = f"postgresql://postgres:{PASSWORD}@{HOST}:1/{DB}"
    with pytest.raises(WarehouseUnavailable) as info:
        warehouse.publish(url, "segmentation", "customer_segments", D1, segments(3))
    message = str(info.value)
    # a sink's problem, retried by Airflow (not BadInput), and not the source's
    assert isinstance(info.value, SinkError) and not isinstance(info.value, SourceError | BadInput)
    assert f"{HOST}:1/{DB}" in message and "SEGMENTATION_WAREHOUSE_URL" in message
    assert PASSWORD not in message and PASSWORD not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_missing_role_and_database_give_clear_errors(pg: tuple[str, str]) -> None:
    # The test server trusts every local connection, so a wrong password is accepted for an
    # existing user: a role and a database that do not exist stand in for refused logins.
    url, schema = pg
    user = f"nobody_{uuid.uuid4().hex[:6]}"
    bad_user = f"postgresql://{user}:{PASSWORD}@{HOST}:{PORT}/{DB}"
    with pytest.raises(WarehouseUnavailable) as info:
        warehouse.publish(bad_user, schema, "t", D1, segments(3), url_env="MY_WAREHOUSE_URL")
    message = str(info.value)
    assert f"{HOST}:{PORT}/{DB}" in message and "MY_WAREHOUSE_URL" in message
    assert user in message and PASSWORD not in message

    bad_db = url.replace(f"/{DB}", "/no_such_db_xyz")
    with pytest.raises(WarehouseUnavailable, match="no_such_db_xyz") as info:
        warehouse.current(bad_db, schema, "customer_segments")
    assert PASSWORD not in str(info.value)


def test_malformed_url_is_not_echoed() -> None:
    url = f"not a url with {PASSWORD}"
    with pytest.raises(ConfigError, match="SEGMENTATION_WAREHOUSE_URL") as info:
        warehouse.current(url, "segmentation", "customer_segments")
    assert PASSWORD not in str(info.value)


def test_a_night_publishes_every_table_to_the_warehouse_and_never_shows_the_password(
    pg: tuple[str, str],
    published: Any,
    landing: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from segmentation import pipeline
    from segmentation.config import load_config
    from segmentation.io import parquet
    from segmentation.layout import TABLE_NAMES, Home
    from tests.conftest import LAST, write_config

    url, _ = pg
    schema = f"night_{uuid.uuid4().hex[:8]}"
    secret_url = url.replace("@", f":{PASSWORD}@", 1)  # trust auth ignores the password
    monkeypatch.setenv("SEGMENTATION_WAREHOUSE_URL", secret_url)
    cfg = load_config(write_config(published, landing, warehouse={"schema": schema}))
    caplog.set_level("DEBUG")
    try:
        result = pipeline.run(cfg, LAST)
        for table in TABLE_NAMES:
            rows = query(url, sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(f"{table}_current")))[0][0]  # fmt: skip
            local = (
                pd.read_parquet(Home(cfg.home).current_table(table))
                if table == "segment_history"
                else parquet.read_published(Home(cfg.home), table, LAST)
            )
            assert local is not None and rows == len(local), table
        assert_types_match_the_catalog(url, schema)
        # the secret is nowhere: not in logs, results, reports, validation results, metadata
        assert PASSWORD not in caplog.text
        assert PASSWORD not in repr(result)
        for path in cfg.home.rglob("*"):
            if path.is_file():
                assert PASSWORD.encode() not in path.read_bytes(), path
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


# the PostgreSQL type of each contract type, as information_schema spells it (written out)
PG_TYPES = {
    "date": "date",
    "string": "text",
    "int64": "bigint",
    "int8": "bigint",
    "double": "double precision",
    "bool": "boolean",
    "timestamp": "timestamp with time zone",
    "list": "ARRAY",  # text[]
}


def assert_types_match_the_catalog(url: str, schema: str) -> None:
    """Every warehouse table's column types, read from information_schema, are the catalog's:
    dates date, ids text, counts bigint, shares double precision."""
    from segmentation.catalog import TABLES

    found: dict[str, dict[str, str]] = {}
    for table, column, type_ in query(
        url,
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s",
        [schema],
    ):
        if not table.endswith("_current"):  # the views repeat their tables' columns
            found.setdefault(table, {})[column] = type_
    assert set(found) == {t.name for t in TABLES}
    for entry in TABLES:
        declared = {}
        for column in found[entry.name]:
            spec = entry.column(column)
            assert spec is not None, f"{entry.name}.{column} is not in the catalog"
            declared[column] = PG_TYPES[spec.type]
        assert found[entry.name] == declared, entry.name
        fixed = {c.name for c in entry.published_columns() if c.family is None}
        assert fixed <= set(found[entry.name]), entry.name
    assert found["customer_segments"]["run_date"] == "date"
    assert found["model_registry"]["champion_silhouette"] == "double precision"
    assert found["segment_profiles"]["customers"] == "bigint"
    assert found["segment_profiles"]["share"] == "double precision"
