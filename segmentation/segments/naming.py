"""Segment names that stay true: archetypes, the conditions each needs, qualifiers, labels.

A segment may carry an archetype's name only when its absolute profile meets that
archetype's ``CONDITIONS``, stated where natural in the shop's own purchase cycle (the
median days between a customer's purchases, ``purchase_cycle``). Among the archetypes a
segment fits, the one-to-one assignment with the highest total score (the Hungarian method
on how many population standard deviations its log-scale means lie away) decides. A segment
left without an archetype of its own shares the best-scoring one it fits; a segment that fits
none gets a descriptive name (``DESCRIPTIVE``). Segments sharing a name are told apart by a
qualifier ("Hibernating, joined later") that is true of them against the others of the group.

Keys are language-neutral ("high_value_loyal", "hibernating:joined_later"); the words a
marketer reads come from the labels at the edge (``segment_names``), so a segment keeps its
identity when the report language changes, and a key kept from one night to the next keeps
its name.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmentation.features.build import SKEWED_FEATURES
from segmentation.languages import in_language

# archetype key -> weights on standardised (log-scale) segment means: which fitting one wins
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

# The purchase cycle: the median over repeat buyers of their mean days between purchases,
# bounded so that "a few cycles" is neither hours nor years; without repeat buyers, a month.
CYCLE_FALLBACK = 30.0
CYCLE_BOUNDS = (7.0, 90.0)


class Condition(NamedTuple):
    """``stat op value`` on a segment's statistics (``segment_stats``); ``value`` is in
    purchase cycles when ``cycles`` is true, else as the statistic is."""

    stat: str
    op: str
    value: float
    cycles: bool = False

    def threshold(self, cycle: float) -> float:
        return self.value * cycle if self.cycles else self.value


OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}
# the shared pieces; the statistics are those the descriptions print, where they print one
MOSTLY_BUYERS = Condition("buyer_share", ">=", 0.5)
MOSTLY_REPEAT = Condition("repeat_share", ">=", 0.5)
TWO_PURCHASES = Condition("purchases", ">=", 2.0)
BOUGHT_RECENTLY = Condition("recency", "<=", 3.0, cycles=True)
ESTABLISHED = Condition("tenure", ">", 3.0, cycles=True)
STILL_SEEN = Condition("seen", "<=", 3.0, cycles=True)

# archetype -> every condition it needs (all must hold)
CONDITIONS: dict[str, tuple[Condition, ...]] = {
    "high_value_loyal": (
        MOSTLY_REPEAT,
        TWO_PURCHASES,
        BOUGHT_RECENTLY,
        ESTABLISHED,
        Condition("spend_ratio", ">=", 2.0),
    ),
    "loyal": (MOSTLY_REPEAT, TWO_PURCHASES, BOUGHT_RECENTLY, ESTABLISHED),
    "new": (Condition("tenure", "<=", 3.0, cycles=True), STILL_SEEN),
    "promising": (MOSTLY_BUYERS, BOUGHT_RECENTLY, Condition("tenure", "<=", 6.0, cycles=True)),
    "at_risk": (MOSTLY_REPEAT, TWO_PURCHASES, Condition("recency", ">", 3.0, cycles=True)),
    "hibernating": (Condition("seen", ">", 3.0, cycles=True),),
    "bargain_hunters": (MOSTLY_BUYERS, Condition("basket_ratio", "<=", 0.6), STILL_SEEN),
    "window_shoppers": (Condition("conversion_ratio", "<=", 0.5), STILL_SEEN),
    "occasional": (MOSTLY_BUYERS, Condition("repeat_share", "<", 0.5), STILL_SEEN),
}
# a segment no archetype fits: the first of these whose conditions hold (the last always does)
DESCRIPTIVE: tuple[tuple[str, tuple[Condition, ...]], ...] = (
    ("non_buyers", (Condition("buyer_share", "<", 0.5),)),
    ("lapsed", (Condition("recency", ">", 3.0, cycles=True),)),
    ("repeat_buyers", (MOSTLY_REPEAT,)),
    ("one_time_buyers", ()),
)
# qualifier -> (feature, direction): higher or lower than the other segments of its name
QUALIFIERS: dict[str, tuple[str, int]] = {
    "older": ("tenure_days", 1),
    "joined_later": ("tenure_days", -1),
    "gone_longer": ("days_since_last_event", 1),
    "seen_recently": ("days_since_last_event", -1),
    "more_frequent": ("frequency", 1),
    "less_frequent": ("frequency", -1),
    "higher_spend": ("monetary", 1),
    "lower_spend": ("monetary", -1),
}

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
DESCRIPTIVE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "non_buyers": "Not buying",
        "lapsed": "Lapsed",
        "repeat_buyers": "Repeat buyers",
        "one_time_buyers": "One-time buyers",
    },
    "zh": {
        "non_buyers": "未购买客户",
        "lapsed": "已流失客户",
        "repeat_buyers": "复购客户",
        "one_time_buyers": "单次购买客户",
    },
}
QUALIFIER_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "older": "older customers",
        "joined_later": "joined later",
        "gone_longer": "gone longer",
        "seen_recently": "seen more recently",
        "more_frequent": "buy more often",
        "less_frequent": "buy less often",
        "higher_spend": "spend more",
        "lower_spend": "spend less",
    },
    "zh": {
        "older": "老客户",
        "joined_later": "较晚加入",
        "gone_longer": "离开更久",
        "seen_recently": "近期更活跃",
        "more_frequent": "购买更频繁",
        "less_frequent": "购买较少",
        "higher_spend": "消费更高",
        "lower_spend": "消费更低",
    },
}
QUALIFIED = {"en": "{name}, {qualifier}", "zh": "{name}（{qualifier}）"}
# label of a segment no name could be given ("segment_<id>"), by language
PLACEHOLDER_LABEL = {"en": "Segment {id}", "zh": "分群 {id}"}
PLACEHOLDER_KEY = re.compile(r"segment_(-?\d+)")

# score (in population standard deviations) a segment's previous name is worth keeping
PREVIOUS_NAME_BONUS = 1.0
# an archetype a segment does not fit: far below any score, so fits are assigned first
UNFIT = -1e6


def purchase_cycle(features: pd.DataFrame, window_days: int | None = None) -> float:
    """The shop's purchase cycle in days, from tonight's features alone.

    For each repeat buyer (two purchases or more in the window), the days from the start of
    its activity in the window to its last purchase, over its purchases less one: its mean
    days between purchases (from its first event, so at most a little long). The cycle is
    their median, bounded by ``CYCLE_BOUNDS``; ``CYCLE_FALLBACK`` without repeat buyers.
    ``window_days`` (``features.window_days``) caps the tenure at the window's start.
    """
    frequency = features["frequency"].to_numpy(dtype="float64")
    repeat = frequency >= 2
    if not repeat.any():
        return CYCLE_FALLBACK
    start = features["tenure_days"].to_numpy(dtype="float64")[repeat]
    if window_days is not None:
        start = np.minimum(start, window_days - 1)
    span = np.maximum(start - features["recency_days"].to_numpy(dtype="float64")[repeat], 0.0)
    cycle = float(np.median(span / (frequency[repeat] - 1)))
    return float(np.clip(cycle, *CYCLE_BOUNDS))


def segment_stats(features: pd.DataFrame, segment_ids: np.ndarray) -> pd.DataFrame:
    """Per segment (sorted by id) the statistics the conditions and the descriptions read.

    ``customers``, ``buyers`` (bought in the window), ``buyer_share``, ``repeat_share``
    (bought twice or more), ``purchases`` (mean), ``spend`` (median) and ``spend_ratio`` (over
    the median customer, or the median buyer when most have not bought: ``spend_reference``
    in ``attrs``), ``recency`` (mean days since the last purchase, of buyers), ``seen`` (mean
    days since the last event), ``tenure`` (median), ``basket_ratio`` (median basket of its
    buyers over all buyers'), ``conversion_ratio`` (mean conversion over the population's).
    A statistic of a column the features lack is NaN, and no condition on it holds.
    """
    n = len(features)

    def col(name: str) -> np.ndarray:
        return features[name].to_numpy(dtype="float64") if name in features else np.full(n, np.nan)

    frequency = col("frequency")
    buyer = frequency > 0
    frame = pd.DataFrame(
        {
            "segment_id": np.asarray(segment_ids),
            "buyer": buyer,
            "repeat": frequency >= 2,
            "purchases": frequency,
            "spend": col("monetary"),
            "recency": np.where(buyer, col("recency_days"), np.nan),
            "seen": col("days_since_last_event"),
            "tenure": col("tenure_days"),
            "basket": np.where(buyer, col("avg_order_value"), np.nan),
            "conversion": col("conversion"),
        }
    )
    stats = frame.groupby("segment_id", sort=True).agg(
        customers=("buyer", "size"),
        buyers=("buyer", "sum"),
        repeat_share=("repeat", "mean"),
        purchases=("purchases", "mean"),
        spend=("spend", "median"),
        recency=("recency", "mean"),
        seen=("seen", "mean"),
        tenure=("tenure", "median"),
        basket=("basket", "median"),
        conversion=("conversion", "mean"),
    )
    stats["buyer_share"] = stats["buyers"] / stats["customers"]
    reference, kind = reference_spend(frame["spend"].to_numpy(), buyer)
    stats["spend_ratio"] = stats["spend"] / reference if reference > 0 else np.nan
    stats["basket_ratio"] = stats["basket"] / _median(frame["basket"].to_numpy()[buyer])
    stats["conversion_ratio"] = stats["conversion"] / _mean(frame["conversion"].to_numpy())
    stats.attrs["spend_reference"] = kind
    return stats.astype({"customers": "int64", "buyers": "int64"})


def reference_spend(spend: np.ndarray, buyer: np.ndarray) -> tuple[float, str]:
    """The population's median spend ("customer"), or the median buyer's ("buyer") when most
    have not bought (the median customer spent nothing)."""
    median = _median(spend)
    if median > 0:
        return median, "customer"
    bought = _median(spend[buyer])
    return (0.0 if np.isnan(bought) else bought), "buyer"


def fitting(stats: pd.DataFrame, conditions: tuple[Condition, ...], cycle: float) -> np.ndarray:
    """Whether each segment of ``stats`` meets every one of ``conditions`` (NaN: it does not)."""
    fits = np.ones(len(stats), dtype=bool)
    for c in conditions:
        fits &= OPS[c.op](stats[c.stat].to_numpy(dtype="float64"), c.threshold(cycle))
    return fits


def eligibility(stats: pd.DataFrame, cycle: float) -> pd.DataFrame:
    """Segments x archetypes: whether the segment meets the archetype's conditions."""
    return pd.DataFrame(
        {name: fitting(stats, CONDITIONS[name], cycle) for name in ARCHETYPES}, index=stats.index
    )


def assign_archetypes(
    features: pd.DataFrame,
    segment_ids: np.ndarray,
    previous: dict[int, str] | None = None,
    window_days: int | None = None,
) -> dict[int, str]:
    """A key per segment id, from its profile: true of it, unique, the same for the same data.

    The one-to-one assignment of the archetypes each segment fits with the highest total
    score (Hungarian). A segment's ``previous`` archetype (its key's first part) earns a bonus
    of ``PREVIOUS_NAME_BONUS``, so a name stays with its segment from one model to the next
    unless the profile has clearly moved to another archetype, or no longer fits it. A segment
    left over shares the best-scoring archetype it fits, else gets the first ``DESCRIPTIVE``
    name it fits; segments sharing a name get qualifiers (``qualify``).
    """
    z = _standardised_means(features, segment_ids)
    stats = segment_stats(features, segment_ids)
    cycle = purchase_cycle(features, window_days)
    fits = eligibility(stats, cycle).to_numpy()
    ids = [int(s) for s in z.index]
    names = list(ARCHETYPES)
    weights = np.array([[ARCHETYPES[a].get(f, 0.0) for a in names] for f in z.columns])
    score = z.to_numpy() @ weights  # segments x archetypes
    for row, sid in enumerate(ids):
        before = (previous or {}).get(sid, "").partition(":")[0]
        if before in ARCHETYPES:
            score[row, names.index(before)] += PREVIOUS_NAME_BONUS
    score = np.where(fits, score, UNFIT)
    rows, cols = linear_sum_assignment(score, maximize=True)
    bases = {ids[i]: names[j] for i, j in zip(rows, cols, strict=True) if fits[i, j]}
    for row, sid in enumerate(ids):
        if sid in bases:
            continue
        if fits[row].any():
            bases[sid] = names[int(np.argmax(score[row]))]  # ties: the first archetype
        else:
            bases[sid] = _descriptive(stats.iloc[[row]], cycle)
    return dict(sorted(qualify(bases, z).items()))


def qualify(bases: dict[int, str], z: pd.DataFrame) -> dict[int, str]:
    """``bases`` with a qualifier for each segment sharing its base with others.

    Within a group, each segment's deviation from the group's mean (standardised, log scale)
    on each qualifier's feature, in its direction; qualifiers are assigned one-to-one for the
    largest total (Hungarian), and only where the deviation is positive, so "older customers"
    is older than the group on average. Two segments get the two ends of the feature on which
    they differ most. A segment left without one is ``segment_<id>``.
    """
    out = dict(bases)
    groups = pd.Series(bases).groupby(pd.Series(bases), sort=True)
    qualifiers = [q for q, (feature, _) in QUALIFIERS.items() if feature in z.columns]
    for base, members in groups:
        if len(members) < 2:
            continue
        ids = sorted(int(s) for s in members.index)
        out |= {sid: f"segment_{sid}" for sid in ids}
        if not qualifiers:
            continue
        group = z.loc[ids]
        deviation = group - group.mean()
        value = np.column_stack(
            [deviation[QUALIFIERS[q][0]].to_numpy() * QUALIFIERS[q][1] for q in qualifiers]
        )
        value = np.where(value > 1e-9, value, UNFIT)
        rows, cols = linear_sum_assignment(value, maximize=True)
        out |= {
            ids[i]: f"{base}:{qualifiers[j]}"
            for i, j in zip(rows, cols, strict=True)
            if value[i, j] > 0
        }
    return out


def segment_names(keys: dict[int, str], language: str) -> dict[int, str]:
    """The label of each segment's key in ``language``; unique, or an error."""
    labels = in_language(LABELS, language, "persona") | DESCRIPTIVE_LABELS[language]
    names = {}
    for sid, key in keys.items():
        placeholder = PLACEHOLDER_KEY.fullmatch(key)
        base, _, qualifier = key.partition(":")
        if placeholder:
            names[sid] = PLACEHOLDER_LABEL[language].format(id=int(placeholder.group(1)))
        elif base in labels and not qualifier:
            names[sid] = labels[base]
        elif base in labels and qualifier in QUALIFIER_LABELS[language]:
            shown = QUALIFIER_LABELS[language][qualifier]
            names[sid] = QUALIFIED[language].format(name=labels[base], qualifier=shown)
        else:
            raise ValueError(f"unknown archetype key {key!r} for segment {sid}")
    if len(set(names.values())) != len(names):
        raise ValueError(f"segment names are not unique: {sorted(keys.items())}")
    return names


def _descriptive(stats: pd.DataFrame, cycle: float) -> str:
    """The first ``DESCRIPTIVE`` name the one segment of ``stats`` fits."""
    return next(name for name, conditions in DESCRIPTIVE if fitting(stats, conditions, cycle)[0])


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


def _median(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) else float("nan")


def _mean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")
