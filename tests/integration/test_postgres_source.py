"""The postgres event source against a real PostgreSQL (127.0.0.1:5432, database ``test``).

The same generated events go into a table (with its own column names) and into daily CSV
files; both sources must stage exactly the same partition. Each test run works in its own
schema, dropped at the end. Without a server the module is skipped, except on CI
(``CI=true``) where a missing server is a failure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg
import pytest
import yaml
from psycopg import sql

from segmentation import pipeline, synthetic
from segmentation.config import Config, load_config
from segmentation.errors import BadInput, ConfigError, MalformedSource, SourceError
from segmentation.io import lake, sources
from segmentation.layout import EVENT_KEY, Home
from tests.conftest import postgres

pytestmark = pytest.mark.integration

HOST, PORT, DB = "127.0.0.1", 5432, "test"
PASSWORD = "S3cret-Pa55"  # trust auth ignores it: it is here to prove it is never shown
URL_ENV = "SEGMENTATION_TEST_SOURCE_URL"
TZ = "Asia/Shanghai"  # local midnight is 16:00 UTC the day before
START, DAYS = dt.date(2024, 3, 1), 30
LAST = START + dt.timedelta(days=DAYS - 1)
D = START + dt.timedelta(days=20)  # the day compared between the two sources
# the table's own names for the canonical columns
COLUMNS = {
    "event_id": "txn_id",
    "customer_id": "client_ref",
    "event_time": "occurred_at",
    "event_type": "action",
    "amount": "total",
    "category": "cat",
    "channel": "chan",
    "product_id": "sku",
    "quantity": "qty",
}
TABLE_DDL = """
    CREATE TABLE {} (
        txn_id text, client_ref text, occurred_at timestamptz, action text,
        total double precision, cat text, chan text, sku text, qty integer,
        note text
    )
"""


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, str]]:
    """(url, schema): a server URL that works, and a fresh schema dropped at the end."""
    url, conn = postgres()
    schema = f"seg_src_{uuid.uuid4().hex[:10]}"
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield url, schema
    finally:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.close()


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    """Generated events, plus events at day D's Shanghai boundaries and duplicates."""
    frame = synthetic.generate(customers=400, start=START, days=DAYS, seed=11).events
    frame["event_time"] = frame["event_time"].dt.floor("s")  # CSV keeps whole seconds
    midnight = pd.Timestamp(dt.datetime.combine(D, dt.time()), tz=TZ).tz_convert("UTC")
    next_midnight = midnight + pd.Timedelta(days=1)
    second = pd.Timedelta(seconds=1)
    template = frame.iloc[0]
    edges = pd.DataFrame(
        [
            {**template, "event_id": f"EDGE{i}", "event_time": t, "customer_id": f"CE{i}"}
            for i, t in enumerate(
                [midnight - second, midnight, next_midnight - second, next_midnight]
            )
        ]
    )
    on_d = frame[(frame["event_time"] >= midnight) & (frame["event_time"] < next_midnight)]
    assert len(on_d) > 5
    exact = on_d.iloc[:3]  # re-sent rows: identical copies
    # the same event re-sent later the same day with another amount: the first is kept
    resent = on_d.iloc[[4]].assign(
        event_time=on_d["event_time"].iloc[4] + pd.Timedelta(minutes=1), amount=999.0
    )
    frame = pd.concat([frame, edges, exact, resent], ignore_index=True)
    frame["event_time"] = frame["event_time"].astype("datetime64[us, UTC]")
    return frame


@pytest.fixture(scope="module")
def landing(events: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The events as daily CSV files (UTC days), as synthetic.write writes them."""
    out = tmp_path_factory.mktemp("landing")
    data = dataclasses.replace(
        synthetic.generate(customers=5, start=START, days=DAYS, seed=1), events=events
    )
    synthetic.write(data, out, "csv")
    return out


@pytest.fixture(scope="module")
def table(pg: tuple[str, str], events: pd.DataFrame) -> str:
    """``schema.events``: the same events under the table's own column names."""
    url, schema = pg
    name = sql.Identifier(schema, "events")
    renamed = events.rename(columns=COLUMNS)[list(COLUMNS.values())]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL(TABLE_DDL).format(name))
        cols = sql.SQL(", ").join(map(sql.Identifier, renamed.columns))
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(name, cols)) as copy:
            for row in renamed.itertuples(index=False):
                copy.write_row([None if pd.isna(v) else v for v in row])
        cur.execute(sql.SQL("CREATE INDEX ON {} (occurred_at)").format(name))
    return f"{schema}.events"


@pytest.fixture
def source_url(pg: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = pg[0].replace("@", f":{PASSWORD}@", 1)
    monkeypatch.setenv(URL_ENV, url)
    return url


def make_config(folder: Path, source: dict[str, Any], **extra: Any) -> Config:
    raw = {
        "home": "./home",
        "timezone": TZ,
        "source": source,
        "model": {"k_min": 3, "k_max": 5},
        **extra,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path)


def pg_source(table: str, **overrides: Any) -> dict[str, Any]:
    return {"kind": "postgres", "table": table, "url_env": URL_ENV, "columns": COLUMNS, **overrides}


def staged_and_validated(cfg: Config, day: dt.date) -> pd.DataFrame:
    pipeline.extract_events(cfg, day)
    assert pipeline.validate_events(cfg, day)["success"]
    return lake.read_partition(Home(cfg.home).lake, EVENT_KEY, day)


# ---------------------------------------------------------------- same events as files


def test_postgres_stages_the_same_partition_as_files(
    tmp_path: Path, landing: Path, table: str, source_url: str
) -> None:
    files_cfg = make_config(
        tmp_path / "files", {"kind": "files", "path": str(landing / "events" / "{ds}.csv")}
    )
    pg_cfg = make_config(tmp_path / "pg", pg_source(table))
    from_files = staged_and_validated(files_cfg, D)
    from_pg = staged_and_validated(pg_cfg, D)

    # the same rows; only where each was read (its file, or the table) differs
    assert not set(from_pg[sources.SOURCE_ROW]) & set(from_files[sources.SOURCE_ROW])
    pd.testing.assert_frame_equal(
        from_pg.drop(columns=[sources.SOURCE_ROW]), from_files.drop(columns=[sources.SOURCE_ROW])
    )
    ids = set(from_pg["event_id"])
    assert {"EDGE1", "EDGE2"} <= ids  # local midnight and the last second of D
    assert not {"EDGE0", "EDGE3"} & ids  # the seconds either side belong to D-1 and D+1
    assert from_pg["event_id"].is_unique  # the duplicates were dropped
    assert 999.0 not in set(from_pg["amount"])  # the first of a re-sent event is kept
    local = from_pg["event_time"].dt.tz_convert(ZoneInfo(TZ)).dt.date
    assert (local == D).all()


def test_small_chunks_and_ranges_give_identical_output(
    tmp_path: Path, table: str, source_url: str
) -> None:
    tz = ZoneInfo(TZ)
    big = make_config(tmp_path / "big", pg_source(table)).source
    small = make_config(tmp_path / "small", pg_source(table, chunk_rows=7)).source
    one_day = sources.event_source(big, tz).read_events(D, D)
    assert len(one_day) > 7 * 3
    pd.testing.assert_frame_equal(sources.event_source(small, tz).read_events(D, D), one_day)
    # a range read at once holds exactly each day's events read alone
    span = sources.event_source(small, tz).read_events(
        D - dt.timedelta(days=1), D + dt.timedelta(days=1)
    )
    local = span["event_time"].dt.tz_convert(tz).dt.date
    pd.testing.assert_frame_equal(span[local == D].reset_index(drop=True), one_day)
    # a day without events: an empty frame of the source's columns
    empty = sources.event_source(small, tz).read_events(
        START - dt.timedelta(days=5), START - dt.timedelta(days=5)
    )
    assert empty.empty
    assert list(empty.columns) == [
        *sources.EVENT_SCHEMA.names,
        sources.PROBLEM,
        sources.ARRIVAL,
        sources.ORIGIN,
    ]


def test_timestamp_without_time_zone_is_read_as_utc(
    tmp_path: Path, pg: tuple[str, str], table: str, source_url: str
) -> None:
    url, schema = pg
    naive = sql.Identifier(schema, "events_naive")
    with psycopg.connect(url) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} AS SELECT txn_id, client_ref, action, total, "
                "occurred_at AT TIME ZONE 'UTC' AS occurred_at FROM {}"
            ).format(naive, sql.Identifier(*table.split(".")))
        )
    columns = {k: v for k, v in COLUMNS.items() if k in ("event_id", "customer_id", "amount")}
    columns |= {"event_time": "occurred_at", "event_type": "action"}
    tz = ZoneInfo(TZ)
    aware = make_config(tmp_path / "a", pg_source(table, columns=columns)).source
    plain = make_config(tmp_path / "n", pg_source(f"{schema}.events_naive", columns=columns))
    expected = sources.event_source(aware, tz).read_events(D, D)
    pd.testing.assert_frame_equal(
        sources.event_source(plain.source, tz).read_events(D, D), expected
    )
    assert expected["category"].isna().all()  # unmapped, absent columns stay empty


def test_a_full_night_on_the_postgres_source(tmp_path: Path, table: str, source_url: str) -> None:
    cfg = make_config(tmp_path, pg_source(table))
    pipeline.ingest(cfg, START, LAST - dt.timedelta(days=1))
    result = pipeline.run(cfg, LAST)
    assert result["extract_events"]["rows"] > 0
    assert result["validate_events"]["success"]
    segments = pd.read_parquet(
        Home(cfg.home).current_table("customer_segments"), columns=["run_date"]
    )
    assert len(segments) > 0 and set(segments["run_date"].astype(str)) == {str(LAST)}


# ---------------------------------------------------------------- errors


def read_day(folder: Path, table: str, **overrides: Any) -> pd.DataFrame:
    src = make_config(folder, pg_source(table, **overrides)).source
    return sources.event_source(src, ZoneInfo(TZ)).read_events(D, D)


def test_env_var_not_set(tmp_path: Path, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    with pytest.raises(ConfigError) as err:
        read_day(tmp_path, table)
    assert URL_ENV in str(err.value) and "conn_id" in str(err.value)


def test_invalid_url(tmp_path: Path, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, f"postgresql://u:{PASSWORD}@h:notaport/db?x==")
    with pytest.raises(ConfigError) as err:
        read_day(tmp_path, table)
    assert URL_ENV in str(err.value) and PASSWORD not in str(err.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # nothing listens on port 1: connection refused at once
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/{DB}?connect_timeout=3", "127.0.0.1:1"),
        # trust auth accepts any password, so a wrong password cannot be tested: a role
        # that does not exist is refused the same way (at connection time, by the server)
        (
            f"postgresql://no_such_role_x:{PASSWORD}@{HOST}:{PORT}/{DB}",
            'role "no_such_role_x" does not exist',
        ),
        (
            f"postgresql://postgres:{PASSWORD}@{HOST}:{PORT}/no_such_db_x",
            'database "no_such_db_x" does not exist',
        ),
    ],
    ids=["unreachable", "missing-role", "missing-database"],
)
def test_connection_problems_are_retryable(
    tmp_path: Path,
    pg: tuple[str, str],
    table: str,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    expected: str,
) -> None:
    monkeypatch.setenv(URL_ENV, url)
    with pytest.raises(SourceError) as err:
        read_day(tmp_path, table)
    message = str(err.value)
    assert not isinstance(err.value, BadInput)  # Airflow retries it
    assert "cannot connect to the event source" in message and expected in message
    assert table in message and URL_ENV in message
    assert PASSWORD not in message


def test_missing_table(tmp_path: Path, pg: tuple[str, str], source_url: str) -> None:
    schema = pg[1]
    with pytest.raises(MalformedSource) as err:
        read_day(tmp_path, f"{schema}.no_such_table")
    message = str(err.value)
    assert isinstance(err.value, BadInput)  # Airflow fails at once
    assert f"no table {schema}.no_such_table" in message
    assert f"{HOST}:{PORT}/{DB}" in message and PASSWORD not in message


def test_missing_mapped_column(tmp_path: Path, table: str, source_url: str) -> None:
    with pytest.raises(MalformedSource) as err:
        read_day(tmp_path, table, columns={**COLUMNS, "channel": "sales_channel"})
    message = str(err.value)
    assert "no column 'sales_channel', which source.columns maps to 'channel'" in message
    assert table in message and f"{HOST}:{PORT}/{DB}" in message
    assert "client_ref" in message  # the table's columns are listed
    assert PASSWORD not in message


def test_missing_required_column_and_wrong_time_type(
    tmp_path: Path, table: str, source_url: str
) -> None:
    unmapped = {k: v for k, v in COLUMNS.items() if k != "customer_id"}
    with pytest.raises(MalformedSource, match=r"no column 'customer_id' \(required\)"):
        read_day(tmp_path, table, columns=unmapped)
    with pytest.raises(MalformedSource, match=r"column 'note' of .* has type text"):
        read_day(tmp_path, table, columns={**COLUMNS, "event_time": "note"})


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"kind": "postgres"}, "source.kind postgres needs source.table"),
        ({"kind": "postgres", "table": "Sales.Events"}, "'Sales' is not a valid PostgreSQL"),
        ({"kind": "postgres", "table": "a.b.c"}, "schema.table or table"),
        ({"kind": "postgres", "table": "t", "path": "x"}, "source.path applies to kind files"),
        (
            {"kind": "postgres", "table": "t", "url_env": "postgresql://u:p@h/db"},
            "must be the NAME of an environment variable",
        ),
        ({"kind": "postgres", "table": "t", "chunk_rows": 0}, "chunk_rows must be a positive"),
        ({"kind": "postgres", "table": "t", "conn_id": "a b"}, "not an Airflow connection id"),
        ({"kind": "files", "table": "t"}, "source.table applies to kind postgres only"),
    ],
)
def test_config_is_validated(tmp_path: Path, source: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        make_config(tmp_path, source)


def test_postgres_config_needs_no_path(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, {"kind": "postgres", "table": "sales.events", "conn_id": "src"})
    assert (cfg.source.table, cfg.source.url_env, cfg.source.conn_id) == (
        "sales.events",
        "SEGMENTATION_SOURCE_URL",
        "src",
    )
    assert cfg.source.chunk_rows == 100_000
    with pytest.raises(ConfigError, match=r"customers\.kind must be files"):
        make_config(
            tmp_path,
            {"kind": "files"},
            customers={"kind": "postgres", "table": "t", "path": "c.csv"},
        )


# ---------------------------------------------------------------- late rows by arrival


def test_arrival_column_finds_late_rows_and_keeps_reruns_to_what_had_arrived(
    tmp_path: Path, pg: tuple[str, str], source_url: str
) -> None:
    """With source.arrival_column a night sees the rows that had arrived by its end: a row
    inserted a day after its day is taken in by the next night (late), one inserted two days
    after it, with late_days 1, is quarantined, and a rerun of the first night still sees
    only what had arrived by then."""
    url, schema = pg
    name = sql.Identifier(schema, "arrivals")
    d1, d2, d3 = "2024-05-01", "2024-05-02", "2024-05-03"
    rows = [  # (id, customer, occurred, inserted), Shanghai times
        ("r1", "a", f"{d1} 10:00", f"{d1} 10:05"),
        ("r2", "a", f"{d1} 11:00", f"{d2} 09:00"),  # one day late
        ("r3", "b", f"{d2} 08:00", f"{d2} 08:01"),
        ("r4", "b", f"{d1} 12:00", f"{d3} 07:00"),  # two days late
        ("r5", "c", f"{d3} 09:00", f"{d3} 09:30"),
    ]
    with psycopg.connect(url) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (txn_id text, client_ref text, occurred_at timestamptz, "
                "action text, total double precision, inserted_at timestamptz)"
            ).format(name)
        )
        for rid, customer, occurred, inserted in rows:
            conn.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, 'purchase', 1, %s)").format(name),
                [rid, customer, f"{occurred}+08", f"{inserted}+08"],
            )
    columns = {k: COLUMNS[k] for k in ("event_id", "customer_id", "event_time", "event_type")}
    columns["amount"] = "total"
    cfg = make_config(
        tmp_path,
        pg_source(f"{schema}.arrivals", columns=columns, arrival_column="inserted_at"),
        events={"late_days": 1},
        validation={"max_bad_rows": 1},
    )
    home = Home(cfg.home)
    taken = {}
    for day in (d1, d2, d3):
        night = dt.date.fromisoformat(day)
        pipeline.extract_events(cfg, night)
        assert pipeline.validate_events(cfg, night)["success"]
        taken[day] = sorted(lake.read_partition(home.lake, EVENT_KEY, night)["event_id"])
    assert taken == {d1: ["r1"], d2: ["r2", "r3"], d3: ["r5"]}
    held = pd.read_parquet(home.quarantined_rows(dt.date(2024, 5, 3)))
    assert held["event_id"].tolist() == ["r4"]
    first = home.lake_file(dt.date(2024, 5, 1)).read_bytes()
    pipeline.extract_events(cfg, dt.date(2024, 5, 1))
    pipeline.validate_events(cfg, dt.date(2024, 5, 1))
    assert home.lake_file(dt.date(2024, 5, 1)).read_bytes() == first
