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
from segmentation.io.sources import ARRIVAL, EVENT_SCHEMA, ORIGIN, PROBLEM, SOURCE_ROW
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


def origin_keys(frame: pd.DataFrame) -> np.ndarray:
    """Each read row's origin as a 64-bit hash: where it was read (``ORIGIN``), its content,
    and which of the identical rows there it is (a file may hold an event twice)."""
    # computed only on rows just read, which every night reads the same way: the columns
    # are hashed as they are (no text conversion), unlike event keys compared with the lake
    rows = frame[[c for c in (ORIGIN, *KEY_COLUMNS) if c in frame.columns]]
    base = pd.util.hash_pandas_object(rows, index=False, hash_key="origin-of-a-row1").to_numpy()
    rank = pd.Series(base).groupby(base).cumcount().to_numpy()
    both = pd.DataFrame({"row": base, "rank": rank})
    return pd.util.hash_pandas_object(both, index=False).to_numpy()


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
    """What other nights took in: the events (by key) that are in the lake or quarantined,
    the origins of every row they counted (``SOURCE_ROW``), and, for partitions written
    before rows had origins, how many rows of each event they counted."""

    taken: np.ndarray
    seen: np.ndarray
    legacy: pd.Series  # key -> rows


def taken_before(
    home: Home, since: dt.date, rerun: Iterable[dt.date], events: pd.DataFrame, origins: np.ndarray
) -> TakenIn:
    """What nights from ``since`` on took in of ``events`` (read with ``origins``), leaving
    out the nights rerun; staged nights count too (a validate retried later promotes them).

    Only the rows whose id (or origin) is among ``events``' are hashed: when every row has
    an event_id only that column and ``SOURCE_ROW`` are read.
    """
    skip = set(rerun)
    ids = events["event_id"]
    wanted = pa.array(ids.dropna().unique(), pa.string()) if ids.notna().all() else None
    known = pa.array(origins.view("int64"), pa.int64())
    taken: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    legacy: list[np.ndarray] = []
    for root, name, takes in (
        (home.lake, lake.PART, True),
        (home.quarantine, "rows.parquet", True),
        (home.duplicates, lake.PART, False),
        (home.staging, lake.PART, True),
        (home.staging, "duplicates.parquet", False),
    ):
        for day in _days(root):
            path = lake.partition_dir(root, EVENT_KEY, day) / name
            if day < since or day in skip or not path.is_file():
                continue
            keys, origin = _key_columns(path, wanted, known)
            if takes:
                taken.append(keys)
            (seen if origin is not None else legacy).append(keys if origin is None else origin)
    return TakenIn(
        np.unique(np.concatenate([np.zeros(0, "uint64"), *taken])),
        np.unique(np.concatenate([np.zeros(0, "uint64"), *seen])),
        pd.Series(np.concatenate([np.zeros(0, "uint64"), *legacy])).value_counts(),
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


def _key_columns(
    path: Path, wanted: pa.Array | None, known: pa.Array
) -> tuple[np.ndarray, np.ndarray | None]:
    """The event keys of ``path``'s rows (only those with ``wanted`` ids, when given), and
    its rows' origins among ``known`` (None for a file written before rows had origins)."""
    try:
        schema = pq.read_schema(path)
        origin = None
        if SOURCE_ROW in schema.names:
            rows = pq.read_table(path, columns=[SOURCE_ROW])[SOURCE_ROW]
            origin = rows.filter(pc.is_in(rows, value_set=known)).to_numpy().view("uint64")
        if wanted is not None:
            ids = pq.read_table(path, columns=["event_id"])["event_id"]
            frame = pa.table({"event_id": ids.filter(pc.is_in(ids, value_set=wanted))})
        else:
            frame = pq.read_table(path, columns=[c for c in KEY_COLUMNS if c in schema.names])
        return event_keys(frame.to_pandas()), origin
    except (pa.ArrowException, OSError) as exc:
        day = path.parent.name.partition("=")[2]
        raise BadInput(
            f"{path} cannot be read ({str(exc).strip().splitlines()[0]}); it is damaged. "
            f"Re-ingest that date from the source: segmentation ingest --start {day} "
            f"--end {day}"
        ) from None


def split_copies(
    keys: np.ndarray, origins: np.ndarray, before: TakenIn
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the rows to take in and of the new copies to count as duplicates.

    A row whose origin another night counted is neither (a file read again). Of the rest,
    the first copy of an event no night took in is taken, and the others are duplicates.
    ``keys`` are in night order (and the source's order within a night), so over a range of
    nights the first night that sees an event takes it and later ones count its copies.
    """
    unseen = ~np.isin(origins, before.seen)
    # partitions without origins: as many copies of an event as they counted are old
    legacy = pd.Series(keys).map(before.legacy).fillna(0).to_numpy()
    new = unseen & (_rank(keys, unseen) >= legacy)
    take = new & (_rank(keys, new) == 0) & ~np.isin(keys, before.taken)
    return take, new & ~take


def _rank(keys: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Each row's rank among the ``among`` rows with its key (0 for the first)."""
    rank = np.zeros(len(keys), dtype="int64")
    at = np.flatnonzero(among)
    rank[at] = pd.Series(keys[at]).groupby(keys[at]).cumcount().to_numpy()
    return rank
