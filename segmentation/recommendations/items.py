"""Items, interactions and baskets from the lake, for the rules and the collaborative model.

An item is a ``product_id`` or a ``category`` (``recommendations.item``; ``auto``: products
when the window's purchases name any). From the lake rows of a window of local event dates,
known by the night (partitions up to it), come

- each customer's weight per item: the sum of ``recommendations.event_weights`` of their
  events with it (purchases, add-to-carts, views), except the items they refunded: a refunded
  item is no positive, whatever else they did with it;
- what each customer bought (refunded items included: they were bought), never recommended
  again while ``recommendations.exclude_purchased`` holds;
- baskets: an order (``order_id`` on one day), or a customer's purchases without an order id
  on one day, as its distinct items.

Customers and items are coded by their sorted ids (``customers[i]``, ``items[j]``), so the
same rows always give the same matrices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from segmentation.config import Config
from segmentation.config_checks import purchase_weight
from segmentation.errors import BadInput
from segmentation.features.activity import purchase_and_refund, sql_literal

COLUMNS = {"product": "product_id", "category": "category"}  # an item kind's lake column


@dataclass(frozen=True)
class Interactions:
    """One window's interactions, coded: rows are ``customers``, columns ``items``."""

    kind: str  # "product" or "category"
    customers: np.ndarray  # customer ids, sorted
    items: np.ndarray  # item ids, sorted
    weights: sp.csr_matrix  # float32 confidence of the positives (refunded pairs left out)
    bought: sp.csr_matrix  # 1 where the customer bought the item (refunded or not)
    baskets: pd.DataFrame  # basket, customer, item (codes): each basket's distinct items
    purchases_without_item: int  # purchase rows in the window that name no item


def read(
    files: Sequence[Path], cfg: Config, first: dt.date, last: dt.date, kind: str | None = None
) -> Interactions:
    """The interactions of local event dates ``first`` .. ``last`` in the lake ``files``, of
    items of ``kind`` (product or category; None: as ``recommendations.item`` says)."""
    con = duckdb.connect()
    try:
        _register(con, files, cfg, first, last)
        purchase, refund = purchase_and_refund(cfg)
        # one scan of the lake: what each row is, its items and weight
        con.execute(
            f"""CREATE TEMP TABLE rows_read AS
            SELECT customer_id, product_id, category, order_id, event_date,
                   ({purchase}) AS is_purchase, ({refund}) AS is_refund,
                   {_weight_sql(cfg)} AS weight
            FROM window_rows"""
        )
        kind = kind or _kind(con, cfg)
        con.execute(
            f"CREATE TEMP VIEW rows_items AS SELECT *, {COLUMNS[kind]} AS item FROM rows_read"
        )
        _codes(con)
        con.execute(
            """CREATE TEMP TABLE ev AS
            SELECT c.customer, i.code AS item, r.order_id, r.event_date, r.is_purchase,
                   r.is_refund, r.weight
            FROM rows_items r JOIN customer_codes c USING (customer_id)
            JOIN item_codes i USING (item)"""
        )
        customers = con.execute("SELECT customer_id FROM customer_codes ORDER BY customer")
        customer_ids = np.asarray(customers.fetchnumpy()["customer_id"], dtype=str)
        items = con.execute("SELECT item FROM item_codes ORDER BY code").fetchnumpy()["item"]
        item_ids = np.asarray(items, dtype=str)
        weights, bought = _pairs(con, len(customer_ids), len(item_ids))
        baskets = _baskets(con)
        (without,) = con.execute(
            "SELECT count(*) FROM rows_items WHERE is_purchase AND item IS NULL"
        ).fetchone() or (0,)
    finally:
        con.close()
    return Interactions(
        kind=kind,
        customers=customer_ids,
        items=item_ids,
        weights=weights,
        bought=bought,
        baskets=baskets,
        purchases_without_item=int(without),
    )


def _register(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[Path],
    cfg: Config,
    first: dt.date,
    last: dt.date,
) -> None:
    """A view ``window_rows`` of the lake rows whose local event date is in the window."""
    if not files:
        con.execute(
            "CREATE TEMP VIEW window_rows AS SELECT NULL::VARCHAR AS customer_id, "
            "NULL::VARCHAR AS event_type, NULL::VARCHAR AS product_id, NULL::VARCHAR AS "
            "category, NULL::VARCHAR AS order_id, NULL::DOUBLE AS amount, NULL::DOUBLE AS "
            "quantity, NULL::DATE AS event_date WHERE false"
        )
        return
    rel = con.read_parquet([str(f) for f in files], hive_partitioning=False, union_by_name=True)
    have = set(rel.columns)
    optional = ", ".join(
        f"CAST({name} AS {kind}) AS {name}" if name in have else f"NULL::{kind} AS {name}"
        for name, kind in (
            ("product_id", "VARCHAR"),
            ("order_id", "VARCHAR"),
            ("quantity", "DOUBLE"),
        )
    )
    local = f"CAST(timezone('{sql_literal(cfg.timezone)}', event_time) AS DATE)"
    rel.project(
        f"customer_id, event_type, category, amount, {optional}, {local} AS event_date"
    ).filter(f"event_date BETWEEN DATE '{first}' AND DATE '{last}'").create_view("window_rows")


def _kind(con: duckdb.DuckDBPyConnection, cfg: Config) -> str:
    """What an item is, product or category: as configured, or found in the rows read."""
    choice = cfg.recommendations.item
    if choice == "category":
        return "category"
    named, bought = con.execute(
        "SELECT count(product_id), count(*) FROM rows_read WHERE is_purchase"
    ).fetchone() or (0, 0)
    if choice == "product" and bought and not named:
        raise BadInput(
            f"recommendations.item is product, but none of the {bought} purchases in the window "
            "names a product_id: map the product column (source.columns.product_id), or set "
            "recommendations.item to category or auto"
        )
    return "product" if choice == "product" or named else "category"


def _codes(con: duckdb.DuckDBPyConnection) -> None:
    """Customer and item codes: their positions in the sorted ids of the window."""
    con.execute(
        "CREATE TEMP TABLE customer_codes AS SELECT customer_id, "
        "(row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS customer "
        "FROM (SELECT DISTINCT customer_id FROM rows_items WHERE item IS NOT NULL)"
    )
    con.execute(
        "CREATE TEMP TABLE item_codes AS SELECT item, "
        "(row_number() OVER (ORDER BY item) - 1)::INTEGER AS code "
        "FROM (SELECT DISTINCT item FROM rows_items WHERE item IS NOT NULL)"
    )


def _weight_sql(cfg: Config) -> str:
    """A row's weight: its event type's (a refund weighs nothing)."""
    purchase, refund = purchase_and_refund(cfg)
    weights = cfg.recommendations.event_weights
    others = " ".join(
        f"WHEN event_type = '{sql_literal(t)}' THEN {float(w)!r}"
        for t, w in sorted(weights.items())
        if t not in (cfg.events.purchase_type, "purchase")
    )
    bought = purchase_weight(weights, cfg.events.purchase_type)
    return f"CASE WHEN {purchase} THEN {bought!r} WHEN {refund} THEN 0.0 {others} ELSE 0.0 END"


def _pairs(
    con: duckdb.DuckDBPyConnection, customers: int, items: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The positives' weights and what was bought, as customers x items matrices."""
    pairs = con.execute(
        """
        SELECT customer, item, sum(weight) AS weight,
               bool_or(is_purchase OR is_refund) AS bought, bool_or(is_refund) AS refunded
        FROM ev GROUP BY ALL ORDER BY customer, item
        """
    ).fetchnumpy()
    row, col = np.asarray(pairs["customer"]), np.asarray(pairs["item"])
    weight, refunded = np.asarray(pairs["weight"]), np.asarray(pairs["refunded"], dtype=bool)
    positive = ~refunded & (weight > 0)
    shape = (customers, items)
    weight_matrix = sp.csr_matrix(
        (weight[positive].astype("float32"), (row[positive], col[positive])), shape=shape
    )
    bought = np.asarray(pairs["bought"], dtype=bool)
    bought_matrix = sp.csr_matrix(
        (np.ones(int(bought.sum()), dtype="float32"), (row[bought], col[bought])), shape=shape
    )
    return weight_matrix, bought_matrix


def _baskets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each basket's distinct items, baskets numbered in the order of their keys (an order
    id and day, else a customer and day)."""
    frame = con.execute(
        """
        WITH lines AS (
            SELECT DISTINCT order_id, event_date, customer, item FROM ev WHERE is_purchase
        )
        SELECT dense_rank() OVER (
                   ORDER BY order_id IS NULL, order_id,
                            CASE WHEN order_id IS NULL THEN customer END, event_date
               ) - 1 AS basket,
               customer, item
        FROM lines ORDER BY basket, item
        """
    ).df()
    return frame.astype({"basket": "int64", "customer": "int32", "item": "int32"})
