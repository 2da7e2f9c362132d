"""Extract adapters: read a source's files and map them onto the canonical event columns.

A source is configured, not coded: ``source.columns`` maps canonical names to the source's
names, ``source.defaults`` fills canonical columns the source lacks, and
``source.event_time_format`` parses unusual timestamps. Every problem is reported as a
``SourceError`` naming the file, the column and how to fix the configuration.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from segmentation.config import CANONICAL_EVENT_COLUMNS, CUSTOMER_COLUMNS, SourceConfig
from segmentation.errors import BadInput, MalformedSource, SourceError

REQUIRED_EVENT_COLUMNS = ("customer_id", "event_time", "event_type")
NUMERIC_EVENT_COLUMNS = ("amount", "quantity")
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
    ]
)
_SUFFIXES = {
    "csv": (".csv", ".csv.gz"),
    "jsonl": (".jsonl", ".json", ".jsonl.gz"),
    "parquet": (".parquet",),
}


def day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of ``day`` in ``tz``, as UTC timestamps (DST days are 23 or 25 hours)."""
    start = pd.Timestamp(dt.datetime.combine(day, dt.time(), tzinfo=tz)).tz_convert("UTC")
    end = pd.Timestamp(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    ).tz_convert("UTC")
    return start, end


def source_files(src: SourceConfig, days: Iterable[dt.date] = ()) -> list[Path]:
    """The files a source covers: a folder, a glob, a single file, or a ``{ds}`` template."""
    pattern = src.path
    if "{ds}" in pattern:
        files = []
        for day in days:
            path = Path(pattern.replace("{ds}", day.isoformat()))
            if not path.is_file():
                raise SourceError(
                    f"no source file for {day.isoformat()}: expected {path} "
                    f"(from source.path {pattern}); check that the upstream export for that date "
                    "has landed, or run a different date"
                )
            files.append(path)
        return files
    if any(ch in pattern for ch in "*?["):
        files = [Path(p) for p in sorted(glob.glob(pattern))]
        what = f"the glob source.path {pattern} matches no file"
    elif Path(pattern).is_dir():
        suffixes = _SUFFIXES[src.format]
        # hidden names ('.' or '_' first) are an exporter's files in progress: never read
        files = sorted(
            p
            for p in Path(pattern).iterdir()
            if p.name.endswith(suffixes) and not p.name.startswith((".", "_"))
        )
        what = f"the folder {pattern} (source.path) holds no {'/'.join(suffixes)} files"
    elif Path(pattern).is_file():
        files = [Path(pattern)]
        what = ""
    else:
        raise SourceError(
            f"source.path {pattern} does not exist; point it at a folder, a glob, a file, "
            "or a template containing {ds}"
        )
    if not files:
        raise SourceError(f"{what}; check source.path and source.format ({src.format})")
    return files


def read_events(src: SourceConfig, tz: ZoneInfo, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Canonical events with ``event_time`` in days [first, last] of ``tz``, read once.

    Duplicate ``event_id``s within a day are dropped (the first occurrence is kept) and the
    result is sorted, so the same source always gives the same frame.
    """
    if src.kind == "postgres":
        return read_postgres_events(src, tz, first, last)
    start, _ = day_bounds(first, tz)
    _, end = day_bounds(last, tz)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    files = source_files(src, days)
    if "{ds}" in src.path:
        # exports cut at another midnight than ours hold a few of our day's events in the
        # neighbouring days' files: read those too when they exist, so a day read alone
        # (the nightly run) gets the same events as the same day read in a range (ingest)
        for day in (first - dt.timedelta(days=1), last + dt.timedelta(days=1)):
            neighbour = Path(src.path.replace("{ds}", day.isoformat()))
            if neighbour.is_file():
                files.append(neighbour)
    frames = [_read_event_file(path, src, tz, start, end) for path in files]
    events = pd.concat(frames, ignore_index=True)  # source_files never returns no file
    return _dedupe_and_sort(events, tz)


def _dedupe_and_sort(events: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """Drop repeated ``event_id``s within a local day (the first wins) and sort."""
    # duplicates are dropped within a day, so reading a range at once (ingest) and day by
    # day (the nightly run) give the same lake
    local_day = events["event_time"].dt.tz_convert(tz).dt.date
    with_id = events["event_id"].notna()
    dup = with_id & events.assign(_day=local_day).duplicated(
        subset=["event_id", "_day"], keep="first"
    )
    events = events[~dup]
    return events.sort_values(
        ["event_time", "customer_id", "event_id"], kind="stable", na_position="last"
    ).reset_index(drop=True)


def read_customers(src: SourceConfig) -> pd.DataFrame:
    """Customer attributes keyed by ``customer_id``: one row per customer (the last wins)."""
    frames = []
    for path in source_files(src):
        raw = _read_raw(path, src.format, None)
        frames.append(_map_columns(raw, path, src, CUSTOMER_COLUMNS, ("customer_id",), "customers"))
    customers = pd.concat(frames, ignore_index=True)
    customers["customer_id"] = customers["customer_id"].astype("string")
    for col in ("signup_date", "birth_date"):
        if col in customers:
            customers[col] = pd.to_datetime(customers[col], errors="coerce").dt.date
    if "age" in customers:
        customers["age"] = pd.to_numeric(customers["age"], errors="coerce")
    customers = customers.dropna(subset=["customer_id"])
    return customers.drop_duplicates("customer_id", keep="last").reset_index(drop=True)


def _read_event_file(
    path: Path, src: SourceConfig, tz: ZoneInfo, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    time_col = src.columns.get("event_time", "event_time")
    raw = _read_raw(path, src.format, (time_col, start, end))
    events = _map_columns(raw, path, src, CANONICAL_EVENT_COLUMNS, REQUIRED_EVENT_COLUMNS)
    events["event_time"] = _parse_times(events["event_time"], path, time_col, src, tz)
    events = events[(events["event_time"] >= start) & (events["event_time"] < end)]
    return _conform(events, src.defaults)


def _read_raw(
    path: Path, fmt: str, time_filter: tuple[str, pd.Timestamp, pd.Timestamp] | None
) -> pd.DataFrame:
    """Read one file as text columns (parquet keeps its types), with a clear error if it fails."""
    try:
        if fmt == "csv":
            _check_last_line(path)
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        if fmt == "jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        return _read_parquet(path, time_filter)
    except pd.errors.EmptyDataError:
        raise MalformedSource(
            f"{path} is empty (not even a header line); an empty day still needs the header row"
        ) from None
    except pd.errors.ParserError as exc:
        raise MalformedSource(
            f"{path} is not well-formed {fmt}: {_first_line(exc)}. Fix or remove that line in "
            "the export (a field holding the delimiter must be quoted, and every quote closed)"
        ) from None
    except UnicodeDecodeError as exc:
        raise MalformedSource(
            f"{path} is not UTF-8 text: byte 0x{exc.object[exc.start]:02x}"
            f"{_undecodable_line(path)} cannot be decoded. Re-export it as UTF-8 "
            "(it looks like another encoding, such as latin-1 or cp1252)"
        ) from None
    except (ValueError, pa.ArrowException, OSError) as exc:
        raise MalformedSource(
            f"cannot read {path} as {fmt}: {_first_line(exc)}. Check that source.format "
            "matches the file and that the file is complete"
        ) from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _undecodable_line(path: Path) -> str:
    """' on line N' for the first line of ``path`` that is not UTF-8 ('' if not found)."""
    if path.name.endswith(".gz"):
        return ""
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return f" on line {number}"
    return ""


def _check_last_line(path: Path) -> None:
    """Refuse a CSV file whose last line is cut short: it is still being written.

    A last line with no line ending and fewer fields than the header is a partial row;
    read as is, its missing cells would silently be empty.
    """
    if path.name.endswith(".gz"):
        return
    with path.open("rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        header = f.readline()
        if f.tell() >= size:
            return  # a header alone, without a line ending
        f.seek(max(f.tell(), size - 65536))
        last = f.read().rsplit(b"\n", 1)[-1]

    def fields(line: bytes) -> int:
        return len(next(csv.reader([line.decode("utf-8", "replace").rstrip("\r")]), []))

    have, want = fields(last), fields(header)
    if have < want:
        raise SourceError(
            f"{path}: the last line has {have} of the header's {want} fields and no line "
            "ending, so the file looks truncated or still being written. Rerun this date once "
            "the export has finished (exporters should write to a temporary name and rename "
            "it when done), or fix the file's last line"
        )


def _read_parquet(
    path: Path, time_filter: tuple[str, pd.Timestamp, pd.Timestamp] | None
) -> pd.DataFrame:
    schema = pq.read_schema(path)
    if time_filter is not None:
        col, start, end = time_filter
        field = schema.field(col) if col in schema.names else None
        # naive timestamps are local wall-clock times: only zone-aware ones compare with UTC
        if field is not None and pa.types.is_timestamp(field.type) and field.type.tz:
            # push the day filter down so row groups of other days are skipped unread
            field_type = field.type
            lo = pa.scalar(start.to_pydatetime(), type=pa.timestamp("us", tz="UTC")).cast(
                field_type
            )
            hi = pa.scalar(end.to_pydatetime(), type=pa.timestamp("us", tz="UTC")).cast(field_type)
            ds = pads.dataset(path, format="parquet")
            table = ds.to_table(filter=(pads.field(col) >= lo) & (pads.field(col) < hi))
            return table.to_pandas()
    return pq.read_table(path).to_pandas()


def _map_columns(
    raw: pd.DataFrame,
    path: Path,
    src: SourceConfig,
    canonical: tuple[str, ...],
    required: tuple[str, ...],
    section: str = "source",
) -> pd.DataFrame:
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


def _parse_times(
    values: pd.Series, path: Path, column: str, src: SourceConfig, tz: ZoneInfo
) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
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
            has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
            # mixed offsets are fine: everything with an offset is converted to UTC
            aware = pd.to_datetime(
                text.where(has_offset), format="ISO8601", errors="coerce", utc=True
            )
            naive = pd.to_datetime(text.where(~has_offset), format="ISO8601", errors="coerce")
            parsed = aware if has_offset.any() else naive
            if has_offset.any() and (present & ~has_offset).any():
                mixed = text[present & ~has_offset & naive.notna()]
            bad_any = present & aware.isna() & naive.isna()
            parsed = parsed.where(~bad_any)
        bad = parsed.isna() & present
        if bad.any():
            example = text[bad].iloc[0]
            hint = (
                f"with source.event_time_format {src.event_time_format!r}"
                if src.event_time_format
                else "as ISO 8601"
            )
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
    series = pd.Series(parsed, index=values.index)
    if series.dt.tz is None:
        # naive times are wall-clock times in the configured timezone
        # the repeated hour when clocks go back is read as its first occurrence, and the
        # skipped hour when they go forward is moved past the gap: no event is dropped
        series = series.dt.tz_localize(
            tz, ambiguous=np.ones(len(series), dtype=bool), nonexistent="shift_forward"
        )
    return series.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def _conform(events: pd.DataFrame, defaults: dict[str, Any]) -> pd.DataFrame:
    """Cast a mapped frame to the lake schema, filling empty cells with the defaults."""
    out = pd.DataFrame(index=events.index)
    for field in EVENT_SCHEMA:
        name = field.name
        default = defaults.get(name, 0.0 if name == "amount" else None)
        if name not in events:
            out[name] = default
        elif name in NUMERIC_EVENT_COLUMNS:
            # an empty cell takes the default; text that is not a number becomes NaN,
            # which the validation gate reports
            values = pd.to_numeric(events[name], errors="coerce")
            out[name] = values.where(events[name].notna(), default)
        else:
            out[name] = events[name].where(events[name].notna(), default)
    table = pa.Table.from_pandas(_as_text(out), schema=EVENT_SCHEMA, preserve_index=False)
    return table.to_pandas()


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as strings whatever the source typed them as (ids may be numbers)."""
    frame = frame.copy()
    for field in EVENT_SCHEMA:
        if pa.types.is_string(field.type):
            frame[field.name] = frame[field.name].astype("string")
    return frame


# ---------------------------------------------------------------- postgres source

# PostgreSQL types event_time may have; others (text, date) are refused with a clear message
_PG_TIMESTAMPTZ = "timestamp with time zone"
_PG_TIMESTAMP = "timestamp without time zone"


def read_postgres_events(
    src: SourceConfig, tz: ZoneInfo, first: dt.date, last: dt.date
) -> pd.DataFrame:
    """Canonical events of days [first, last] of ``tz`` from the table ``src.table``.

    The connection URL comes from the environment variable ``src.url_env``. Only the mapped
    columns are selected, filtered on the event_time column to [start of ``first``, start of
    ``last`` + 1) in ``tz`` (sent as UTC instants), ordered by event_time, event_id and the
    other selected columns (so which of two duplicates is kept never depends on the plan),
    and fetched ``src.chunk_rows`` at a time through a server-side cursor in a read-only
    transaction. Each chunk goes through the same mapping, defaults and typing as a file,
    then duplicates are dropped per day and the result sorted exactly as for files.

    event_time must be ``timestamptz`` or ``timestamp``; a ``timestamp`` without time zone
    is read as UTC (not as wall-clock time in the configured timezone, unlike naive times in
    files): that is how applications usually store instants in such columns.
    """
    import psycopg  # only a postgres source needs the driver
    from psycopg import sql

    from segmentation.config import secret_from_env
    from segmentation.io.postgres import describe, reason

    assert src.table is not None  # parse_config guarantees it for kind postgres
    url = secret_from_env(src.url_env, f"source (postgres table {src.table})")
    table_id = sql.Identifier(*src.table.split("."))
    start, _ = day_bounds(first, tz)
    _, end = day_bounds(last, tz)
    frames: list[pd.DataFrame] = []
    with _pg_connect(url, src) as conn:
        server = describe(url)
        where = f"{src.table} at {server}"
        try:
            with conn.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
                types = _pg_columns(cur, table_id.as_string(conn), src, server)
            selected = _pg_selection(types, src, where)
            time_col = src.columns.get("event_time", "event_time")
            time_type = types[time_col]
            if time_type == _PG_TIMESTAMPTZ:
                lo, hi = start.to_pydatetime(), end.to_pydatetime()
            elif time_type == _PG_TIMESTAMP:
                lo = start.tz_convert("UTC").tz_localize(None).to_pydatetime()
                hi = end.tz_convert("UTC").tz_localize(None).to_pydatetime()
            else:
                raise MalformedSource(
                    f"column {time_col!r} of {where} (event_time) has type {time_type}; it "
                    "must be timestamp with time zone (timestamptz) or timestamp (read as "
                    "UTC). Map source.columns.event_time to a timestamp column, or add one "
                    "(e.g. a generated column casting the text)"
                )
            id_col = src.columns.get("event_id", "event_id")
            order = [time_col] + ([id_col] if id_col in selected else [])
            order += [c for c in selected if c not in order]
            template = "SELECT {cols} FROM {table} WHERE {t} >= %s AND {t} < %s ORDER BY {o}"
            query = sql.SQL(template).format(
                cols=sql.SQL(", ").join(map(sql.Identifier, selected)),
                table=table_id,
                t=sql.Identifier(time_col),
                o=sql.SQL(", ").join(map(sql.Identifier, order)),
            )
            with conn.cursor(name="segmentation_extract") as cur:
                cur.itersize = src.chunk_rows
                cur.execute(query, [lo, hi])
                while rows := cur.fetchmany(src.chunk_rows):
                    raw = pd.DataFrame(rows, columns=selected, dtype=object)
                    frames.append(_postgres_chunk(raw, src, tz, where))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise BadInput(
                f"reading {where} was refused: {reason(exc, url)}; grant the source role "
                f"SELECT on {src.table} (and USAGE on its schema)"
            ) from None
        except psycopg.OperationalError as exc:
            raise SourceError(
                f"the connection to the event source {where} failed while reading "
                f"{first}..{last}: {reason(exc, url)}; nothing was staged, a retry may help"
            ) from None
        except psycopg.Error as exc:
            raise SourceError(
                f"reading events of {first}..{last} from {where} failed: {reason(exc, url)}"
            ) from None
    if not frames:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in selected})
        frames.append(_postgres_chunk(empty, src, tz, where))
    events = pd.concat(frames, ignore_index=True)
    return _dedupe_and_sort(events, tz)


@contextmanager
def _pg_connect(url: str, src: SourceConfig) -> Iterator[Any]:
    """A read-only connection to the source; SourceError (retryable) when it fails."""
    from segmentation.io import postgres

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


def _pg_columns(cur: Any, qualified: str, src: SourceConfig, server: str) -> dict[str, str]:
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


def _pg_selection(types: dict[str, str], src: SourceConfig, where: str) -> list[str]:
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


def _postgres_chunk(raw: pd.DataFrame, src: SourceConfig, tz: ZoneInfo, where: str) -> pd.DataFrame:
    """One fetched chunk through the file source's mapping, defaults and typing."""
    time_col = src.columns.get("event_time", "event_time")
    # timestamptz arrives as aware datetimes, timestamp as naive ones: both read as UTC
    raw[time_col] = pd.to_datetime(raw[time_col], utc=True)
    events = _map_columns(raw, Path(where), src, CANONICAL_EVENT_COLUMNS, REQUIRED_EVENT_COLUMNS)
    events["event_time"] = _parse_times(events["event_time"], Path(where), time_col, src, tz)
    return _conform(events, src.defaults)
