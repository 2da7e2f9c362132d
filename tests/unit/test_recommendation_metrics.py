"""Ranking metrics at k on hand-computed lists, and NDCG and MAP against implicit's own
``ranking_metrics_at_k`` on a fitted model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from implicit.evaluation import ranking_metrics_at_k
from threadpoolctl import threadpool_limits

from segmentation.config import AlsConfig
from segmentation.recommendations import collaborative
from segmentation.recommendations.evaluation import ranking_metrics

pytestmark = pytest.mark.unit


def test_hand_computed_precision_recall_ndcg_map_and_coverage() -> None:
    # customer 0 bought items 1 and 4 since; customer 1 bought 2; customer 2 nothing (not
    # counted); lists of 3 (k = 3), -1 = no item
    recommended = np.array([[1, 2, 4], [0, 3, -1], [5, 1, 0]])
    relevant = sp.csr_matrix(
        ([1.0, 1.0, 1.0], ([0, 0, 1], [1, 4, 2])), shape=(3, 6), dtype=np.float32
    )
    got = ranking_metrics(recommended, relevant, k=3)
    assert got["customers"] == 2
    # customer 0: hits at 1 and 3; customer 1: none
    assert got["precision_at_3"] == pytest.approx((2 / 3 + 0) / 2)
    assert got["recall_at_3"] == pytest.approx((2 / 2 + 0) / 2)
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert got["ndcg_at_3"] == pytest.approx((dcg / idcg + 0) / 2)
    # average precision: (1/1 + 2/3) / min(3, 2)
    assert got["map_at_3"] == pytest.approx(((1 + 2 / 3) / 2 + 0) / 2)
    # items recommended to the counted customers: 0, 1, 2, 3, 4 of 6
    assert got["coverage"] == pytest.approx(5 / 6)


def test_ndcg_and_map_are_implicits_definitions() -> None:
    rng = np.random.default_rng(3)
    users, items = 400, 60
    taste = rng.integers(0, 6, users)
    liked = (taste[:, None] == (np.arange(items) % 6)[None, :]) & (rng.random((users, items)) < 0.4)
    noise = rng.random((users, items)) < 0.03
    matrix = sp.csr_matrix((liked | noise).astype(np.float32))
    held = sp.csr_matrix((rng.random((users, items)) < 0.5) & (liked | noise), dtype=np.float32)
    train = sp.csr_matrix(matrix - held.multiply(matrix))
    train.eliminate_zeros()
    test = sp.csr_matrix(held)
    cfg = AlsConfig(factors=8, iterations=5)
    factors = collaborative.fit(train, cfg, seed=1)
    model = collaborative._model(cfg, 1)
    model.item_factors = factors
    model.user_factors = collaborative.user_factors(factors, train, cfg, 1)
    with threadpool_limits(1, "blas"):
        theirs = ranking_metrics_at_k(model, train, test, K=10, show_progress=False)
    ids, _ = collaborative.top_items(factors, model.user_factors, 10, train)
    ours = ranking_metrics(ids, test, k=10)
    assert ours["ndcg_at_10"] == pytest.approx(theirs["ndcg"], rel=1e-6)
    assert ours["map_at_10"] == pytest.approx(theirs["map"], rel=1e-6)
    assert 0.2 < ours["ndcg_at_10"] < 1  # the planted tastes are found: not a vacuous match
