"""A synthetic log shaped like a real shop's export: order lines with invoice numbers, returns.

``order_lines`` turns each generated purchase into an order of one to four lines (the same
``order_id`` and time; a quantity and a unit price per line, ``amount`` their product), and
returns a share of the orders a few days later: half as ``refund`` events, half as a negative
line (quantity -1) of the same order, the two ways exports write them. Seeded on its own, so
the same arguments always give the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_LINES = 4


def order_lines(
    events: pd.DataFrame, seed: int, refund_rate: float = 0.0, purchase_type: str = "purchase"
) -> pd.DataFrame:
    """``events`` with each purchase as an order of lines, and ``refund_rate`` of orders
    returned (one line each, 2 to 6 days later), sorted by time like the generator's."""
    rng = np.random.default_rng([seed, 11])
    bought = (events["event_type"] == purchase_type).to_numpy()
    orders = events[bought].reset_index(drop=True)
    lines = _lines(rng, orders)
    returns = _returns(rng, lines, refund_rate, purchase_type)
    out = pd.concat([events[~bought], lines, returns], ignore_index=True)
    order = out.sort_values(["event_time", "customer_id", "event_id"], kind="stable").index
    return out.loc[order].reset_index(drop=True)


def _lines(rng: np.random.Generator, orders: pd.DataFrame) -> pd.DataFrame:
    n = len(orders)
    count = rng.integers(1, MAX_LINES + 1, n)
    idx = np.repeat(np.arange(n), count)
    line_no = np.arange(len(idx)) - np.repeat(np.cumsum(count) - count, count) + 1
    # the order's amount shared between its lines, each a quantity times a unit price
    weight = rng.random(len(idx)) + 0.2
    share = weight / np.bincount(idx, weights=weight)[idx]
    quantity = rng.integers(1, 4, len(idx)).astype("float64")
    unit_price = np.maximum((orders["amount"].to_numpy()[idx] * share / quantity).round(2), 0.01)
    lines = orders.iloc[idx].reset_index(drop=True)
    lines["order_id"] = "INV" + pd.Series(np.arange(1, n + 1)[idx]).astype(str).str.zfill(7)
    lines["event_id"] = lines["event_id"] + "-" + pd.Series(line_no).astype(str)
    lines["quantity"] = quantity
    lines["unit_price"] = unit_price
    lines["amount"] = (quantity * unit_price).round(2)
    lines["product_id"] = "P" + pd.Series(rng.integers(1, 5000, len(idx))).astype(str).str.zfill(5)
    return lines


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
