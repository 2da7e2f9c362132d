"""The SQL sink for the output contract: the published tables mirrored into PostgreSQL.

Each output table is a table ``<schema>.<table>`` with a ``run_date date`` column and the
frame's columns; a run's rows are replaced (``DELETE ... WHERE run_date = day`` and a
``COPY``), so a rerun of a date overwrites exactly that date. ``<schema>.<table>_current`` is
a view of the newest run (``WHERE run_date = (SELECT max(run_date) ...)``): a backfill of an
older date never moves it backwards, and it is atomic by construction.

Tables that are not per run (:data:`WHOLE_TABLES`: ``segment_history``, one table as of the
newest run) are replaced whole instead (``TRUNCATE`` and ``COPY``), without a ``run_date``
column; their ``_current`` view selects everything.

All tables of one call, and their views and indexes, are written in ONE transaction, which
starts by taking a transaction-level advisory lock per schema: readers see the previous or
the new state, never half of it, and two runs publishing at once take turns.

Type mapping (pandas -> PostgreSQL): integers (numpy or nullable) -> ``bigint``, floats ->
``double precision`` (NaN -> NULL), booleans -> ``boolean``, strings and other objects ->
``text``, ``datetime.date`` objects and Arrow ``date32`` -> ``date``, ``datetime64`` ->
``timestamp`` (``timestamptz`` when tz-aware), ``Decimal`` -> ``numeric``. A column new to
the table is added with ``ALTER TABLE ... ADD COLUMN`` (the contract lets columns be added);
a column that already exists keeps its type and the frame's values are converted to it.

Names of schemas and tables come from configuration and must match
:data:`segmentation.identifiers.IDENTIFIER_RULE`; all SQL is composed with
:class:`psycopg.sql.Identifier`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from segmentation import catalog, layout
from segmentation.errors import SegmentationError, WarehouseUnavailable
from segmentation.identifiers import CURRENT_SUFFIX, MAX_IDENTIFIER, check_identifier
from segmentation.io import postgres

RUN_DATE = "run_date"
# tables that are one table as of the newest run, not one partition per run
WHOLE_TABLES: frozenset[str] = frozenset(t.name for t in layout.TABLES if not t.per_run)
DEFAULT_URL_ENV = "SEGMENTATION_WAREHOUSE_URL"
COPY_BATCH_ROWS = 100_000

Mode = Literal["run", "replace"]

# the only type names that reach SQL text (as sql.SQL): never built from input
_BIGINT, _DOUBLE, _BOOLEAN, _TEXT, _DATE = "bigint", "double precision", "boolean", "text", "date"
_TEXT_ARRAY = "text[]"
_TIMESTAMP, _TIMESTAMPTZ, _NUMERIC = "timestamp", "timestamptz", "numeric"
_PG_TYPE_NAMES = {
    "timestamp without time zone": _TIMESTAMP,
    "timestamp with time zone": _TIMESTAMPTZ,
}
# PostgreSQL type oid -> pandas dtype when reading back (others stay Python objects)
_PANDAS_TYPES: dict[int, str] = {
    20: "Int64",
    23: "Int64",
    21: "Int64",
    701: "float64",
    16: "boolean",
}


# ---------------------------------------------------------------- public API


def publish(
    url: str,
    schema: str,
    table: str,
    day: dt.date,
    frame: pd.DataFrame,
    *,
    mode: Mode | None = None,
    url_env: str = DEFAULT_URL_ENV,
) -> None:
    """Publish one table of run ``day``: replace that run's rows (or, in ``replace`` mode,
    the whole table) and point ``<table>_current`` at the newest run, in one transaction.

    ``mode`` defaults to ``replace`` for :data:`WHOLE_TABLES` and ``run`` otherwise.
    ``url_env`` names where the URL came from, for error messages only.
    """
    publish_many(
        url, schema, day, {table: frame}, modes={table: mode} if mode else None, url_env=url_env
    )


def publish_many(
    url: str,
    schema: str,
    day: dt.date,
    frames: Mapping[str, pd.DataFrame],
    *,
    modes: Mapping[str, Mode] | None = None,
    url_env: str = DEFAULT_URL_ENV,
) -> None:
    """Publish all of one run's tables in ONE transaction: all of them or none."""
    check_identifier(schema, "warehouse.schema")
    chosen: dict[str, Mode] = {}
    for table in frames:
        check_identifier(table, "warehouse table name", room=len(CURRENT_SUFFIX))
        chosen[table] = (modes or {}).get(table) or ("replace" if table in WHOLE_TABLES else "run")
        _check_columns(frames[table], table, chosen[table], day)
    where = schema
    with connect(url, url_env) as conn:
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s || '.' || 'publish'))", [schema]
                )
                cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
                for table, frame in frames.items():
                    where = f"{schema}.{table}"
                    _write_table(cur, schema, table, day, frame, chosen[table])
        except psycopg.OperationalError as exc:
            raise WarehouseUnavailable(
                f"the warehouse connection to {postgres.describe(url)} failed while publishing "
                f"{where} for {day}: {postgres.reason(exc, url)}; nothing was published (the "
                f"transaction was rolled back); check the server and ${url_env}"
            ) from None
        except psycopg.Error as exc:
            raise SegmentationError(
                f"publishing {where} for {day} to the warehouse at "
                f"{postgres.describe(url)} failed: {postgres.reason(exc, url)}; nothing was "
                "published (the transaction was rolled back), the warehouse still shows the "
                "previous runs"
            ) from None


def current(url: str, schema: str, table: str, *, url_env: str = DEFAULT_URL_ENV) -> pd.DataFrame:
    """The newest published run of ``table`` (its ``_current`` view), as a DataFrame."""
    check_identifier(schema, "warehouse.schema")
    check_identifier(table, "warehouse table name", room=len(CURRENT_SUFFIX))
    view = sql.Identifier(schema, table + CURRENT_SUFFIX)
    with connect(url, url_env) as conn, conn.cursor() as cur:
        try:
            cur.execute(sql.SQL("SELECT * FROM {}").format(view))
        except psycopg.errors.UndefinedTable:
            raise SegmentationError(
                f"{schema}.{table} has not been published to the warehouse at "
                f"{postgres.describe(url)} yet; run publish first"
            ) from None
        description = cur.description or []
        rows = cur.fetchall()
    # by column, so a nullable integer stays an integer (Int64) instead of becoming float
    return pd.DataFrame(
        {
            c.name: pd.Series(
                [row[i] for row in rows], dtype=_PANDAS_TYPES.get(c.type_code, object)
            )
            for i, c in enumerate(description)
        }
    )


# ---------------------------------------------------------------- connection


@contextmanager
def connect(url: str, url_env: str) -> Iterator[psycopg.Connection[Any]]:
    with postgres.connect(
        url,
        url_env=url_env,
        name="warehouse",
        what="the warehouse",
        application_name="segmentation",
        unavailable=WarehouseUnavailable,
    ) as conn:
        yield conn


def _check_columns(frame: pd.DataFrame, table: str, mode: Mode, day: dt.date) -> None:
    names = list(frame.columns)
    for name in names:
        if not isinstance(name, str) or not name or len(name.encode()) > MAX_IDENTIFIER:
            raise SegmentationError(
                f"{table}: column {name!r} cannot be a PostgreSQL column name (it must be "
                f"text of 1 to {MAX_IDENTIFIER} bytes)"
            )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SegmentationError(f"{table}: repeated column names {dupes}")
    if mode == "run" and RUN_DATE in frame.columns:
        given = pd.to_datetime(frame[RUN_DATE]).dt.date
        if given.isna().any() or not (given == day).all():
            raise SegmentationError(
                f"{table}: the frame's run_date column holds dates other than {day}; pass the "
                "frame of that run only (run_date is filled in by the warehouse sink)"
            )


def _write_table(
    cur: psycopg.Cursor[Any], schema: str, table: str, day: dt.date, frame: pd.DataFrame, mode: Mode
) -> None:
    target = sql.Identifier(schema, table)
    if mode == "run":
        frame = frame.drop(columns=[RUN_DATE], errors="ignore")
        frame.insert(0, RUN_DATE, pd.Series([day] * len(frame), dtype="object", index=frame.index))
    # a column of nulls (an empty night) takes its declared type, not text
    inferred = {name: _sql_type(frame[name]) or _declared(table, name) for name in frame.columns}
    if mode == "run":
        inferred[RUN_DATE] = _DATE
    existing = _table_columns(cur, schema, table)
    _create_or_extend(cur, target, f"{schema}.{table}", inferred, existing, mode)
    types = {n: existing.get(n) or inferred[n] or _TEXT for n in frame.columns}
    if mode == "run":
        cur.execute(
            sql.SQL("DELETE FROM {} WHERE {} = %s").format(target, sql.Identifier(RUN_DATE)), [day]
        )
    else:
        cur.execute(sql.SQL("TRUNCATE {}").format(target))
    _copy(cur, target, table, frame, types)
    _index_and_view(cur, schema, table, set(existing) | set(frame.columns), mode)


def _create_or_extend(
    cur: psycopg.Cursor[Any],
    target: sql.Identifier,
    where: str,
    inferred: dict[str, str | None],
    existing: dict[str, str],
    mode: Mode,
) -> None:
    """Create the table, or add the frame's new columns to the existing one."""
    if not existing:
        cur.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                target,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t or _TEXT))
                    for n, t in inferred.items()
                ),
            )
        )
        return
    if mode == "run" and RUN_DATE not in existing:
        raise SegmentationError(
            f"{where} exists without a run_date column (it was published whole); "
            "drop it or publish it with mode='replace'"
        )
    for name, kind in inferred.items():
        if name not in existing:
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    target, sql.Identifier(name), sql.SQL(kind or _TEXT)
                )
            )


def _index_and_view(
    cur: psycopg.Cursor[Any], schema: str, table: str, columns: set[str], mode: Mode
) -> None:
    """Indexes on run_date and customer_id, and the ``_current`` view of the newest run."""
    target = sql.Identifier(schema, table)
    # after the COPY: a new index is built in bulk, an existing one is left as it is
    for column in ((RUN_DATE,) if mode == "run" else ()) + ("customer_id", "customer_key"):
        if column in columns:
            cur.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                    sql.Identifier(_index_name(table, column)), target, sql.Identifier(column)
                )
            )
    view = sql.Identifier(schema, table + CURRENT_SUFFIX)
    if mode == "run":
        body = sql.SQL("SELECT * FROM {t} WHERE {d} = (SELECT max({d}) FROM {t})").format(
            t=target, d=sql.Identifier(RUN_DATE)
        )
    else:
        body = sql.SQL("SELECT * FROM {}").format(target)
    cur.execute(sql.SQL("CREATE OR REPLACE VIEW {} AS {}").format(view, body))


def _table_columns(cur: psycopg.Cursor[Any], schema: str, table: str) -> dict[str, str]:
    """Column name -> type of an existing table, in order; empty when there is no table."""
    cur.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        [schema, table],
    )
    return {name: _PG_TYPE_NAMES.get(kind, kind) for name, kind in cur.fetchall()}


def _index_name(table: str, column: str) -> str:
    name = f"{table}_{column}_idx"
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(f"{table}.{column}".encode()).hexdigest()[:8]
    return f"{table[: MAX_IDENTIFIER - len(digest) - 6]}_{digest}_idx"


def _copy(
    cur: psycopg.Cursor[Any],
    target: sql.Composable,
    table: str,
    frame: pd.DataFrame,
    types: dict[str, str],
) -> None:
    """COPY ``frame`` in CSV, written by Arrow in batches (null: unquoted empty; text quoted)."""
    arrays = {}
    for name in frame.columns:
        try:
            arrays[name] = _arrow(frame[name], types[name])
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise SegmentationError(
                f"{table}: column {name!r} ({frame[name].dtype}) cannot be stored in the "
                f"warehouse column of type {types[name]}: {exc}"
            ) from None
    data = pa.table(arrays)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(n) for n in frame.columns)
    )
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    with cur.copy(statement) as copy:
        for batch in data.to_batches(max_chunksize=COPY_BATCH_ROWS):
            sink = pa.BufferOutputStream()
            pacsv.write_csv(batch, sink, options)
            copy.write(memoryview(sink.getvalue()))


# ---------------------------------------------------------------- types


def _sql_type(series: pd.Series) -> str | None:
    """The PostgreSQL type for a column, or None when it holds only nulls of no known type."""
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow_sql_type(dtype.pyarrow_dtype)
    if isinstance(dtype, pd.CategoricalDtype):
        return _sql_type(series.astype(object))
    if pd.api.types.is_bool_dtype(dtype):
        return _BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return _BIGINT
    if pd.api.types.is_float_dtype(dtype):
        return _DOUBLE
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _TIMESTAMPTZ
    if pd.api.types.is_datetime64_dtype(dtype):
        return _TIMESTAMP
    if not _is_object(dtype):
        return _TEXT
    return _object_sql_type(series)


def _arrow_sql_type(t: pa.DataType) -> str:
    """The PostgreSQL type for a column of Arrow type ``t``."""
    if pa.types.is_boolean(t):
        return _BOOLEAN
    if pa.types.is_integer(t):
        return _BIGINT
    if pa.types.is_floating(t):
        return _DOUBLE
    if pa.types.is_date(t):
        return _DATE
    if pa.types.is_timestamp(t):
        return _TIMESTAMPTZ if t.tz else _TIMESTAMP
    if pa.types.is_decimal(t):
        return _NUMERIC
    return _TEXT


def _declared(table: str, column: str) -> str | None:
    """The catalog's PostgreSQL type of an output table's column (None for another table)."""
    try:
        declared = catalog.table(table).column(column)
    except ValueError:
        return None
    if declared is None:
        return None
    known = (_BIGINT, _DOUBLE, _BOOLEAN, _TEXT, _DATE, _TIMESTAMPTZ, _TEXT_ARRAY)
    return {name: name for name in known}.get(catalog.TYPES[declared.type][1])


def _object_sql_type(series: pd.Series) -> str | None:
    """The PostgreSQL type for an object column, by the values it holds."""
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind == "empty":
        return None
    if kind == "mixed" and isinstance(_first(series), list | tuple | np.ndarray):
        return _TEXT_ARRAY  # a list of items per row (association_rules)
    if kind == "datetime":
        first = series.dropna().iloc[0]
        return _TIMESTAMPTZ if getattr(first, "tzinfo", None) is not None else _TIMESTAMP
    return {
        "string": _TEXT,
        "integer": _BIGINT,
        "floating": _DOUBLE,
        "mixed-integer-float": _DOUBLE,
        "boolean": _BOOLEAN,
        "date": _DATE,
        "decimal": _NUMERIC,
    }.get(kind, _TEXT)


def _arrow(series: pd.Series, kind: str) -> pa.Array | pa.ChunkedArray:
    """``series`` as an Arrow array whose CSV text PostgreSQL parses as ``kind``."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if kind == _BIGINT:
        if not pd.api.types.is_integer_dtype(dtype) or isinstance(dtype, pd.ArrowDtype):
            series = series.astype("Int64")
        return pa.array(series, type=pa.int64(), from_pandas=True)
    if kind == _DOUBLE:
        if _is_object(dtype):
            series = pd.to_numeric(series)
        return pa.array(series, type=pa.float64(), from_pandas=True)
    if kind == _BOOLEAN:
        return pa.array(series, type=pa.bool_(), from_pandas=True)
    if kind == _DATE:
        if pd.api.types.is_datetime64_any_dtype(dtype):
            series = series.dt.date
        elif _is_object(dtype) and pd.api.types.infer_dtype(series, skipna=True) not in (
            "date",
            "empty",
        ):
            series = pd.to_datetime(series).dt.date
        return pa.array(series, type=pa.date32(), from_pandas=True)
    if kind == _TEXT_ARRAY:  # PostgreSQL's array literal: {"a","b"}
        return pa.array(
            [None if v is None else _array_literal(v) for v in series.astype(object)],
            type=pa.string(),
        )
    if kind in (_TIMESTAMP, _TIMESTAMPTZ):
        if not pd.api.types.is_datetime64_any_dtype(dtype):
            series = pd.to_datetime(series)
        return pa.array(series, from_pandas=True)
    if (
        kind == _TEXT
        and pd.api.types.is_string_dtype(dtype)
        and (
            not _is_object(dtype)
            or pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
        )
    ):
        return pa.array(series, type=pa.string(), from_pandas=True)
    # text holding other objects, or a type the table was given outside this module
    # (numeric, integer, varchar...): the values' text, for PostgreSQL to parse
    return pa.array(
        [None if _missing(v) else _text(v) for v in series.astype(object)], type=pa.string()
    )


def _first(series: pd.Series) -> Any:
    """The first value that is not None (lists are never NaN)."""
    return next((v for v in series if v is not None), None)


def _array_literal(values: Any) -> str:
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{q}"' for q in quoted) + "}"


def _is_object(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array value: not missing
        return False


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
