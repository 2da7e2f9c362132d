"""The collaborative models: one a retrain night, under ``models/recommendations/rYYYYMMDD/``.

The artifact holds the item ids and their factors; ``meta.json`` the night it was trained, the
cutoff it was fitted up to, and its held-out figures with those of the baselines. A night is
served by the newest model trained on or before it, so a rerun of a night uses the model it
used then; it retrains when that model is ``recommendations.retrain_days`` old, or there is none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np

from segmentation.errors import BadInput
from segmentation.model import records as side_records
from segmentation.model import registry as model_registry

ARTIFACT, META = model_registry.ARTIFACT, model_registry.META


@dataclass(frozen=True)
class RecommenderRecord(side_records.DatedRecord):
    model_version: str
    trained_run_date: dt.date
    cutoff: dt.date
    item_kind: str
    # the held-out figures, per model: als, popular, segment_popular
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    serves: bool = False  # ALS beat segment popularity on NDCG@10: its lists are published
    reason: str = ""


@dataclass(frozen=True)
class ItemModel:
    items: np.ndarray  # item ids, sorted
    item_factors: np.ndarray  # float32, one row per item


def version(day: dt.date) -> str:
    return f"r{day:%Y%m%d}"


def save(model: ItemModel, record: RecommenderRecord, folder: Path) -> Path:
    artifact = {"items": model.items.astype(str), "item_factors": model.item_factors}
    return model_registry.save_artifact(artifact, record.to_json(), folder, record.model_version)


def latest_as_of(folder: Path, day: dt.date) -> RecommenderRecord | None:
    """The newest model trained on or before ``day``."""
    found = [r for r in _records(folder) if r.trained_run_date <= day]
    return found[-1] if found else None


def load(folder: Path, record: RecommenderRecord) -> ItemModel:
    path = folder / record.model_version / ARTIFACT
    try:
        artifact = joblib.load(path)
        return ItemModel(np.asarray(artifact["items"], dtype=str), artifact["item_factors"])
    except Exception as exc:
        raise BadInput(
            f"recommendation model {path} cannot be loaded ({type(exc).__name__}: {exc}); "
            f"delete {path.parent} and rerun recommend_items for {record.trained_run_date}"
        ) from None


def _records(folder: Path) -> list[RecommenderRecord]:
    found = side_records.read_records(folder, RecommenderRecord.from_json, "recommend_items")
    return sorted(found, key=lambda r: r.trained_run_date)
