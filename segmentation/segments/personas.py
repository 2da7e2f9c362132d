"""Segment archetypes, their names in each language, descriptions and category affinity.

Each segment is compared with the whole population on the model's log scale (how many
population standard deviations its mean lies away). Each archetype has a score built from
those comparisons; archetypes are assigned one-to-one to maximise the total score (the
Hungarian method), so they are unique and the same profiles always give the same ones.

Archetypes have stable language-neutral keys ("high_value_loyal"); the words a marketer
reads come from ``LABELS`` at the edge, so a segment keeps its identity when the report
language changes, and a key kept from one night to the next keeps its name.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmentation.features.build import CATEGORY_PREFIX, SKEWED_FEATURES
from segmentation.features.labels import category_label
from segmentation.languages import in_language

# archetype key -> weights on standardised (log-scale) segment means
ARCHETYPES: dict[str, dict[str, float]] = {
    "high_value_loyal": {"monetary": 1.0, "frequency": 1.0, "days_since_last_event": -0.5},
    "hibernating": {"days_since_last_event": 1.5, "frequency": -0.5},
    "new": {"tenure_days": -1.5, "days_since_last_event": -0.3},
    "at_risk": {"days_since_last_event": 1.0, "frequency": 0.5, "tenure_days": 0.3},
    "bargain_hunters": {"frequency": 0.5, "avg_order_value": -2.0},
    "window_shoppers": {"conversion": -1.5, "n_view": 0.7},
    "loyal": {"frequency": 0.5, "days_since_last_event": -0.5, "tenure_days": 0.5},
    "promising": {"days_since_last_event": -0.6, "frequency": -0.3, "tenure_days": -0.3},
    "occasional": {"frequency": -0.5, "active_days": -0.5},
}
ARCHETYPE_FEATURES = sorted({f for weights in ARCHETYPES.values() for f in weights})
# compared on the model's log scale: the skewed features, and view counts
LOG_SCALE = SKEWED_FEATURES | {"n_view"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "high_value_loyal": "High-value loyal",
        "hibernating": "Hibernating",
        "new": "New",
        "at_risk": "At risk",
        "bargain_hunters": "Bargain hunters",
        "window_shoppers": "Window shoppers",
        "loyal": "Loyal",
        "promising": "Promising",
        "occasional": "Occasional",
    },
    "zh": {
        "high_value_loyal": "高价值忠诚客户",
        "hibernating": "沉睡客户",
        "new": "新客户",
        "at_risk": "流失风险客户",
        "bargain_hunters": "价格敏感客户",
        "window_shoppers": "只逛不买客户",
        "loyal": "忠诚客户",
        "promising": "潜力客户",
        "occasional": "偶尔购买客户",
    },
}
# label of a segment beyond the archetypes ("segment_<id>"), by language
PLACEHOLDER_LABEL = {"en": "Segment {id}", "zh": "分群 {id}"}
PLACEHOLDER_KEY = re.compile(r"segment_(-?\d+)")

# a category is a segment's preference when its lift is at least this; at most TOP shown
MIN_LIFT = 1.2
# score (in population standard deviations) a segment's previous name is worth keeping
PREVIOUS_NAME_BONUS = 1.0
TOP_AFFINITIES = 3

# sentence parts, by language
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "spend_customer": "spends {ratio}× the median customer",
        "spend_buyer": "spends {ratio}× the median buyer",
        "purchases": "{n:.1f} purchases in the window",
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
        "purchases": "窗口期内平均购买 {n:.1f} 次",
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


def assign_archetypes(
    features: pd.DataFrame, segment_ids: np.ndarray, previous: dict[int, str] | None = None
) -> dict[int, str]:
    """A unique archetype key per segment id, from its profile.

    The one-to-one assignment with the highest total score (Hungarian). A segment's
    ``previous`` key earns a bonus of ``PREVIOUS_NAME_BONUS``, so a name stays with its
    segment from one model to the next unless the profile has clearly moved to another
    archetype. Ids left over when the archetypes run out get ``segment_<id>``.
    """
    z = _standardised_means(features, segment_ids)
    ids = [int(s) for s in z.index]
    names = list(ARCHETYPES)
    weights = np.array([[ARCHETYPES[a].get(f, 0.0) for a in names] for f in z.columns])
    score = z.to_numpy() @ weights  # segments x archetypes
    for row, sid in enumerate(ids):
        if (previous or {}).get(sid) in ARCHETYPES:
            score[row, names.index((previous or {})[sid])] += PREVIOUS_NAME_BONUS
    r, c = linear_sum_assignment(score, maximize=True)
    result = {ids[i]: names[j] for i, j in zip(r, c, strict=True)}
    for sid in ids:
        result.setdefault(sid, f"segment_{sid}")
    return dict(sorted(result.items()))


def segment_names(keys: dict[int, str], language: str) -> dict[int, str]:
    """The label of each segment's archetype key in ``language``; unique, or an error."""
    labels = _labels(language)
    names = {}
    for sid, key in keys.items():
        placeholder = PLACEHOLDER_KEY.fullmatch(key)
        if key in labels:
            names[sid] = labels[key]
        elif placeholder:
            names[sid] = PLACEHOLDER_LABEL[language].format(id=int(placeholder.group(1)))
        else:
            raise ValueError(f"unknown archetype key {key!r} for segment {sid}")
    if len(set(names.values())) != len(names):
        raise ValueError(f"segment names are not unique: {sorted(keys.items())}")
    return names


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
    described by how many have not and when they were last seen instead.
    """
    text = in_language(_TEXT, language, "persona")
    ids = np.asarray(segment_ids)
    buyer = features["frequency"].to_numpy(dtype="float64") > 0
    spend = features["monetary"].to_numpy(dtype="float64")
    frame = pd.DataFrame(
        {
            "segment_id": ids,
            "buyer": buyer,
            "spend": spend,
            "purchases": features["frequency"].to_numpy(dtype="float64"),
            "recency": np.where(buyer, features["recency_days"].to_numpy(dtype="float64"), np.nan),
            "seen": features["days_since_last_event"].to_numpy(dtype="float64"),
        }
    )
    stats = frame.groupby("segment_id", sort=True).agg(
        customers=("buyer", "size"),
        buyers=("buyer", "sum"),
        spend=("spend", "median"),
        purchases=("purchases", "mean"),
        recency=("recency", "mean"),
        seen=("seen", "mean"),
    )
    reference, spend_text = _reference_spend(spend, buyer, text)
    top = _top_categories(category_affinity(features, ids))
    columns = {c: stats[c].to_numpy(dtype="float64") for c in stats.columns}
    out = {}
    for i, sid in enumerate(int(s) for s in stats.index):
        customers, buyers = columns["customers"][i], columns["buyers"][i]
        parts = []
        if buyers * 2 >= customers:
            if reference > 0:
                ratio = _ratio(columns["spend"][i] / reference)
                parts.append(spend_text.format(ratio=ratio))
            parts.append(text["purchases"].format(n=columns["purchases"][i]))
            parts.append(text["last_bought"].format(days=_days(columns["recency"][i], text)))
        else:
            parts.append(text["not_bought"].format(share=1 - buyers / customers))
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


def _standardised_means(features: pd.DataFrame, segment_ids: np.ndarray) -> pd.DataFrame:
    """Segment means of the archetype features in population standard deviations."""
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


def _labels(language: str) -> dict[str, str]:
    return in_language(LABELS, language, "persona")


def _reference_spend(
    spend: np.ndarray, buyer: np.ndarray, text: dict[str, str]
) -> tuple[float, str]:
    """The population's median spend, or the median buyer's when most have not bought."""
    median = float(np.median(spend)) if len(spend) else 0.0
    if median > 0:
        return median, text["spend_customer"]
    bought = spend[buyer]
    return (float(np.median(bought)) if len(bought) else 0.0), text["spend_buyer"]


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
