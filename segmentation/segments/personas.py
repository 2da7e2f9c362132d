"""Segment descriptions, category affinity and profiles; names come from ``naming``.

Each segment's name is chosen in ``segmentation.segments.naming`` (archetypes, the
conditions each needs on the absolute profile, qualifiers, labels in each language; re-exported
here). Its one-sentence description is recomputed every night from the same statistics
(``naming.segment_stats``) those conditions read, so the two say the same thing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.features.build import CATEGORY_PREFIX
from segmentation.features.labels import category_label
from segmentation.languages import in_language
from segmentation.segments.naming import (
    ARCHETYPES,
    CONDITIONS,
    LABELS,
    PLACEHOLDER_LABEL,
    PREVIOUS_NAME_BONUS,
    assign_archetypes,
    purchase_cycle,
    segment_names,
    segment_stats,
)

__all__ = [
    "ARCHETYPES",
    "CONDITIONS",
    "LABELS",
    "PLACEHOLDER_LABEL",
    "PREVIOUS_NAME_BONUS",
    "affinity_summary",
    "assign_archetypes",
    "category_affinity",
    "describe_segments",
    "purchase_cycle",
    "segment_names",
    "segment_profiles",
]

# a category is a segment's preference when its lift is at least this; at most TOP shown
MIN_LIFT = 1.2
TOP_AFFINITIES = 3

# sentence parts, by language
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "spend_customer": "spends {ratio}× the median customer",
        "spend_buyer": "spends {ratio}× the median buyer",
        "purchases": "{n:.1f} orders in the window",
        "last_bought": "last bought {days} ago on average",
        "not_bought": "{share:.0%} have not bought in the window",
        "last_seen": "last seen {days} ago on average",
        "category": "{share:.0%} of activity in {category}",
        "day": "1 day",
        "days": "{n} days",
        "head": "{name}: ",
        "sep": ", ",
        "end": ".",
        "no_preference": "no clear preference",
        "list_sep": ", ",
    },
    "zh": {
        "spend_customer": "消费额是客户中位数的 {ratio} 倍",
        "spend_buyer": "消费额是购买客户中位数的 {ratio} 倍",
        "purchases": "窗口期内平均下单 {n:.1f} 次",
        "last_bought": "平均 {days}前购买",
        "not_bought": "{share:.0%} 的客户在窗口期内未购买",
        "last_seen": "平均 {days}前最后活跃",
        "category": "{share:.0%} 的活动集中在 {category}",
        "day": "1 天",
        "days": "{n} 天",
        "head": "{name}：",
        "sep": "，",
        "end": "。",
        "no_preference": "无明显偏好",
        "list_sep": "、",
    },
}


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


def describe_segments(
    features: pd.DataFrame,
    segment_ids: np.ndarray,
    names: dict[int, str],
    language: str,
) -> dict[int, str]:
    """One sentence per segment, relative to the whole population.

    Spend compares the segment's median customer with the population's median customer:
    medians, as spend is long-tailed and a segment like everyone else should read 1.0×.
    When most customers have not bought (the population median is 0) the reference is the
    median buyer, and the sentence says so. Segments where most have not bought are
    described by how many have not and when they were last seen instead. The figures are
    ``naming.segment_stats``, the ones the names' conditions read.
    """
    text = in_language(_TEXT, language, "persona")
    ids = np.asarray(segment_ids)
    stats = segment_stats(features, ids)
    spend_text = text[f"spend_{stats.attrs['spend_reference']}"]
    top = _top_categories(category_affinity(features, ids))
    columns = {c: stats[c].to_numpy(dtype="float64") for c in stats.columns}
    out = {}
    for i, sid in enumerate(int(s) for s in stats.index):
        parts = []
        if columns["buyer_share"][i] >= 0.5:
            if not np.isnan(columns["spend_ratio"][i]):
                parts.append(spend_text.format(ratio=_ratio(columns["spend_ratio"][i])))
            parts.append(text["purchases"].format(n=columns["purchases"][i]))
            parts.append(text["last_bought"].format(days=_days(columns["recency"][i], text)))
        else:
            parts.append(text["not_bought"].format(share=1 - columns["buyer_share"][i]))
            parts.append(text["last_seen"].format(days=_days(columns["seen"][i], text)))
        if sid in top:
            category, share = top[sid]
            shown = category_label(category, language)
            parts.append(text["category"].format(share=share, category=shown))
        out[sid] = text["head"].format(name=names[sid]) + text["sep"].join(parts) + text["end"]
    return out


def category_affinity(features: pd.DataFrame, segment_ids: np.ndarray) -> pd.DataFrame:
    """Lift of each segment over the population in each category (association-rule view).

    One row per (segment_id, category): ``share`` (the segment's share of activity in the
    category), ``population_share`` and ``lift`` = share / population_share. Shares are the
    means of the customers' smoothed ``category_share_*`` features, not pooled event counts:
    every customer weighs the same, so a few very active customers cannot make a segment's
    taste, and customers with little activity sit near the population mix (the features'
    prior), which pulls thin evidence towards lift 1 instead of a spurious preference. The
    feature table has no raw per-category counts anyway. ``category`` is the column's name
    part (lower case, as in the feature table).
    """
    columns = sorted(c for c in features.columns if c.startswith(CATEGORY_PREFIX))
    shares = features[columns].astype("float64")
    means = shares.groupby(np.asarray(segment_ids), sort=True).mean()
    population = shares.mean().to_numpy(dtype="float64")
    n_segments, n_categories = len(means), len(columns)
    share = means.to_numpy(dtype="float64").ravel()
    base = np.tile(population, n_segments)
    lift = np.divide(share, base, out=np.full_like(share, np.nan), where=base > 0)
    return pd.DataFrame(
        {
            "segment_id": np.repeat(means.index.to_numpy(), n_categories).astype("int64"),
            "category": pd.Series(
                np.tile([c.removeprefix(CATEGORY_PREFIX) for c in columns], n_segments),
                dtype="string",
            ),
            "share": share,
            "population_share": base,
            "lift": lift,
        }
    )


def affinity_summary(affinity: pd.DataFrame, language: str) -> dict[int, str]:
    """Per segment, the categories it over-indexes on: lift >= MIN_LIFT, top by lift."""
    text = in_language(_TEXT, language, "persona")
    strong = affinity[affinity["lift"] >= MIN_LIFT].sort_values(
        ["segment_id", "lift", "category"], ascending=[True, False, True]
    )
    top = strong.groupby("segment_id", sort=True).head(TOP_AFFINITIES)
    out = {int(s): text["no_preference"] for s in np.unique(affinity["segment_id"].to_numpy())}
    for sid in np.unique(top["segment_id"].to_numpy()):
        rows = top[top["segment_id"] == sid]
        items = [
            f"{category_label(c, language)} {lift:.1f}×"
            for c, lift in zip(rows["category"], rows["lift"], strict=True)
        ]
        out[int(sid)] = text["list_sep"].join(items)
    return out


def _top_categories(affinity: pd.DataFrame) -> dict[int, tuple[str, float]]:
    """Per segment, the category with the largest share of activity (ties: by name)."""
    order = ["segment_id", "share", "category"]
    ranked = affinity.sort_values(order, ascending=[True, False, True])
    first = ranked.groupby("segment_id", sort=True).head(1)
    return {
        int(s): (str(c), float(v))
        for s, c, v in zip(first["segment_id"], first["category"], first["share"], strict=True)
    }


def _ratio(value: float) -> str:
    """A ratio with sensible precision: 15, 4.2, 0.4, 0.05, <0.01."""
    if round(value, 1) >= 10:
        return f"{value:.0f}"
    if round(value, 2) >= 0.1:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 0.005 else "<0.01"


def _days(value: float, text: dict[str, str]) -> str:
    n = round(value)
    return text["day"] if n == 1 else text["days"].format(n=n)
