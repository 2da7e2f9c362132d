"""Implicit-feedback collaborative filtering: the ``implicit`` library's ALS.

The model learns item factors from the customers' interaction weights (Hu, Koren & Volinsky's
confidence ``1 + alpha x weight``). Every night each customer's factors are solved anew from
their interactions of the window with the item factors fixed (``recalculate_user``: one
least-squares step, exact), so a customer who arrived since the last retrain is scored too.

Deterministic: the factors start from ``random_state``; each ALS half-step solves every row
independently of the others (OpenMP only splits the rows between threads), and BLAS is held to
one thread, so the same rows give the same bytes on one thread or two (measured: 200,000
customers x 2,000 items, identical item factors and recommendations with 1 and 2 threads).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.topk import topk
from threadpoolctl import threadpool_limits

from segmentation.config import AlsConfig


def _model(cfg: AlsConfig, seed: int) -> AlternatingLeastSquares:
    with threadpool_limits(1, "blas"):  # implicit warns on a multi-threaded BLAS
        return AlternatingLeastSquares(
            factors=cfg.factors,
            regularization=cfg.regularization,
            alpha=cfg.alpha,
            iterations=cfg.iterations,
            random_state=seed,
            num_threads=0,
        )


def fit(weights: sp.csr_matrix, cfg: AlsConfig, seed: int) -> np.ndarray:
    """The item factors (items x factors, float32) learnt from customers x items weights."""
    model = _model(cfg, seed)
    with threadpool_limits(1, "blas"):
        model.fit(weights, show_progress=False)
    return np.ascontiguousarray(model.item_factors, dtype=np.float32)


def user_factors(
    item_factors: np.ndarray, weights: sp.csr_matrix, cfg: AlsConfig, seed: int
) -> np.ndarray:
    """Each row's factors solved from its weights against fixed ``item_factors`` (of a model
    trained with another ``factors`` setting too)."""
    model = _model(dataclasses.replace(cfg, factors=item_factors.shape[1]), seed)
    model.item_factors = item_factors
    with threadpool_limits(1, "blas"):
        return np.asarray(model.recalculate_user(np.arange(weights.shape[0]), weights))


def top_items(
    item_factors: np.ndarray, users: np.ndarray, n: int, exclude: sp.csr_matrix | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``n`` best items by the factors' dot product (ids, scores); an item of the
    row's ``exclude`` never appears (-1 and -inf pad a row with fewer items left).

    implicit's ``topk`` takes a filter, but slices it row by row in Python (over 30 s for a
    million customers); instead rows are grouped by how many items they exclude, each group
    asks ``topk`` for that many more, and the excluded ones are dropped at once."""
    rows = users.shape[0]
    ids = np.full((rows, n), -1, dtype=np.int64)
    scores = np.full((rows, n), -np.inf, dtype=np.float64)
    counts = np.zeros(rows, dtype=np.int64) if exclude is None else exclude.getnnz(axis=1)
    users = np.ascontiguousarray(users, dtype=np.float32)
    for group, extra in exclusion_groups(counts):
        k = min(n + extra, item_factors.shape[0])
        with threadpool_limits(1, "blas"):
            found, score = topk(item_factors, users[group], k, num_threads=0)
        kept = None if exclude is None else exclude[group]
        ids[group], scores[group] = first_allowed(found, score, kept, n)
    return ids, scores


def first_allowed(
    ids: np.ndarray, scores: np.ndarray, exclude: sp.csr_matrix | None, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's first ``n`` candidates (best first) that its ``exclude`` row does not hold,
    -1 / -inf where fewer are left."""
    valid = ids >= 0
    if exclude is not None and exclude.nnz:
        rows = np.repeat(np.arange(ids.shape[0]), ids.shape[1])
        held = values_at(exclude, rows, ids.clip(0).ravel()).reshape(ids.shape)
        valid &= held == 0
    order = np.argsort(~valid, axis=1, kind="stable")[:, :n]
    taken = np.take_along_axis(valid, order, axis=1)
    chosen = np.where(taken, np.take_along_axis(ids, order, axis=1), -1)
    score = np.where(taken, np.take_along_axis(scores, order, axis=1), -np.inf)
    if chosen.shape[1] < n:  # fewer candidates than n
        pad = n - chosen.shape[1]
        chosen = np.pad(chosen, ((0, 0), (0, pad)), constant_values=-1)
        score = np.pad(score, ((0, 0), (0, pad)), constant_values=-np.inf)
    return chosen, score


def values_at(matrix: sp.spmatrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows[i], cols[i]]`` for every i, as a flat array (scipy gives a matrix or,
    for a sparse array, a sparse result)."""
    found = matrix[rows, cols]
    return np.asarray(found.todense() if sp.issparse(found) else found).ravel()


def exclusion_groups(counts: np.ndarray) -> Iterator[tuple[np.ndarray, int]]:
    """The rows by how many items they exclude, grouped 0, 1-8, 9-32, ... (x4): each group's
    rows and its largest count."""
    lower, upper, most = -1, 0, int(counts.max(initial=0))
    while lower < most:
        rows = np.flatnonzero((counts > lower) & (counts <= upper))
        if len(rows):
            yield rows, upper
        lower, upper = upper, 8 if upper == 0 else upper * 4
