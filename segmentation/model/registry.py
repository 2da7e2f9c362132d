"""The model registry: champion and challenger, stable segment ids, lineage.

Every night's retrain is a *challenger*, saved under ``models/mYYYYMMDD/`` with its scores and
the decision taken about it. It becomes the *champion* (the model that assigns segments) when
there is no champion yet, when the drift check forces a retrain, when the champion's features
no longer exist, or when its silhouette is not worse than the champion's by more than
``model.promote_margin``, both scored on the same sample of today's customers in the
challenger's scaled space. Otherwise the champion keeps assigning, and the challenger is
recorded as rejected with the reason.

Segment ids keep their meaning across champions: a promoted challenger's clusters are matched
to the champion's by an optimal one-to-one assignment on centre distances (standardised
units) within ``model.id_match_distance``; unmatched clusters get new ids, ids that lose their
cluster are retired and never reused. Each promotion's matches are its lineage.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmentation.errors import BadInput, SegmentationError
from segmentation.io.lake import replace_dir
from segmentation.model.segmenter import Segmenter

ARTIFACT = "model.joblib"
META = "meta.json"


@dataclass(frozen=True)
class Alignment:
    """Ids of a new model's clusters and where each came from."""

    segment_ids: list[int]
    previous_ids: list[int | None]  # the matched champion segment, None for a new one
    nearest_ids: list[int | None]  # the closest champion segment, matched or not
    distances: list[float | None]  # to the nearest champion segment
    retired: list[int]  # champion ids without a match


def align_segment_ids(
    new_centers_log: np.ndarray,
    features: list[str],
    previous: ModelRecord | None,
    scale: np.ndarray,
    max_distance: float,
) -> Alignment:
    """Stable ids for the new model's clusters, matched to the previous champion's centres.

    Clusterings are only defined up to a permutation, so each new cluster takes the id of
    the previous cluster nearest to it (an optimal one-to-one assignment on distances in the
    new model's standardised space) when that distance is within ``max_distance``; the others
    get fresh ids, never reusing a retired one.
    """
    k = len(new_centers_log)
    if previous is None:
        return Alignment(list(range(k)), [None] * k, [None] * k, [None] * k, [])
    # compare on the features both models share, by name (category shares can change)
    shared = [f for f in features if f in previous.features]
    new = new_centers_log[:, [features.index(f) for f in shared]]
    old = np.asarray(previous.centers_log)[:, [previous.features.index(f) for f in shared]]
    if len(shared) * 2 < len(features):
        old = old[:0]  # too little in common to say which segment is which: start afresh
    ids: list[int] = [-1] * k
    matched: list[int | None] = [None] * k
    nearest: list[int | None] = [None] * k
    distances: list[float | None] = [None] * k
    if len(old):
        unit = np.asarray(scale)[[features.index(f) for f in shared]]
        dist = np.linalg.norm((new[:, None, :] - old[None, :, :]) / unit, axis=2)
        for r in range(k):
            nearest[r] = previous.segment_ids[int(dist[r].argmin())]
            distances[r] = float(dist[r].min())
        rows, cols = linear_sum_assignment(dist)
        for r, c in zip(rows, cols, strict=True):
            if dist[r, c] <= max_distance:
                ids[r] = matched[r] = previous.segment_ids[c]
                distances[r] = float(dist[r, c])
    next_id = previous.max_id_ever + 1
    for i in range(k):
        if ids[i] < 0:
            ids[i] = next_id
            next_id += 1
    retired = [s for s in previous.segment_ids if s not in matched]
    return Alignment(ids, matched, nearest, distances, retired)


@dataclass(frozen=True)
class ModelRecord:
    """What the registry keeps about a model version (meta.json beside the artifact)."""

    model_version: str
    trained_run_date: dt.date
    algorithm: str
    n_segments: int
    features: list[str]
    segment_ids: list[int]
    centers_log: list[list[float]]
    scale: list[float]
    max_id_ever: int
    scores: dict[str, float | None]
    candidates: list[dict[str, Any]]
    training_customers: int
    random_state: int
    promoted: bool = True
    reason: str = "first model"
    compared_with: str | None = None  # the champion it challenged
    # the day whose features are the drift reference: the training day, or for a champion
    # that refined its predecessor's segments, the predecessor's reference day
    reference_run_date: dt.date | None = None
    # archetype key per segment id (JSON keys are text), named in the configured language
    segment_keys: dict[str, str] = field(default_factory=dict)
    lineage: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["trained_run_date"] = self.trained_run_date.isoformat()
        d["reference_run_date"] = (self.reference_run_date or self.trained_run_date).isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ModelRecord:
        d = dict(d)
        d["trained_run_date"] = dt.date.fromisoformat(d["trained_run_date"])
        d["reference_run_date"] = dt.date.fromisoformat(
            d.get("reference_run_date") or d["trained_run_date"].isoformat()
        )
        # metadata of models saved before model selection: each was the model in force
        d.pop("k_scores", None)
        d.setdefault("candidates", [])
        d.setdefault("scores", {}).setdefault("stability", None)
        return cls(**d)

    @property
    def reference_day(self) -> dt.date:
        return self.reference_run_date or self.trained_run_date

    @property
    def keys_by_id(self) -> dict[int, str]:
        return {int(k): v for k, v in self.segment_keys.items()}


def model_version(day: dt.date) -> str:
    return f"m{day:%Y%m%d}"


def promotion(
    challenger_score: float,
    champion_score: float | None,
    margin: float,
    forced: str | None = None,
) -> tuple[bool, str]:
    """Whether the challenger replaces the champion, and why (scores: silhouettes).

    The challenger is promoted unless it is worse than the champion by more than ``margin``:
    the fresher model wins when it is as good, within the noise of scoring on a sample.
    """
    if forced:
        return True, forced
    if champion_score is None:
        return True, "first model"
    if challenger_score >= champion_score - margin:
        return True, (
            f"challenger silhouette {challenger_score:.3f} is not worse than the champion's "
            f"{champion_score:.3f} by more than the margin {margin:g}"
        )
    return False, (
        f"champion kept: challenger silhouette {challenger_score:.3f} is worse than the "
        f"champion's {champion_score:.3f} by more than the margin {margin:g}"
    )


def lineage_rows(
    alignment: Alignment,
    version: str,
    previous: ModelRecord | None,
    renamed: frozenset[int] = frozenset(),
) -> list[dict]:
    """One row per segment of the new champion, and one per champion segment it retires.

    ``change`` is ``kept``, ``renamed`` (kept, but its profile now fits another name better),
    ``new`` or ``retired``.
    """
    prev_version = previous.model_version if previous else None
    rows = [
        {
            "model_version": version,
            "previous_model_version": prev_version,
            "segment_id": sid,
            "previous_segment_id": before,
            "nearest_previous_segment_id": near,
            "distance": dist,
            "change": "new" if before is None else "renamed" if sid in renamed else "kept",
        }
        for sid, before, near, dist in zip(
            alignment.segment_ids,
            alignment.previous_ids,
            alignment.nearest_ids,
            alignment.distances,
            strict=True,
        )
    ]
    rows += [
        {
            "model_version": version,
            "previous_model_version": prev_version,
            "segment_id": sid,
            "previous_segment_id": sid,
            "nearest_previous_segment_id": sid,
            "distance": None,
            "change": "retired",
        }
        for sid in alignment.retired
    ]
    return rows


def save_model(segmenter: Segmenter, record: ModelRecord, models_dir: Path) -> Path:
    """Write artifact and metadata into ``models/<version>/`` atomically."""
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f".tmp-{record.model_version}-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        joblib.dump(segmenter, tmp / ARTIFACT)
        (tmp / META).write_text(json.dumps(record.to_json(), indent=2, sort_keys=True))
        target = models_dir / record.model_version
        replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_model(models_dir: Path, version: str) -> tuple[Segmenter, ModelRecord]:
    folder = models_dir / version
    path = folder / META
    try:
        record = ModelRecord.from_json(json.loads(path.read_text()))
        path = folder / ARTIFACT
        segmenter = joblib.load(path)
    except FileNotFoundError:
        raise SegmentationError(
            f"model {version} not found in {models_dir}; run train_model for its date first"
        ) from None
    except Exception as exc:
        # a damaged file stays damaged: BadInput, so Airflow does not retry in vain
        when = record.trained_run_date if path.name == ARTIFACT else f"the date of {version}"
        raise BadInput(
            f"model file {path} cannot be loaded ({type(exc).__name__}: {exc}); it is damaged. "
            f"Delete {folder} and re-run training for {when} (its train_model task) to "
            "rebuild it"
        ) from None
    return segmenter, record


def list_models(models_dir: Path) -> list[ModelRecord]:
    """All model versions with metadata, oldest training date first."""
    if not models_dir.is_dir():
        return []
    records = []
    for d in models_dir.iterdir():
        if d.is_dir() and not d.name.startswith(".") and (d / META).is_file():
            try:
                records.append(ModelRecord.from_json(json.loads((d / META).read_text())))
            except (ValueError, TypeError, KeyError) as exc:
                raise SegmentationError(
                    f"model metadata {d / META} is unreadable ({exc}); delete {d} and re-run "
                    "training for its date"
                ) from None
    return sorted(records, key=lambda r: r.trained_run_date)


def champion_as_of(
    models_dir: Path, day: dt.date, strictly_before: bool = False
) -> ModelRecord | None:
    """The champion at the end of ``day`` (or before it): the newest promoted model."""
    promoted = [
        r
        for r in list_models(models_dir)
        if r.promoted
        and (r.trained_run_date < day if strictly_before else r.trained_run_date <= day)
    ]
    return promoted[-1] if promoted else None


def registry_table(models_dir: Path, day: dt.date) -> pd.DataFrame:
    """``model_registry`` as known at the end of ``day``: every challenger and its fate."""
    records = [r for r in list_models(models_dir) if r.trained_run_date <= day]
    champion = next((r for r in reversed(records) if r.promoted), None)
    rows = []
    for r in records:
        status = "champion" if r is champion else "retired" if r.promoted else "rejected"
        rows.append(
            {
                "model_version": r.model_version,
                "trained_run_date": r.trained_run_date,
                "algorithm": r.algorithm,
                "n_segments": r.n_segments,
                "silhouette": r.scores["silhouette"],
                "davies_bouldin": r.scores["davies_bouldin"],
                "calinski_harabasz": r.scores["calinski_harabasz"],
                "stability": r.scores["stability"],
                "champion_silhouette": r.scores.get("champion_silhouette"),
                "candidates": json.dumps(r.candidates, sort_keys=True),
                "features": ",".join(r.features),
                "training_customers": r.training_customers,
                "random_state": r.random_state,
                "status": status,
                "reason": r.reason,
                "compared_with": r.compared_with,
            }
        )
    return pd.DataFrame(rows)


def lineage_table(models_dir: Path, day: dt.date) -> pd.DataFrame:
    """``segment_lineage`` as known at the end of ``day``: the ids of every champion."""
    rows = [
        {"trained_run_date": r.trained_run_date, **row}
        for r in list_models(models_dir)
        if r.promoted and r.trained_run_date <= day
        for row in r.lineage
    ]
    frame = pd.DataFrame(rows, columns=list(LINEAGE_COLUMNS))
    return frame.astype(LINEAGE_COLUMNS)


LINEAGE_COLUMNS = {
    "trained_run_date": "object",
    "model_version": "string",
    "previous_model_version": "string",
    "segment_id": "int64",
    "previous_segment_id": "Int64",
    "nearest_previous_segment_id": "Int64",
    "distance": "float64",
    "change": "string",
}
