"""The per-run segment tables, built by name from the night's pure results (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

SEGMENT_COLUMNS = (
    "customer_id",
    "segment_id",
    "segment_name",
    "model_version",
    "is_control",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "rfm_segment",
)
PROFILE_LEADING = (
    "segment_id",
    "segment_name",
    "description",
    "model_version",
    "rules",
    "affinity",
    "customers",
    "share",
    "control_customers",
)


def customer_segments(
    features: pd.DataFrame,
    segment_ids: np.ndarray,
    names: Mapping[int, str],
    model_version: str,
    is_control: np.ndarray,
    scores: pd.DataFrame,
) -> pd.DataFrame:
    """One row per customer: segment, name, control flag, RFM values and scores."""
    columns = {
        "customer_id": features["customer_id"].to_numpy(),
        "segment_id": segment_ids.astype("int64"),
        "segment_name": pd.Series(segment_ids).map(names).to_numpy(),
        "model_version": model_version,
        "is_control": is_control,
        **{c: features[c].to_numpy() for c in ("recency_days", "frequency", "monetary")},
        **{c: scores[c].to_numpy() for c in ("r_score", "f_score", "m_score", "rfm_score")},
        "rfm_segment": scores["rfm_segment"].to_numpy(),
    }
    return pd.DataFrame(columns)[list(SEGMENT_COLUMNS)]


def profiles_table(
    profiles: pd.DataFrame,
    model_version: str,
    texts: Mapping[str, Mapping[int, str]],
    control_counts: pd.Series,
    lifts: pd.DataFrame,
) -> pd.DataFrame:
    """``segment_profiles``: the profile statistics with names, texts, control counts, lifts.

    ``profiles`` has ``segment_id``, ``customers``, ``share`` and ``mean_<feature>`` columns;
    ``texts`` maps each of ``segment_name``, ``description``, ``rules`` and ``affinity`` to a
    text per segment id; ``lifts`` has one ``lift_<category>`` column per category, indexed
    by segment id.
    """
    sid = profiles["segment_id"]
    out = profiles.assign(
        segment_name=sid.map(texts["segment_name"]),
        description=sid.map(texts["description"]),
        model_version=model_version,
        rules=sid.map(texts["rules"]),
        affinity=sid.map(texts["affinity"]),
        control_customers=sid.map(control_counts).astype("int64"),
    )
    means = [c for c in profiles.columns if c.startswith("mean_")]
    return out[[*PROFILE_LEADING, *means]].join(lifts, on="segment_id")


def rules_table(segment_rules: pd.DataFrame, model_version: str) -> pd.DataFrame:
    """``segment_rules`` with the model version that produced the rules first."""
    return pd.concat(
        [pd.Series(model_version, index=segment_rules.index, name="model_version"), segment_rules],
        axis=1,
    )
