"""The PostgreSQL source: a night's events from a table, mapped like a file's.

The connection URL comes from the environment variable ``source.url_env``. Only the mapped
columns are selected, filtered on the event_time column to [start of ``first``, start of
``last`` + 1) in the configured timezone (sent as UTC instants), ordered by event_time,
event_id and the other selected columns (so which of two duplicates is kept never depends on
the plan), and fetched ``source.chunk_rows`` at a time through a server-side cursor in a
read-only transaction. Each chunk goes through the same mapping, defaults and typing as a
file, then duplicates are dropped per day and the result sorted exactly as for files.

event_time must be ``timestamptz`` or ``timestamp``; a ``timestamp`` without time zone is
read as UTC (not as wall-clock time in the configured timezone, unlike naive times in
files): that is how applications usually store instants in such columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg
from psycopg import sql

from segmentation.config import CANONICAL_EVENT_COLUMNS, SourceConfig, secret_from_env
from segmentation.errors import BadInput, MalformedSource, SourceError
from segmentation.io import postgres
from segmentation.io.sources import (
    ARRIVAL,
    ORIGIN,
    REQUIRED_EVENT_COLUMNS,
    EventSource,
    conform,
    day_bounds,
    map_events,
    sort_events,
)

# PostgreSQL types event_time may have; others (text, date) are refused with a clear message
_PG_TIMESTAMPTZ = "timestamp with time zone"
_PG_TIMESTAMP = "timestamp without time zone"


@dataclass(frozen=True)
class Span:
    """The instants a read is bounded by: the oldest event time, the start of the late
    window, the start of the first night's day, the end of the last night's day."""

    start: pd.Timestamp
    window: pd.Timestamp
    first: pd.Timestamp
    end: pd.Timestamp


@dataclass(frozen=True)
class _Query:
    """What one read selects: the columns, the statement and its [lo, hi) bounds."""

    selected: list[str]
    statement: sql.Composed
    bounds: list[dt.datetime]


class PostgresSource(EventSource):
    """Events from the table ``src.table``; days are days of ``tz``."""

    def __init__(self, src: SourceConfig, tz: ZoneInfo) -> None:
        assert src.table is not None  # parse_config guarantees it for kind postgres
        self.src = src
        self.tz = tz

    @property
    def name(self) -> str:
        return str(self.src.table)

    def read_events(
        self, first: dt.date, last: dt.date, since: dt.date | None = None, late_days: int = 0
    ) -> pd.DataFrame:
        """Without ``arrival_column``, rows of the ``late_days`` before ``first`` too (late
        rows are found by what the lake lacks); with it, only rows that had arrived by the end
        of ``last``, and those older than that window only if they arrived in [first, last]."""
        src = self.src
        url = secret_from_env(src.url_env, f"source (postgres table {self.name})")
        # rows before the home's first night (``since``) are history, never read by a night
        since = since or first
        window = max(first - dt.timedelta(days=late_days), since)
        oldest = since if src.arrival_column else window
        span = Span(
            start=day_bounds(oldest, self.tz)[0],
            window=day_bounds(window, self.tz)[0],
            first=day_bounds(first, self.tz)[0],
            end=day_bounds(last, self.tz)[1],
        )
        with _connect(url, src) as conn:
            server = postgres.describe(url)
            where = f"{self.name} at {server}"
            with _read_errors(url, self.name, where, first, last):
                query = _plan(conn, src, server, where, span)
                frames = self._fetch(conn, query, where)
        if not frames:
            empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in query.selected})
            frames.append(self._chunk(empty, where))
        return sort_events(pd.concat(frames, ignore_index=True))

    def _fetch(
        self, conn: psycopg.Connection[Any], query: _Query, where: str
    ) -> list[pd.DataFrame]:
        """The rows in chunks of ``chunk_rows`` through a server-side cursor, each mapped."""
        frames: list[pd.DataFrame] = []
        with conn.cursor(name="segmentation_extract") as cur:
            cur.itersize = self.src.chunk_rows
            cur.execute(query.statement, query.bounds)
            while rows := cur.fetchmany(self.src.chunk_rows):
                raw = pd.DataFrame(rows, columns=query.selected, dtype=object)
                frames.append(self._chunk(raw, where))
        return frames

    def _chunk(self, raw: pd.DataFrame, where: str) -> pd.DataFrame:
        """One fetched chunk through the file source's mapping, defaults and typing."""
        time_col = self.src.columns.get("event_time", "event_time")
        # timestamptz arrives as aware datetimes, timestamp as naive ones: both read as UTC
        raw[time_col] = pd.to_datetime(raw[time_col], utc=True)
        events = conform(map_events(raw, Path(where), self.src, self.tz), self.src.defaults)
        arrival = self.src.arrival_column
        if arrival is None:
            events[ARRIVAL] = pd.Series(pd.NaT, index=events.index, dtype="datetime64[s]")
            events[ORIGIN] = ""  # a row sent again is known only beside its first copy
        else:
            came = pd.to_datetime(raw[arrival], utc=True)
            days = came.dt.tz_convert(self.tz).dt.tz_localize(None).dt.normalize().to_numpy()
            events[ARRIVAL] = pd.Series(days, index=events.index).astype("datetime64[s]")
            events[ORIGIN] = came.astype(str).to_numpy()
        return events


@contextmanager
def _connect(url: str, src: SourceConfig) -> Iterator[psycopg.Connection[Any]]:
    """A read-only connection to the source; SourceError (retryable) when it fails."""
    with postgres.connect(
        url,
        url_env=src.url_env,
        name="source",
        what="the event source",
        application_name="segmentation-extract",
        detail=f" (source.table {src.table})",
    ) as conn:
        conn.read_only = True  # an extract never writes to the source
        yield conn


@contextmanager
def _read_errors(url: str, table: str, where: str, first: dt.date, last: dt.date) -> Iterator[None]:
    """The driver's errors while reading, as messages naming the table and the days."""
    try:
        yield
    except psycopg.errors.InsufficientPrivilege as exc:
        raise BadInput(
            f"reading {where} was refused: {postgres.reason(exc, url)}; grant the source role "
            f"SELECT on {table} (and USAGE on its schema)"
        ) from None
    except psycopg.OperationalError as exc:
        raise SourceError(
            f"the connection to the event source {where} failed while reading "
            f"{first}..{last}: {postgres.reason(exc, url)}; nothing was staged, a retry may help"
        ) from None
    except psycopg.Error as exc:
        raise SourceError(
            f"reading events of {first}..{last} from {where} failed: {postgres.reason(exc, url)}"
        ) from None


def _plan(
    conn: psycopg.Connection[Any],
    src: SourceConfig,
    server: str,
    where: str,
    span: Span,
) -> _Query:
    """The statement reading ``span`` of the mapped columns, in a fixed order.

    ``server`` describes the server and ``where`` is ``<table> at <server>``, for messages.
    """
    table_id = sql.Identifier(*str(src.table).split("."))
    with conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        types = _columns(cur, table_id.as_string(conn), src, server)
    selected = _selection(types, src, where)
    time_col = src.columns.get("event_time", "event_time")
    when = _bounds(types[time_col], time_col, where, span.start, span.end)
    id_col = src.columns.get("event_id", "event_id")
    order = [time_col] + ([id_col] if id_col in selected else [])
    order += [c for c in selected if c not in order]
    template = "SELECT {cols} FROM {table} WHERE {t} >= %s AND {t} < %s"
    bounds = when
    arrival = src.arrival_column
    if arrival is not None:
        if arrival not in types:
            raise MalformedSource(
                f"table {where} has no column {arrival!r} (source.arrival_column). Columns "
                f"in the table: {', '.join(types)}. Name the column holding when each row "
                "was inserted, or remove source.arrival_column"
            )
        selected = [*selected, arrival] if arrival not in selected else selected
        came = _bounds(types[arrival], arrival, where, span.first, span.end)
        late = _bounds(types[time_col], time_col, where, span.window, span.end)[0]
        # a night sees rows that had arrived by its end: those of the late window, and
        # older ones only when they arrived tonight (too late, for the intake to count)
        template += " AND {a} < %s AND ({t} >= %s OR {a} >= %s)"
        bounds = [*when, came[1], late, came[0]]
    statement = sql.SQL(template + " ORDER BY {o}").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, selected)),
        table=table_id,
        t=sql.Identifier(time_col),
        a=sql.Identifier(arrival or time_col),
        o=sql.SQL(", ").join(map(sql.Identifier, order)),
    )
    return _Query(selected, statement, bounds)


def _bounds(
    time_type: str, time_col: str, where: str, start: pd.Timestamp, end: pd.Timestamp
) -> list[dt.datetime]:
    """[lo, hi) as the event_time column compares them: aware for timestamptz, naive UTC for
    timestamp; MalformedSource for a column of another type."""
    if time_type == _PG_TIMESTAMPTZ:
        return [start.to_pydatetime(), end.to_pydatetime()]
    if time_type == _PG_TIMESTAMP:
        return [
            start.tz_convert("UTC").tz_localize(None).to_pydatetime(),
            end.tz_convert("UTC").tz_localize(None).to_pydatetime(),
        ]
    raise MalformedSource(
        f"column {time_col!r} of {where} (event_time) has type {time_type}; it "
        "must be timestamp with time zone (timestamptz) or timestamp (read as "
        "UTC). Map source.columns.event_time to a timestamp column, or add one "
        "(e.g. a generated column casting the text)"
    )


def _columns(cur: Any, qualified: str, src: SourceConfig, server: str) -> dict[str, str]:
    """The table's columns and their types; MalformedSource if there is no such table."""
    cur.execute(
        "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [qualified],
    )
    types = {str(name): str(kind) for name, kind in cur.fetchall()}
    if not types:
        cur.execute("SELECT current_schemas(false)")
        path = ", ".join(cur.fetchone()[0])
        raise MalformedSource(
            f"there is no table {src.table} in the database at {server} "
            + ("" if "." in (src.table or "") else f"(search_path: {path}) ")
            + "or the source role cannot see it; fix source.table (schema.table) in the config"
        )
    return types


def _selection(types: dict[str, str], src: SourceConfig, where: str) -> list[str]:
    """The table columns to select, mapped like a file's; MalformedSource naming a gap."""
    selected: list[str] = []
    found = ", ".join(types)
    for name in CANONICAL_EVENT_COLUMNS:
        column = src.columns.get(name, name)
        if column in types:
            if column not in selected:
                selected.append(column)
        elif name in src.columns:
            raise MalformedSource(
                f"table {where} has no column {column!r}, which source.columns maps to "
                f"{name!r}. Columns in the table: {found}. Fix source.columns.{name} in the "
                "config (keys are canonical names, values the table's column names)"
            )
        elif name in REQUIRED_EVENT_COLUMNS and name not in src.defaults:
            raise MalformedSource(
                f"table {where} has no column {name!r} (required). Columns in the table: "
                f"{found}. Map it with source.columns.{name}: <column>, or give a constant "
                f"with source.defaults.{name}"
            )
    return selected
