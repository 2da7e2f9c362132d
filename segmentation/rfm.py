"""RFM scores (1-5 by quintile) and the standard named RFM segments.

Scores are quintiles of the rank, with ties broken by ``customer_id`` so the same data always
gives the same scores. Higher is better on every axis: a recent buyer gets R=5. Customers who
never purchased score 1 on all three. Segment names follow the usual R x F grid; the rules are
checked in order and the first match wins, which is the documented precedence.
"""

from __future__ import annotations

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


def score_rfm(features: pd.DataFrame) -> pd.DataFrame:
    """``r_score``, ``f_score``, ``m_score``, ``rfm_score`` and ``rfm_segment`` per customer.

    Quintiles are taken among buyers only: customers who never purchased in the window would
    otherwise fill the low ranks and push every buyer up. Non-buyers score 1, 1, 1.
    """
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
