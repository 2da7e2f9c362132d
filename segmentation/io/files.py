"""The file source: CSV, JSON Lines or Parquet files dropped by an upstream system.

``source.path`` is a folder, a glob, a single file, or a template containing ``{ds}`` (one
file per day). Each file is read as text columns (Parquet keeps its types), mapped onto the
canonical columns, and filtered to the days asked for; every problem is a ``SourceError``
naming the file, the line or column, and how to fix the export or the configuration.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from segmentation.config import SourceConfig
from segmentation.errors import MalformedSource, SourceError
from segmentation.io.sources import (
    ARRIVAL,
    ORIGIN,
    PROBLEM,
    EventSource,
    conform,
    day_bounds,
    map_events,
    sort_events,
)

_SUFFIXES = {
    "csv": (".csv", ".csv.gz"),
    "jsonl": (".jsonl", ".json", ".jsonl.gz"),
    "parquet": (".parquet",),
}


_EARLIEST = pd.Timestamp("1900-01-01", tz="UTC")


class FileSource(EventSource):
    """Events from the files ``src.path`` covers, in ``src.format``; days are days of ``tz``."""

    def __init__(self, src: SourceConfig, tz: ZoneInfo) -> None:
        self.src = src
        self.tz = tz

    @property
    def name(self) -> str:
        return self.src.path

    def read_events(
        self, first: dt.date, last: dt.date, since: dt.date | None = None, late_days: int = 0
    ) -> pd.DataFrame:
        dated = "{ds}" in self.src.path  # then source_files gives one file per day
        # a night's own {ds} file (and the next day's) is all new to it, however old its
        # rows; the previous day's file was its own night's, so only rows of ours are new
        start = _EARLIEST if dated else day_bounds(since or first, self.tz)[0]
        first_start, end = day_bounds(first, self.tz)[0], day_bounds(last, self.tz)[1]
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        paths = source_files(self.src, days)
        files = [(path, days[i] if dated else None, True, start) for i, path in enumerate(paths)]
        files += [
            (path, day, False, first_start if day < first else start)
            for path, day in self._neighbours(first, last)
        ]
        frames = [self._read_file(path, lo, end, day, own) for path, day, own, lo in files]
        events = pd.concat(frames, ignore_index=True)  # source_files never returns no file
        return sort_events(events)

    def _neighbours(self, first: dt.date, last: dt.date) -> list[tuple[Path, dt.date]]:
        """The existing files of the days either side of [first, last], for a ``{ds}`` path.

        Exports cut at another midnight than ours hold a few of our day's events in the
        neighbouring days' files: reading those too when they exist gives a day read alone
        (the nightly run) the same events as the same day read in a range (ingest).
        """
        if "{ds}" not in self.src.path:
            return []
        days = (first - dt.timedelta(days=1), last + dt.timedelta(days=1))
        paths = [(Path(self.src.path.replace("{ds}", day.isoformat())), day) for day in days]
        return [(path, day) for path, day in paths if path.is_file()]

    def _read_file(
        self, path: Path, start: pd.Timestamp, end: pd.Timestamp, day: dt.date | None, own: bool
    ) -> pd.DataFrame:
        """The file's rows in [start, end), and (unless it is only a neighbour) those without
        a time. ``ARRIVAL``: for a ``{ds}`` file, rows with a time are first seen by the night
        before its day (which reads it as a neighbour), rows without one by its own night."""
        time_col = self.src.columns.get("event_time", "event_time")
        raw = read_raw(path, self.src.format, (time_col, start, end))
        events = map_events(raw, path, self.src, self.tz)
        timed = events["event_time"].notna()
        keep = (timed & (events["event_time"] >= start) & (events["event_time"] < end)) | (
            ~timed & own
        )
        events = conform(events[keep], self.src.defaults)
        arrival = (
            None
            if day is None
            else np.where(
                events["event_time"].notna(),
                np.datetime64(day - dt.timedelta(days=1), "s"),
                np.datetime64(day, "s"),
            )
        )
        events[ARRIVAL] = pd.Series(arrival, index=events.index, dtype="datetime64[s]")
        events[ORIGIN] = path.name
        return events


def source_files(src: SourceConfig, days: Iterable[dt.date] = ()) -> list[Path]:
    """The files a source covers: a folder, a glob, a single file, or a ``{ds}`` template."""
    pattern = src.path
    if "{ds}" in pattern:
        return [_day_file(pattern, day) for day in days]
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


def _day_file(pattern: str, day: dt.date) -> Path:
    path = Path(pattern.replace("{ds}", day.isoformat()))
    if not path.is_file():
        raise SourceError(
            f"no source file for {day.isoformat()}: expected {path} "
            f"(from source.path {pattern}); check that the upstream export for that date "
            "has landed, or run a different date"
        )
    return path


def read_raw(
    path: Path, fmt: str, time_filter: tuple[str, pd.Timestamp, pd.Timestamp] | None
) -> pd.DataFrame:
    """Read one file as text columns (parquet keeps its types), with a clear error if it fails.

    ``time_filter`` (column, start, end) lets a Parquet file skip row groups of other days.
    """
    try:
        if fmt == "csv":
            _check_last_line(path)
            return _read_csv(path)
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


class MisshapenRow(NamedTuple):
    """A CSV row whose number of fields is not the header's."""

    # the row's number, the header being 1: its line number, unless a quoted field above
    # it spans lines (None if pyarrow does not know it)
    line: int | None
    fields: int
    expected: int


# a column no file has: asked for, it makes the scan below convert no column at all
_NO_COLUMN = "\x00segmentation: no column"


def misshapen_rows(path: Path) -> list[MisshapenRow]:
    """The rows of CSV file ``path`` (``.gz`` too) with more or fewer fields than the header.

    pandas fills the missing cells of a short row with NaN and says nothing. This is one
    native pass of pyarrow's CSV tokenizer over the file, serial so that line numbers are
    known, converting no column; the Python handler runs for misshapen rows only. Quoted
    fields may hold the delimiter and line breaks, as pandas reads them.
    """
    found: list[MisshapenRow] = []

    def keep(row: pacsv.InvalidRow) -> str:
        found.append(MisshapenRow(row.number, row.actual_columns, row.expected_columns))
        return "skip"

    pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep),
        convert_options=pacsv.ConvertOptions(
            include_columns=[_NO_COLUMN], include_missing_columns=True
        ),
    )
    return found


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV file as text columns (empty cells missing). A row with more or fewer fields than
    the header becomes a row of missing cells whose :data:`PROBLEM` quotes it, for
    validation to quarantine: read as it is, its cells would be missing or shifted."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        # an unclosed quote swallows the rest of the file: that file is refused
        misshapen = [] if "EOF inside string" in str(exc) else misshapen_rows(path)
        if not misshapen:
            raise
    else:
        misshapen = misshapen_rows(path)
        if not misshapen:
            return frame
    names = list(pd.read_csv(path, nrows=0).columns)
    texts: list[str] = []

    def skip(row: pacsv.InvalidRow) -> str:
        texts.append(row.text)
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=skip),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    frame = table.to_pandas()
    problems = [
        f"{path.name} {_row_words(r)} has {r.fields} of the header's {r.expected} fields: "
        f"{text[:200]!r}"
        for r, text in zip(misshapen, texts, strict=True)
    ]
    bad = pd.DataFrame({name: [None] * len(problems) for name in names}, dtype=object)
    bad[PROBLEM] = problems
    return pd.concat([frame.assign(**{PROBLEM: None}), bad], ignore_index=True)


def _row_words(row: MisshapenRow) -> str:
    return f"row {row.line} (the header is row 1)" if row.line else "a row"


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
            when = pads.field(col)
            # rows without a time are kept: they are bad rows, and must be counted
            table = ds.to_table(filter=((when >= lo) & (when < hi)) | when.is_null())
            return table.to_pandas()
    return pq.read_table(path).to_pandas()
