"""Who converted and what they spent in a campaign's window, from the lake.

A customer converts with an order (an ``order_id``'s lines of one day, or a purchase without
one) of the goal's ``min_amount`` or more (any order without it) whose local date is in the
window. Their revenue is their net spend there: purchases minus refunds, as ``monetary``.
Only lake partitions up to the night are read: a night sees only what was known by then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from segmentation.config import Config
from segmentation.features.activity import purchase_and_refund, sql_literal


def read(
    files: Sequence[Path], cfg: Config, first: dt.date, last: dt.date, min_amount: float | None
) -> pd.DataFrame:
    """customer_id, converted (bool), revenue: customers with a purchase or refund in the
    local dates ``first`` .. ``last`` of the lake ``files``, by customer id."""
    empty = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype=str),
            "converted": pd.Series(dtype=bool),
            "revenue": pd.Series(dtype="float64"),
        }
    )
    if not files:
        return empty
    purchase, refund = purchase_and_refund(cfg)
    local = f"CAST(timezone('{sql_literal(cfg.timezone)}', event_time) AS DATE)"
    least = "true" if min_amount is None else f"amount >= {float(min_amount)!r}"
    con = duckdb.connect()
    try:
        rel = con.read_parquet([str(f) for f in files], hive_partitioning=False, union_by_name=True)
        order = "order_id" if "order_id" in rel.columns else "NULL::VARCHAR"
        quantity = "quantity" if "quantity" in rel.columns else "NULL::DOUBLE"
        rel.project(
            f"customer_id, event_type, amount, {quantity} AS quantity, "
            f"CAST({order} AS VARCHAR) AS order_id, {local} AS event_date"
        ).filter(f"event_date BETWEEN DATE '{first}' AND DATE '{last}'").create_view("w")
        frame = con.execute(
            f"""
            WITH lines AS (
                SELECT customer_id, event_date, amount,
                       coalesce(order_id, 'row:' || CAST(row_number() OVER () AS VARCHAR)) AS o
                FROM w WHERE {purchase}
            ),
            orders AS (
                SELECT customer_id, sum(amount) AS amount FROM lines
                GROUP BY customer_id, event_date, o
            ),
            spend AS (
                SELECT customer_id,
                       coalesce(sum(amount) FILTER (WHERE {purchase}), 0)
                       - coalesce(sum(abs(amount)) FILTER (WHERE {refund}), 0) AS revenue
                FROM w WHERE {purchase} OR {refund} GROUP BY customer_id
            )
            SELECT s.customer_id, coalesce(c.converted, false) AS converted, s.revenue
            FROM spend s LEFT JOIN (
                SELECT customer_id, true AS converted FROM orders
                WHERE {least} GROUP BY customer_id
            ) c USING (customer_id)
            ORDER BY s.customer_id
            """
        ).df()
    finally:
        con.close()
    return frame if len(frame) else empty
