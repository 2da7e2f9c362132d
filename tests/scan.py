"""Scans for customer identifiers: every file under a folder, and every warehouse table.

Parquet compresses its pages, so an id stored there need not appear in its bytes: besides
the byte scan of every file, each Parquet file's values are read back and compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
from psycopg import sql


def traces(root: Path, needles: Iterable[str]) -> list[str]:
    """Where any of ``needles`` appears under ``root``: ``path`` (bytes) or ``path:column``."""
    wanted = set(needles)
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(n.encode() in data for n in wanted):
            found.append(str(path.relative_to(root)))
        if path.suffix == ".parquet":
            table = pq.read_table(path)  # every table still opens
            for column in table.column_names:
                values = {str(v) for v in table.column(column).to_pylist()}
                if any(n in v for v in values for n in wanted):
                    found.append(f"{path.relative_to(root)}:{column}")
    return found


def warehouse_traces(url: str, schema: str, needles: Iterable[str]) -> tuple[list[str], int]:
    """Where any of ``needles`` appears in a row of a table or view of ``schema`` (each row as
    text), and how many tables and views were read."""
    wanted = set(needles)
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
            if any(n in text for (text,) in rows for n in wanted):
                found.append(name)
    return found, read
