"""The files an email or ads tool uploads: per audience and night, ``members.csv`` and
``changes.csv`` under ``output/audiences/<audience>/run_date=D/``.

``members.csv``: ``customer_id`` and then ``audiences.export_columns`` from the customers
source (empty where the source has no row), one row per exported member, by customer id.
``changes.csv``: ``customer_id``, ``change`` (entered or left), then the same columns. Each
file is written atomically, so a rerun of a night replaces exactly that night's files; the
members of one night are those of the night before plus its entered, minus its left.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import pandas as pd

from segmentation.io import lake
from segmentation.layout import RUN_KEY

MEMBERS = "members.csv"
CHANGES = "changes.csv"


def with_columns(ids: pd.DataFrame, attributes: pd.DataFrame | None) -> pd.DataFrame:
    """``ids`` (customer_id first) with the export columns of ``attributes`` (customer_id
    and the columns to export, one row per customer) joined on, as text."""
    if attributes is None:
        return ids
    joined = ids.merge(attributes, on="customer_id", how="left", validate="many_to_one")
    extra = [c for c in attributes.columns if c != "customer_id"]
    joined[extra] = joined[extra].astype("string")
    return joined


def write(folder: Path, members: pd.DataFrame, changes: pd.DataFrame) -> list[Path]:
    """Write one night's two files of an audience into ``folder``; returns their paths."""
    paths = []
    for name, frame in ((MEMBERS, members), (CHANGES, changes)):
        path = folder / name
        write_file(frame, path)
        paths.append(path)
    return paths


def write_file(frame: pd.DataFrame, path: Path) -> None:
    """One audience file, atomically (a rerun, or ``forget``, replaces it whole)."""
    lake.write_atomically(path, partial(_write_csv, frame))


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def last_members(root: Path, day: dt.date) -> pd.Series | None:
    """The customer ids of an audience's newest ``members.csv`` before night ``day`` under
    its folder ``root`` (what a tool that loaded every night's files holds); None if none.
    Named ``customer_key`` when the file was exported pseudonymous."""
    prefix = f"{RUN_KEY}="
    nights = (
        sorted(
            dt.date.fromisoformat(child.name[len(prefix) :])
            for child in root.iterdir()
            if child.name.startswith(prefix) and (child / MEMBERS).is_file()
        )
        if root.is_dir()
        else []
    )
    earlier = [night for night in nights if night < day]
    if not earlier:
        return None
    path = root / f"{prefix}{earlier[-1].isoformat()}" / MEMBERS
    header = pd.read_csv(path, nrows=0).columns
    column = "customer_key" if "customer_key" in header else "customer_id"
    return pd.read_csv(path, usecols=[column], dtype=str)[column]
