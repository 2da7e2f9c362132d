"""The segmentation model: candidate algorithms, the selection rule, training.

``Segmenter`` follows the scikit-learn estimator contract: ``__init__`` stores parameters,
``fit`` returns ``self`` and fitted state ends in ``_``. It scores KMeans, a Gaussian mixture
and Ward clustering over a range of segment counts on a seeded sample and fits the winner
(``Segmenter.fit`` states the rule). Every random source is seeded from the config's
``random_state`` and the run date, so a rerun of a date reproduces its model exactly. What
happens to a trained model (champion or not, its segment ids) is ``segmentation.model.registry``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.metrics.pairwise import pairwise_distances
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from segmentation.config import ModelConfig
from segmentation.errors import SegmentationError
from segmentation.features.build import SKEWED_FEATURES


def run_seed(random_state: int, day: dt.date) -> int:
    """A per-date seed: reruns of a date repeat it, different dates differ."""
    return (random_state * 1_000_003 + day.toordinal()) % (2**32)


ALGORITHMS = ("kmeans", "gmm", "ward")
# KMeans started from the champion's centres; first in the tie-break order, then simplest first
WARM = "kmeans_warm"
TIE_ORDER = (WARM, *ALGORITHMS)
CRITERIA = ("silhouette", "davies_bouldin", "calinski_harabasz")


class Segmenter(ClusterMixin, BaseEstimator):
    """Chooses an algorithm and a number of segments, then fits it; see ``fit`` for the rule.

    Preprocessing (learnt on the fit sample): the basket size of customers who never bought is
    unknown, so it is imputed with the median buyer's (otherwise the zeros form a segment of
    their own); log1p on skewed features; standard scaling.
    """

    def __init__(
        self,
        algorithms: Sequence[str] = ALGORITHMS,
        n_segments: int | None = None,
        k_min: int = 4,
        k_max: int = 10,
        score_sample: int = 3_000,
        fit_sample: int = 50_000,
        minibatch_above: int = 20_000,
        stability_resamples: int = 2,
        min_stability: float = 0.8,
        min_segment_share: float = 0.01,
        skewed: Sequence[str] = tuple(sorted(SKEWED_FEATURES)),
        random_state: int = 0,
        warm_centers: np.ndarray | None = None,
        continuity_margin: float = 0.02,
    ) -> None:
        self.algorithms = algorithms
        self.n_segments = n_segments
        self.k_min = k_min
        self.k_max = k_max
        self.score_sample = score_sample
        self.fit_sample = fit_sample
        self.minibatch_above = minibatch_above
        self.stability_resamples = stability_resamples
        self.min_stability = min_stability
        self.min_segment_share = min_segment_share
        self.skewed = skewed
        self.random_state = random_state
        self.warm_centers = warm_centers
        self.continuity_margin = continuity_margin

    def fit(self, X: pd.DataFrame, y: None = None) -> Segmenter:
        """Score every (algorithm, k) candidate on a seeded sample and fit the chosen one.

        The rule: candidates whose stability (mean adjusted Rand index between the sample's
        labels and those of fits on bootstrap resamples) reaches ``min_stability`` and whose
        smallest segment holds at least ``min_segment_share`` of the sample are eligible (all
        are, if none is); among them the best mean rank over silhouette
        (higher is better), Davies-Bouldin (lower) and Calinski-Harabasz (higher) wins; ties go
        to the more stable, then to fewer segments, then to the simpler algorithm.

        Continuity: with ``warm_centers`` (the champion's centres on the log scale, one column
        per feature of ``X``), KMeans started from them is a candidate too (for more segments,
        the extra ones start where they reduce the squared error most). When the warm start
        with the champion's number of segments (the champion's segments, refined on today's
        data) scores a silhouette within ``continuity_margin`` of the winner's, it is chosen
        instead: a retrain should not reshuffle or add segments for a negligible gain.
        """
        k_low = self.n_segments or self.k_min
        if len(X) < max(k_low, 2) * 2:
            raise SegmentationError(
                f"only {len(X)} customers to segment; need at least {max(k_low, 2) * 2} "
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
        self.score_rows_ = _sample(len(values), self.score_sample, rng)
        scored = prep.transform(values[self.score_rows_])

        ks = (
            [self.n_segments]
            if self.n_segments
            else list(range(self.k_min, min(self.k_max, len(scored) - 1) + 1))
        )
        if max(ks) >= len(scored):
            raise SegmentationError(
                f"cannot form {max(ks)} segments from {len(scored)} customers; "
                "lower model.n_segments or ingest more history"
            )
        distinct = len(np.unique(scored, axis=0))
        if distinct < min(ks):
            raise SegmentationError(
                f"the customers' features barely differ: no {min(ks)} distinct segments exist "
                "(check that the events carry amounts and varied event types)"
            )
        ks = [k for k in ks if k <= distinct]
        resamples = [
            rng.integers(0, len(scored), len(scored)) for _ in range(self.stability_resamples)
        ]
        distances = pairwise_distances(scored)
        warm = (
            None
            if self.warm_centers is None
            else prep.named_steps["scale"].transform(np.asarray(self.warm_centers, dtype="float64"))
        )
        families = [*self.algorithms, *([WARM] if warm is not None else [])]

        def fits(algorithm: str) -> tuple[list[int], dict, list[dict]]:
            """One family's labels per k, on the sample and from each bootstrap resample."""
            family_ks = [k for k in ks if warm is None or algorithm != WARM or k >= len(warm)]
            labels = _labels_by_k(algorithm, scored, family_ks, self.random_state, warm=warm)
            boot = [
                _labels_by_k(
                    algorithm, scored, family_ks, (self.random_state + 1 + i) % 2**32, rows, warm
                )
                for i, rows in enumerate(resamples)
            ]
            return family_ks, labels, boot

        # families are independent and seeded: two threads give the same results as one, in
        # about two thirds of the time. Warnings are silenced here, once: the filters are
        # process-wide, and entering catch_warnings from several threads is not safe.
        with _quiet(), ThreadPoolExecutor(max_workers=2) as pool:
            fitted = list(pool.map(fits, families))
        self.candidates_: list[dict[str, Any]] = []
        for algorithm, (family_ks, labels, boot) in zip(families, fitted, strict=True):
            for k in family_ks:
                if len(np.unique(labels[k])) < k:
                    continue  # the family found fewer than k segments: not a candidate
                self.candidates_.append(
                    {
                        "algorithm": algorithm,
                        "k": k,
                        **quality(scored, labels[k], distances),
                        "smallest_share": float(np.bincount(labels[k]).min() / len(scored)),
                        "stability": float(
                            np.mean([adjusted_rand_score(labels[k], b[k]) for b in boot])
                        ),
                    }
                )
        if not self.candidates_:
            raise SegmentationError(
                "the customers' features barely differ: no algorithm found "
                f"{min(ks)} distinct segments (check that the events carry amounts and "
                "varied event types)"
            )
        best = choose(
            self.candidates_,
            self.min_stability,
            self.min_segment_share,
            self.continuity_margin,
            None if warm is None else len(warm),
        )
        self.n_segments_ = int(best["k"])
        self.algorithm_, clusterer = self._final(
            str(best["algorithm"]), self.n_segments_, prep.transform(values[fit_rows]), scored, warm
        )
        self.pipeline_ = Pipeline([("prep", prep), ("cluster", clusterer)])
        self.scores_ = {
            **quality(scored, clusterer.predict(scored), distances),
            "stability": float(best["stability"]),
        }
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.pipeline_.predict(self._values(X)))

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Features in the model's scaled space (where distances and silhouettes are taken)."""
        return np.asarray(self.pipeline_.named_steps["prep"].transform(self._values(X)))

    def _values(self, X: pd.DataFrame) -> np.ndarray:
        return X[list(self.feature_names_in_)].to_numpy(dtype="float64")

    @property
    def centers_scaled_(self) -> np.ndarray:
        return _centers(self.pipeline_.named_steps["cluster"])

    def centers_log_(self) -> np.ndarray:
        """Cluster centres on the log scale before standardising (comparable across models)."""
        scaler = self.pipeline_.named_steps["prep"].named_steps["scale"]
        return np.asarray(scaler.inverse_transform(self.centers_scaled_))

    def _preprocessor(self, columns: list[str]) -> Pipeline:
        skewed = [i for i, c in enumerate(columns) if c in set(self.skewed)]
        basket = (
            (columns.index("avg_order_value"), columns.index("frequency"))
            if {"avg_order_value", "frequency"} <= set(columns)
            else None
        )
        return Pipeline(
            [
                ("basket", _ImputeBasket(basket)),
                ("log", FunctionTransformer(_Log1p(skewed))),
                ("scale", StandardScaler()),
            ]
        )

    def _final(
        self,
        algorithm: str,
        k: int,
        fit_set: np.ndarray,
        scored: np.ndarray,
        warm: np.ndarray | None,
    ) -> tuple[str, Any]:
        """The chosen candidate fitted for production use, and its algorithm's name."""
        with _quiet():
            if algorithm == WARM and warm is not None:
                init = _warm_init(warm, scored, k)
                if len(fit_set) > self.minibatch_above:
                    return "minibatch_" + WARM, MiniBatchKMeans(
                        n_clusters=k,
                        init=init,
                        n_init=1,
                        batch_size=4096,
                        random_state=self.random_state,
                    ).fit(fit_set)
                return WARM, KMeans(
                    n_clusters=k, init=init, n_init=1, random_state=self.random_state
                ).fit(fit_set)
            if algorithm == "ward":
                # hierarchical clustering is quadratic: fit on the sample, assign the rest
                labels = _labels_by_k("ward", scored, [k], self.random_state)[k]
                return "ward", NearestCentroid().fit(scored, labels)
            if algorithm == "gmm":
                return "gmm", _gmm(k, self.random_state).fit(fit_set)
            if len(fit_set) > self.minibatch_above:
                return "minibatch_kmeans", MiniBatchKMeans(
                    n_clusters=k, n_init=3, batch_size=4096, random_state=self.random_state
                ).fit(fit_set)
            return "kmeans", _kmeans(k, self.random_state).fit(fit_set)


def choose(
    candidates: list[dict[str, Any]],
    min_stability: float,
    min_segment_share: float = 0.0,
    continuity_margin: float = 0.0,
    champion_k: int | None = None,
) -> dict[str, Any]:
    """The winning candidate by the documented rule (see ``Segmenter.fit``)."""
    eligible = [
        c
        for c in candidates
        if c["stability"] >= min_stability and c["smallest_share"] >= min_segment_share
    ] or candidates
    frame = pd.DataFrame(eligible)
    ranks = pd.concat(
        [
            frame["silhouette"].rank(ascending=False),
            frame["davies_bouldin"].rank(ascending=True),
            frame["calinski_harabasz"].rank(ascending=False),
        ],
        axis=1,
    ).mean(axis=1)
    order = sorted(
        range(len(eligible)),
        key=lambda i: (
            round(float(ranks.iloc[i]), 9),
            -round(eligible[i]["stability"], 9),
            eligible[i]["k"],
            TIE_ORDER.index(eligible[i]["algorithm"]),
        ),
    )
    best = eligible[order[0]]
    continuing = [
        c
        for c in eligible
        if c["algorithm"] == WARM
        and c["k"] == champion_k
        and best["silhouette"] - c["silhouette"] <= continuity_margin
    ]
    return continuing[0] if continuing else best


def _labels_by_k(
    algorithm: str,
    scored: np.ndarray,
    ks: list[int],
    seed: int,
    rows: np.ndarray | None = None,
    warm: np.ndarray | None = None,
) -> dict[int, np.ndarray]:
    """Labels of the scored sample for each k, from fits on ``scored[rows]`` (default: all).

    Call it within ``_quiet()``: degenerate data is explained by ``fit`` instead.
    """
    train = scored if rows is None else scored[rows]
    out = {}
    if algorithm == WARM and warm is not None:
        for k in ks:
            init = _warm_init(warm, scored, k)
            est = KMeans(n_clusters=k, init=init, n_init=1, random_state=seed)
            out[k] = est.fit(train).predict(scored)
    elif algorithm == "ward":
        tree = linkage(train, method="ward")  # one tree, cut at every k
        for k in ks:
            cut = fcluster(tree, t=k, criterion="maxclust") - 1
            if rows is None:
                out[k] = cut
            else:
                out[k] = NearestCentroid().fit(train, cut).predict(scored)
    else:
        for k in ks:
            est = _gmm(k, seed) if algorithm == "gmm" else _kmeans(k, seed)
            out[k] = est.fit(train).predict(scored)
    return out


def _warm_init(centers: np.ndarray, points: np.ndarray, k: int) -> np.ndarray:
    """``centers`` plus, up to ``k``, new centres where they reduce the squared error most.

    Each new centre is the point, among the 200 farthest from every centre so far, whose
    addition lowers the sum of squared distances most: a dense group of customers far from
    the champion's segments, not a lone outlier (greedy k-means++, without randomness).
    """
    out = np.array(centers[:k], dtype="float64")
    norms = (points**2).sum(axis=1)
    nearest = (norms[:, None] - 2 * points @ out.T + (out**2).sum(axis=1)[None, :]).min(axis=1)
    while len(out) < k:
        candidates = np.argsort(-nearest, kind="stable")[:200]
        to_candidate = norms[candidates, None] - 2 * points[candidates] @ points.T + norms
        gain = np.maximum(nearest[None, :] - to_candidate, 0).sum(axis=1)
        best = points[candidates[int(np.argmax(gain))]]
        out = np.vstack([out, best])
        nearest = np.minimum(nearest, ((points - best) ** 2).sum(axis=1))
    return out


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence warnings about degenerate data, which fit() explains in its own errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # NearestCentroid notes clusters with a constant feature; harmless for assignment
        warnings.filterwarnings("ignore", message=".*within_class_std_dev_")
        yield


def _kmeans(k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=4, random_state=seed)


def _gmm(k: int, seed: int) -> GaussianMixture:
    # diagonal covariances: robust on a few thousand points and fast
    return GaussianMixture(n_components=k, covariance_type="diag", random_state=seed)


def _centers(clusterer: Any) -> np.ndarray:
    for attr in ("cluster_centers_", "means_", "centroids_"):
        if hasattr(clusterer, attr):
            return np.asarray(getattr(clusterer, attr))
    raise TypeError(f"{type(clusterer).__name__} has no cluster centres")


def quality(
    X: np.ndarray, labels: np.ndarray, distances: np.ndarray | None = None
) -> dict[str, float]:
    """Silhouette, Davies-Bouldin and Calinski-Harabasz of ``labels`` on ``X``.

    ``distances``, the pairwise distances of ``X`` when given, saves recomputing them for
    every candidate (the silhouette's main cost).
    """
    if len(np.unique(labels)) < 2:
        return {"silhouette": -1.0, "davies_bouldin": float("inf"), "calinski_harabasz": 0.0}
    return {
        "silhouette": silhouette_score(X, labels)
        if distances is None
        else silhouette(distances, labels),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
    }


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """The mean silhouette (as scikit-learn defines it) from a precomputed distance matrix.

    One matrix product gives every customer's summed distance to each cluster, several
    times faster than ``silhouette_score(..., metric="precomputed")``, which the candidate
    search would call a few dozen times a night.
    """
    _, codes = np.unique(labels, return_inverse=True)
    n = len(codes)
    onehot = np.zeros((n, codes.max() + 1))
    onehot[np.arange(n), codes] = 1.0
    sums = distances @ onehot  # customers x clusters
    counts = onehot.sum(axis=0)
    own = counts[codes]
    a = sums[np.arange(n), codes] / np.maximum(own - 1, 1)
    mean_to = sums / counts
    mean_to[np.arange(n), codes] = np.inf
    b = mean_to.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    s[(own == 1) | ~np.isfinite(s)] = 0.0  # a lone customer's silhouette is 0
    return float(s.mean())


class _ImputeBasket(TransformerMixin, BaseEstimator):
    """Replace the basket size (avg order value) of non-buyers by the median buyer's."""

    def __init__(self, columns: tuple[int, int] | None) -> None:
        self.columns = columns

    def fit(self, X: np.ndarray, y: None = None) -> _ImputeBasket:
        self.median_ = 0.0
        if self.columns is not None:
            aov, freq = self.columns
            bought = X[:, freq] > 0
            self.median_ = float(np.median(X[bought, aov])) if bought.any() else 0.0
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.columns is None:
            return X
        aov, freq = self.columns
        out = np.array(X, dtype="float64")
        out[out[:, freq] <= 0, aov] = self.median_
        return out


class _Log1p:
    """log1p (of values clipped at 0) on the given columns; picklable, unlike a lambda."""

    def __init__(self, columns: list[int]) -> None:
        self.columns = columns

    def __call__(self, X: np.ndarray) -> np.ndarray:
        out = np.array(X, dtype="float64")
        skewed = out[:, self.columns]  # one copy, transformed in place
        np.maximum(skewed, 0, out=skewed)
        np.log1p(skewed, out=skewed)
        out[:, self.columns] = skewed
        return out


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """A seeded sample of at most ``size`` row positions out of ``n``, in order."""
    return _sample(n, size, np.random.default_rng(seed))


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def train(
    features: pd.DataFrame,
    columns: list[str],
    cfg: ModelConfig,
    day: dt.date,
    warm_centers: np.ndarray | None = None,
) -> Segmenter:
    return Segmenter(
        algorithms=cfg.algorithms,
        n_segments=cfg.n_segments,
        k_min=cfg.k_min,
        k_max=cfg.k_max,
        score_sample=cfg.score_sample,
        fit_sample=cfg.fit_sample,
        minibatch_above=cfg.minibatch_above,
        stability_resamples=cfg.stability_resamples,
        min_stability=cfg.min_stability,
        min_segment_share=cfg.min_segment_share,
        random_state=run_seed(cfg.random_state, day),
        warm_centers=warm_centers,
        continuity_margin=cfg.continuity_margin if cfg.warm_start else 0.0,
    ).fit(features[columns])
