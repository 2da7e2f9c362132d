"""The model registry: model records, champion and challenger, the registry's tables.

Every night's retrain is a *challenger*, saved under ``models/mYYYYMMDD/`` with its scores and
the decision taken about it. It becomes the *champion* (the model that assigns segments) when
there is no champion yet, when the drift check forces a retrain, when the champion's features
no longer exist, or when its silhouette is not worse than the champion's by more than
``model.promote_margin``, both scored on the same sample of today's customers in the
challenger's scaled space. Otherwise the champion keeps assigning, and the challenger is
recorded as rejected with the reason.

A record keeps the model's segment ids (``segmentation.model.alignment`` matches them to the
champion's) and, for a champion, its lineage; ``registry_table`` and ``lineage_table`` publish
them as ``model_registry`` and ``segment_lineage``. A home has one lineage, started by its
first model: a new night older than that has no champion and is refused
(``refuse_second_lineage``), so a segment id means one thing across the home.
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
import pandas as pd

from segmentation.errors import BadInput, SecondLineage, SegmentationError
from segmentation.io.lake import TMP, replace_dir
from segmentation.model.segmenter import Segmenter

ARTIFACT = "model.joblib"
META = "meta.json"


@dataclass(frozen=True)
class ModelRecord:
    """What the registry keeps about a model version (meta.json beside the artifact).

    Attributes
    ----------
    model_version : str
        ``mYYYYMMDD`` of the training day.
    trained_run_date : datetime.date
        The run date it was trained for.
    algorithm : str
        The segmenter's ``algorithm_``.
    n_segments : int
        Its number of segments.
    features : list of str
        Its features, in the order of the columns of ``centers_log`` and ``scale``.
    segment_ids : list of int
        The stable id of each cluster, in cluster order.
    centers_log : list of list of float
        The segmenter's ``centers_log_``.
    scale : list of float
        The segmenter's ``scale_``.
    max_id_ever : int
        The largest segment id ever given (ids are never reused).
    scores : dict
        The segmenter's ``scores_`` and ``champion_silhouette`` (the champion's, on the same
        sample; None without a champion).
    candidates : list of dict
        The segmenter's ``candidates_``.
    training_customers : int
        Customers in the training data.
    random_state : int
        The segmenter's seed.
    promoted : bool
        Whether it became the champion.
    reason : str
        Why it was promoted or rejected.
    compared_with : str or None
        The champion it challenged.
    reference_run_date : datetime.date or None
        The day whose features are the drift reference: the training day, or for a champion
        that refined its predecessor's segments, the predecessor's reference day.
    segment_keys : dict of str to str
        Archetype key per segment id (JSON keys are text), named in the configured language.
    lineage : list of dict
        A champion's ``segmentation.model.alignment.lineage_rows``.
    """

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
    compared_with: str | None = None
    reference_run_date: dt.date | None = None
    segment_keys: dict[str, str] = field(default_factory=dict)
    lineage: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The record as ``meta.json`` holds it.

        Returns
        -------
        dict
            Every field, dates in ISO format (``reference_run_date`` filled in).
        """
        d = dict(self.__dict__)
        d["trained_run_date"] = self.trained_run_date.isoformat()
        d["reference_run_date"] = (self.reference_run_date or self.trained_run_date).isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ModelRecord:
        """A record from ``meta.json``, including metadata written by older versions.

        Parameters
        ----------
        d : dict
            As ``to_json`` returns it, or as older versions wrote it.

        Returns
        -------
        ModelRecord
        """
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
        """The drift reference day (``reference_run_date``, else ``trained_run_date``)."""
        return self.reference_run_date or self.trained_run_date

    @property
    def keys_by_id(self) -> dict[int, str]:
        """``segment_keys`` keyed by integer segment id."""
        return {int(k): v for k, v in self.segment_keys.items()}


def model_version(day: dt.date) -> str:
    """The version of the model trained for ``day``.

    Parameters
    ----------
    day : datetime.date
        The run date.

    Returns
    -------
    str
        ``mYYYYMMDD``.
    """
    return f"m{day:%Y%m%d}"


def promotion(
    challenger_score: float,
    champion_score: float | None,
    margin: float,
    forced: str | None = None,
    *,
    metric: str = "silhouette",
    first: str = "first model",
) -> tuple[bool, str]:
    """Whether the challenger replaces the champion, and why (principle 15: a challenger
    replaces its champion when it is not worse).

    The challenger is promoted unless it is worse than the champion by more than ``margin``:
    the fresher model wins when it is as good, within the noise of scoring on a sample.

    Parameters
    ----------
    challenger_score : float
        The challenger's score (higher is better).
    champion_score : float or None
        The champion's, on the same data; None: no champion.
    margin : float
        ``model.promote_margin`` (or ``predictions.promote_margin``).
    forced : str or None, default=None
        A reason that promotes the challenger regardless (a drift alert, lost features).
    metric, first : str
        The score's name in the reason, and the reason without a champion.

    Returns
    -------
    promoted : bool
        Whether the challenger becomes the champion.
    reason : str
        Why, for the registry.
    """
    if forced:
        return True, forced
    if champion_score is None:
        return True, first
    if challenger_score >= champion_score - margin:
        return True, (
            f"challenger {metric} {challenger_score:.3f} is not worse than the champion's "
            f"{champion_score:.3f} by more than the margin {margin:g}"
        )
    return False, (
        f"champion kept: challenger {metric} {challenger_score:.3f} is worse than the "
        f"champion's {champion_score:.3f} by more than the margin {margin:g}"
    )


def save_artifact(artifact: Any, meta: dict[str, Any], folder: Path, version: str) -> Path:
    """``artifact`` (joblib) and ``meta`` (JSON) into ``folder/<version>/``, atomically: a
    killed write leaves the previous version or none, never half of one."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{TMP}{version}-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        joblib.dump(artifact, tmp / ARTIFACT)
        (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        replace_dir(tmp, folder / version)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder / version


def save_model(segmenter: Segmenter, record: ModelRecord, models_dir: Path) -> Path:
    """Write artifact and metadata into ``models/<version>/`` atomically.

    Parameters
    ----------
    segmenter : Segmenter
        The fitted model (pickled with joblib).
    record : ModelRecord
        Its metadata.
    models_dir : pathlib.Path
        The registry's folder.

    Returns
    -------
    pathlib.Path
        The model's folder.
    """
    return save_artifact(segmenter, record.to_json(), models_dir, record.model_version)


def load_model(models_dir: Path, version: str) -> tuple[Segmenter, ModelRecord]:
    """A saved model and its record.

    Artifacts pickled before ``centers_scaled_``, ``centers_log_`` and ``scale_`` were
    attributes gain them on loading (``Segmenter.__setstate__``), and metadata written before
    model selection is completed (``ModelRecord.from_json``).

    Parameters
    ----------
    models_dir : pathlib.Path
        The registry's folder.
    version : str
        The model version.

    Returns
    -------
    segmenter : Segmenter
        The fitted model.
    record : ModelRecord
        Its metadata.

    Raises
    ------
    segmentation.errors.SegmentationError
        The model does not exist.
    segmentation.errors.BadInput
        Its files are damaged.
    """
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
    """All model versions with metadata, oldest training date first.

    Parameters
    ----------
    models_dir : pathlib.Path
        The registry's folder (it may not exist yet).

    Returns
    -------
    list of ModelRecord
    """
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
    """The champion at the end of ``day`` (or before it): the newest promoted model.

    Parameters
    ----------
    models_dir : pathlib.Path
        The registry's folder.
    day : datetime.date
        The run date.
    strictly_before : bool, default=False
        The champion before ``day``'s own model (the one a rerun of ``day`` challenges).

    Returns
    -------
    ModelRecord or None
        None before the first model.
    """
    promoted = [
        r
        for r in list_models(models_dir)
        if r.promoted
        and (r.trained_run_date < day if strictly_before else r.trained_run_date <= day)
    ]
    return promoted[-1] if promoted else None


def refuse_second_lineage(models_dir: Path, day: dt.date) -> None:
    """Refuse to train a new night older than the registry's first model.

    Segment ids are aligned to the champion before the night; a night older than every model
    has none, so it would train from scratch and number its segments from 0 again: a second
    lineage, in which an id means something else, and whose champion a later rerun of the
    first lineage's nights would pick. A rerun of a night (its own model exists) and a night
    after the first model (it has a champion) are part of the one lineage.

    Parameters
    ----------
    models_dir : pathlib.Path
        The registry's folder.
    day : datetime.date
        The run date about to be trained.

    Raises
    ------
    segmentation.errors.SecondLineage
        ``day`` is older than the first model; the message names it and the fix.
    """
    records = list_models(models_dir)
    if not records or records[0].trained_run_date <= day:
        return
    first, newest = records[0].trained_run_date, records[-1].trained_run_date
    raise SecondLineage(
        f"{day} is older than the first night this home ran ({first}, model "
        f"{records[0].model_version}): it has no champion to align its segment ids to, so it "
        "would start a second model lineage, numbering its segments from 0 again, and a segment "
        "id would mean different things on different nights. No model was saved and nothing "
        f"was published for {day}. To add history before {first}, rebuild one lineage from "
        f"the earliest date: move {models_dir} aside (to {models_dir}.before-{day}, say), "
        f"then run every night from {day} through {newest}, oldest first, one at a time, the "
        f"nights already run included (segmentation backfill --start {day} --end {newest}, "
        "or an Airflow backfill of those nights with --reprocess-behavior completed and "
        "--max-active-runs 1)"
    )


def registry_table(models_dir: Path, day: dt.date) -> pd.DataFrame:
    """``model_registry`` as known at the end of ``day``: every challenger and its fate.

    Parameters
    ----------
    models_dir : pathlib.Path
        The registry's folder.
    day : datetime.date
        The run date.

    Returns
    -------
    DataFrame
        One row per model trained up to ``day``; ``status`` is ``champion``, ``retired``
        (an earlier champion) or ``rejected``.
    """
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
    """``segment_lineage`` as known at the end of ``day``: the ids of every champion.

    Parameters
    ----------
    models_dir : pathlib.Path
        The registry's folder.
    day : datetime.date
        The run date.

    Returns
    -------
    DataFrame
        The lineage rows of every champion trained up to ``day``, typed as
        ``LINEAGE_COLUMNS``.
    """
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
