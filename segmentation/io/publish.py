"""The Parquet sink for the output contract.

Each table is Hive-partitioned by ``run_date`` under ``<home>/output/<table>/``; the newest run
is also at ``<home>/output/current/<table>.parquet``. Both are replaced atomically (a rename),
so readers see a complete old or a complete new table. A backfill of an older date rewrites
its own partition but never moves ``current`` backwards.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from segmentation.errors import SegmentationError
from segmentation.io import lake

TABLES = (
    "customer_segments",
    "segment_profiles",
    "segment_migrations",
    "segment_rules",
    "model_registry",
    "segment_lineage",
    "segment_history",
    "drift_metrics",
)
RUN_DATE_KEY = "segmentation.run_date"


def output_dir(home: Path) -> Path:
    return home / "output"


def table_root(home: Path, table: str) -> Path:
    return output_dir(home) / table


def current_path(home: Path, table: str) -> Path:
    return output_dir(home) / "current" / f"{table}.parquet"


def stage_table(frame: pd.DataFrame, table: str, day: dt.date, path: Path) -> Path:
    """Write ``frame`` in its published form (with ``run_date``) to ``path``, to publish later."""
    if table not in TABLES:
        raise ValueError(f"unknown output table {table!r}")
    out = frame.copy()
    out.insert(0, "run_date", pd.Series([day] * len(out), dtype="object", index=out.index))
    lake.write_file(out, path, metadata={RUN_DATE_KEY: day.isoformat()})
    return path


def publish_staged(staged: Path, table: str, day: dt.date, home: Path) -> Path:
    """Publish a staged file as the ``run_date=day`` partition and, if newest, as current.

    Both places get a hard link to the staged file, swapped in with an atomic rename: the
    bytes are written once, and a retry after a crash finds the staged file still there.
    """
    target = lake.partition_dir(table_root(home, table), "run_date", day)
    _swap_in(staged, target / lake.PART)
    shown = current_run_date(home, table)
    if shown is None or shown <= day:
        _swap_in(staged, current_path(home, table))
    return target


def publish_table(frame: pd.DataFrame, table: str, day: dt.date, home: Path) -> Path:
    """Stage and publish ``frame`` in one go."""
    staged = table_root(home, table) / f".staged-{day.isoformat()}-{uuid.uuid4().hex}.parquet"
    try:
        return publish_staged(stage_table(frame, table, day, staged), table, day, home)
    finally:
        staged.unlink(missing_ok=True)


def _swap_in(source: Path, target: Path) -> None:
    try:
        _replace(source, target)
    except OSError as exc:
        raise SegmentationError(
            f"cannot publish {target} ({exc.strerror or exc}); make the output folder "
            f"{target.parent} writable by this process, then rerun this date"
        ) from None


def _replace(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{target.name}-{uuid.uuid4().hex}")
    try:
        os.link(source, tmp)
    except OSError:  # a file system without hard links: copy instead
        shutil.copyfile(source, tmp)
    try:
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def current_run_date(home: Path, table: str) -> dt.date | None:
    path = current_path(home, table)
    if not path.is_file():
        return None
    value = lake.file_metadata(path).get(RUN_DATE_KEY)
    return dt.date.fromisoformat(value) if value else None


def read_published(
    home: Path, table: str, day: dt.date, columns: list[str] | None = None
) -> pd.DataFrame | None:
    """The published ``run_date=day`` partition of ``table``, or None if there is none."""
    path = lake.partition_dir(table_root(home, table), "run_date", day) / lake.PART
    return pq.read_table(path, columns=columns).to_pandas() if path.is_file() else None
