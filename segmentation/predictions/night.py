"""One night's churn model: train the challenger out of time, evaluate it, decide, score.

Pure: feature tables and the champion in, the challenger, its figures and tonight's scores
out. ``segmentation.pipeline.predict`` loads and saves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from segmentation.config import PredictionsConfig
from segmentation.predictions import churn, evaluation
from segmentation.predictions.registry import ChurnRecord, churn_version, promotion


@dataclass
class ChurnNight:
    """What the night's churn model did; ``scorer`` is None when nothing scores tonight."""

    scorer: Any = None
    scorer_version: str | None = None
    challenger: Any = None
    record: ChurnRecord | None = None
    skipped: str | None = None  # why no challenger was trained
    # held-out figures; with a champion, its AUC on the same customers: champion_roc_auc
    metrics: dict[str, float] = field(default_factory=dict)


def too_little_history(history_days: int, cfg: PredictionsConfig) -> str | None:
    """Why the classifier cannot be trained on ``history_days`` of lake, or None."""
    need = 3 * cfg.churn_days
    if history_days < need:
        return (
            f"{history_days} days of history, fewer than 3 x predictions.churn_days "
            f"({need}); the classifier needs a cutoff with history before it and labels after"
        )
    return None


def train(
    at_cutoff: pd.DataFrame,
    later: pd.DataFrame,
    day: dt.date,
    cfg: PredictionsConfig,
    champion: tuple[Any, ChurnRecord] | None,
    baseline: np.ndarray | None = None,
) -> ChurnNight:
    """Train tonight's challenger on the cutoff's features (``at_cutoff``, a sample by id) and
    the labels seen since (``later``: the same customers tonight, row by row), evaluate it
    and the ``baseline`` score (BG/NBD's chance of no purchase per row, ``lifetime.at_cutoff``)
    on the held-out customers, and decide against the champion."""
    buyers = churn.eligible(at_cutoff).to_numpy()
    data = churn.training_set(at_cutoff, churn.churn_labels(at_cutoff, later, cfg.churn_days))
    why = churn.too_few(data, cfg.min_class_customers)
    if why:
        cutoff = day - dt.timedelta(days=cfg.churn_days)
        return champion_only(champion, f"at the cutoff {cutoff}: {why}")
    model = churn.fit_classifier(data, cfg.random_state)
    test, cal = data.part == "test", data.part == "calibrate"
    probability = churn.churn_probability(model, data.features)
    threshold = evaluation.best_f1_threshold(data.churned[cal], probability[cal])
    metrics = evaluation.score_metrics(data.churned[test], probability[test], threshold)
    if baseline is not None:
        metrics.update(_baseline(baseline[buyers], data))
    champion_auc = None
    if champion is not None:
        # the champion scores the same customers from its own columns of the cutoff's table
        champion_p = churn.churn_probability(champion[0], data.rows[test])
        champion_auc = float(roc_auc_score(data.churned[test], champion_p))
        metrics["champion_roc_auc"] = champion_auc
    promoted, reason = promotion(metrics["roc_auc"], champion_auc, cfg.promote_margin)
    record = ChurnRecord(
        model_version=churn_version(day),
        trained_run_date=day,
        cutoff=day - dt.timedelta(days=cfg.churn_days),
        roc_auc=metrics["roc_auc"],
        promoted=promoted,
        reason=reason,
        compared_with=champion[1].model_version if champion else None,
    )
    scorer, version = model, record.model_version
    if champion is not None and not promoted:
        scorer, version = champion[0], champion[1].model_version
    return ChurnNight(
        scorer=scorer,
        scorer_version=version,
        challenger=model,
        record=record,
        metrics=metrics,
    )


def champion_only(champion: tuple[Any, ChurnRecord] | None, why: str) -> ChurnNight:
    if champion is None:
        return ChurnNight(skipped=why)
    return ChurnNight(scorer=champion[0], scorer_version=champion[1].model_version, skipped=why)


def _baseline(p: np.ndarray, data: churn.TrainingSet) -> dict:
    """The baseline (per row of the training set) scored like the classifier on the same
    customers (its threshold from the calibration part), as ``baseline_<metric>``."""
    test, cal = data.part == "test", data.part == "calibrate"
    threshold = evaluation.best_f1_threshold(data.churned[cal], p[cal])
    figures = evaluation.score_metrics(data.churned[test], p[test], threshold)
    return {f"baseline_{k}": v for k, v in figures.items() if k not in ("customers", "churn_rate")}


def score(scorer: Any, now: pd.DataFrame, bands: tuple[float, float]) -> pd.DataFrame:
    """``churn_probability``, ``churn_risk`` and ``churn_decile`` of tonight's customers who
    bought in the window (the customers the classifier knows); null for the rest."""
    probability = np.full(len(now), np.nan)
    if scorer is not None:
        scored = churn.eligible(now).to_numpy()
        if scored.any():
            probability[scored] = churn.churn_probability(scorer, now[scored])
    decile = churn.deciles(probability)
    return pd.DataFrame(
        {
            "churn_probability": probability,
            "churn_risk": pd.Series(churn.risk_bands(probability, bands), dtype="string"),
            "churn_decile": pd.Series(decile, dtype="Int64").mask(decile == 0),
        }
    )
