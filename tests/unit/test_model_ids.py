"""Stable segment ids: a permuted clustering keeps its ids; a new cluster gets a new one."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from segmentation.model import ModelRecord, align_segment_ids

pytestmark = pytest.mark.unit


def record(centers: list[list[float]], ids: list[int], max_id: int) -> ModelRecord:
    return ModelRecord(
        model_version="m1",
        trained_run_date=dt.date(2024, 1, 1),
        algorithm="kmeans",
        n_segments=len(ids),
        features=["x", "y"],
        segment_ids=ids,
        centers_log=centers,
        scale=[1.0, 1.0],
        max_id_ever=max_id,
        scores={},
        k_scores={},
        training_customers=0,
        random_state=0,
    )


def test_permuted_centres_keep_their_ids() -> None:
    previous = record([[0, 0], [5, 5], [10, 0]], ids=[3, 7, 9], max_id=9)
    new = np.array([[10.1, 0.0], [0.0, 0.2], [5.0, 4.9]])  # same clusters, other order
    assert align_segment_ids(new, previous, np.ones(2), max_distance=1.0) == [9, 3, 7]


def test_far_cluster_gets_a_fresh_id_and_retired_ids_are_not_reused() -> None:
    previous = record([[0, 0], [5, 5]], ids=[0, 4], max_id=6)  # ids 1-3, 5, 6 were retired
    new = np.array([[0.1, 0.0], [40.0, 40.0], [5.0, 5.1]])
    assert align_segment_ids(new, previous, np.ones(2), max_distance=1.0) == [0, 7, 4]


def test_first_model_numbers_from_zero() -> None:
    assert align_segment_ids(np.zeros((3, 2)), None, np.ones(2), 1.0) == [0, 1, 2]
