"""The baselines and the fallback: the most bought items, overall or in a customer's segment.

An item's popularity in a group is the number of its customers who bought it in the window
(refunded items count as bought); ties go to the lower item code (the sorted item id).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from segmentation.recommendations.collaborative import exclusion_groups, first_allowed


def rank_scores(
    bought: sp.csr_matrix, group: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """groups x items: ``items - rank`` of the item's popularity in the group (0: never bought
    there), exact in float32, so the best item scores highest and ties never occur; and the
    share of the group's customers who bought it."""
    items = bought.shape[1]
    member = sp.csr_matrix(
        (np.ones(len(group), dtype=np.float64), (group, np.arange(len(group)))),
        shape=(groups, len(group)),
    )
    buyers = np.asarray((member @ (bought > 0).astype(np.float64)).todense())
    order = np.lexsort((np.broadcast_to(np.arange(items), buyers.shape), -buyers), axis=1)
    scores = np.zeros_like(buyers)
    rows = np.arange(groups)[:, None]
    scores[rows, order] = items - np.arange(items)[None, :]
    scores[buyers == 0] = 0
    size = np.bincount(group, minlength=groups).astype(np.float64)[:, None]
    return scores.astype(np.float32), buyers / np.maximum(size, 1)


def recommend(
    scores: np.ndarray, group: np.ndarray, n: int, exclude: sp.csr_matrix | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``n`` most popular items of its ``group`` (ids and scores, -1 padded), the
    row's ``exclude`` left out; an item nobody in the group bought is none. Rows are taken in
    groups of similar exclusion counts, each from as many candidates as it needs."""
    ranked = np.argsort(-scores, axis=1, kind="stable")  # the groups' lists, best first
    ranked_scores = np.take_along_axis(scores, ranked, axis=1).astype(np.float64)
    ranked = np.where(ranked_scores > 0, ranked, -1)
    ids = np.full((len(group), n), -1, dtype=np.int64)
    out = np.full((len(group), n), -np.inf)
    counts = np.zeros(len(group), dtype=np.int64) if exclude is None else exclude.getnnz(axis=1)
    for rows, extra in exclusion_groups(counts):
        k = min(n + extra, scores.shape[1])
        kept = None if exclude is None else exclude[rows]
        at = group[rows]
        ids[rows], out[rows] = first_allowed(ranked[at, :k], ranked_scores[at, :k], kept, n)
    return ids, out
