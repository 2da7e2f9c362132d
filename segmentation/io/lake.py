"""Partitioned Parquet I/O with atomic writes.

Every write goes to a temporary sibling first and is then renamed into place, so a reader (or
a task killed half-way) sees the previous complete partition or the new complete one, never a
partial file. Partitions are Hive-style folders: ``<root>/<key>=<YYYY-MM-DD>/part-0.parquet``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation.layout import PART, partition_dir

__all__ = ["PART", "partition_dir"]


# names of what a killed writer can leave beside its target: write_atomically's temporary
# file, replace_dir's old folder, retention's folder being deleted
TMP, OLD, DELETING = ".tmp-", ".old-", ".deleting-"
LEFTOVERS = (TMP, OLD, DELETING)


def write_partition(
    frame: pd.DataFrame | pa.Table,
    root: Path,
    key: str,
    day: dt.date,
    schema: pa.Schema | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Replace the partition ``key=day`` under ``root`` with ``frame``, atomically."""
    target = partition_dir(root, key, day)
    write_file(_to_table(frame, schema, metadata), target / PART)
    return target


def move_partition(source: Path, target: Path) -> None:
    """Move a partition's file into ``target`` atomically, then drop the emptied folder."""
    target.mkdir(parents=True, exist_ok=True)
    os.replace(source / PART, target / PART)
    shutil.rmtree(source, ignore_errors=True)


def replace_dir(new: Path, target: Path) -> None:
    """Move folder ``new`` to ``target``, replacing what was there (two renames, no copy).

    Between the renames ``target`` is briefly absent: readers see the old folder, none, or
    the new one, never a mix. Used for folders of several files that must match (a model).
    """
    old = target.with_name(f"{OLD}{target.name}-{uuid.uuid4().hex}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary sibling of ``path``, then rename it into place (``os.replace``).

    The one way files are written under home: a reader sees the old file or the new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP}{path.name}-{uuid.uuid4().hex}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_file(
    frame: pd.DataFrame | pa.Table, path: Path, metadata: dict[str, str] | None = None
) -> None:
    """Write one Parquet file atomically."""
    write_atomically(path, lambda tmp: pq.write_table(_to_table(frame, None, metadata), tmp))


def write_json(obj: Any, path: Path) -> None:
    text = json.dumps(obj, indent=2, sort_keys=True, default=str)
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object written by :func:`write_json`, or None if missing, unreadable or no object."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def write_text(text: str, path: Path) -> None:
    """Write ``text`` as UTF-8 atomically."""
    write_atomically(path, lambda tmp: tmp.write_bytes(text.encode("utf-8")))


def partition_days(root: Path, key: str) -> list[dt.date]:
    """The days that have a complete partition under ``root``, oldest first."""
    if not root.is_dir():
        return []
    days = []
    prefix = f"{key}="
    for child in root.iterdir():
        if child.name.startswith(prefix) and (child / PART).is_file():
            days.append(dt.date.fromisoformat(child.name[len(prefix) :]))
    return sorted(days)


def partition_files(
    root: Path, key: str, upto: dt.date, since: dt.date | None = None
) -> list[Path]:
    """Partition files of days <= ``upto`` (and >= ``since``); others are never opened."""
    return [
        partition_dir(root, key, day) / PART
        for day in partition_days(root, key)
        if day <= upto and (since is None or day >= since)
    ]


def read_partition(
    root: Path, key: str, day: dt.date, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    return read_file(partition_dir(root, key, day) / PART, columns)


def read_file(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One Parquet file (such as a partition's ``part-0.parquet``) as a DataFrame."""
    return pq.read_table(path, columns=columns).to_pandas()


def latest_before(root: Path, key: str, day: dt.date) -> dt.date | None:
    """The newest partition strictly before ``day`` (point in time: never a later one)."""
    earlier = [d for d in partition_days(root, key) if d < day]
    return earlier[-1] if earlier else None


def first_unreadable(files: Sequence[Path]) -> tuple[Path, str] | None:
    """The first of ``files`` whose Parquet footer cannot be read, and why (None: all fine)."""
    for path in files:
        try:
            pq.read_metadata(path)
        except (pa.ArrowException, OSError) as exc:
            return path, (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


def column_names(path: Path) -> list[str]:
    return list(pq.read_schema(path).names)


def row_count(path: Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


def file_metadata(path: Path) -> dict[str, str]:
    meta = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items() if not k.startswith(b"pandas")}


def _to_table(
    frame: pd.DataFrame | pa.Table, schema: pa.Schema | None, metadata: dict[str, str] | None
) -> pa.Table:
    table = (
        frame
        if isinstance(frame, pa.Table)
        else pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    )
    if metadata:
        merged = dict(table.schema.metadata or {})
        merged.update({k.encode(): v.encode() for k, v in metadata.items()})
        table = table.replace_schema_metadata(merged)
    return table
