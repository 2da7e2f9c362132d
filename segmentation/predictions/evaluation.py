"""How good a churn score is, on held-out out-of-time labels: the figures marketers compare.

Ranking (ROC AUC, PR AUC), probabilities (log loss, Brier score, a 10-bin calibration table
and its mean absolute error), the decision at an operating threshold (precision, recall, F1)
and the decile lift table (churn rate of each tenth of customers by score over the overall
rate; decile 10 holds the highest scores). scikit-learn computes every figure.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from segmentation.predictions.churn import deciles

BINS = 10


def best_f1_threshold(churned: np.ndarray, probability: np.ndarray) -> float:
    """The score threshold with the highest F1 (on training data: the operating threshold)."""
    precision, recall, thresholds = precision_recall_curve(churned, probability)
    f1 = np.divide(
        2 * precision * recall,
        precision + recall,
        out=np.zeros_like(precision),
        where=(precision + recall) > 0,
    )
    return float(thresholds[int(np.argmax(f1[:-1]))])


def score_metrics(churned: np.ndarray, probability: np.ndarray, threshold: float) -> dict:
    """Every figure of a score on labelled customers (``churned`` bool, ``probability``)."""
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)  # a score of exactly 0 or 1 would be infinite
    decided = probability >= threshold
    metrics = {
        "customers": float(len(churned)),
        "churn_rate": float(np.mean(churned)),
        "roc_auc": float(roc_auc_score(churned, probability)),
        "pr_auc": float(average_precision_score(churned, probability)),
        "log_loss": float(log_loss(churned, clipped, labels=[False, True])),
        "brier": float(brier_score_loss(churned, probability)),
        "threshold": float(threshold),
        "precision": float(precision_score(churned, decided, zero_division=0)),
        "recall": float(recall_score(churned, decided, zero_division=0)),
        "f1": float(f1_score(churned, decided, zero_division=0)),
    }
    metrics.update(lift_table(churned, probability))
    metrics.update(calibration_table(churned, probability))
    return metrics


def lift_table(churned: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """``lift_decile_k``: churn rate of the k-th tenth by score over the overall rate."""
    overall = float(np.mean(churned))
    tenth = deciles(probability)
    return {
        f"lift_decile_{k}": float(np.mean(churned[tenth == k]) / overall) if overall else np.nan
        for k in range(1, BINS + 1)
    }


def calibration_table(churned: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """Mean predicted and observed churn in 10 bins of equal counts, and their mean gap."""
    observed, predicted = calibration_curve(churned, probability, n_bins=BINS, strategy="quantile")
    out = {}
    for k in range(1, BINS + 1):  # fewer bins when many scores are equal: the rest are NaN
        out[f"calibration_bin_{k}_predicted"] = (
            float(predicted[k - 1]) if k <= len(predicted) else np.nan
        )
        out[f"calibration_bin_{k}_observed"] = (
            float(observed[k - 1]) if k <= len(observed) else np.nan
        )
    out["calibration_error"] = float(np.mean(np.abs(predicted - observed)))
    return out
