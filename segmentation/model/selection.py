"""Model selection: the candidate search, the rule that chooses one, its scores, seeded samples.

The candidates are KMeans, a Gaussian mixture and Ward clustering (and, with a champion, KMeans
started from the champion's centres) for every number of segments in range, each scored on a
seeded sample by silhouette, Davies-Bouldin, Calinski-Harabasz and bootstrap stability.
``choose`` states the rule. Every random source is seeded: a per-date seed from ``run_seed``,
samples from ``sample_rows``/``draw_rows``, so a rerun of a date repeats its search exactly.
The estimator that runs the search is ``segmentation.model.segmenter.Segmenter``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestCentroid

ALGORITHMS = ("kmeans", "gmm", "ward")
# KMeans started from the champion's centres; first in the tie-break order, then simplest first
WARM = "kmeans_warm"
TIE_ORDER = (WARM, *ALGORITHMS)
CRITERIA = ("silhouette", "davies_bouldin", "calinski_harabasz")


def run_seed(random_state: int, day: dt.date) -> int:
    """A per-date seed: reruns of a date repeat it, different dates differ.

    Parameters
    ----------
    random_state : int
        The configured seed (``model.random_state``).
    day : datetime.date
        The run date.

    Returns
    -------
    int
        A seed in ``[0, 2**32)``.
    """
    return (random_state * 1_000_003 + day.toordinal()) % (2**32)


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """A seeded sample of at most ``size`` row positions out of ``n``, in order.

    Parameters
    ----------
    n : int
        Number of rows to sample from.
    size : int
        Largest sample; all ``n`` rows when ``n <= size``.
    seed : int
        Seed of a fresh ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray
        Sorted row positions (``numpy.arange(n)`` when ``n <= size``).
    """
    return draw_rows(n, size, np.random.default_rng(seed))


def draw_rows(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Like ``sample_rows``, drawing from ``rng`` (which advances only when it samples).

    Parameters
    ----------
    n : int
        Number of rows to sample from.
    size : int
        Largest sample; all ``n`` rows when ``n <= size``.
    rng : numpy.random.Generator
        The generator to draw from.

    Returns
    -------
    numpy.ndarray
        Sorted row positions.
    """
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def choose(
    candidates: list[dict[str, Any]],
    min_stability: float,
    min_segment_share: float = 0.0,
    continuity_margin: float = 0.0,
    champion_k: int | None = None,
) -> dict[str, Any]:
    """The winning candidate by the documented rule.

    Candidates whose stability reaches ``min_stability`` and whose smallest segment holds at
    least ``min_segment_share`` of the sample are eligible (all are, if none is); among them
    the best mean rank over silhouette (higher is better), Davies-Bouldin (lower) and
    Calinski-Harabasz (higher) wins; ties go to the more stable, then to fewer segments, then
    to the simpler algorithm (``TIE_ORDER``). Continuity: the warm start with the champion's
    number of segments wins instead when its silhouette is within ``continuity_margin`` of
    the winner's.

    Parameters
    ----------
    candidates : list of dict
        As ``search_candidates`` returns them.
    min_stability : float
        Least stability of an eligible candidate.
    min_segment_share : float, default=0.0
        Least share of the sample in a candidate's smallest segment.
    continuity_margin : float, default=0.0
        Silhouette a warm start may give up to the winner and still be chosen.
    champion_k : int or None, default=None
        The champion's number of segments (None: no champion).

    Returns
    -------
    dict
        One of ``candidates`` (the same object).
    """
    eligible = [
        c
        for c in candidates
        if c["stability"] >= min_stability and c["smallest_share"] >= min_segment_share
    ] or candidates
    best = _best_ranked(eligible)
    continuing = [
        c
        for c in eligible
        if c["algorithm"] == WARM
        and c["k"] == champion_k
        and best["silhouette"] - c["silhouette"] <= continuity_margin
    ]
    return continuing[0] if continuing else best


def _best_ranked(eligible: list[dict[str, Any]]) -> dict[str, Any]:
    """The best mean rank over the three criteria, ties broken as ``choose`` says."""
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
    return eligible[order[0]]


def search_candidates(
    scored: np.ndarray,
    ks: Sequence[int],
    algorithms: Sequence[str],
    seed: int,
    resamples: Sequence[np.ndarray],
    distances: np.ndarray,
    warm: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Every (algorithm, k) candidate, scored on the sample ``scored``.

    A family that finds fewer than ``k`` segments for some ``k`` is no candidate for it.

    Parameters
    ----------
    scored : numpy.ndarray of shape (n_samples, n_features)
        The scoring sample in the model's scaled space.
    ks : sequence of int
        The numbers of segments to try.
    algorithms : sequence of str
        Families among ``ALGORITHMS``.
    seed : int
        Seed of the fits on the sample; resample ``i`` uses ``seed + 1 + i``.
    resamples : sequence of numpy.ndarray
        Row positions of each bootstrap resample of ``scored`` (for stability).
    distances : numpy.ndarray of shape (n_samples, n_samples)
        Pairwise distances of ``scored``.
    warm : numpy.ndarray or None, default=None
        The champion's centres in the scaled space: adds the ``WARM`` family for every
        ``k`` of at least their number.

    Returns
    -------
    list of dict
        Per candidate ``algorithm``, ``k``, the ``quality`` scores, ``smallest_share`` (of the
        sample, in its smallest segment) and ``stability`` (mean adjusted Rand index between
        the sample's labels and those of the fits on the resamples), families in order.
    """
    families = [*algorithms, *([WARM] if warm is not None else [])]
    fits = partial(_family_labels, scored=scored, ks=ks, seed=seed, resamples=resamples, warm=warm)
    # families are independent and seeded: two threads give the same results as one, in
    # about two thirds of the time. Warnings are silenced here, once: the filters are
    # process-wide, and entering catch_warnings from several threads is not safe.
    with _quiet(), ThreadPoolExecutor(max_workers=2) as pool:
        fitted = list(pool.map(fits, families))
    return [
        _candidate(algorithm, k, scored, labels[k], [b[k] for b in boot], distances)
        for algorithm, (family_ks, labels, boot) in zip(families, fitted, strict=True)
        for k in family_ks
        # a family that found fewer than k segments is not a candidate
        if len(np.unique(labels[k])) >= k
    ]


def _candidate(
    algorithm: str,
    k: int,
    scored: np.ndarray,
    labels: np.ndarray,
    boot: list[np.ndarray],
    distances: np.ndarray,
) -> dict[str, Any]:
    return {
        "algorithm": algorithm,
        "k": k,
        **quality(scored, labels, distances),
        "smallest_share": float(np.bincount(labels).min() / len(scored)),
        "stability": float(np.mean([adjusted_rand_score(labels, b) for b in boot])),
    }


def _family_labels(
    algorithm: str,
    scored: np.ndarray,
    ks: Sequence[int],
    seed: int,
    resamples: Sequence[np.ndarray],
    warm: np.ndarray | None,
) -> tuple[list[int], dict[int, np.ndarray], list[dict[int, np.ndarray]]]:
    """One family's labels per k, on the sample and from each bootstrap resample."""
    family_ks = [k for k in ks if warm is None or algorithm != WARM or k >= len(warm)]
    labels = _labels_by_k(algorithm, scored, family_ks, seed, warm=warm)
    boot = [
        _labels_by_k(algorithm, scored, family_ks, (seed + 1 + i) % 2**32, rows, warm)
        for i, rows in enumerate(resamples)
    ]
    return family_ks, labels, boot


def fit_candidate(
    algorithm: str,
    k: int,
    fit_set: np.ndarray,
    scored: np.ndarray,
    seed: int,
    minibatch_above: int,
    warm: np.ndarray | None = None,
) -> tuple[str, Any]:
    """The chosen candidate fitted for production use, and its algorithm's name.

    Parameters
    ----------
    algorithm : str
        The candidate's family (one of ``TIE_ORDER``).
    k : int
        Its number of segments.
    fit_set : numpy.ndarray
        The fit sample in the model's scaled space.
    scored : numpy.ndarray
        The scoring sample in that space (Ward is fitted on it; warm starts add centres
        from it).
    seed : int
        The clusterer's ``random_state``.
    minibatch_above : int
        KMeans becomes MiniBatchKMeans above this many rows in ``fit_set``.
    warm : numpy.ndarray or None, default=None
        The champion's centres in the scaled space (for ``WARM``).

    Returns
    -------
    name : str
        ``kmeans``, ``minibatch_kmeans``, ``gmm``, ``ward``, ``kmeans_warm`` or
        ``minibatch_kmeans_warm``.
    clusterer : estimator
        The fitted clusterer; it has ``predict``.
    """
    with _quiet():
        if algorithm == WARM and warm is not None:
            init = _warm_init(warm, scored, k)
            if len(fit_set) > minibatch_above:
                return "minibatch_" + WARM, MiniBatchKMeans(
                    n_clusters=k, init=init, n_init=1, batch_size=4096, random_state=seed
                ).fit(fit_set)
            return WARM, KMeans(n_clusters=k, init=init, n_init=1, random_state=seed).fit(fit_set)
        if algorithm == "ward":
            # hierarchical clustering is quadratic: fit on the sample, assign the rest
            labels = _labels_by_k("ward", scored, [k], seed)[k]
            return "ward", NearestCentroid().fit(scored, labels)
        if algorithm == "gmm":
            return "gmm", _gmm(k, seed).fit(fit_set)
        if len(fit_set) > minibatch_above:
            return "minibatch_kmeans", MiniBatchKMeans(
                n_clusters=k, n_init=3, batch_size=4096, random_state=seed
            ).fit(fit_set)
        return "kmeans", _kmeans(k, seed).fit(fit_set)


def _labels_by_k(
    algorithm: str,
    scored: np.ndarray,
    ks: Sequence[int],
    seed: int,
    rows: np.ndarray | None = None,
    warm: np.ndarray | None = None,
) -> dict[int, np.ndarray]:
    """Labels of the scored sample for each k, from fits on ``scored[rows]`` (default: all).

    Call it within ``_quiet()``: degenerate data is explained by ``Segmenter.fit`` instead.
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


def quality(
    X: np.ndarray, labels: np.ndarray, distances: np.ndarray | None = None
) -> dict[str, float]:
    """Silhouette, Davies-Bouldin and Calinski-Harabasz of ``labels`` on ``X``.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
        Points in the space where distances are taken (the model's scaled space).
    labels : numpy.ndarray of shape (n_samples,)
        A segment per point.
    distances : numpy.ndarray of shape (n_samples, n_samples) or None, default=None
        The pairwise distances of ``X`` when known: saves recomputing them for every
        candidate (the silhouette's main cost).

    Returns
    -------
    dict
        ``silhouette``, ``davies_bouldin`` and ``calinski_harabasz``; with fewer than two
        segments, the worst values (-1, infinity, 0).
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

    Parameters
    ----------
    distances : numpy.ndarray of shape (n_samples, n_samples)
        Pairwise distances.
    labels : numpy.ndarray of shape (n_samples,)
        A segment per point (any integers).

    Returns
    -------
    float
        The mean silhouette; a lone point's silhouette counts as 0.
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
