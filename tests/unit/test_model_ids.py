"""Stable segment ids: a permuted clustering keeps its ids; a new cluster gets a new one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from segmentation.model.alignment import align_segment_ids, lineage_rows
from segmentation.model.registry import ModelRecord, promotion

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
        candidates=[],
        training_customers=0,
        random_state=0,
    )


def test_permuted_centres_keep_their_ids() -> None:
    previous = record([[0, 0], [5, 5], [10, 0]], ids=[3, 7, 9], max_id=9)
    new = np.array([[10.1, 0.0], [0.0, 0.2], [5.0, 4.9]])  # same clusters, other order
    alignment = align_segment_ids(new, ["x", "y"], previous, np.ones(2), max_distance=1.0)
    assert alignment.segment_ids == [9, 3, 7]
    assert alignment.previous_ids == [9, 3, 7]
    assert alignment.retired == []


def test_far_cluster_gets_a_fresh_id_and_retired_ids_are_not_reused() -> None:
    previous = record([[0, 0], [5, 5]], ids=[0, 4], max_id=6)  # ids 1-3, 5, 6 were retired
    new = np.array([[0.1, 0.0], [40.0, 40.0], [5.0, 5.1]])
    alignment = align_segment_ids(new, ["x", "y"], previous, np.ones(2), max_distance=1.0)
    assert alignment.segment_ids == [0, 7, 4]
    # the far cluster is new, and the lineage still says which old segment is nearest
    assert alignment.previous_ids == [0, None, 4]
    assert alignment.nearest_ids[1] == 4
    rows = lineage_rows(alignment, "m2", previous)
    assert [(r["segment_id"], r["previous_segment_id"], r["change"]) for r in rows] == [
        (0, 0, "kept"),
        (7, None, "new"),
        (4, 4, "kept"),
    ]


def test_a_vanished_cluster_retires_its_id() -> None:
    previous = record([[0, 0], [5, 5], [20, 20]], ids=[0, 1, 2], max_id=2)
    new = np.array([[0.0, 0.1], [20.0, 19.9]])
    alignment = align_segment_ids(new, ["x", "y"], previous, np.ones(2), max_distance=1.0)
    assert alignment.segment_ids == [0, 2]
    assert alignment.retired == [1]
    retired = [r for r in lineage_rows(alignment, "m2", previous) if r["change"] == "retired"]
    assert [r["segment_id"] for r in retired] == [1]


def test_first_model_numbers_from_zero() -> None:
    alignment = align_segment_ids(np.zeros((3, 2)), ["x", "y"], None, np.ones(2), 1.0)
    assert alignment.segment_ids == [0, 1, 2]


def test_centres_are_compared_by_feature_name_not_position() -> None:
    previous = record([[0, 0], [5, 5]], ids=[3, 7], max_id=7)  # features x, y
    # the new model has the same clusters with its columns in the other order, plus z
    new = np.array([[5.0, 5.0, 1.0], [0.0, 0.0, 1.0]])
    assert align_segment_ids(new, ["y", "x", "z"], previous, np.ones(3), 1.0).segment_ids == [7, 3]
    # a model with too little in common starts afresh, without reusing retired ids
    fresh = align_segment_ids(new, ["y", "a", "b"], previous, np.ones(3), 1.0)
    assert fresh.segment_ids == [8, 9]


def test_impossible_segment_counts_are_explained() -> None:
    import pandas as pd

    from segmentation.errors import SegmentationError
    from segmentation.model.segmenter import Segmenter

    X = pd.DataFrame({"x": np.arange(12.0), "y": np.arange(12.0) % 3})
    with pytest.raises(SegmentationError, match="only 12 customers to segment; need at least 24"):
        Segmenter(n_segments=12, k_min=2).fit(X)
    with pytest.raises(SegmentationError, match="cannot form 6 segments from 6 customers"):
        Segmenter(n_segments=6, k_min=2, score_sample=6).fit(X)
    same = pd.DataFrame({"x": np.ones(20), "y": np.ones(20)})
    with pytest.raises(SegmentationError, match="barely differ"):
        Segmenter(n_segments=3, k_min=2).fit(same)


def test_the_champion_is_replaced_unless_the_challenger_is_worse_by_more_than_the_margin() -> None:
    assert promotion(0.30, None, margin=0.01) == (True, "first model")
    promoted, why = promotion(0.295, 0.30, margin=0.01)
    assert promoted and "not worse" in why
    assert promotion(0.35, 0.30, margin=0.01)[0]
    kept, why = promotion(0.28, 0.30, margin=0.01)
    assert not kept and "champion kept" in why
    # a zero margin promotes any challenger that is not worse
    assert promotion(0.30, 0.30, margin=0.0)[0]
    assert not promotion(0.2999, 0.30, margin=0.0)[0]
    # the drift policy overrides the comparison
    assert promotion(0.10, 0.30, margin=0.01, forced="drift alert") == (True, "drift alert")


def test_metadata_written_before_model_selection_still_loads() -> None:
    old = record([[0, 0]], ids=[0], max_id=3).to_json()
    del old["candidates"], old["promoted"], old["reason"], old["segment_keys"], old["lineage"]
    del old["compared_with"]
    old["k_scores"] = {"4": 0.3}
    old["scores"] = {"silhouette": 0.3, "davies_bouldin": 1.0, "calinski_harabasz": 500.0}
    loaded = ModelRecord.from_json(old)
    assert loaded.promoted and loaded.candidates == [] and loaded.max_id_ever == 3


def test_the_champion_and_the_registry_are_as_known_on_a_date(tmp_path: Path) -> None:
    import json

    from segmentation.model.registry import META, champion_as_of, registry_table

    def save(day: int, promoted: bool) -> None:
        r = record([[0, 0]], ids=[0], max_id=0)
        d = {
            **r.to_json(),
            "model_version": f"m202401{day:02d}",
            "trained_run_date": f"2024-01-{day:02d}",
            "promoted": promoted,
            "scores": {"silhouette": 0.3, "davies_bouldin": 1, "calinski_harabasz": 9},
        }
        (tmp_path / d["model_version"]).mkdir()
        (tmp_path / d["model_version"] / META).write_text(json.dumps(d))

    save(1, True)
    save(2, False)
    save(3, True)
    save(4, False)
    on = dt.date(2024, 1, 3)
    assert champion_as_of(tmp_path, on).model_version == "m20240103"
    # a rerun of the 3rd is judged against the champion before it, whatever came later
    assert champion_as_of(tmp_path, on, strictly_before=True).model_version == "m20240101"
    table = registry_table(tmp_path, on)
    assert dict(zip(table["model_version"], table["status"], strict=True)) == {
        "m20240101": "retired",
        "m20240102": "rejected",
        "m20240103": "champion",
    }
