"""Scans for customer identifiers: every file under a folder, and every warehouse table.

Parquet compresses its pages, so an id stored there need not appear in its bytes: besides
the byte scan of every file, each Parquet file's values (list items too) are read back and
compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from psycopg import sql


def _pattern(needles: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(n) for n in sorted(set(needles), key=len, reverse=True)))


def traces(root: Path, needles: Iterable[str]) -> list[str]:
    """Where any of ``needles`` appears under ``root``: ``path`` (in its bytes) or
    ``path:column`` (among a Parquet file's values)."""
    wanted = set(needles)
    pattern = re.compile(_pattern(wanted).pattern.encode())
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if pattern.search(path.read_bytes()):
            found.append(str(path.relative_to(root)))
        if path.suffix == ".parquet":
            table = pq.read_table(path)  # every table still opens
            for name in table.column_names:
                column = table.column(name)
                while pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
                    column = pc.list_flatten(column)
                if {str(v) for v in column.to_pylist()} & wanted:
                    found.append(f"{path.relative_to(root)}:{name}")
    return found


def warehouse_traces(url: str, schema: str, needles: Iterable[str]) -> tuple[list[str], int]:
    """Where any of ``needles`` appears in a row of a table or view of ``schema`` (each row as
    text), and how many tables and views were read."""
    pattern = _pattern(needles)
    found, read = [], 0
    with psycopg.connect(url) as conn:
        names = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            [schema],
        ).fetchall()
        for (name,) in names:
            rows = conn.execute(
                sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(schema, name))
            ).fetchall()
            read += 1
            if any(pattern.search(text) for (text,) in rows):
                found.append(name)
    return found, read
