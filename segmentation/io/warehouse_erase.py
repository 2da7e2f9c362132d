"""Erasure in the warehouse: delete the customers' rows from every table of the schema.

Every base table of the schema with a ``customer_id`` (or ``customer_key``) column loses the
rows of the erased customers, all in ONE transaction under the publishing advisory lock
(:mod:`segmentation.io.warehouse`): a reader sees the customers everywhere or nowhere. The
``_current`` views follow their tables.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from segmentation.errors import SegmentationError
from segmentation.identifiers import check_identifier
from segmentation.io import postgres
from segmentation.io.warehouse import connect

_ID_TABLES = """
SELECT c.table_name, c.column_name
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE'
  AND c.column_name IN ('customer_id', 'customer_key')
ORDER BY c.table_name, c.column_name
"""


def erase(url: str, schema: str, values: dict[str, list[str]], *, url_env: str) -> dict[str, int]:
    """Delete the rows whose ``customer_id``/``customer_key`` is in ``values[column]``; the
    rows deleted per table (tables that lost none are left out)."""
    check_identifier(schema, "warehouse.schema")
    deleted: dict[str, int] = {}
    with connect(url, url_env) as conn:
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s || '.' || 'publish'))", [schema]
                )
                cur.execute(_ID_TABLES, [schema])
                for table, column in cur.fetchall():
                    rows = _delete(cur, schema, table, column, values.get(column) or [])
                    if rows:
                        deleted[table] = deleted.get(table, 0) + rows
        except psycopg.Error as exc:
            raise SegmentationError(
                f"erasing customers from the warehouse schema {schema} at "
                f"{postgres.describe(url)} failed: {postgres.reason(exc, url)}; nothing was "
                "deleted there (the transaction was rolled back): run forget again"
            ) from None
    return deleted


def _delete(cur: psycopg.Cursor[Any], schema: str, table: str, column: str, ids: list[str]) -> int:
    if not ids:
        return 0
    cur.execute(
        sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
            sql.Identifier(schema, table), sql.Identifier(column)
        ),
        [ids],
    )
    return cur.rowcount
