"""Association rules on a small hand-computed basket set: support, confidence, lift,
leverage and counts exactly, the bounds, the ranking, and the segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.config import RulesMiningConfig
from segmentation.recommendations import rules, tables

pytestmark = pytest.mark.unit

ITEMS = np.array(["A", "B", "C", "D"])


def baskets(spec: list[tuple[int, str]]) -> pd.DataFrame:
    """One basket per entry: (customer, its items as letters)."""
    rows = [
        (b, customer, "ABCD".index(item))
        for b, (customer, items) in enumerate(spec)
        for item in items
    ]
    return pd.DataFrame(rows, columns=["basket", "customer", "item"])


# 10 baskets of customer 0 (segment 0) and customer 1 (segment 1):
# AB x4 (cust 0), A x2 (cust 1), BC x1 (cust 1), C x3 (cust 0)
SPEC = [(0, "AB")] * 4 + [(1, "A")] * 2 + [(1, "BC")] + [(0, "C")] * 3
LOOSE = RulesMiningConfig(min_support=0.1, min_confidence=0.1, min_lift=1.0, min_count=1)


def test_support_confidence_lift_and_leverage_are_the_hand_computed_values() -> None:
    found = rules.mine(baskets(SPEC), np.array([-1, -1]), ITEMS, LOOSE)
    # over 10 baskets: A in 6, B in 5, C in 4; AB in 4 (support 0.4), BC in 1 (0.1)
    # B -> A: confidence 4/5 = 0.8, lift 0.4 / (0.6 x 0.5) = 4/3, leverage 0.4 - 0.3 = 0.1
    # A -> B: confidence 4/6; B -> C and C -> B: lift 0.1 / (0.5 x 0.4) = 0.5 < 1, dropped
    assert found[["antecedent", "consequent"]].map(tuple).values.tolist() == [
        [("B",), ("A",)],
        [("A",), ("B",)],
    ]
    assert found["segment_id"].isna().all()
    assert found["support"].tolist() == pytest.approx([0.4, 0.4])
    assert found["confidence"].tolist() == pytest.approx([0.8, 4 / 6])
    assert found["lift"].tolist() == pytest.approx([4 / 3, 4 / 3])
    assert found["leverage"].tolist() == pytest.approx([0.1, 0.1])
    assert found["baskets"].tolist() == [4, 4]
    assert found["rank"].tolist() == [1, 2]  # equal lift: the more confident first


def test_rules_per_segment_count_only_the_segments_baskets() -> None:
    found = rules.mine(baskets(SPEC), np.array([0, 1]), ITEMS, LOOSE)
    seg0 = found[found["segment_id"] == 0]
    # segment 0: AB x4 and C x3, 7 baskets: A -> B has confidence 1 and lift 7/4
    assert seg0["lift"].tolist() == pytest.approx([7 / 4, 7 / 4])
    assert seg0["support"].tolist() == pytest.approx([4 / 7, 4 / 7])
    seg1 = found[found["segment_id"] == 1]
    # segment 1: A x2 and BC, 3 baskets: B -> C with lift (1/3) / (1/3 x 1/3) = 3
    assert sorted(seg1["antecedent"].map(tuple)) == [("B",), ("C",)]
    assert seg1["lift"].tolist() == pytest.approx([3.0, 3.0])
    assert seg1["baskets"].tolist() == [1, 1]


def test_no_rule_below_min_count_min_confidence_or_min_lift() -> None:
    spec = SPEC + [(0, "CD")] * 2  # 12 baskets; CD in 2
    assert set(rules.mine(baskets(spec), np.array([-1, -1]), ITEMS, LOOSE)["baskets"]) >= {2}
    strict = RulesMiningConfig(min_support=0.1, min_confidence=0.1, min_lift=1.0, min_count=3)
    assert (rules.mine(baskets(spec), np.array([-1, -1]), ITEMS, strict)["baskets"] >= 3).all()
    confident = RulesMiningConfig(min_support=0.1, min_confidence=0.75, min_lift=1.0, min_count=1)
    found = rules.mine(baskets(SPEC), np.array([-1, -1]), ITEMS, confident)
    assert found["confidence"].min() >= 0.75 and len(found) == 1  # B -> A only
    lifted = RulesMiningConfig(min_support=0.1, min_confidence=0.1, min_lift=1.5, min_count=1)
    assert rules.mine(baskets(SPEC), np.array([-1, -1]), ITEMS, lifted).empty


def test_support_counts_every_basket_though_fpgrowth_reads_only_multi_item_ones() -> None:
    # 100 single-item baskets of D dilute the pair AB: its support is 4/110, not 4/10
    spec = SPEC + [(0, "D")] * 100
    found = rules.mine(
        baskets(spec),
        np.array([-1, -1]),
        ITEMS,
        RulesMiningConfig(min_support=0.03, min_confidence=0.1, min_lift=1.0, min_count=1),
    )
    b_to_a = found[found["antecedent"].map(tuple) == ("B",)].iloc[0]
    assert b_to_a["support"] == pytest.approx(4 / 110)
    assert b_to_a["confidence"] == pytest.approx(4 / 5)
    assert b_to_a["lift"] == pytest.approx((4 / 110) / ((6 / 110) * (5 / 110)))
    # and min_support over all baskets: at 0.05 (5.5 baskets) AB (4) is no longer frequent
    higher = RulesMiningConfig(min_support=0.05, min_confidence=0.1, min_lift=1.0, min_count=1)
    assert rules.mine(baskets(spec), np.array([-1, -1]), ITEMS, higher).empty


def test_three_item_rules_and_the_cap_per_segment() -> None:
    spec = [(0, "ABC")] * 5 + [(0, "D")] * 5
    found = rules.mine(baskets(spec), np.array([-1]), ITEMS, LOOSE)
    # 6 rules of the pairs (A -> B, B -> A, ...) and 6 of the triple (A -> BC, AB -> C, ...),
    # each in 5 of 10 baskets whose items are each in the same 5: lift 0.5 / 0.25 = 2
    assert len(found) == 12
    assert found["lift"].tolist() == pytest.approx([2.0] * 12)
    assert set(found["baskets"]) == {5}
    capped = RulesMiningConfig(
        min_support=0.1, min_confidence=0.1, min_lift=1.0, min_count=1, max_rules_per_segment=3
    )
    assert rules.mine(baskets(spec), np.array([-1]), ITEMS, capped)["rank"].tolist() == [1, 2, 3]
    pairs_only = RulesMiningConfig(
        min_support=0.1, min_confidence=0.1, min_lift=1.0, min_count=1, max_items=2
    )
    found = rules.mine(baskets(spec), np.array([-1]), ITEMS, pairs_only)
    assert (found["antecedent"].map(len) + found["consequent"].map(len)).max() == 2


def test_the_profiles_say_a_segments_strongest_rules_in_words() -> None:
    found = pd.DataFrame(
        {
            "segment_id": pd.array([None, 2, 2, 2, 2], dtype="Int64"),
            "antecedent": [["A"], ["P00012"], ["A", "B"], ["C"], ["D"]],
            "consequent": [["B"], ["P00013"], ["C"], ["D"], ["E"]],
            "lift": [9.0, 4.12, 3.0, 2.0, 1.6],
            "rank": [1, 1, 2, 3, 4],
        }
    )
    said = tables.bought_together(found, "en")
    assert said.to_dict() == {
        2: "who buy P00012 also buy P00013 (4.1x the usual rate); "
        "who buy A + B also buy C (3.0x the usual rate); "
        "who buy C also buy D (2.0x the usual rate)"
    }
    assert tables.bought_together(found, "zh")[2].startswith(
        "买 P00012 的顾客也买 P00013（是平常的 4.1 倍）；"
    )


def test_an_itemset_in_exactly_min_count_baskets_is_kept_whatever_the_float_rounding() -> None:
    # 20 baskets {A, B} and 127 {A, C}: 147 multi-item baskets, where 20 / 147 * 147 rounds
    # above 20 in floating point; the pair AB rests on exactly min_count baskets
    spec = [(0, "AB")] * 20 + [(0, "AC")] * 127
    cfg = RulesMiningConfig(min_support=0.001, min_confidence=0.01, min_lift=0.1, min_count=20)
    found = rules.mine(baskets(spec), np.array([-1]), ITEMS, cfg)
    pairs = set(zip(found["antecedent"].map(tuple), found["consequent"].map(tuple), strict=True))
    assert (("B",), ("A",)) in pairs
    assert found.loc[found["antecedent"].map(tuple) == ("B",), "baskets"].tolist() == [20]
