"""The Parquet sink of the output contract, and readers of what it published.

A per-run table is Hive-partitioned by ``run_date`` under ``<home>/output/<table>/``; the newest
run of every table is also at ``<home>/output/current/<table>.parquet``. Both are replaced
atomically (a rename), so readers see a complete old or a complete new table. A partition's
file does not repeat its key (``run_date`` is in the folder name only, as Spark and pyarrow
write them, so every reader can merge the partitions); ``current`` keeps ``run_date`` as a
column, since its folder does not say. A backfill of an
older date rewrites its own partition but never moves ``current`` backwards: the check and the
swap happen under the home's shared-state lock, so two dates publishing at once cannot race.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from segmentation import layout
from segmentation.catalog_types import SUPPRESSED, SUPPRESSION_REASON
from segmentation.errors import SegmentationError
from segmentation.io import lake, locks, schema
from segmentation.layout import Home
from segmentation.privacy import keymap
from segmentation.privacy.keymap import ID_COLUMN, Pseudonyms
from segmentation.privacy.pseudonyms import KEY_COLUMN

RUN_DATE_KEY = "segmentation.run_date"


def stage_table(
    frame: pd.DataFrame,
    table: str,
    day: dt.date,
    path: Path,
    pseudonyms: Pseudonyms | None = None,
) -> Path:
    """Write ``frame`` in its published form to ``path``, to publish later; returns ``path``.

    Every file is cast to the table's declared schema and records its run date in the file's
    metadata (what ``current`` is as of). A per-run table is staged twice, both written
    here so that publishing is only links and renames: ``path`` with a leading ``run_date``
    column (for ``current`` and the warehouse), and its :func:`partition_form` without it.
    With ``pseudonyms`` (``privacy.pseudonymize``), ``customer_id`` becomes ``customer_key``.
    """
    entry = layout.table(table)
    if pseudonyms is not None and ID_COLUMN in frame.columns:
        # in key order: rows left in the order of the raw ids would give each key's id away
        key = [KEY_COLUMN if c == ID_COLUMN else c for c in entry.key]
        frame = pseudonyms.replace(frame).sort_values(key, kind="stable", ignore_index=True)
    meta = {RUN_DATE_KEY: day.isoformat()}
    if entry.suppressible and SUPPRESSED not in frame:
        # not suppressed yet: the step that publishes it suppresses (pipeline.suppress)
        frame = frame.copy()
        frame[SUPPRESSED] = False
        frame[SUPPRESSION_REASON] = pd.Series(pd.NA, index=frame.index, dtype="string")
    if entry.per_run:
        part = schema.conform(frame, entry, run_date=False)
        lake.write_file(part, partition_form(path), metadata=meta)
        frame = frame.copy()
        frame.insert(
            0, "run_date", pd.Series([day] * len(frame), dtype="object", index=frame.index)
        )
    lake.write_file(schema.conform(frame, entry, run_date=True), path, metadata=meta)
    return path


def partition_form(staged: Path) -> Path:
    """The staged file of a per-run table's partition, beside ``staged`` (no ``run_date``)."""
    return staged.with_name(f"{staged.stem}.partition{staged.suffix}")


class ParquetSink:
    """Publishes staged files: the ``run_date`` partition, and ``current`` when newest."""

    name = "parquet"

    def __init__(self, home: Home) -> None:
        self.home = home

    def write(self, day: dt.date, files: Mapping[str, Path]) -> dict[str, bool]:
        """Publish each staged file of run ``day``; returns, per table, whether current moved.

        Each place gets a hard link to its staged file (the partition its
        :func:`partition_form`), swapped in with an atomic rename: the bytes were written at
        staging, and a retry after a crash finds the staged files still there.
        """
        moved = {}
        for table, staged in files.items():
            if layout.table(table).per_run:
                _swap_in(partition_form(staged), self.home.partition(table, day))
            with locks.shared(self.home):
                shown = current_run_date(self.home, table)
                moved[table] = shown is None or shown <= day
                if moved[table]:
                    _swap_in(staged, self.home.current_table(table))
        return moved


def _swap_in(source: Path, target: Path) -> None:
    try:
        _replace(source, target)
    except OSError as exc:
        raise SegmentationError(
            f"cannot publish {target} ({exc.strerror or exc}); make the output folder "
            f"{target.parent} writable by this process, then rerun this date"
        ) from None


def _replace(source: Path, target: Path) -> None:
    lake.write_atomically(target, lambda tmp: _link_or_copy(source, tmp))


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links: copy instead
        shutil.copyfile(source, target)


def current_run_date(home: Home, table: str) -> dt.date | None:
    """The run date ``current/<table>.parquet`` shows, or None when there is none."""
    path = home.current_table(table)
    if not path.is_file():
        return None
    value = lake.file_metadata(path).get(RUN_DATE_KEY)
    return dt.date.fromisoformat(value) if value else None


def read_published(
    home: Home, table: str, day: dt.date, columns: list[str] | None = None
) -> pd.DataFrame | None:
    """The published ``run_date=day`` partition of ``table``, or None if there is none (with
    ``customer_id``, also where it was published pseudonymous: see :func:`read_table`)."""
    path = home.partition(table, day)
    return read_table(home, table, path, columns) if path.is_file() else None


def read_table(
    home: Home, table: str, path: Path, columns: list[str] | None = None
) -> pd.DataFrame:
    """A staged or published file of ``table``, for the pipeline: a pseudonymous one's
    ``customer_key`` read back as ``customer_id`` (through home's map, :mod:`keymap`), and
    its rows in the order of the ids again, as the steps always had them (published, they
    are in key order), so that it joins with the lake and the features as before."""
    names = pq.read_schema(path).names
    if KEY_COLUMN not in names or (columns is not None and ID_COLUMN not in columns):
        return pq.read_table(path, columns=columns).to_pandas()
    wanted = None if columns is None else [KEY_COLUMN if c == ID_COLUMN else c for c in columns]
    frame = pq.read_table(path, columns=wanted).to_pandas()
    frame[KEY_COLUMN] = keymap.ids_of(home, frame[KEY_COLUMN], str(path))
    frame = frame.rename(columns={KEY_COLUMN: ID_COLUMN})
    key = [c for c in layout.table(table).key if c in frame.columns]
    return frame.sort_values(key, kind="stable", ignore_index=True)


def segment_names(home: Home, day: dt.date) -> dict[int, str]:
    """The published ``segment_profiles`` of run ``day`` as {segment_id: segment_name}
    ({} when there is none)."""
    profiles = read_published(home, "segment_profiles", day, ["segment_id", "segment_name"])
    if profiles is None:
        return {}
    return {
        int(s): str(n)
        for s, n in zip(profiles["segment_id"], profiles["segment_name"], strict=True)
    }
