"""The segmentation model: training, choosing the number of segments, stable ids, the registry.

``Segmenter`` follows the scikit-learn estimator contract: ``__init__`` stores parameters,
``fit`` returns ``self`` and fitted state ends in ``_``. The pipeline is log1p on skewed
features, standard scaling and KMeans. Every random source is seeded from the config's
``random_state`` and the run date, so a rerun of a date reproduces its model exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from segmentation.config import ModelConfig
from segmentation.errors import SegmentationError
from segmentation.features import SKEWED_FEATURES
from segmentation.lake import replace_dir

ARTIFACT = "model.joblib"
META = "meta.json"


def run_seed(random_state: int, day: dt.date) -> int:
    """A per-date seed: reruns of a date repeat it, different dates differ."""
    return (random_state * 1_000_003 + day.toordinal()) % (2**32)


class Segmenter(ClusterMixin, BaseEstimator):
    """log1p(skewed) -> StandardScaler -> KMeans, with k chosen by silhouette when not fixed."""

    def __init__(
        self,
        n_segments: int | None = None,
        k_min: int = 4,
        k_max: int = 10,
        score_sample: int = 3_000,
        fit_sample: int = 50_000,
        skewed: Sequence[str] = tuple(sorted(SKEWED_FEATURES)),
        random_state: int = 0,
    ) -> None:
        self.n_segments = n_segments
        self.k_min = k_min
        self.k_max = k_max
        self.score_sample = score_sample
        self.fit_sample = fit_sample
        self.skewed = skewed
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: None = None) -> Segmenter:
        if len(X) < max(self.k_min, 2) * 2:
            raise SegmentationError(
                f"only {len(X)} customers to segment; need at least {max(self.k_min, 2) * 2} "
                "(ingest more days, or lower model.k_min / model.n_segments)"
            )
        values = X.to_numpy(dtype="float64")
        if not np.isfinite(values).all():
            bad = X.columns[~np.isfinite(values).all(axis=0)].tolist()
            raise SegmentationError(f"features {bad} contain missing or infinite values")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        rng = np.random.default_rng(self.random_state)
        prep = self._preprocessor(list(X.columns))
        fit_rows = _sample(len(values), self.fit_sample, rng)
        prep.fit(values[fit_rows])
        scored_rows = _sample(len(values), self.score_sample, rng)
        scored = prep.transform(values[scored_rows])

        candidates = (
            [self.n_segments]
            if self.n_segments
            else list(range(self.k_min, min(self.k_max, len(scored) - 1) + 1))
        )
        if max(candidates) >= len(scored):
            raise SegmentationError(
                f"cannot form {max(candidates)} segments from {len(scored)} customers; "
                "lower model.n_segments or ingest more history"
            )
        self.k_scores_: dict[int, float] = {}
        for k in candidates:
            with warnings.catch_warnings():
                # too few distinct points for k clusters: explained below instead
                warnings.simplefilter("ignore", ConvergenceWarning)
                labels = self._kmeans(k).fit_predict(scored)
            if len(np.unique(labels)) < k:
                raise SegmentationError(
                    f"the customers' features barely differ: no {k} distinct segments exist "
                    "(check that the events carry amounts and varied event types)"
                )
            self.k_scores_[k] = float(silhouette_score(scored, labels))
        # the best silhouette; on a tie the smaller k (simpler to act on)
        k_best = max(candidates, key=lambda k: (round(self.k_scores_[k], 6), -k))
        kmeans = self._kmeans(k_best).fit(prep.transform(values[fit_rows]))
        self.pipeline_ = Pipeline([("prep", prep), ("kmeans", kmeans)])
        self.n_segments_ = k_best
        labels = kmeans.predict(scored)
        self.scores_ = {
            "silhouette": float(silhouette_score(scored, labels)),
            "davies_bouldin": float(davies_bouldin_score(scored, labels)),
            "calinski_harabasz": float(calinski_harabasz_score(scored, labels)),
        }
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.pipeline_.predict(self._values(X)))

    def _values(self, X: pd.DataFrame) -> np.ndarray:
        return X[list(self.feature_names_in_)].to_numpy(dtype="float64")

    @property
    def centers_scaled_(self) -> np.ndarray:
        return np.asarray(self.pipeline_.named_steps["kmeans"].cluster_centers_)

    def centers_log_(self) -> np.ndarray:
        """Cluster centres on the log scale before standardising (comparable across models)."""
        scaler = self.pipeline_.named_steps["prep"].named_steps["scale"]
        return np.asarray(scaler.inverse_transform(self.centers_scaled_))

    def _preprocessor(self, columns: list[str]) -> Pipeline:
        skewed = [i for i, c in enumerate(columns) if c in set(self.skewed)]
        return Pipeline(
            [
                ("log", FunctionTransformer(_Log1p(skewed))),
                ("scale", StandardScaler()),
            ]
        )

    def _kmeans(self, k: int) -> KMeans:
        return KMeans(n_clusters=k, n_init=4, random_state=self.random_state)


class _Log1p:
    """log1p (of values clipped at 0) on the given columns; picklable, unlike a lambda."""

    def __init__(self, columns: list[int]) -> None:
        self.columns = columns

    def __call__(self, X: np.ndarray) -> np.ndarray:
        out = np.array(X, dtype="float64")
        out[:, self.columns] = np.log1p(np.clip(out[:, self.columns], 0, None))
        return out


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def align_segment_ids(
    new_centers_log: np.ndarray,
    features: list[str],
    previous: ModelRecord | None,
    scale: np.ndarray,
    max_distance: float,
) -> list[int]:
    """Stable ids for the new model's clusters, matched to the previous model's centres.

    Clusterings are only defined up to a permutation, so each new cluster takes the id of
    the previous cluster nearest to it (an optimal one-to-one assignment on distances in the
    new model's standardised space) when that distance is within ``max_distance``; the others
    get fresh ids, never reusing a retired one.
    """
    k = len(new_centers_log)
    if previous is None:
        return list(range(k))
    # compare on the features both models share, by name (category shares can change)
    shared = [f for f in features if f in previous.features]
    new = new_centers_log[:, [features.index(f) for f in shared]]
    old = np.asarray(previous.centers_log)[:, [previous.features.index(f) for f in shared]]
    if len(shared) * 2 < len(features):
        old = old[:0]  # too little in common to say which segment is which: start afresh
    ids = [-1] * k
    if len(old):
        unit = np.asarray(scale)[[features.index(f) for f in shared]]
        dist = np.linalg.norm((new[:, None, :] - old[None, :, :]) / unit, axis=2)
        rows, cols = linear_sum_assignment(dist)
        for r, c in zip(rows, cols, strict=True):
            if dist[r, c] <= max_distance:
                ids[r] = previous.segment_ids[c]
    next_id = previous.max_id_ever + 1
    for i in range(k):
        if ids[i] < 0:
            ids[i] = next_id
            next_id += 1
    return ids


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
    scores: dict[str, float]
    k_scores: dict[str, float]
    training_customers: int
    random_state: int

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["trained_run_date"] = self.trained_run_date.isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ModelRecord:
        d = dict(d)
        d["trained_run_date"] = dt.date.fromisoformat(d["trained_run_date"])
        return cls(**d)


def model_version(day: dt.date) -> str:
    return f"m{day:%Y%m%d}"


def train(features: pd.DataFrame, columns: list[str], cfg: ModelConfig, day: dt.date) -> Segmenter:
    return Segmenter(
        n_segments=cfg.n_segments,
        k_min=cfg.k_min,
        k_max=cfg.k_max,
        score_sample=cfg.score_sample,
        fit_sample=cfg.fit_sample,
        random_state=run_seed(cfg.random_state, day),
    ).fit(features[columns])


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
    try:
        segmenter = joblib.load(folder / ARTIFACT)
        record = ModelRecord.from_json(json.loads((folder / META).read_text()))
    except FileNotFoundError:
        raise SegmentationError(
            f"model {version} not found in {models_dir}; run train_model for its date first"
        ) from None
    except Exception as exc:
        raise SegmentationError(
            f"model artifact {folder} cannot be loaded ({type(exc).__name__}: {exc}); "
            "re-run training for its date to rebuild it"
        ) from None
    return segmenter, record


def list_models(models_dir: Path) -> list[ModelRecord]:
    """All model versions with metadata, oldest training date first."""
    if not models_dir.is_dir():
        return []
    records = [
        ModelRecord.from_json(json.loads((d / META).read_text()))
        for d in models_dir.iterdir()
        if d.is_dir() and not d.name.startswith(".") and (d / META).is_file()
    ]
    return sorted(records, key=lambda r: r.trained_run_date)


def latest_model_before(models_dir: Path, day: dt.date) -> ModelRecord | None:
    """The newest model trained strictly before ``day`` (point in time)."""
    earlier = [r for r in list_models(models_dir) if r.trained_run_date < day]
    return earlier[-1] if earlier else None


def registry_table(models_dir: Path, day: dt.date) -> pd.DataFrame:
    """``model_registry`` as known at the end of ``day``: the model trained that day is active."""
    rows = []
    for r in list_models(models_dir):
        if r.trained_run_date > day:
            continue
        rows.append(
            {
                "model_version": r.model_version,
                "trained_run_date": r.trained_run_date,
                "algorithm": r.algorithm,
                "n_segments": r.n_segments,
                "silhouette": r.scores["silhouette"],
                "davies_bouldin": r.scores["davies_bouldin"],
                "calinski_harabasz": r.scores["calinski_harabasz"],
                "k_scores": json.dumps(r.k_scores, sort_keys=True),
                "features": ",".join(r.features),
                "training_customers": r.training_customers,
                "random_state": r.random_state,
                "status": "active" if r.trained_run_date == day else "retired",
            }
        )
    return pd.DataFrame(rows)
