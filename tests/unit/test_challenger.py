"""Tonight's challenger as a registry record: warm starts, inherited names, refinements; the
refusal of a night that would start a second lineage."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from segmentation.errors import SecondLineage
from segmentation.model import registry
from segmentation.model.alignment import Alignment
from segmentation.model.challenger import (
    Decision,
    challenger_record,
    inherited_keys,
    refines,
    warm_start_centres,
)
from segmentation.model.registry import ModelRecord

pytestmark = pytest.mark.unit

DAY = dt.date(2024, 3, 10)


def champion(**changes: object) -> ModelRecord:
    fields = {
        "model_version": "m20240309",
        "trained_run_date": dt.date(2024, 3, 9),
        "algorithm": "kmeans",
        "n_segments": 2,
        "features": ["frequency", "monetary"],
        "segment_ids": [4, 7],
        "centers_log": [[1.0, 10.0], [2.0, 20.0]],
        "scale": [1.0, 1.0],
        "max_id_ever": 9,
        "scores": {"silhouette": 0.4},
        "candidates": [],
        "training_customers": 100,
        "random_state": 1,
        "reference_run_date": dt.date(2024, 3, 1),
        "segment_keys": {"4": "loyal", "7": "new"},
    }
    return ModelRecord(**{**fields, **changes})  # type: ignore[arg-type]


def test_warm_start_reorders_the_champions_centres_to_tonights_columns() -> None:
    centres = warm_start_centres(champion(), ["monetary", "frequency"], enabled=True)
    assert centres is not None and centres.tolist() == [[10.0, 1.0], [20.0, 2.0]]
    assert warm_start_centres(champion(), ["monetary", "frequency"], enabled=False) is None
    assert warm_start_centres(champion(), ["monetary", "recency_days"], enabled=True) is None
    assert warm_start_centres(None, ["monetary"], enabled=True) is None


def test_kept_ids_inherit_their_persona_keys_and_new_ones_do_not() -> None:
    alignment = Alignment(
        segment_ids=[4, 10, 7],
        previous_ids=[4, None, 7],
        nearest_ids=[4, 7, 7],
        distances=[0.1, 3.0, 0.2],
        retired=[],
    )
    assert inherited_keys(alignment, champion()) == {4: "loyal", 7: "new"}
    assert inherited_keys(alignment, None) == {}


def fitted(algorithm: str = "kmeans_warm", n: int = 2) -> SimpleNamespace:
    """The fitted attributes of a Segmenter that the record reads."""
    return SimpleNamespace(
        algorithm_=algorithm,
        n_segments_=n,
        centers_log_=np.array([[1.5, 11.0], [2.5, 21.0]]),
        scale_=np.array([0.5, 2.0]),
        scores_={"silhouette": 0.45},
        candidates_=[{"k": 2}],
        random_state=7,
    )


def test_only_a_warm_started_same_size_unforced_challenger_refines() -> None:
    assert refines(champion(), fitted(), None)  # type: ignore[arg-type]
    assert not refines(champion(), fitted(), "drift alert")  # type: ignore[arg-type]
    assert not refines(champion(), fitted("kmeans"), None)  # type: ignore[arg-type]
    assert not refines(champion(), fitted(n=3), None)  # type: ignore[arg-type]
    assert not refines(None, fitted(), None)  # type: ignore[arg-type]


def test_a_promoted_refinement_keeps_the_reference_and_records_its_lineage() -> None:
    alignment = Alignment([4, 7], [4, 7], [4, 7], [0.1, 0.2], retired=[])
    keys = {4: "loyal", 7: "bargain_hunters"}  # segment 7's profile moved on: renamed
    decision = Decision(True, "not worse", 0.41, None)
    record = challenger_record(
        fitted(),  # type: ignore[arg-type]
        champion(),
        alignment,
        keys,
        decision,
        DAY,
        ["frequency", "monetary"],
        120,
    )
    assert record.model_version == "m20240310" and record.trained_run_date == DAY
    assert record.reference_run_date == dt.date(2024, 3, 1)  # the champion's, kept
    assert record.scale == [0.5, 2.0] and record.centers_log == [[1.5, 11.0], [2.5, 21.0]]
    assert record.max_id_ever == 9  # the champion's, above tonight's ids
    assert record.scores == {"silhouette": 0.45, "champion_silhouette": 0.41}
    assert record.segment_keys == {"4": "loyal", "7": "bargain_hunters"}
    assert [(r["segment_id"], r["change"]) for r in record.lineage] == [
        (4, "kept"),
        (7, "renamed"),
    ]


def test_a_rejected_or_forced_challenger() -> None:
    alignment = Alignment([4, 11], [4, None], [4, 7], [0.1, 4.0], retired=[7])
    keys = {4: "loyal", 11: "segment_11"}
    rejected = challenger_record(
        fitted(),  # type: ignore[arg-type]
        champion(),
        alignment,
        keys,
        Decision(False, "worse", 0.6, None),
        DAY,
        ["frequency", "monetary"],
        120,
    )
    assert not rejected.promoted and rejected.lineage == [] and rejected.max_id_ever == 11
    forced = challenger_record(
        fitted(),  # type: ignore[arg-type]
        champion(),
        alignment,
        keys,
        Decision(True, "drift alert", 0.6, "drift alert"),
        DAY,
        ["frequency", "monetary"],
        120,
    )
    assert forced.reference_run_date == DAY  # a forced retrain starts a new reference
    assert [(r["segment_id"], r["change"]) for r in forced.lineage] == [
        (4, "kept"),
        (11, "new"),
        (7, "retired"),
    ]


def test_only_a_new_night_older_than_the_first_model_is_refused(tmp_path: Path) -> None:
    models = tmp_path / "models"
    registry.refuse_second_lineage(models, DAY)  # no registry yet: the first night
    for day in (dt.date(2024, 3, 9), dt.date(2024, 3, 12)):
        record = champion(model_version=f"m{day:%Y%m%d}", trained_run_date=day)
        (models / record.model_version).mkdir(parents=True)
        (models / record.model_version / registry.META).write_text(json.dumps(record.to_json()))
    # a rerun of the first or a later night, a missing night between, a new newest night
    for day in (dt.date(2024, 3, 9), DAY, dt.date(2024, 3, 12), dt.date(2024, 3, 13)):
        registry.refuse_second_lineage(models, day)
    with pytest.raises(SecondLineage) as refused:
        registry.refuse_second_lineage(models, dt.date(2024, 3, 8))
    message = str(refused.value)
    assert message.startswith(
        "2024-03-08 is older than the first night this home ran (2024-03-09, model m20240309)"
    )
    assert f"move {models} aside" in message
    assert "segmentation backfill --start 2024-03-08 --end 2024-03-12" in message
