"""A synthetic log shaped like a real shop's export: order lines with invoice numbers, returns.

``order_lines`` turns each generated purchase into an order of one to four lines (the same
``order_id`` and time; a quantity and a unit price per line, ``amount`` their product), and
returns a share of the orders a few days later: half as ``refund`` events, half as a negative
line (quantity -1) of the same order, the two ways exports write them. A customer's purchases
at one time (a bundle's lead and the products bought with it) are one order, so the bundle is
one basket. Seeded on its own (``[seed, 11]``; the extra lines' products ``[seed, 12]``), so
the same arguments always give the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.synthetic_products import draw_popular, popularity_index

MAX_LINES = 4


def order_lines(
    events: pd.DataFrame,
    seed: int,
    refund_rate: float = 0.0,
    purchase_type: str = "purchase",
    products: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``events`` with each purchase as an order of lines, and ``refund_rate`` of orders
    returned (one line each, 2 to 6 days later), sorted by time like the generator's.

    A purchase's first line is its own product; the others are products of its category
    drawn by ``products``' popularity (product_id, category, popularity: the generator's
    catalogue), by default by how often ``events``' purchases bought them.
    """
    rng = np.random.default_rng([seed, 11])
    bought = (events["event_type"] == purchase_type).to_numpy()
    orders = events[bought].reset_index(drop=True)
    if products is None:
        products = _bought(orders)
    lines = _lines(rng, orders, products, seed)
    returns = _returns(rng, lines, refund_rate, purchase_type)
    out = pd.concat([events[~bought], lines, returns], ignore_index=True)
    order = out.sort_values(["event_time", "customer_id", "event_id"], kind="stable").index
    return out.loc[order].reset_index(drop=True)


def _bought(orders: pd.DataFrame) -> pd.DataFrame:
    """The products ``orders`` bought, each with how often as its popularity."""
    counts = orders.groupby(["product_id", "category"]).size()
    return counts.rename("popularity").reset_index()


def _lines(
    rng: np.random.Generator, orders: pd.DataFrame, products: pd.DataFrame, seed: int
) -> pd.DataFrame:
    n = len(orders)
    # one order per customer and time: the first purchase brings 1..MAX_LINES lines, the
    # others (a bundle's products bought with it) one each
    basket = orders.groupby(["customer_id", "event_time"], sort=False, dropna=False).ngroup()
    first = ~basket.duplicated().to_numpy()
    count = np.where(first, rng.integers(1, MAX_LINES + 1, n), 1)
    idx = np.repeat(np.arange(n), count)
    line_no = np.arange(len(idx)) - np.repeat(np.cumsum(count) - count, count) + 1
    # the order's amount shared between its lines, each a quantity times a unit price
    weight = rng.random(len(idx)) + 0.2
    share = weight / np.bincount(idx, weights=weight)[idx]
    quantity = rng.integers(1, 4, len(idx)).astype("float64")
    unit_price = np.maximum((orders["amount"].to_numpy()[idx] * share / quantity).round(2), 0.01)
    lines = orders.iloc[idx].reset_index(drop=True)
    order_no = basket.to_numpy()[idx] + 1
    lines["order_id"] = "INV" + pd.Series(order_no).astype(str).str.zfill(7)
    lines["event_id"] = lines["event_id"] + "-" + pd.Series(line_no).astype(str)
    lines["quantity"] = quantity
    lines["unit_price"] = unit_price
    lines["amount"] = (quantity * unit_price).round(2)
    rng.integers(1, 5000, len(idx))  # the products' old draw: the returns' stay as they were
    extra = np.flatnonzero(line_no > 1)
    rng_products = np.random.default_rng([seed, 12])
    known, picks = _popular(rng_products, lines["category"].to_numpy()[extra], products)
    lines.loc[extra[known], "product_id"] = picks  # a category not in ``products``: its own
    return lines


def _popular(
    rng: np.random.Generator, category: np.ndarray, products: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``category`` ``products`` has, and a product of each of those by popularity."""
    code, names = pd.factorize(products["category"], sort=True)
    weight = products["popularity"].to_numpy(dtype="float64")
    ranked, cumulative = popularity_index(code, weight, len(names))
    wanted = pd.Index(names).get_indexer(category)
    known = wanted >= 0
    picked = draw_popular(rng, ranked, cumulative, wanted[known])
    return known, products["product_id"].to_numpy(dtype=object)[picked]


def _returns(
    rng: np.random.Generator, lines: pd.DataFrame, rate: float, purchase_type: str
) -> pd.DataFrame:
    """One returned line of every ``1 / rate``-th order: a refund event or a negative line."""
    first = lines.drop_duplicates("order_id").reset_index(drop=True)
    if rate <= 0 or first.empty:
        return lines.iloc[:0]
    every = max(1, round(1 / rate))
    back = first.iloc[every - 1 :: every].reset_index(drop=True)
    later = pd.to_timedelta(rng.integers(2 * 86_400, 6 * 86_400, len(back)), unit="s")
    back["event_time"] = back["event_time"] + later
    back["event_id"] = "R" + back["event_id"]
    negative = np.arange(len(back)) % 2 == 1
    back["event_type"] = np.where(negative, purchase_type, "refund")
    back["quantity"] = np.where(negative, -1.0, 1.0)
    back["amount"] = np.where(negative, -back["unit_price"], back["unit_price"])
    return back
