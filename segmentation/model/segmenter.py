"""The segmentation model: ``Segmenter``, a scikit-learn clusterer, and ``train``.

``Segmenter`` follows the scikit-learn estimator contract: ``__init__`` stores parameters,
``fit`` validates its input and returns ``self``, fitted state ends in ``_``, and methods that
need it raise ``NotFittedError`` before ``fit``. It scores KMeans, a Gaussian mixture and Ward
clustering over a range of segment counts on a seeded sample and fits the winner (the search
and the rule are ``segmentation.model.selection``). Every random source is seeded from the
config's ``random_state`` and the run date, so a rerun of a date reproduces its model exactly.
What happens to a trained model (champion or not) is ``segmentation.model.registry``; its
segment ids are ``segmentation.model.alignment``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, overload

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.metrics.pairwise import pairwise_distances
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from segmentation.config import ModelConfig
from segmentation.errors import TrainingDataError
from segmentation.features.build import SKEWED_FEATURES
from segmentation.model.selection import (
    ALGORITHMS,
    choose,
    draw_rows,
    fit_candidate,
    quality,
    run_seed,
    search_candidates,
)

# fitted attributes derived from ``pipeline_``; artifacts pickled before they were attributes
# (``centers_log_`` was a method, ``centers_scaled_`` a property) gain them on loading
_DERIVED = ("centers_scaled_", "centers_log_", "scale_")


class Segmenter(ClusterMixin, TransformerMixin, BaseEstimator):
    """Chooses an algorithm and a number of segments, then fits it (the rule: see Notes).

    Preprocessing (learnt on the fit sample): the basket size of customers who never bought is
    unknown, so it is imputed with the median buyer's (otherwise the zeros form a segment of
    their own); log1p on skewed features; standard scaling.

    Parameters
    ----------
    algorithms : sequence of str, default=("kmeans", "gmm", "ward")
        Candidate families.
    n_segments : int or None, default=None
        A fixed number of segments, or None to choose one in ``[k_min, k_max]``.
    k_min, k_max : int, default=4, 10
        The range of segment counts tried.
    score_sample : int, default=3000
        Customers sampled (seeded) to score the candidates.
    fit_sample : int, default=50000
        Customers sampled (seeded) to fit the preprocessing and the chosen candidate.
    minibatch_above : int, default=20000
        KMeans becomes MiniBatchKMeans when the fit sample is larger than this.
    stability_resamples : int, default=2
        Bootstrap resamples of the scoring sample behind each candidate's stability.
    min_stability : float, default=0.8
        Candidates less stable than this are not chosen (unless none is stable enough).
    min_segment_share : float, default=0.01
        Nor are candidates whose smallest segment holds less of the sample than this.
    skewed : sequence of str, default=the long-tailed behavioural features
        Features (by name) that get log1p; unnamed input columns are ``x0``, ``x1``, ...
    random_state : int, default=0
        Seed of the samples, the resamples and every fit.
    warm_centers : array of shape (n_champion_segments, n_features) or None, default=None
        The champion's centres on the log scale, one column per feature of ``X`` (in order).
    continuity_margin : float, default=0.02
        Silhouette the champion's segments, refined, may give up to the winner and still win.

    Attributes
    ----------
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit`` (only when ``X`` has string column names).
    n_features_in_ : int
        Number of features seen in ``fit``.
    score_rows_ : ndarray of int
        Positions, in the ``X`` given to ``fit``, of the rows that the candidates and
        ``scores_`` were computed on; ``scored_sample(X)`` selects them.
    candidates_ : list of dict
        Every candidate's ``algorithm``, ``k``, scores, ``smallest_share`` and ``stability``.
    n_segments_ : int
        Number of segments of the fitted model.
    algorithm_ : str
        The fitted clusterer (``kmeans``, ``minibatch_kmeans``, ``gmm``, ``ward``,
        ``kmeans_warm`` or ``minibatch_kmeans_warm``).
    pipeline_ : sklearn.pipeline.Pipeline
        The preprocessing (``prep``: ``basket``, ``log``, ``scale``) and the clusterer
        (``cluster``).
    scores_ : dict
        The fitted model's ``silhouette``, ``davies_bouldin`` and ``calinski_harabasz`` on
        the scoring sample, and the chosen candidate's ``stability``.
    centers_scaled_ : ndarray of shape (n_segments_, n_features_in_)
        The segments' centres in the scaled space (where ``transform`` maps customers).
    centers_log_ : ndarray of shape (n_segments_, n_features_in_)
        The centres on the log scale before standardising (comparable across models).
    scale_ : ndarray of shape (n_features_in_,)
        The standardising unit of each feature on the log scale (the scaler's ``scale_``).

    Notes
    -----
    The rule (``selection.choose``): candidates whose stability (mean adjusted Rand index
    between the sample's labels and those of fits on bootstrap resamples) reaches
    ``min_stability`` and whose smallest segment holds at least ``min_segment_share`` of the
    sample are eligible (all are, if none is); among them the best mean rank over silhouette
    (higher is better), Davies-Bouldin (lower) and Calinski-Harabasz (higher) wins; ties go
    to the more stable, then to fewer segments, then to the simpler algorithm.

    Continuity: with ``warm_centers``, KMeans started from them is a candidate too (for more
    segments, the extra ones start where they reduce the squared error most). When the warm
    start with the champion's number of segments (the champion's segments, refined on
    today's data) scores a silhouette within ``continuity_margin`` of the winner's, it is
    chosen instead: a retrain should not reshuffle or add segments for a negligible gain.

    No ``labels_``: the training data is every customer, and a label per customer in every
    saved model would be customer data kept in the registry. ``fit_predict(X)`` is
    ``fit(X).predict(X)``.
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

    def fit(self, X: pd.DataFrame | ArrayLike, y: None = None) -> Segmenter:
        """Score every (algorithm, k) candidate on a seeded sample and fit the chosen one.

        The rule and the continuity preference are the class's Notes.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            One row per customer, one column per feature (finite numbers).
        y : None
            Ignored.

        Returns
        -------
        Segmenter
            ``self``, fitted.

        Raises
        ------
        segmentation.errors.TrainingDataError
            Too few customers, missing or infinite values, or too little variety.
        """
        values = self._validated_training_data(X)
        rng = np.random.default_rng(self.random_state)
        prep = self._preprocessor(self._column_names())
        fit_rows = draw_rows(len(values), self.fit_sample, rng)
        prep.fit(values[fit_rows])
        self.score_rows_ = draw_rows(len(values), self.score_sample, rng)
        scored = prep.transform(values[self.score_rows_])
        ks = self._segment_counts(scored)
        resamples = [
            rng.integers(0, len(scored), len(scored)) for _ in range(self.stability_resamples)
        ]
        distances = pairwise_distances(scored)
        warm = (
            None
            if self.warm_centers is None
            else prep.named_steps["scale"].transform(np.asarray(self.warm_centers, dtype="float64"))
        )
        self.candidates_ = search_candidates(
            scored, ks, self.algorithms, self.random_state, resamples, distances, warm
        )
        best = self._choose(min(ks), None if warm is None else len(warm))
        self.n_segments_ = int(best["k"])
        self.algorithm_, clusterer = fit_candidate(
            str(best["algorithm"]),
            self.n_segments_,
            prep.transform(values[fit_rows]),
            scored,
            self.random_state,
            self.minibatch_above,
            warm,
        )
        self.pipeline_ = Pipeline([("prep", prep), ("cluster", clusterer)])
        self.scores_ = {
            **quality(scored, clusterer.predict(scored), distances),
            "stability": float(best["stability"]),
        }
        self._set_derived_state()
        return self

    def predict(self, X: pd.DataFrame | ArrayLike) -> np.ndarray:
        """The segment (``0 .. n_segments_ - 1``) of every row of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features_in_)
            With named features, a frame holding at least the columns seen in ``fit`` (other
            columns, such as ``customer_id``, are ignored).

        Returns
        -------
        ndarray of shape (n_samples,)
            The segment of each row.
        """
        values = self._validated(X)  # first: NotFittedError before any fitted attribute
        return np.asarray(self.pipeline_.predict(values))

    def fit_predict(self, X: pd.DataFrame | ArrayLike, y: None = None, **kwargs: Any) -> np.ndarray:
        """``fit(X).predict(X)``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            As for ``fit``.
        y : None
            Ignored.
        **kwargs : dict
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples,)
            The segment of each row.
        """
        return self.fit(X).predict(X)

    def transform(self, X: pd.DataFrame | ArrayLike) -> np.ndarray:
        """Features in the model's scaled space (where distances and silhouettes are taken).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features_in_)
            As for ``predict``.

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_)
            The rows of ``X`` imputed, log-transformed and standardised.
        """
        values = self._validated(X)
        return np.asarray(self.pipeline_.named_steps["prep"].transform(values))

    @overload
    def scored_sample(self, X: pd.DataFrame) -> pd.DataFrame: ...

    @overload
    def scored_sample(self, X: np.ndarray) -> np.ndarray: ...

    def scored_sample(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame | np.ndarray:
        """The rows of ``X`` that the candidates and ``scores_`` were computed on.

        Parameters
        ----------
        X : DataFrame or ndarray
            The data given to ``fit``, or a frame with the same rows in the same order (say
            the whole feature table whose columns were fitted).

        Returns
        -------
        DataFrame or ndarray
            Those rows (``X.iloc[score_rows_]`` for a frame), in order.
        """
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame):
            return X.iloc[self.score_rows_]
        return np.asarray(X)[self.score_rows_]

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, completing artifacts saved before some fitted state was an attribute."""
        super().__setstate__(state)
        if "pipeline_" in state and any(a not in state for a in _DERIVED):
            self._set_derived_state()
        if "feature_names_in_" in state and "n_features_in_" not in state:
            self.n_features_in_ = len(self.feature_names_in_)

    def _validated_training_data(self, X: pd.DataFrame | ArrayLike) -> np.ndarray:
        """``X`` as float64 values; sets ``feature_names_in_`` and ``n_features_in_``."""
        # our own messages for too few rows and for missing values: they name the fix
        values = validate_data(
            self, X, dtype=np.float64, ensure_all_finite=False, ensure_min_samples=0
        )
        need = max(self.n_segments or self.k_min, 2) * 2
        if len(values) < need:
            raise TrainingDataError(
                f"only {len(values)} customers to segment; need at least {need} "
                "(ingest more days, or lower model.k_min / model.n_segments)"
            )
        finite = np.isfinite(values).all(axis=0)
        if not finite.all():
            bad = [self._column_names()[i] for i in np.flatnonzero(~finite)]
            raise TrainingDataError(f"features {bad} contain missing or infinite values")
        return np.asarray(values)

    def _column_names(self) -> list[str]:
        if hasattr(self, "feature_names_in_"):
            return [str(c) for c in self.feature_names_in_]
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _segment_counts(self, scored: np.ndarray) -> list[int]:
        """The numbers of segments to try on the scoring sample, or why there are none."""
        ks = (
            [self.n_segments]
            if self.n_segments
            else list(range(self.k_min, min(self.k_max, len(scored) - 1) + 1))
        )
        if max(ks) >= len(scored):
            raise TrainingDataError(
                f"cannot form {max(ks)} segments from {len(scored)} customers; "
                "lower model.n_segments or ingest more history"
            )
        distinct = len(np.unique(scored, axis=0))
        if distinct < min(ks):
            raise TrainingDataError(
                f"the customers' features barely differ: no {min(ks)} distinct segments exist "
                "(check that the events carry amounts and varied event types)"
            )
        return [k for k in ks if k <= distinct]

    def _choose(self, k_low: int, champion_k: int | None) -> dict[str, Any]:
        if not self.candidates_:
            raise TrainingDataError(
                "the customers' features barely differ: no algorithm found "
                f"{k_low} distinct segments (check that the events carry amounts and "
                "varied event types)"
            )
        return choose(
            self.candidates_,
            self.min_stability,
            self.min_segment_share,
            self.continuity_margin,
            champion_k,
        )

    def _validated(self, X: pd.DataFrame | ArrayLike) -> np.ndarray:
        """``X`` (its fitted columns, for a frame) as float64 values for a fitted model."""
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            X = X[list(self.feature_names_in_)]
        return np.asarray(validate_data(self, X, reset=False, dtype=np.float64))

    def _set_derived_state(self) -> None:
        scaler = self.pipeline_.named_steps["prep"].named_steps["scale"]
        self.centers_scaled_ = _centers(self.pipeline_.named_steps["cluster"])
        self.centers_log_ = np.asarray(scaler.inverse_transform(self.centers_scaled_))
        self.scale_ = np.asarray(scaler.scale_)

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


def _centers(clusterer: Any) -> np.ndarray:
    for attr in ("cluster_centers_", "means_", "centroids_"):
        if hasattr(clusterer, attr):
            return np.asarray(getattr(clusterer, attr))
    raise TypeError(f"{type(clusterer).__name__} has no cluster centres")


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


def train(
    features: pd.DataFrame,
    columns: list[str],
    cfg: ModelConfig,
    day: dt.date,
    warm_centers: np.ndarray | None = None,
) -> Segmenter:
    """Tonight's challenger: a ``Segmenter`` configured by ``cfg``, fitted on ``columns``.

    Parameters
    ----------
    features : DataFrame
        The feature table, one row per customer.
    columns : list of str
        The model's features (columns of ``features``).
    cfg : ModelConfig
        The model section of the config.
    day : datetime.date
        The run date; with ``cfg.random_state`` it seeds the model (``run_seed``).
    warm_centers : ndarray or None, default=None
        The champion's ``centers_log_``, its columns in the order of ``columns``.

    Returns
    -------
    Segmenter
        Fitted on ``features[columns]``.
    """
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
