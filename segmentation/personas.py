"""Segment names and one-sentence descriptions, derived from segment profiles.

Each segment is compared with the whole population on the model's log scale (how many
population standard deviations its mean lies away). Each archetype has a score built from
those comparisons; names are assigned one-to-one to maximise the total score (the
Hungarian method), so names are unique and the same profiles always give the same names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmentation.features import SKEWED_FEATURES

# archetype -> weights on standardised (log-scale) segment means
ARCHETYPES: dict[str, dict[str, float]] = {
    "High-value loyal": {"monetary": 1.0, "frequency": 1.0, "days_since_last_event": -0.5},
    "Hibernating": {"days_since_last_event": 1.5, "frequency": -0.5},
    "New": {"tenure_days": -1.5, "days_since_last_event": -0.3},
    "At risk": {"days_since_last_event": 1.0, "frequency": 0.5, "tenure_days": 0.3},
    "Bargain hunters": {"frequency": 0.5, "avg_order_value": -2.0},
    "Window shoppers": {"conversion": -1.5, "n_view": 0.7},
    "Loyal": {"frequency": 0.5, "days_since_last_event": -0.5, "tenure_days": 0.5},
    "Promising": {"days_since_last_event": -0.6, "frequency": -0.3, "tenure_days": -0.3},
    "Occasional": {"frequency": -0.5, "active_days": -0.5},
}
ARCHETYPE_FEATURES = sorted({f for weights in ARCHETYPES.values() for f in weights})
# compared on the model's log scale: the skewed features, and view counts
LOG_SCALE = SKEWED_FEATURES | {"n_view"}


def segment_profiles(
    features: pd.DataFrame, segment_ids: np.ndarray, columns: list[str]
) -> pd.DataFrame:
    """One row per segment: customers, share and the mean of each model feature."""
    frame = features[columns].astype("float64").assign(segment_id=segment_ids)
    grouped = frame.groupby("segment_id", sort=True)
    profiles = grouped.mean().add_prefix("mean_")
    profiles.insert(0, "customers", grouped.size().astype("int64"))
    profiles.insert(1, "share", profiles["customers"] / len(frame))
    return profiles.reset_index()


def name_segments(features: pd.DataFrame, segment_ids: np.ndarray) -> dict[int, str]:
    """A unique, deterministic name per segment id from its profile."""
    z = _standardised_means(features, segment_ids)
    ids = list(z.index)
    names = list(ARCHETYPES)
    weights = np.array([[ARCHETYPES[n].get(f, 0.0) for n in names] for f in z.columns])
    score = z.to_numpy() @ weights  # segments x archetypes
    # the one-to-one naming with the highest total score (Hungarian), stable for equal input
    rows, cols = linear_sum_assignment(score, maximize=True)
    result = {int(ids[r]): names[c] for r, c in zip(rows, cols, strict=True)}
    for s in ids:
        result.setdefault(int(s), f"Segment {int(s)}")
    return result


def describe_segments(
    features: pd.DataFrame, segment_ids: np.ndarray, names: dict[int, str]
) -> dict[int, str]:
    """One sentence per segment, relative to the median buyer."""
    frame = features.assign(segment_id=segment_ids, _buyer=features["frequency"] > 0)
    buyers = frame[frame["_buyer"]]
    median_spend = float(buyers["monetary"].median()) if len(buyers) else 0.0
    share_cols = [c for c in features.columns if c.startswith("category_share_")]
    out = {}
    for sid, group in frame.groupby("segment_id", sort=True):
        bought = group[group["_buyer"]]
        parts = []
        if len(bought) * 2 >= len(group):
            if median_spend > 0:
                ratio = float(bought["monetary"].mean()) / median_spend
                parts.append(f"buyers spend {ratio:.1f}x the median buyer")
            parts.append(f"last bought {bought['recency_days'].mean():.0f} days ago on average")
            parts.append(f"{group['frequency'].mean():.1f} purchases in the window")
        else:
            parts.append(f"{1 - len(bought) / len(group):.0%} have not bought in the window")
            parts.append(
                f"last seen {group['days_since_last_event'].mean():.0f} days ago on average"
            )
        if share_cols:
            shares = group[share_cols].mean()
            top = str(shares.idxmax()).removeprefix("category_share_")
            parts.append(f"{shares.max():.0%} of activity in {top}")
        key = int(str(sid))
        out[key] = f"{names[key]}: " + ", ".join(parts) + "."
    return out


def _standardised_means(features: pd.DataFrame, segment_ids: np.ndarray) -> pd.DataFrame:
    cols = [c for c in ARCHETYPE_FEATURES if c in features]
    values = features[cols].astype("float64")
    for c in cols:
        if c in LOG_SCALE:
            values[c] = np.log1p(values[c].clip(lower=0))
    if "avg_order_value" in values and "frequency" in features:
        # basket size only means something for buyers
        values.loc[features["frequency"].to_numpy() == 0, "avg_order_value"] = np.nan
    std = values.std(ddof=0).replace(0, 1.0)
    means = values.assign(segment_id=segment_ids).groupby("segment_id", sort=True).mean()
    return ((means - values.mean()) / std).fillna(0.0)
