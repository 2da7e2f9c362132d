"""Which source rows a night takes in, so that no row is lost nor counted twice.

A night reads the source for its day and the ``events.late_days`` before it. Of what it
reads it takes in the rows no night has taken in yet:

- its own day's rows, and rows without a time (bad rows, for validation to quarantine);
- late rows: rows of an earlier day that is already in the lake, at most ``late_days`` old;
- rows more than ``late_days`` late, which validation quarantines with that reason.

A row of an earlier day that is not in the lake yet (a night that failed or never ran) is
left for that day's own night. An event is known by its ``event_id``, or without one by the
whole row; the nights' lake partitions, quarantined rows and dropped duplicates (on disk)
say which copies of each event were taken in already. The first copy nobody took is taken,
and every further new copy is counted once, as a duplicate, by the night that first saw it.
A night rerun is left out of what was taken (it replaces its own intake), so a rerun with
the same source takes in exactly the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmentation.errors import BadInput
from segmentation.io import lake
from segmentation.io.sources import ARRIVAL, EVENT_SCHEMA, PROBLEM
from segmentation.layout import EVENT_KEY, Home

# lake partition metadata: the earliest day of the late rows a night took in
LATE_FROM = "segmentation.late_from"

# what identifies an event without an event_id: every column, and what was wrong with its
# source row (two different short rows are otherwise both rows of missing cells)
KEY_COLUMNS = (*EVENT_SCHEMA.names, PROBLEM)


def event_keys(frame: pd.DataFrame) -> np.ndarray:
    """Each row's event identity as a 64-bit hash: its ``event_id``, or the whole row."""
    has_id = frame["event_id"].notna().to_numpy()
    keys = np.zeros(len(frame), dtype="uint64")
    if has_id.any():
        ids = frame.loc[has_id, "event_id"].astype(str)
        keys[has_id] = pd.util.hash_pandas_object(ids, index=False).to_numpy()
    if (~has_id).any():
        rows = frame.loc[~has_id].reindex(columns=list(KEY_COLUMNS)).astype(object)
        rows = rows.where(rows.notna(), None).astype(str)
        # another salt than the ids' (16 characters, as pandas requires)
        salted = pd.util.hash_pandas_object(rows, index=False, hash_key="rows-no-event-id")
        keys[~has_id] = salted.to_numpy()
    return keys


def local_days(times: pd.Series, tz: object) -> pd.Series:
    """The local date of each event time as midnight timestamps (NaT where no time)."""
    local = times.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    return local.astype("datetime64[s]")


def nights_of(events: pd.DataFrame, tz: object, first: dt.date) -> pd.Series:
    """The first night at or after ``first`` that can see each row: its day's, or later if it
    arrived later (``ARRIVAL``); a row without a time belongs to the first that sees it."""
    start = pd.Timestamp(first).as_unit("s")
    candidates = pd.DataFrame(
        {
            "day": local_days(events["event_time"], tz).fillna(start),
            "arrival": events[ARRIVAL].fillna(start),
            "first": pd.Series(start, index=events.index),
        }
    )
    return candidates.max(axis=1).astype("datetime64[s]")


@dataclass(frozen=True)
class TakenIn:
    """What nights took in, by event key: whether a night took the event in (a lake row or a
    quarantined row), and how many further copies nights dropped as duplicates."""

    taken: pd.Series  # key -> 1
    dropped: pd.Series  # key -> copies


def taken_before(
    home: Home, since: dt.date, rerun: Iterable[dt.date], events: pd.DataFrame
) -> TakenIn:
    """What nights from ``since`` on took in of ``events``, leaving out the nights rerun.

    When every row of ``events`` has an event_id only that column is read, and only the
    rows whose id is among ``events``' ones are hashed (a night's lake is mostly others).
    """
    skip = set(rerun)
    ids = events["event_id"]
    wanted = pa.array(ids.dropna().unique(), pa.string()) if ids.notna().all() else None

    def keys(root: Path, name: str) -> np.ndarray:
        paths = [(d, lake.partition_dir(root, EVENT_KEY, d) / name) for d in _days(root)]
        found = [
            event_keys(_key_columns(p, wanted))
            for d, p in paths
            if d >= since and d not in skip and p.is_file()
        ]
        return np.concatenate([np.zeros(0, "uint64"), *found])

    taken = np.concatenate([keys(home.lake, lake.PART), keys(home.quarantine, "rows.parquet")])
    dropped, copies = np.unique(keys(home.duplicates, lake.PART), return_counts=True)
    return TakenIn(
        pd.Series(1, index=np.unique(taken), dtype="int64"),
        pd.Series(copies, index=dropped, dtype="int64"),
    )


def _days(root: Path) -> list[dt.date]:
    """Days with a folder under ``root`` (files inside are checked by the caller)."""
    if not root.is_dir():
        return []
    prefix = f"{EVENT_KEY}="
    return sorted(
        dt.date.fromisoformat(p.name[len(prefix) :])
        for p in root.iterdir()
        if p.name.startswith(prefix)
    )


def _key_columns(path: Path, wanted: pa.Array | None) -> pd.DataFrame:
    try:
        return _read_keys(path, wanted)
    except (pa.ArrowException, OSError) as exc:
        day = path.parent.name.partition("=")[2]
        raise BadInput(
            f"{path} cannot be read ({str(exc).strip().splitlines()[0]}); it is damaged. "
            f"Re-ingest that date from the source: segmentation ingest --start {day} "
            f"--end {day}"
        ) from None


def _read_keys(path: Path, wanted: pa.Array | None) -> pd.DataFrame:
    """The columns an event's key is made of; with ``wanted`` ids, only rows with those."""
    if wanted is not None:
        ids = pq.read_table(path, columns=["event_id"])["event_id"]
        return pa.table({"event_id": ids.filter(pc.is_in(ids, value_set=wanted))}).to_pandas()
    have = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[c for c in KEY_COLUMNS if c in have]).to_pandas()


def split_copies(keys: np.ndarray, before: TakenIn) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the rows to take in and of the new copies to count as duplicates.

    Of the ``c`` copies of an event read tonight, as many as nights took in or dropped are
    old; the rest are new. If no night took the event in, its first copy is taken (a rerun
    takes again what it took) and the other new copies are duplicates.
    """
    series = pd.Series(keys)
    taken = series.map(before.taken).fillna(0).to_numpy()
    dropped = series.map(before.dropped).fillna(0).to_numpy()
    rank = series.groupby(keys).cumcount().to_numpy()
    copies = series.groupby(keys).transform("size").to_numpy()
    new = np.maximum(copies - taken - dropped, 0)
    take = (taken == 0) & (new > 0) & (rank == 0)
    duplicates = new - ((taken == 0) & (new > 0))
    # the last copies are the duplicates, so the first one is never both
    return take, rank >= copies - duplicates
