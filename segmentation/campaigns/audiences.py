"""Audiences: named filters over a night's published customer tables.

A customer is in an audience when they match every criterion it gives (and any value of a
criterion's list): ``segments`` (ids or names), ``rfm_segments``, ``churn_risk`` and
``min_predicted_clv_365d`` (from ``customer_predictions``; a customer without a prediction
does not match). The global control group is in no audience at all. The control group stays
in the members, marked, but is exported (targeted) only with ``include_control``: it is
what a campaign is measured against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.catalog_campaigns import AUDIENCE_CHANGES
from segmentation.config_campaigns import AudienceConfig

# the published columns the criteria read
SEGMENT_COLUMNS = ["customer_id", "segment_id", "segment_name", "is_control", "rfm_segment"]
PREDICTION_COLUMNS = ["customer_id", "churn_risk", "predicted_clv_365d"]


def needs_predictions(spec: AudienceConfig) -> bool:
    return bool(spec.churn_risk) or spec.min_predicted_clv_365d is not None


def in_segments(segments: pd.DataFrame, wanted: tuple[object, ...]) -> np.ndarray:
    """Customers whose segment is one of ``wanted``, by id (a number) or name (text)."""
    ids = [w for w in wanted if isinstance(w, int)]
    names = [w for w in wanted if isinstance(w, str)]
    return np.asarray(
        segments["segment_id"].isin(ids).to_numpy()
        | segments["segment_name"].isin(names).to_numpy()
    )


def matches(
    segments: pd.DataFrame, predictions: pd.DataFrame | None, spec: AudienceConfig
) -> np.ndarray:
    """Which rows of ``segments`` (customer_segments) match ``spec``; ``predictions`` is
    customer_predictions of the same night (needed only by the prediction criteria)."""
    keep = np.ones(len(segments), dtype=bool)
    if spec.segments:
        keep &= in_segments(segments, spec.segments)
    if spec.rfm_segments:
        keep &= segments["rfm_segment"].isin(list(spec.rfm_segments)).to_numpy()
    if needs_predictions(spec):
        assert predictions is not None  # the step reads them when a criterion needs them
        scored = predictions.set_index("customer_id").reindex(segments["customer_id"])
        if spec.churn_risk:
            keep &= scored["churn_risk"].isin(list(spec.churn_risk)).to_numpy()
        if spec.min_predicted_clv_365d is not None:
            clv = scored["predicted_clv_365d"].to_numpy(dtype="float64", na_value=np.nan)
            keep &= np.nan_to_num(clv, nan=-np.inf) >= spec.min_predicted_clv_365d
    return keep


def members(
    segments: pd.DataFrame,
    predictions: pd.DataFrame | None,
    spec: AudienceConfig,
    held_out: np.ndarray,
) -> pd.DataFrame:
    """The audience tonight: customer_id, is_control, exported, segment_id, by customer id.

    ``held_out`` marks the global control group (one flag per row of ``segments``).
    """
    rows = segments[matches(segments, predictions, spec) & ~held_out]
    is_control = rows["is_control"].to_numpy(dtype=bool)
    out = pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype(str).to_numpy(),
            "is_control": is_control,
            "exported": np.ones(len(rows), dtype=bool) if spec.include_control else ~is_control,
            "segment_id": rows["segment_id"].to_numpy(dtype="int64"),
        }
    )
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def changes(previous: np.ndarray | None, tonight: np.ndarray) -> pd.DataFrame:
    """Who entered and who left the exported audience: customer_id, change (by customer id).

    ``previous`` is the exported customers of the audience's previous night (None: it has
    none, and everyone enters).
    """
    before = pd.Index(previous if previous is not None else [], dtype=object).unique()
    now = pd.Index(tonight, dtype=object).unique()
    entered, left = now[~now.isin(before)], before[~before.isin(now)]  # hashed, not sorted
    out = pd.DataFrame(
        {
            "customer_id": np.concatenate([entered.to_numpy(), left.to_numpy()]),
            "change": np.repeat(list(AUDIENCE_CHANGES), [len(entered), len(left)]),
        }
    )
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)
