"""Offline ranking metrics at k of recommended items against the items bought afterwards.

Per customer with at least one relevant item (bought in the holdout), with ``hits`` the top-k
positions that are relevant and ``m = min(k, relevant items)``:

- precision@k: hits / k;  recall@k: hits / relevant items;
- NDCG@k: the sum of 1 / log2(position + 1) over the hits, over that of a perfect list of m;
- MAP@k: the mean over the hits of the precision at their position, summed and divided by m;

each averaged over the customers; catalogue coverage is the share of the items that are
recommended to anyone. NDCG and MAP are implicit's ``ranking_metrics_at_k`` definitions (the
tests check them against it).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def ranking_metrics(recommended: np.ndarray, relevant: sp.csr_matrix, k: int) -> dict[str, float]:
    """``recommended``: rows x k item ids (-1: none); ``relevant``: rows x items, nonzero where
    the item was bought in the holdout. Rows without a relevant item do not count."""
    top = recommended[:, :k]
    counted = np.asarray(relevant.getnnz(axis=1)) > 0
    top, relevant = top[counted], relevant[counted]
    n_relevant = np.asarray(relevant.getnnz(axis=1), dtype=np.float64)
    if len(top) == 0:
        return {"customers": 0.0}
    rows = np.repeat(np.arange(len(top)), top.shape[1]).reshape(top.shape)
    safe = np.where(top >= 0, top, 0)
    hits = (np.asarray(relevant[rows.ravel(), safe.ravel()]).reshape(top.shape) > 0) & (top >= 0)
    positions = np.arange(1, top.shape[1] + 1, dtype=np.float64)
    discount = 1.0 / np.log2(positions + 1)
    ideal_len = np.minimum(n_relevant, k).astype(int)
    ideal = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])[ideal_len]
    precision_at = np.cumsum(hits, axis=1) / positions
    catalogue = relevant.shape[1]
    return {
        "customers": float(len(top)),
        f"precision_at_{k}": float((hits.sum(axis=1) / k).mean()),
        f"recall_at_{k}": float((hits.sum(axis=1) / n_relevant).mean()),
        f"ndcg_at_{k}": float(((hits * discount).sum(axis=1) / ideal).mean()),
        f"map_at_{k}": float(((precision_at * hits).sum(axis=1) / ideal_len).mean()),
        "coverage": float(np.unique(top[top >= 0]).size / catalogue) if catalogue else 0.0,
    }
