"""Extract adapters: every event source behind one protocol, mapped onto the canonical columns.

A source is configured, not coded: ``source.kind`` picks the adapter (:data:`SOURCES`),
``source.columns`` maps canonical names to the source's names, ``source.defaults`` fills
canonical columns the source lacks, and ``source.event_time_format`` parses unusual
timestamps. Every problem is reported as a ``SourceError`` naming the file (or table), the
column and how to fix the configuration.

This module holds what all sources share: the :class:`EventSource` protocol, the factory
:func:`event_source`, the lake's :data:`EVENT_SCHEMA`, and the mapping, time parsing,
typing and de-duplication every adapter applies. The adapters live in
:mod:`segmentation.io.files` and :mod:`segmentation.io.postgres_source`; they import this
module, and it imports them only when one is built (a file source never loads the driver).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.config import CANONICAL_EVENT_COLUMNS, CUSTOMER_COLUMNS, SourceConfig
from segmentation.errors import MalformedSource
from segmentation.io.values import affixed_numbers, parse_numbers, text_ids

REQUIRED_EVENT_COLUMNS = ("customer_id", "event_time", "event_type")
NUMERIC_EVENT_COLUMNS = ("amount", "quantity", "unit_price")
# text columns that hold ids: trimmed, and numbers as their text (7.0 -> "7")
ID_EVENT_COLUMNS = ("customer_id", "event_id", "order_id", "product_id")
# The lake's schema: every partition has exactly these columns and types.
EVENT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("event_type", pa.string()),
        ("amount", pa.float64()),
        ("event_id", pa.string()),
        ("category", pa.string()),
        ("channel", pa.string()),
        ("product_id", pa.string()),
        ("quantity", pa.float64()),
        ("order_id", pa.string()),
    ]
)
# The night that first took a row in: lake rows carry it (a late row's night is after its
# event's day), so a rerun of an old night reads only what was known then.
INGESTED = "ingested_date"
# Staged rows carry what was wrong with their source row, if anything (a short CSV row):
# validation quarantines such rows, and the lake never has the column.
PROBLEM = "source_problem"
# Where a row was read (its file, or its postgres arrival), its content and which of
# identical rows there it is, as a 64-bit key: a row read again by a later night (a folder is
# read whole) is known by it, and is never counted twice.
SOURCE_ROW = "source_row"
LAKE_SCHEMA = EVENT_SCHEMA.append(pa.field(INGESTED, pa.date32())).append(
    pa.field(SOURCE_ROW, pa.int64())
)
STAGED_SCHEMA = LAKE_SCHEMA.append(pa.field(PROBLEM, pa.string()))
# The first night that can see a row, where the source knows (a {ds} file: the night before
# its day, which reads it as a neighbour; a postgres arrival_column); else missing.
ARRIVAL = "_arrival"
# Where a row was read: a file's name, or for postgres its arrival (or nothing)
ORIGIN = "_origin"


class EventSource(Protocol):
    """Where a night's events come from: built from a ``SourceConfig`` and the timezone."""

    @property
    def name(self) -> str:
        """What the source is, for messages: the path (or template) of files, the table."""
        ...

    def read_events(
        self, first: dt.date, last: dt.date, since: dt.date | None = None, late_days: int = 0
    ) -> pd.DataFrame:
        """Canonical events for the nights [first, last]: every row the source holds with
        ``event_time`` from the start of ``since`` (default ``first``) to the end of
        ``last`` in the timezone, and the rows without a time, with :data:`ARRIVAL`.

        Read once, nothing dropped (duplicates are the intake's to count), sorted on every
        column, so the same source always gives the same frame. ``late_days`` bounds how far
        back a source that cannot tell when rows arrived (postgres without
        ``arrival_column``) looks for late rows.
        """
        ...


# source.kind -> "module:class" of its adapter, imported when a source of that kind is built
SOURCES: dict[str, str] = {
    "files": "segmentation.io.files:FileSource",
    "postgres": "segmentation.io.postgres_source:PostgresSource",
}


def event_source(src: SourceConfig, tz: ZoneInfo) -> EventSource:
    """The adapter for ``src.kind``. Building it reads nothing: only ``read_events`` does."""
    module, _, name = SOURCES[src.kind].partition(":")
    adapter = getattr(importlib.import_module(module), name)
    return cast(Callable[[SourceConfig, ZoneInfo], EventSource], adapter)(src, tz)


def day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of ``day`` in ``tz``, as UTC timestamps (DST days are 23 or 25 hours)."""
    start = pd.Timestamp(dt.datetime.combine(day, dt.time(), tzinfo=tz)).tz_convert("UTC")
    end = pd.Timestamp(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    ).tz_convert("UTC")
    return start, end


def read_customers(src: SourceConfig, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Customer attributes keyed by ``customer_id``: one row per customer (the last wins).

    ``extra`` names more columns the files must have (audiences.export_columns), kept as read.
    """
    from segmentation.io.files import read_raw, source_files  # files import this module

    frames = []
    wanted, required = (*CUSTOMER_COLUMNS, *extra), ("customer_id", *extra)
    for path in source_files(src):
        raw = read_raw(path, src.format, None)
        frames.append(map_columns(raw, path, src, wanted, required, "customers"))
    customers = pd.concat(frames, ignore_index=True)
    customers["customer_id"] = text_ids(customers["customer_id"])
    for col in ("signup_date", "birth_date"):
        if col in customers:
            customers[col] = pd.to_datetime(customers[col], errors="coerce").dt.date
    if "age" in customers:
        customers["age"] = parse_numbers(customers["age"], src.decimal, src.thousands)
    customers = customers.dropna(subset=["customer_id"])
    return customers.drop_duplicates("customer_id", keep="last").reset_index(drop=True)


def sort_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events by time, customer and event id; ties keep the source's order (files in name
    order, rows in file order; postgres orders by every column), so the same source always
    gives the same frame, and which of two copies of an event is taken never varies."""
    return events.sort_values(
        ["event_time", "customer_id", "event_id"], kind="stable", na_position="last"
    ).reset_index(drop=True)


def map_columns(
    raw: pd.DataFrame,
    path: Path,
    src: SourceConfig,
    canonical: tuple[str, ...],
    required: tuple[str, ...],
    section: str = "source",
) -> pd.DataFrame:
    """The canonical columns of ``raw`` (as mapped by ``src.columns``, or the defaults)."""
    out: dict[str, object] = {}
    found = list(map(str, raw.columns))
    for name in canonical:
        source_name = src.columns.get(name, name)
        if source_name in raw.columns:
            out[name] = raw[source_name].to_numpy()
        elif name in src.columns:
            raise MalformedSource(
                f"{path} has no column {source_name!r}, which {section}.columns maps to "
                f"{name!r}. Columns in the file: {', '.join(found)}. Fix "
                f"{section}.columns.{name} in the config (keys are canonical names, values "
                "the file's column names)"
            )
        elif name in src.defaults:
            out[name] = np.full(len(raw), src.defaults[name], dtype=object)
        elif name in required:
            raise MalformedSource(
                f"{path} has no column {name!r} (required). Columns in the file: "
                f"{', '.join(found)}. Map it with {section}.columns.{name}: <column>, or give "
                f"a constant with {section}.defaults.{name}"
            )
    return pd.DataFrame(out, index=raw.index)


def map_events(raw: pd.DataFrame, path: Path, src: SourceConfig, tz: ZoneInfo) -> pd.DataFrame:
    """Raw rows as canonical events: mapped, event_time parsed (UTC), typed as the lake."""
    time_col = src.columns.get("event_time", "event_time")
    events = map_columns(raw, path, src, CANONICAL_EVENT_COLUMNS, REQUIRED_EVENT_COLUMNS)
    problems = (
        pd.Series(raw[PROBLEM].to_numpy(), index=events.index, dtype=object)
        if PROBLEM in raw
        else pd.Series(None, index=events.index, dtype=object)
    )
    events["event_time"] = parse_times(events["event_time"], path, time_col, src, tz, problems)
    given = {name: events[name].notna() for name in NUMERIC_EVENT_COLUMNS if name in events}
    for name in given:
        events[name] = _parse_column(events[name], path, src, name)
    amount_in_file = src.columns.get("amount", "amount") in raw.columns
    if not amount_in_file and "quantity" in events and "unit_price" in events:
        events["amount"] = _order_line_amounts(events, given, src.defaults)
    for name, present in given.items():
        if name != "amount" or amount_in_file:
            events[name] = events[name].where(present, _default(name, src.defaults))
    events[PROBLEM] = problems.to_numpy()
    return events


def _default(name: str, defaults: dict[str, Any]) -> Any:
    """What an absent or empty cell of canonical column ``name`` becomes."""
    return defaults.get(name, 0.0 if name == "amount" else None)


def _parse_column(values: pd.Series, path: Path, src: SourceConfig, name: str) -> pd.Series:
    """A numeric column as floats (text read with the source's separators); a value with a
    currency symbol or unit is refused, naming the file, the column and the fix."""
    parsed = parse_numbers(values, src.decimal, src.thousands)
    affixed = affixed_numbers(values, parsed)
    if affixed.any():
        column = src.columns.get(name, name)
        first = int(np.flatnonzero(affixed)[0])
        raise MalformedSource(
            f"{path}: {int(affixed.sum())} value(s) in column {column!r} ({name}) have a "
            f"currency symbol or unit, e.g. {str(values.iloc[first])!r} at "
            f"{_row_name(src, first)}. Export plain numbers (one currency per source; "
            'the decimal separator set by source.decimal, e.g. "," for 12,50, and '
            "source.thousands for 1.234,56)"
        )
    return parsed


def _row_name(src: SourceConfig, position: int) -> str:
    """Where the row at ``position`` of a source's frame is, for messages: a line of a file."""
    if src.kind == "files" and src.format == "csv":
        return f"line {position + 2}"  # the header is line 1
    if src.kind == "files" and src.format == "jsonl":
        return f"line {position + 1}"
    return f"row {position + 1}"


def _order_line_amounts(
    events: pd.DataFrame, given: dict[str, pd.Series], defaults: dict[str, Any]
) -> pd.Series:
    """amount = quantity × unit_price; a row lacking either takes the amount default.

    An empty cell takes its column's default first (``defaults.quantity: 1``); only a value
    that is no number leaves the amount missing, for the validation gate to report.
    """
    parts: dict[str, pd.Series] = {}
    bad = pd.Series(False, index=events.index)
    for name in ("quantity", "unit_price"):
        bad |= given[name] & events[name].isna()
        default = _default(name, defaults)
        parts[name] = events[name].where(given[name], np.nan if default is None else default)
    amount = (parts["quantity"] * parts["unit_price"]).astype("float64")
    return amount.where(amount.notna() | bad, _default("amount", defaults))


def parse_times(
    values: pd.Series,
    path: Path,
    column: str,
    src: SourceConfig,
    tz: ZoneInfo,
    problems: pd.Series | None = None,
) -> pd.Series:
    """``event_time`` values as UTC instants; naive times are wall-clock times in ``tz``."""
    parsed = (
        values
        if pd.api.types.is_datetime64_any_dtype(values)
        else _parse_text_times(
            values,
            path,
            column,
            src,
            pd.Series(None, index=values.index, dtype=object) if problems is None else problems,
        )
    )
    series = pd.Series(parsed, index=values.index)
    if series.dt.tz is None:
        # naive times are wall-clock times in the configured timezone
        # the repeated hour when clocks go back is read as its first occurrence, and the
        # skipped hour when they go forward is moved past the gap: no event is dropped
        series = series.dt.tz_localize(
            tz, ambiguous=np.ones(len(series), dtype=bool), nonexistent="shift_forward"
        )
    return series.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def _parse_text_times(
    values: pd.Series, path: Path, column: str, src: SourceConfig, problems: pd.Series
) -> pd.Series:
    """Text timestamps parsed by ``source.event_time_format`` or as ISO 8601; a value that
    cannot be parsed (among ones that can) is missing, and ``problems`` says why."""
    text = values.astype("string").str.strip()
    present = text.notna()
    mixed: pd.Series | None = None
    if src.event_time_format:
        parsed = pd.to_datetime(
            text,
            format=src.event_time_format,
            errors="coerce",
            utc="%z" in src.event_time_format,  # offsets may differ row to row
        )
    else:
        parsed, mixed = _parse_iso_times(text, present)
    bad = parsed.isna() & present
    hint = (
        f"with source.event_time_format {src.event_time_format!r}"
        if src.event_time_format
        else "as ISO 8601"
    )
    if bad.any() and bad.sum() < present.sum():
        # a few unreadable times are bad rows (quarantined, quoting the value); none readable
        # is a wrong format, refused below
        problems.loc[bad] = (
            f"{path.name}: event_time "
            + text[bad].map(repr)
            + f" cannot be parsed {hint} (source.event_time_format)"
        )
    elif bad.any():
        example = text[bad].iloc[0]
        raise MalformedSource(
            f"{path}: {int(bad.sum())} value(s) in column {column!r} (event_time) cannot be "
            f"parsed {hint}, e.g. {example!r} at row {int(np.flatnonzero(bad)[0]) + 2}. "
            "Set source.event_time_format to the strptime format of the export "
            '(e.g. "%Y-%m-%d %H:%M:%S")'
        )
    if mixed is not None and len(mixed):
        raise MalformedSource(
            f"{path}: column {column!r} (event_time) mixes timestamps with and without a "
            f"UTC offset, e.g. {mixed.iloc[0]!r}; make the export consistent, or set "
            "source.event_time_format"
        )
    return parsed


def _parse_iso_times(text: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series | None]:
    """ISO 8601 times (unparsable ones missing), and those without an offset among ones with."""
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    # mixed offsets are fine: everything with an offset is converted to UTC
    aware = pd.to_datetime(text.where(has_offset), format="ISO8601", errors="coerce", utc=True)
    naive = pd.to_datetime(text.where(~has_offset), format="ISO8601", errors="coerce")
    parsed = aware if has_offset.any() else naive
    mixed: pd.Series | None = None
    if has_offset.any() and (present & ~has_offset).any():
        mixed = text[present & ~has_offset & naive.notna()]
    bad_any = present & aware.isna() & naive.isna()
    return parsed.where(~bad_any), mixed


def conform(events: pd.DataFrame, defaults: dict[str, Any]) -> pd.DataFrame:
    """Cast a mapped frame to the lake schema, filling empty cells with the defaults."""
    out = pd.DataFrame(index=events.index)
    for field in EVENT_SCHEMA:
        name = field.name
        default = defaults.get(name, 0.0 if name == "amount" else None)
        if name not in events:
            out[name] = default
        elif name in NUMERIC_EVENT_COLUMNS:
            # parsed by map_events, empty cells already defaulted: what is missing now is
            # text that is no number, left for the validation gate to report
            out[name] = pd.to_numeric(events[name], errors="coerce").astype("float64")
        else:
            out[name] = events[name].where(events[name].notna(), default)
    table = pa.Table.from_pandas(_as_text(out), schema=EVENT_SCHEMA, preserve_index=False)
    typed = table.to_pandas()
    typed[PROBLEM] = events[PROBLEM].to_numpy() if PROBLEM in events else None
    return typed


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as strings whatever the source typed them as (ids may be numbers)."""
    frame = frame.copy()
    for field in EVENT_SCHEMA:
        if field.name in ID_EVENT_COLUMNS:
            frame[field.name] = text_ids(frame[field.name])
        elif pa.types.is_string(field.type):
            frame[field.name] = frame[field.name].astype("string")
    return frame
