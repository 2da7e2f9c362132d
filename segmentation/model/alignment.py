"""Stable segment ids across retrains: align a new model's clusters with the champion's.

Clusterings are only defined up to a permutation, so a promoted challenger's clusters are
matched to the champion's by an optimal one-to-one assignment on centre distances
(standardised units) within ``model.id_match_distance``; unmatched clusters get new ids, ids
that lose their cluster are retired and never reused. Each promotion's matches are its lineage
(``lineage_rows``), kept in the model's record and published as ``segment_lineage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import linear_sum_assignment

if TYPE_CHECKING:
    from segmentation.model.registry import ModelRecord


@dataclass(frozen=True)
class Alignment:
    """Ids of a new model's clusters and where each came from.

    Attributes
    ----------
    segment_ids : list of int
        The id of each of the new model's clusters, in cluster order.
    previous_ids : list of int or None
        The matched champion segment of each cluster, None for a new one.
    nearest_ids : list of int or None
        The closest champion segment of each cluster, matched or not (None: no champion).
    distances : list of float or None
        Each cluster's distance to that champion segment (to its match, when matched).
    retired : list of int
        The champion's ids left without a match.
    """

    segment_ids: list[int]
    previous_ids: list[int | None]
    nearest_ids: list[int | None]
    distances: list[float | None]
    retired: list[int]


def align_segment_ids(
    new_centers_log: np.ndarray,
    features: list[str],
    previous: ModelRecord | None,
    scale: np.ndarray,
    max_distance: float,
) -> Alignment:
    """Stable ids for the new model's clusters, matched to the previous champion's centres.

    Each new cluster takes the id of the previous cluster nearest to it (an optimal
    one-to-one assignment on distances in the new model's standardised space, on the
    features both models share, by name) when that distance is within ``max_distance``; the
    others get fresh ids, never reusing a retired one. Models sharing less than half of the
    new model's features start afresh.

    Parameters
    ----------
    new_centers_log : ndarray of shape (n_segments, n_features)
        The new model's ``centers_log_``.
    features : list of str
        The new model's features, in the order of the columns of ``new_centers_log``.
    previous : ModelRecord or None
        The champion's record; None for the first model (ids 0, 1, ...).
    scale : ndarray of shape (n_features,)
        The new model's ``scale_``: the unit of distance of each feature.
    max_distance : float
        Farthest match, in standardised units (``model.id_match_distance``).

    Returns
    -------
    Alignment
        The ids and where each came from.
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
    unit = np.asarray(scale)[[features.index(f) for f in shared]]
    dist = np.linalg.norm((new[:, None, :] - old[None, :, :]) / unit, axis=2)
    matched, nearest, distances = _matches(dist, previous.segment_ids, max_distance)
    ids: list[int] = []
    next_id = previous.max_id_ever + 1  # new ids in cluster order, never a retired one
    for before in matched:
        if before is None:
            ids.append(next_id)
            next_id += 1
        else:
            ids.append(before)
    retired = [s for s in previous.segment_ids if s not in matched]
    return Alignment(ids, matched, nearest, distances, retired)


def _matches(
    dist: np.ndarray, previous_ids: list[int], max_distance: float
) -> tuple[list[int | None], list[int | None], list[float | None]]:
    """Per new cluster (row of ``dist``): its match, its nearest old segment, the distance."""
    k = len(dist)
    matched: list[int | None] = [None] * k
    nearest: list[int | None] = [None] * k
    distances: list[float | None] = [None] * k
    if not dist.size:
        return matched, nearest, distances
    for r in range(k):
        nearest[r] = previous_ids[int(dist[r].argmin())]
        distances[r] = float(dist[r].min())
    rows, cols = linear_sum_assignment(dist)
    for r, c in zip(rows, cols, strict=True):
        if dist[r, c] <= max_distance:
            matched[r] = previous_ids[c]
            distances[r] = float(dist[r, c])
    return matched, nearest, distances


def lineage_rows(
    alignment: Alignment,
    version: str,
    previous: ModelRecord | None,
    renamed: frozenset[int] = frozenset(),
) -> list[dict[str, Any]]:
    """One row per segment of the new champion, and one per champion segment it retires.

    Parameters
    ----------
    alignment : Alignment
        The new champion's ids, from ``align_segment_ids``.
    version : str
        The new champion's model version.
    previous : ModelRecord or None
        The champion it replaces.
    renamed : frozenset of int, default=frozenset()
        Ids kept whose profile now fits another name better.

    Returns
    -------
    list of dict
        ``segment_lineage`` rows without ``trained_run_date``: ``model_version``,
        ``previous_model_version``, ``segment_id``, ``previous_segment_id``,
        ``nearest_previous_segment_id``, ``distance`` and ``change`` (``kept``,
        ``renamed``, ``new`` or ``retired``).
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
