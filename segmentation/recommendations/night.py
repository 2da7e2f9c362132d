"""One night's recommendations: retrain and evaluate the collaborative model, then serve.

Pure: interactions and segments in, the model, its figures and tonight's lists out;
``segmentation.pipeline.recommend`` reads the lake, loads and saves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segmentation.catalog import RECOMMENDATION_SOURCES
from segmentation.config import RecommendationsConfig
from segmentation.recommendations import collaborative, evaluation, popular
from segmentation.recommendations.items import Interactions
from segmentation.recommendations.registry import ItemModel

K = 10  # the evaluation's cut-off: precision@10, NDCG@10, ...
SOURCES = RECOMMENDATION_SOURCES


@dataclass(frozen=True)
class Trained:
    """A retrain's outcome: the model (None when it could not be fitted), the held-out
    figures per model (``als``, ``popular``, ``segment_popular``), and whether ALS serves."""

    model: ItemModel | None
    metrics: dict[str, dict[str, float]]
    serves: bool
    reason: str


@dataclass(frozen=True)
class Lists:
    """Tonight's recommendations, one row per (customer, rank), as codes: at 1M customers,
    10M rows of item and source names cost seconds to build and join."""

    row: np.ndarray  # the customer's position in the night's customers
    rank: np.ndarray
    item_code: np.ndarray  # into ``items``
    score: np.ndarray
    source_code: np.ndarray  # into SOURCES
    items: np.ndarray  # item ids

    @property
    def item(self) -> np.ndarray:
        return self.items[self.item_code]

    @property
    def source(self) -> np.ndarray:
        return np.asarray(SOURCES, dtype=object)[self.source_code]


def train(
    before: Interactions, holdout: Interactions, segment: np.ndarray, cfg: RecommendationsConfig
) -> Trained:
    """ALS fitted on ``before`` (the window up to the cutoff) and evaluated with the baselines
    on the purchases of ``holdout`` (the days since) of ``before``'s customers; ``segment``:
    each of ``before``'s customers' segment (a code from 0; the customers' segment at the
    cutoff). With ``exclude_purchased``, items bought before the cutoff are neither
    recommended nor counted as relevant."""
    relevant = _relevant(before, holdout, cfg.exclude_purchased)
    judged = np.flatnonzero(relevant.getnnz(axis=1) > 0)
    if before.weights.nnz == 0 or len(judged) == 0:
        why = (
            "no purchases before the cutoff"
            if before.weights.nnz == 0
            else (f"nobody bought in the {cfg.holdout_days} holdout days")
        )
        return Trained(None, {}, False, why)
    exclude = before.bought[judged] if cfg.exclude_purchased else None
    factors = collaborative.fit(before.weights, cfg.als, cfg.random_state)
    users = collaborative.user_factors(factors, before.weights[judged], cfg.als, cfg.random_state)
    als_ids, _ = collaborative.top_items(factors, users, K, exclude)
    groups = int(segment.max()) + 1 if len(segment) else 1
    by_segment, _ = popular.rank_scores(before.bought, segment, groups)
    overall, _ = popular.rank_scores(before.bought, np.zeros(len(segment), dtype=int), 1)
    seg_ids, _ = popular.recommend(by_segment, segment[judged], K, exclude)
    pop_ids, _ = popular.recommend(overall, np.zeros(len(judged), dtype=int), K, exclude)
    truth = relevant[judged]
    metrics = {
        "als": evaluation.ranking_metrics(als_ids, truth, K),
        "popular": evaluation.ranking_metrics(pop_ids, truth, K),
        "segment_popular": evaluation.ranking_metrics(seg_ids, truth, K),
    }
    ndcg = f"ndcg_at_{K}"
    als, baseline = metrics["als"][ndcg], metrics["segment_popular"][ndcg]
    serves = als > baseline
    reason = (
        f"ALS NDCG@{K} {als:.4f} "
        + ("beats" if serves else "does not beat")
        + f" segment popularity's {baseline:.4f}"
        + ("" if serves else ": segment popularity is served")
    )
    return Trained(ItemModel(before.items, factors), metrics, serves, reason)


def _relevant(before: Interactions, holdout: Interactions, exclude: bool) -> sp.csr_matrix:
    """``before``'s customers x ``before``'s items: 1 where the customer bought the item in the
    holdout and kept it (and, with ``exclude``, had not bought it before)."""
    kept = holdout.bought.multiply(holdout.weights > 0).tocoo()
    row = positions(before.customers, holdout.customers)[kept.row]
    col = positions(before.items, holdout.items)[kept.col]
    known = (row >= 0) & (col >= 0)
    shape = (len(before.customers), len(before.items))
    out = sp.csr_matrix(
        (np.ones(int(known.sum()), dtype=np.float32), (row[known], col[known])), shape=shape
    )
    out.sum_duplicates()
    out.data[:] = 1.0
    if exclude:
        out = out - out.multiply(before.bought > 0)
        out.eliminate_zeros()
    return sp.csr_matrix(out)


def positions(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Each of ``ids``' position in ``sorted_ids`` (-1 where absent)."""
    if len(sorted_ids) == 0:
        return np.full(len(ids), -1)
    at = np.searchsorted(sorted_ids, ids).clip(0, len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == ids, at, -1)


def serve(
    tonight: Interactions,
    customers: np.ndarray,
    segment: np.ndarray,
    model: ItemModel | None,
    cfg: RecommendationsConfig,
    rules: pd.DataFrame | None = None,
) -> Lists:
    """Top ``top_n`` items for each of ``customers`` (sorted ids; ``segment``: each one's
    segment code from 0): the collaborative model's (``model``; None when it does not serve)
    for customers with at least ``min_items`` items it knows weighed in the window, their segment's
    most bought items for the others, after what tonight's ``rules`` (``segment_id`` as a
    segment code; null: everyone's) say goes with what they bought. With
    ``exclude_purchased``, nothing bought in the window."""
    if len(tonight.items) == 0:  # nothing bought, carted or viewed in the window
        return _lists(np.zeros(0, dtype=int), np.full((0, 1), -1), np.zeros((0, 1)), 0)
    at = positions(tonight.customers, customers)  # each customer's row of tonight, or -1
    # items weighed that the model knows (a customer of new items only has no taste vector)
    known = tonight.weights
    if model is not None:
        known = tonight.weights[:, np.flatnonzero(positions(model.items, tonight.items) >= 0)]
    counts = np.append(known.getnnz(axis=1), 0)  # and 0 for the absent (-1)
    heavy = (counts[at] >= cfg.min_items) & (model is not None)
    # a last, empty row for the customers without interactions in the window
    bought = sp.vstack([tonight.bought, sp.csr_matrix((1, len(tonight.items)))]).tocsr()
    row_of = np.where(at >= 0, at, bought.shape[0] - 1)
    names = tonight.items if model is None else np.union1d(tonight.items, model.items)
    parts = [_popular(tonight, bought, row_of, segment, np.flatnonzero(~heavy), cfg, rules)]
    recode = [positions(names, tonight.items)]  # each part's item codes into ``names``
    if model is not None and heavy.any():
        parts.append(_collaborative(tonight, bought, row_of, np.flatnonzero(heavy), model, cfg))
        recode.append(positions(names, model.items))
    joined = {
        f.name: np.concatenate([getattr(p, f.name) for p in parts])
        for f in fields(Lists)
        if f.name not in ("item_code", "items")
    }
    codes = np.concatenate([to[p.item_code] for p, to in zip(parts, recode, strict=True)])
    return Lists(**joined, item_code=codes, items=names)


def _popular(
    tonight: Interactions,
    bought: sp.csr_matrix,
    row_of: np.ndarray,
    segment: np.ndarray,
    rows: np.ndarray,
    cfg: RecommendationsConfig,
    rules: pd.DataFrame | None,
) -> Lists:
    """What the rules offer ``rows`` for what they bought, then their segments' most bought
    items tonight, filled up from everyone's most bought
    when their segment bought too few; the score: the share of the group's customers who
    bought the item in the window."""
    groups = int(segment.max()) + 1 if len(segment) else 1
    known = row_of < len(tonight.customers)
    buyer_segment = np.full(len(tonight.customers), groups)  # a group of its own: no segment
    buyer_segment[row_of[known]] = segment[known]
    exclude = bought[row_of[rows]] if cfg.exclude_purchased else None
    ranks, share = popular.rank_scores(tonight.bought, buyer_segment, groups + 1)
    ids, _ = popular.recommend(ranks, segment[rows], cfg.top_n, exclude)
    score = share[segment[rows][:, None], ids.clip(0)]
    everyone = np.zeros(len(tonight.customers), dtype=int)
    ranks, share = popular.rank_scores(tonight.bought, everyone, 1)
    fill, _ = popular.recommend(ranks, np.zeros(len(rows), dtype=int), cfg.top_n, exclude)
    offered = _by_rules(rules, bought[row_of[rows]], segment[rows], tonight.items, cfg.top_n)
    candidates = (
        (*offered, "rule"),
        (ids, score, "segment_popular"),
        (fill, share[np.zeros_like(fill), fill.clip(0)], "popular"),
    )
    return _first_unique(rows, candidates, cfg.top_n)


def _by_rules(
    rules: pd.DataFrame | None,
    bought: sp.csr_matrix,
    segment: np.ndarray,
    items: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows x ``n`` consequents (ids, confidence; -1 pads) of the rules of each row's segment,
    or everyone's, whose antecedent the row bought, the most confident first."""
    ids = np.full((bought.shape[0], n), -1)
    score = np.zeros((bought.shape[0], n))
    if rules is None or rules.empty or bought.shape[0] == 0:
        return ids, score
    columns = bought.tocsc()
    found = []
    for rule in rules.itertuples(index=False):  # a few hundred rules at most
        antecedent = positions(items, np.asarray(rule.antecedent, dtype=str))
        if (antecedent < 0).any():
            continue  # an item not bought in the window: no customer has it
        # the rows that bought every item of the antecedent: the columns' row lists
        have = columns.indices[columns.indptr[antecedent[0]] : columns.indptr[antecedent[0] + 1]]
        for item in antecedent[1:]:
            have = np.intersect1d(
                have, columns.indices[columns.indptr[item] : columns.indptr[item + 1]]
            )
        segment_of_rule: Any = rule.segment_id
        if pd.notna(segment_of_rule):
            have = have[segment[have] == int(segment_of_rule)]
        for item in positions(items, np.asarray(rule.consequent, dtype=str)):
            if item >= 0 and len(have):
                found.append(pd.DataFrame({"row": have, "item": item, "score": rule.confidence}))
    if not found:
        return ids, score
    offers = pd.concat(found).sort_values(["row", "score", "item"], ascending=[True, False, True])
    offers = offers.drop_duplicates(["row", "item"])
    held = collaborative.values_at(bought, offers["row"].to_numpy(), offers["item"].to_numpy())
    offers = offers[held == 0]
    place = offers.groupby("row").cumcount().to_numpy()
    keep = place < n
    rows, where = offers["row"].to_numpy()[keep], place[keep]
    ids[rows, where] = offers["item"].to_numpy()[keep]
    score[rows, where] = offers["score"].to_numpy()[keep]
    return ids, score


CHUNK = 100_000  # rows deduplicated at once: rows x candidates^2 booleans stay ~100 MB


def _first_unique(
    rows: np.ndarray,
    candidates: tuple[tuple[np.ndarray, np.ndarray, str], ...],
    n: int,
) -> Lists:
    """Each row's first ``n`` distinct items of its candidate lists, taken in order."""
    ids = np.concatenate([c[0] for c in candidates], axis=1)
    score = np.concatenate([c[1] for c in candidates], axis=1).astype(np.float64)
    source = np.concatenate([np.full(c[0].shape, i) for i, c in enumerate(candidates)], axis=1)
    # an item seen earlier in its row is a duplicate
    earlier = np.tril(np.ones((ids.shape[1], ids.shape[1]), dtype=bool), -1)
    keep = np.empty(ids.shape, dtype=bool)
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        same = (part[:, :, None] == part[:, None, :]) & earlier[None, :, :]
        keep[start : start + CHUNK] = (part >= 0) & ~same.any(axis=2)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :n]
    taken = np.take_along_axis(keep, order, axis=1)
    codes = np.array([SOURCES.index(c[2]) for c in candidates], dtype=np.int8)
    chosen = np.where(taken, np.take_along_axis(ids, order, axis=1), -1)
    lists = _lists(rows, chosen, np.take_along_axis(score, order, axis=1), 0)
    return dataclasses.replace(
        lists, source_code=codes[np.take_along_axis(source, order, axis=1)[taken]]
    )


def _collaborative(
    tonight: Interactions,
    bought: sp.csr_matrix,
    row_of: np.ndarray,
    rows: np.ndarray,
    model: ItemModel,
    cfg: RecommendationsConfig,
) -> Lists:
    """``rows``' best items by the model: their factors solved from tonight's weights over
    the items the model knows."""
    to_model = positions(model.items, tonight.items)  # tonight's item -> the model's, or -1
    weights = _in_model_items(tonight.weights[row_of[rows]], to_model, len(model.items))
    exclude = None
    if cfg.exclude_purchased:
        exclude = _in_model_items(bought[row_of[rows]], to_model, len(model.items))
    users = collaborative.user_factors(model.item_factors, weights, cfg.als, cfg.random_state)
    ids, score = collaborative.top_items(model.item_factors, users, cfg.top_n, exclude)
    return _lists(rows, ids, score, SOURCES.index("collaborative"))


def _in_model_items(matrix: sp.csr_matrix, to_model: np.ndarray, items: int) -> sp.csr_matrix:
    """``matrix``'s columns moved to the model's items; items it does not know are left out."""
    coo = matrix.tocoo()
    col = to_model[coo.col]
    keep = col >= 0
    return sp.csr_matrix(
        (coo.data[keep], (coo.row[keep], col[keep])), shape=(matrix.shape[0], items)
    )


def _lists(rows: np.ndarray, ids: np.ndarray, score: np.ndarray, source: int) -> Lists:
    """Rows x ranks of item codes (-1: none) as one row per recommendation (``items`` and,
    for a mix of sources, ``source_code`` set by the caller)."""
    valid = ids >= 0
    ranks = np.broadcast_to(np.arange(1, ids.shape[1] + 1), ids.shape)
    return Lists(
        row=np.broadcast_to(rows[:, None], ids.shape)[valid],
        rank=ranks[valid],
        item_code=ids[valid],
        score=np.asarray(score, dtype=np.float64)[valid],
        source_code=np.full(int(valid.sum()), source, dtype=np.int8),
        items=np.zeros(0, dtype=str),
    )
