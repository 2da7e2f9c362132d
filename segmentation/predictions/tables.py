"""The published prediction tables, and the prediction columns of ``segment_profiles``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.catalog import PREDICTION_PROFILE_COLUMNS
from segmentation.predictions.lifetime import DEGENERATE, Fitted
from segmentation.predictions.night import ChurnNight

PROFILE_COLUMNS = PREDICTION_PROFILE_COLUMNS
QUALITY_COLUMNS = ["model", "model_version", "metric", "value", "status", "reason"]


def customer_predictions(
    customer_id: pd.Series,
    lifetime: pd.DataFrame,
    churn_scores: pd.DataFrame,
    churn_version: str | None,
    btyd_version: str | None,
) -> pd.DataFrame:
    """One row per customer, in the feature table's order."""
    out = pd.concat(
        [
            pd.DataFrame({"customer_id": customer_id.to_numpy()}),
            lifetime.reset_index(drop=True),
            churn_scores.reset_index(drop=True),
        ],
        axis=1,
    )
    out["model_version"] = pd.Series(churn_version, index=out.index, dtype="string")
    out["btyd_version"] = pd.Series(btyd_version, index=out.index, dtype="string")
    return out


def _rows(model: str, version: str | None, metrics: dict, status: str, reason: str | None) -> list:
    return [(model, version, name, float(value), status, reason) for name, value in metrics.items()]


def quality_table(
    fitted: Fitted,
    btyd_version: str,
    holdout: tuple[dict[str, float], str | None],
    night: ChurnNight,
    cutoff_version: str,
) -> pd.DataFrame:
    """``prediction_quality``: the fits' parameters and sizes, the BG/NBD holdout (of the fit
    at the cutoff, ``cutoff_version``; its figures, or why there are none), the churn
    challenger's held-out figures (beside its champion's AUC and BG/NBD's baseline), and a
    ``skipped`` row with the reason for each model that could not be fitted."""
    rows: list = []
    if fitted.bgnbd is not None:
        params = vars(fitted.bgnbd) | {"repeat_buyers": fitted.repeat_buyers}
        rows += _rows("bgnbd", btyd_version, params, "fitted", None)
    else:
        rows += _rows("bgnbd", None, {"skipped": np.nan}, "skipped", fitted.bgnbd_reason)
    figures, why_not = holdout
    if why_not:  # BG/NBD could not be fitted at the cutoff: no holdout, no churn baseline
        why = f"BG/NBD at the cutoff: {why_not}; no holdout table and no churn baseline"
        rows += _rows("bgnbd", None, {"holdout_skipped": np.nan}, "skipped", why)
    elif figures:
        why = "BG/NBD fitted at the cutoff, against what its customers did since"
        rows += _rows("bgnbd", cutoff_version, figures, "fitted", why)
    if fitted.gamma_gamma is not None:
        note = None
        if fitted.gamma_gamma.p >= DEGENERATE:  # no shrinkage left: say so
            note = (
                "p reached its bound: spend per purchase varies little within customers "
                "against the spread between them, so a buyer's expected spend is their own mean"
            )
        rows += _rows("gamma_gamma", btyd_version, vars(fitted.gamma_gamma), "fitted", note)
    else:
        reason = fitted.gamma_gamma_reason
        rows += _rows("gamma_gamma", None, {"skipped": np.nan}, "skipped", reason)
    rows += _churn_rows(night)
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def _churn_rows(night: ChurnNight) -> list:
    record = night.record
    if record is None:
        # no challenger tonight: the champion (if any) scores, and the row says why
        return _rows("churn", night.scorer_version, {"skipped": np.nan}, "skipped", night.skipped)
    status = "champion" if record.promoted else "rejected"
    metrics = {k: v for k, v in night.metrics.items() if k != "champion_roc_auc"}
    rows = _rows("churn", record.model_version, metrics, status, record.reason)
    if "champion_roc_auc" in night.metrics:
        rows += _rows(
            "churn",
            record.compared_with,
            {"champion_roc_auc": night.metrics["champion_roc_auc"]},
            "champion" if not record.promoted else "retired",
            "the champion's ROC AUC on the same held-out customers",
        )
    return rows


def profile_columns(
    segment_id: pd.Series, predictions: pd.DataFrame, clv_column: str | None
) -> pd.DataFrame:
    """Per segment id: mean p_alive, churn probability and 365-day value (over the customers
    who have them) and the share of the segment at high churn risk (null when no classifier
    scored tonight)."""
    frame = pd.DataFrame(
        {
            "segment_id": segment_id.to_numpy(),
            "mean_p_alive": predictions["p_alive"].to_numpy(),
            "mean_churn_probability": predictions["churn_probability"].to_numpy(),
            "mean_predicted_clv_365d": (
                predictions[clv_column].to_numpy() if clv_column else np.nan
            ),
            "high_churn_risk_share": (predictions["churn_risk"] == "high")
            .fillna(False)
            .to_numpy(dtype="float64"),
        }
    )
    means = frame.groupby("segment_id").mean()
    if predictions["churn_probability"].isna().all():  # no classifier scored tonight
        means["high_churn_risk_share"] = np.nan
    return means
