"""Names that stay true: the purchase cycle, each archetype's conditions, shared names with
qualifiers and descriptive names, on small frames with hand-computed figures."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.segments import naming, personas

pytestmark = pytest.mark.unit

COLUMNS = (
    "frequency",
    "monetary",
    "avg_order_value",
    "days_since_last_event",
    "recency_days",
    "tenure_days",
    "active_days",
    "conversion",
    "n_view",
)


def customers(rows: dict[int, tuple[int, dict[str, float]]]) -> tuple[pd.DataFrame, np.ndarray]:
    """``{segment_id: (customers, profile)}``: that many identical customers per segment."""
    frames, ids = [], []
    for sid, (n, profile) in rows.items():
        frames.append(pd.DataFrame([profile] * n, columns=list(COLUMNS)))
        ids += [sid] * n
    return pd.concat(frames, ignore_index=True), np.array(ids)


def profile(**values: float) -> dict[str, float]:
    base = dict.fromkeys(COLUMNS, 0.0) | {"conversion": 0.4, "n_view": 5.0}
    base |= values
    if base["frequency"] > 0 and "avg_order_value" not in values:
        base["avg_order_value"] = base["monetary"] / base["frequency"]
    return base


# ------------------------------------------------------------------ the purchase cycle


def test_purchase_cycle_is_the_median_gap_of_repeat_buyers() -> None:
    features = pd.DataFrame(
        {
            # A: (60 - 20) / 2 = 20 days; C: tenure capped at the window's start, 99 days:
            # (99 - 10) / 2 = 44.5 (uncapped (500 - 10) / 2 = 245); one-time and non-buyers
            # do not count
            "frequency": [3.0, 3.0, 1.0, 0.0],
            "tenure_days": [60.0, 500.0, 5.0, 40.0],
            "recency_days": [20.0, 10.0, 5.0, 40.0],
        }
    )
    assert naming.purchase_cycle(features, window_days=100) == pytest.approx((20 + 44.5) / 2)
    # uncapped: median (20 + 245) / 2 = 132.5, bounded to 90
    assert naming.purchase_cycle(features) == 90.0
    # everyone buys daily: the lower bound, a week
    daily = pd.DataFrame({"frequency": [10.0], "tenure_days": [9.0], "recency_days": [0.0]})
    assert naming.purchase_cycle(daily) == 7.0
    # nobody bought twice: a month
    assert naming.purchase_cycle(features.iloc[2:]) == 30.0


# ------------------------------------------------------------------ conditions


def test_every_archetype_has_conditions_on_known_statistics() -> None:
    features, ids = customers({1: (2, profile(frequency=2.0, monetary=50.0))})
    known = set(naming.segment_stats(features, ids).columns)
    assert set(naming.CONDITIONS) == set(naming.ARCHETYPES)
    for conditions in [*naming.CONDITIONS.values(), *(c for _, c in naming.DESCRIPTIVE)]:
        assert all(c.stat in known and c.op in naming.OPS for c in conditions)
    assert naming.DESCRIPTIVE[-1][1] == ()  # the last descriptive name always fits


def the_real_log() -> tuple[pd.DataFrame, np.ndarray]:
    """Issue 11's shop: everyone first came over a year ago; the lapsed majority in two.

    1 and 2: no purchase in the window, last seen 520 and 472 days ago, tenure 700 and 480;
    3: 2 purchases, the last 170 days ago; 4: 10 purchases, the last 5 days ago.
    Cycle: repeat buyers are 3 ((min(600, 364) - 170) / 1 = 194 days, 4 customers) and 4
    ((364 - 5) / 9 = 39.9 days, 6 customers): the median of ten is 39.9 days.
    """
    lapsed = {"frequency": 0.0, "monetary": 0.0, "conversion": 0.0, "n_view": 0.0}
    return customers(
        {
            1: (
                5,
                profile(
                    **lapsed, days_since_last_event=520.0, recency_days=520.0, tenure_days=700.0
                ),
            ),
            2: (
                5,
                profile(
                    **lapsed, days_since_last_event=472.0, recency_days=472.0, tenure_days=480.0
                ),
            ),
            3: (
                4,
                profile(
                    frequency=2.0,
                    monetary=100.0,
                    days_since_last_event=170.0,
                    recency_days=170.0,
                    tenure_days=600.0,
                    active_days=2.0,
                ),
            ),
            4: (
                6,
                profile(
                    frequency=10.0,
                    monetary=1000.0,
                    days_since_last_event=2.0,
                    recency_days=5.0,
                    tenure_days=600.0,
                    active_days=12.0,
                ),
            ),
        }
    )


def test_the_real_log_gets_names_that_are_true() -> None:
    features, ids = the_real_log()
    cycle = naming.purchase_cycle(features, window_days=365)
    assert cycle == pytest.approx(359 / 9)
    stats = naming.segment_stats(features, ids)
    # median monetary of 0 x10, 100 x4, 1000 x6 is (0 + 100) / 2 = 50: segment 4 spends 20x
    assert stats.attrs["spend_reference"] == "customer"
    assert stats.loc[4, "spend_ratio"] == 20.0
    fits = naming.eligibility(stats, cycle)
    # 3 bought twice, but 170 days ago, over 3 cycles (119.7): at risk, not loyal
    assert fits.loc[3, "at_risk"] and not fits.loc[3, "loyal"]
    # seen 472 days ago and a year and more of tenure: neither new nor promising
    assert not fits.loc[[1, 2], ["new", "promising", "loyal", "high_value_loyal"]].any(axis=None)
    assert fits.loc[4, "high_value_loyal"] and fits.loc[4, "loyal"]
    assert not fits.loc[4, "at_risk"] and not fits.loc[4, "hibernating"]

    keys = naming.assign_archetypes(features, ids, window_days=365)
    assert keys == {
        1: "hibernating:older",
        2: "hibernating:joined_later",
        3: "at_risk",
        4: "high_value_loyal",
    }
    assert naming.segment_names(keys, "en") == {
        1: "Hibernating, older customers",
        2: "Hibernating, joined later",
        3: "At risk",
        4: "High-value loyal",
    }
    assert naming.segment_names(keys, "zh") == {
        1: "沉睡客户（老客户）",
        2: "沉睡客户（较晚加入）",
        3: "流失风险客户",
        4: "高价值忠诚客户",
    }
    text = personas.describe_segments(features, ids, naming.segment_names(keys, "en"), "en")
    assert text[2] == (
        "Hibernating, joined later: 100% have not bought in the window, "
        "last seen 472 days ago on average."
    )
    assert text[3].startswith("At risk: spends 2.0× the median customer, 2.0 orders")
    assert "last bought 170 days ago" in text[3]


def test_without_repeat_buyers_nobody_is_loyal_and_new_means_recent() -> None:
    # one purchase each: the cycle is the fallback month, so new = tenure <= 90 days
    features, ids = customers(
        {
            1: (
                4,
                profile(
                    frequency=1.0,
                    monetary=40.0,
                    days_since_last_event=200.0,
                    recency_days=200.0,
                    tenure_days=200.0,
                ),
            ),
            2: (
                4,
                profile(
                    frequency=1.0,
                    monetary=40.0,
                    days_since_last_event=10.0,
                    recency_days=10.0,
                    tenure_days=400.0,
                ),
            ),
            3: (
                4,
                profile(
                    frequency=1.0,
                    monetary=40.0,
                    days_since_last_event=20.0,
                    recency_days=20.0,
                    tenure_days=20.0,
                ),
            ),
        }
    )
    assert naming.purchase_cycle(features) == 30.0
    fits = naming.eligibility(naming.segment_stats(features, ids), 30.0)
    assert not fits[["loyal", "high_value_loyal", "at_risk"]].any(axis=None)
    assert fits.loc[3, "new"] and not fits.loc[[1, 2], "new"].any()
    keys = naming.assign_archetypes(features, ids)
    # 1: seen 200 days ago, over 3 cycles; 2: bought 10 days ago, once, a customer of 400 days
    assert keys == {1: "hibernating", 2: "occasional", 3: "new"}


def test_a_segment_no_archetype_fits_gets_a_descriptive_name() -> None:
    # half bought twice, half not at all (1 purchase on average: not loyal; half repeat: not
    # occasional), bought 10 days ago, customers for 600 days, ordinary baskets and conversion.
    # Cycle: 590 days (2 customers) and 590 / 5 = 118 (4): median 118, bounded to 90, so
    # 600 days of tenure are over 6 cycles (540): not promising either
    half = {"days_since_last_event": 10.0, "recency_days": 10.0, "tenure_days": 600.0}
    features, ids = customers(
        {
            1: (2, profile(frequency=2.0, monetary=80.0, **half)),
            2: (2, profile(frequency=0.0, monetary=0.0, **half)),
            3: (4, profile(frequency=6.0, monetary=240.0, **half)),
        }
    )
    ids = np.where(ids == 2, 1, ids)  # 1 and 2 are one segment
    assert naming.purchase_cycle(features) == 90.0
    stats = naming.segment_stats(features, ids)
    assert stats.loc[1, "purchases"] == 1.0 and stats.loc[1, "repeat_share"] == 0.5
    assert not naming.eligibility(stats, naming.purchase_cycle(features)).loc[1].any()
    keys = naming.assign_archetypes(features, ids)
    assert keys[1] == "repeat_buyers"
    assert naming.segment_names(keys, "en")[1] == "Repeat buyers"
    assert naming.segment_names(keys, "zh")[1] == "复购客户"


def test_qualifiers_are_true_of_the_segments_sharing_a_name() -> None:
    z = pd.DataFrame(
        {
            "tenure_days": [1.0, -1.0, 0.0, 3.0],
            "days_since_last_event": [0.2, 0.0, 0.1, 0.0],
            "frequency": [0.0, 0.0, 0.0, 0.0],
            "monetary": [0.0, 0.5, -0.5, 0.0],
        },
        index=[1, 2, 3, 4],
    )
    # 1, 2, 3 share "lapsed" (group means: tenure 0, seen 0.1, monetary 0); 4 is alone
    keys = naming.qualify({1: "lapsed", 2: "lapsed", 3: "lapsed", 4: "new"}, z)
    # the largest total: 1 older (+1), 2 joined later (+1), 3 spend less (+0.5)
    assert keys == {1: "lapsed:older", 2: "lapsed:joined_later", 3: "lapsed:lower_spend", 4: "new"}
    # identical profiles cannot be told apart: no qualifier is true, placeholders instead
    same = naming.qualify({1: "new", 2: "new"}, z.loc[[4, 4]].set_axis([1, 2]))
    assert same == {1: "segment_1", 2: "segment_2"}


def test_a_previous_name_counts_only_while_it_fits() -> None:
    features, ids = the_real_log()
    plain = naming.assign_archetypes(features, ids, window_days=365)
    # 1 does not fit "at risk" (it bought nothing), and 3 keeps its only other fit for itself
    previous = {1: "at_risk", 3: "hibernating:older"}
    assert naming.assign_archetypes(features, ids, previous, window_days=365) == plain
    # 3 and 4 alike, both loyal and high-value: a qualified previous key keeps its archetype
    features.loc[ids == 3, :] = features[ids == 4].iloc[0].to_numpy()
    first = naming.assign_archetypes(features, ids, window_days=365)
    assert {first[3], first[4]} == {"loyal", "high_value_loyal"}
    swapped = {3: f"{first[4]}:older", 4: first[3]}
    again = naming.assign_archetypes(features, ids, swapped, window_days=365)
    assert (again[3], again[4]) == (first[4], first[3])


# ------------------------------------------------------------------ labels


def test_descriptive_and_qualifier_labels_in_both_languages() -> None:
    descriptive = {name for name, _ in naming.DESCRIPTIVE}
    for language in ("en", "zh"):
        assert set(naming.DESCRIPTIVE_LABELS[language]) == descriptive
        assert set(naming.QUALIFIER_LABELS[language]) == set(naming.QUALIFIERS)
        words = [*naming.LABELS[language].values(), *naming.DESCRIPTIVE_LABELS[language].values()]
        assert len(set(words)) == len(words)
        qualifiers = naming.QUALIFIER_LABELS[language].values()
        assert len(set(qualifiers)) == len(naming.QUALIFIERS)
    for table in (naming.DESCRIPTIVE_LABELS, naming.QUALIFIER_LABELS):
        assert all(re.search(r"[\u4e00-\u9fff]", v) for v in table["zh"].values())
    with pytest.raises(ValueError, match="unknown archetype key"):
        naming.segment_names({1: "hibernating:taller"}, "en")
