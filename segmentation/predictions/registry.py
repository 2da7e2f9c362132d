"""The churn classifiers: one challenger a training night, and the champion that scores.

Each night's classifier is saved under ``models/churn/cYYYYMMDD/`` (the artifact and a
``meta.json``) with its held-out ROC AUC and the decision taken about it. It replaces the
champion unless its AUC, on the same held-out customers, is worse than the champion's by more
than ``predictions.promote_margin``; the champion of a night is the newest promoted model
trained on or before it, so a rerun of an old night scores with the model it used then
(unless a backfill of older nights has since trained another champion before it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from segmentation.errors import BadInput
from segmentation.model import records as side_records
from segmentation.model import registry as model_registry

ARTIFACT, META = model_registry.ARTIFACT, model_registry.META


@dataclass(frozen=True)
class ChurnRecord(side_records.DatedRecord):
    model_version: str
    trained_run_date: dt.date
    cutoff: dt.date
    roc_auc: float
    promoted: bool
    reason: str
    compared_with: str | None


def churn_version(day: dt.date) -> str:
    return f"c{day:%Y%m%d}"


def promotion(challenger_auc: float, champion_auc: float | None, margin: float) -> tuple[bool, str]:
    """Whether the challenger replaces the champion (both AUCs on the same customers), and why:
    the segmentation model's rule (``model.registry.promotion``) on the held-out ROC AUC."""
    return model_registry.promotion(
        challenger_auc, champion_auc, margin, metric="ROC AUC", first="first churn classifier"
    )


def save(model: Any, record: ChurnRecord, folder: Path) -> Path:
    """Write the artifact and its record into ``folder/<version>/`` atomically."""
    return model_registry.save_artifact(model, record.to_json(), folder, record.model_version)


def records(folder: Path) -> list[ChurnRecord]:
    """Every saved classifier, oldest first."""
    found = side_records.read_records(folder, ChurnRecord.from_json, "predict_customers")
    return sorted(found, key=lambda r: r.trained_run_date)


def champion_as_of(folder: Path, day: dt.date, strictly_before: bool = False) -> ChurnRecord | None:
    """The newest promoted classifier trained on (or strictly before) ``day``."""
    promoted = [
        r
        for r in records(folder)
        if r.promoted
        and (r.trained_run_date < day if strictly_before else r.trained_run_date <= day)
    ]
    return promoted[-1] if promoted else None


def load(folder: Path, version: str) -> Any:
    path = folder / version / ARTIFACT
    try:
        return joblib.load(path)
    except Exception as exc:
        raise BadInput(
            f"churn model {path} cannot be loaded ({type(exc).__name__}: {exc}); delete "
            f"{path.parent} and rerun predict_customers for its date"
        ) from None
