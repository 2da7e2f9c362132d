"""RFM scores (1-5 by quintile, or by fixed cut points) and the standard named RFM segments.

Higher is better on every axis: a recent buyer gets R=5. Customers who never purchased score 1
on all three, whatever the method.

Quintiles (the default, per axis without cut points): quintiles of the rank among buyers, with
ties broken by ``customer_id`` so the same data always gives the same scores.

Fixed cut points (``rfm.cuts``: four increasing values c1 < c2 < c3 < c4 per axis) score by
bands that do not move from one night to the next:

    frequency, monetary:  (-inf, c1] -> 1, (c1, c2] -> 2, (c2, c3] -> 3, (c3, c4] -> 4,
                          (c4, inf) -> 5    i.e. 1 + the number of cut points below the value
    recency_days:         (-inf, c1] -> 5, (c1, c2] -> 4, (c2, c3] -> 3, (c3, c4] -> 2,
                          (c4, inf) -> 1    (fewer days since the last purchase is better)

A value equal to a cut point falls in the band that ends at it. Axes with and without cut
points can be mixed.

Named segments follow the usual R x F grid. The rules are checked in this order and the first
match wins (the documented precedence, ``RFM_SEGMENTS``):

    1. Champions           R 5        F 4-5
    2. Loyal Customers     R 3-5      F 4-5
    3. Can't Lose Them     R 1-2      F 5
    4. At Risk             R 1-2      F 3-4
    5. Lost                R 1        F 1
    6. Hibernating         R 1-2      F 1-2
    7. Need Attention      R 3        F 3
    8. About To Sleep      R 3        F 1-2
    9. Potential Loyalist  R 4-5      F 2-3
   10. New Customers       R 5        F 1
   11. Promising           R 4        F 1

so (5, 5) is Champions rather than Loyal Customers, and (1, 1) is Lost rather than Hibernating.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

# (name, allowed R scores, allowed F scores), first match wins
RFM_SEGMENTS: tuple[tuple[str, frozenset[int], frozenset[int]], ...] = (
    ("Champions", frozenset({5}), frozenset({4, 5})),
    ("Loyal Customers", frozenset({3, 4, 5}), frozenset({4, 5})),
    ("Can't Lose Them", frozenset({1, 2}), frozenset({5})),
    ("At Risk", frozenset({1, 2}), frozenset({3, 4})),
    ("Lost", frozenset({1}), frozenset({1})),
    ("Hibernating", frozenset({1, 2}), frozenset({1, 2})),
    ("Need Attention", frozenset({3}), frozenset({3})),
    ("About To Sleep", frozenset({3}), frozenset({1, 2})),
    ("Potential Loyalist", frozenset({4, 5}), frozenset({2, 3})),
    ("New Customers", frozenset({5}), frozenset({1})),
    ("Promising", frozenset({4}), frozenset({1})),
)


def quintile_scores(
    values: pd.Series, keys: pd.Series, higher_is_better: bool = True
) -> np.ndarray:
    """1-5 by quintile of the rank; ties broken by ``keys`` so scores are deterministic."""
    return _quintiles(values.to_numpy(dtype="float64"), _key_order(keys), higher_is_better)


def _key_order(keys: pd.Series) -> np.ndarray:
    # features come sorted by customer_id: then the row order already is the key order
    if keys.is_monotonic_increasing:
        return np.arange(len(keys))
    return np.argsort(keys.to_numpy(), kind="stable")


def _quintiles(v: np.ndarray, key_order: np.ndarray, higher_is_better: bool) -> np.ndarray:
    n = len(v)
    if n == 0:
        return np.zeros(0, dtype="int8")
    # a stable sort of the key-ordered values keeps equal values in key order
    order = key_order[np.argsort((v if higher_is_better else -v)[key_order], kind="stable")]
    ranks = np.empty(n, dtype="int64")
    ranks[order] = np.arange(n)
    return (ranks * 5 // n + 1).astype("int8")


def score_rfm(
    features: pd.DataFrame, cuts: Mapping[str, Sequence[float]] | None = None
) -> pd.DataFrame:
    """``r_score``, ``f_score``, ``m_score``, ``rfm_score`` and ``rfm_segment`` per customer.

    Axes named in ``cuts`` score by its fixed bands, the others by quintiles among buyers
    only: customers who never purchased in the window would otherwise fill the low ranks and
    push every buyer up. Non-buyers score 1, 1, 1. ``cuts`` holds four increasing, finite
    cut points per axis (the config parser checks ``rfm.cuts``).
    """
    cuts = cuts or {}
    buyers = features["frequency"].to_numpy() > 0
    key_order = _key_order(features["customer_id"][buyers])
    scores = {}
    for name, column, better in (
        ("r_score", "recency_days", False),
        ("f_score", "frequency", True),
        ("m_score", "monetary", True),
    ):
        score = np.ones(len(features), dtype="int8")
        values = features[column].to_numpy(dtype="float64")[buyers]
        if column in cuts:
            score[buyers] = band_scores(values, cuts[column], better)
        else:
            score[buyers] = _quintiles(values, key_order, better)
        scores[name] = score
    r, f, m = scores["r_score"], scores["f_score"], scores["m_score"]
    return pd.DataFrame(
        {
            "customer_id": features["customer_id"].reset_index(drop=True),
            **scores,
            "rfm_score": _RFM_CODES[(r - 1) * 25 + (f - 1) * 5 + (m - 1)],
            "rfm_segment": rfm_segment(r, f),
        }
    )


def band_scores(
    values: np.ndarray, cuts: Sequence[float], higher_is_better: bool = True
) -> np.ndarray:
    """1-5 by the fixed bands (-inf, c1], (c1, c2], ..., (c4, inf); reversed when lower is
    better. A value on a cut point belongs to the band that ends at it."""
    below = np.searchsorted(np.asarray(cuts, dtype="float64"), values, side="left")
    return (below + 1 if higher_is_better else 5 - below).astype("int8")


_RFM_CODES = np.array([f"{r}{f}{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)])


def rfm_segment(r: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Named segment per (R, F) pair, by the first matching rule of ``RFM_SEGMENTS``."""
    return _GRID[np.asarray(r) - 1, np.asarray(f) - 1]


def _grid() -> np.ndarray:
    """The 5 x 5 table of names, filled in rule order so the first matching rule wins."""
    grid = np.full((5, 5), "", dtype=object)
    for name, rs, fs in reversed(RFM_SEGMENTS):
        for r in rs:
            for f in fs:
                grid[r - 1, f - 1] = name
    return grid


_GRID = _grid()
