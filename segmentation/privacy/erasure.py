"""Erasure: remove customers from every file under home, each file rewritten atomically.

What holds customers, and how each kind of file is cleaned:

- Parquet (staging, lake, quarantined rows, duplicates, state, features, the tables waiting to
  be published, every published partition, ``current``, the membership history): the rows
  whose ``customer_id`` (or, in pseudonymous outputs, ``customer_key``) is erased are dropped;
  the schema and its metadata are kept, so every table still opens as before.
- CSV (the audiences' exported files): the lines of erased customers are dropped, the other
  lines kept byte for byte.
- JSON (validation records, quarantine results): a value equal to an erased id (Great
  Expectations lists unexpected values) becomes ``"[erased]"``.

Model artifacts hold no customer rows (segment centroids, a classifier, item factors), and
the HTML reports none either (tests/integration/test_privacy_erasure.py scans both), so they
are left alone.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmentation.campaigns import exports
from segmentation.io.lake import LEFTOVERS, write_file, write_text

ID_COLUMNS = ("customer_id", "customer_key")
ERASED = "[erased]"


@dataclass(frozen=True)
class Forgotten:
    """The customers to remove: their raw ids, and their pseudonyms (``customer_key``)."""

    ids: frozenset[str]
    keys: frozenset[str]

    def of(self, column: str) -> frozenset[str]:
        return self.ids if column == "customer_id" else self.keys


def erase_files(root: Path, who: Forgotten) -> dict[str, int]:
    """Remove ``who`` from every Parquet, CSV and JSON file under ``root``; the rows (or
    values) removed per area, named by the path with its partition folders left out."""
    removed: dict[str, int] = {}
    for path in sorted(root.rglob("*")):
        if any(p.startswith(LEFTOVERS) for p in path.relative_to(root).parts[:-1]):
            continue  # inside a leftover folder, removed whole
        if path.name.startswith(LEFTOVERS):  # a killed writer's: may hold the customers too
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            continue
        if not path.is_file():
            continue
        eraser = _ERASERS.get(path.suffix)
        count = eraser(path, who) if eraser is not None else 0
        if count:
            area = area_of(path.relative_to(root))
            removed[area] = removed.get(area, 0) + count
    return removed


def area_of(relative: Path) -> str:
    """``output/customer_segments/run_date=D/part-0.parquet`` -> ``output/customer_segments``."""
    parts = [p for p in relative.parts[:-1] if "=" not in p]
    if relative.suffix == ".parquet" and relative.name != "part-0.parquet":
        parts.append(relative.stem)  # output/current/<table>.parquet, quarantined rows
    return "/".join(parts)


def _erase_parquet(path: Path, who: Forgotten) -> int:
    schema = pq.read_schema(path)
    columns = [c for c in ID_COLUMNS if c in schema.names and who.of(c)]
    if not columns:
        return 0
    table = pq.read_table(path)
    drop = None
    for column in columns:
        hit = pc.is_in(table[column], value_set=pa.array(sorted(who.of(column)), pa.string()))
        drop = hit if drop is None else pc.or_(drop, hit)
    count = pc.sum(drop).as_py() or 0
    if count:
        write_file(table.filter(pc.invert(pc.fill_null(drop, False))), path)
    return int(count)


def _erase_csv(path: Path, who: Forgotten) -> int:
    """An audience's file, read as text (a quoted value may hold a line break) and, when any
    row goes, written back by the writer that wrote it (``campaigns.exports``)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        return 0
    drop = np.zeros(len(frame), dtype=bool)
    for column in (c for c in ID_COLUMNS if c in frame.columns):
        drop |= frame[column].isin(who.of(column)).to_numpy()
    if drop.any():
        exports.write_file(frame[~drop], path)
    return int(drop.sum())


def _erase_json(path: Path, who: Forgotten) -> int:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return 0
    erased = who.ids | who.keys
    scrubbed, count = _scrub(loaded, erased)
    if count:
        text = json.dumps(scrubbed, indent=2, sort_keys=True, default=str)
        write_text(text, path)
    return count


def _scrub(value: Any, erased: frozenset[str]) -> tuple[Any, int]:
    """``value`` with every string equal to an erased id replaced; how many were."""
    if isinstance(value, str):
        return (ERASED, 1) if value in erased else (value, 0)
    if isinstance(value, dict):
        items = [(k, *_scrub(v, erased)) for k, v in value.items()]
        return {k: v for k, v, _ in items}, sum(n for *_, n in items)
    if isinstance(value, list):
        scrubbed = [_scrub(v, erased) for v in value]
        return [v for v, _ in scrubbed], sum(n for _, n in scrubbed)
    return value, 0


_ERASERS = {".parquet": _erase_parquet, ".csv": _erase_csv, ".json": _erase_json}


def read_erasure_list(path: Path | None) -> frozenset[str]:
    """The ids in the erasure list (one per line; blank lines and ``#`` comments skipped)."""
    if path is None or not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(s for line in lines if (s := line.strip()) and not s.startswith("#"))


def append_erasure_list(path: Path, ids: Iterable[str]) -> list[str]:
    """Add the ids not yet in the list at ``path`` (atomically); the ones added."""
    known = read_erasure_list(path)
    new = sorted(set(ids) - known)
    if new:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if text and not text.endswith("\n"):
            text += "\n"
        write_text(text + "".join(f"{i}\n" for i in new), path)
    return new
