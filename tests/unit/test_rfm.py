"""RFM scores and the named segments' precedence."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.features import rfm
from segmentation.features.rfm import RFM_SEGMENTS, quintile_scores, rfm_segment, score_rfm

pytestmark = pytest.mark.unit


def test_quintiles_with_deterministic_tie_breaking() -> None:
    values = pd.Series([5.0, 5.0, 5.0, 5.0, 5.0, 1.0, 2.0, 3.0, 4.0, 6.0])
    keys = pd.Series(list("jihgfedcba"))
    scores = quintile_scores(values, keys)
    # sorted by (value, key): e(1) d(2) c(3) b(4) f g h i j(5) a(6)
    by_key = dict(zip(keys, scores, strict=True))
    assert [by_key[k] for k in "edcbfghija"] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # shuffling the input does not change anyone's score
    order = np.random.default_rng(0).permutation(len(values))
    again = quintile_scores(
        values.iloc[order].reset_index(drop=True), keys.iloc[order].reset_index(drop=True)
    )
    assert dict(zip(keys.iloc[order], again, strict=True)) == by_key


def test_recent_frequent_big_spender_is_a_champion_and_non_buyers_are_lost() -> None:
    features = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(10)],
            "recency_days": [1, 2, 3, 4, 5, 6, 7, 8, 9, 400],
            "frequency": [20, 18, 16, 14, 12, 10, 8, 6, 4, 0],
            "monetary": [900, 800, 700, 600, 500, 400, 300, 200, 100, 0],
        }
    )
    out = score_rfm(features).set_index("customer_id")
    assert out.loc["c0", ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 5]
    assert out.loc["c0", "rfm_segment"] == "Champions"
    assert out.loc["c9", "rfm_score"] == "111"
    assert out.loc["c9", "rfm_segment"] == "Lost"


def test_precedence_covers_every_cell_once() -> None:
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    names = rfm_segment(r.ravel(), f.ravel())
    assert (names != "").all()
    cells = {(int(a), int(b)): n for a, b, n in zip(r.ravel(), f.ravel(), names, strict=True)}
    assert cells[(5, 5)] == "Champions"
    assert cells[(4, 5)] == "Loyal Customers"
    assert cells[(1, 5)] == "Can't Lose Them"
    assert cells[(1, 1)] == "Lost"  # listed before Hibernating, so it wins
    assert cells[(2, 1)] == "Hibernating"
    assert cells[(5, 1)] == "New Customers"
    assert {n for n, _, _ in RFM_SEGMENTS} == set(names)


def test_buyers_are_ranked_among_buyers_not_pushed_up_by_non_buyers() -> None:
    features = pd.DataFrame(
        {
            "customer_id": [f"c{i:02d}" for i in range(25)],
            "recency_days": [1, 2, 3, 4, 5] + [300] * 20,
            "frequency": [5, 4, 3, 2, 1] + [0] * 20,
            "monetary": [50, 40, 30, 20, 10] + [0] * 20,
        }
    )
    out = score_rfm(features)
    assert out["f_score"].tolist()[:5] == [5, 4, 3, 2, 1]
    assert out["r_score"].tolist()[:5] == [5, 4, 3, 2, 1]
    assert set(out["rfm_score"][5:]) == {"111"}


CUTS = {
    "recency_days": (7, 30, 90, 180),
    "frequency": (1, 2, 4, 8),
    "monetary": (50, 100, 250, 500),
}


def test_fixed_cut_points_score_by_bands_with_values_on_a_cut_in_the_band_ending_there() -> None:
    # every band of every axis, with values on, just above and far from the cut points
    features = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(8)],
            "recency_days": [0, 7, 7.5, 30, 31, 90, 180, 181],
            "frequency": [1, 1, 2, 3, 4, 5, 8, 9],
            "monetary": [10, 50, 50.01, 100, 249, 250, 500, 10_000],
        }
    )
    out = score_rfm(features, CUTS)
    assert out["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 1]
    assert out["f_score"].tolist() == [1, 1, 2, 3, 3, 4, 4, 5]
    assert out["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 5]
    assert out["rfm_score"].tolist()[0] == "511"
    assert out["rfm_segment"].tolist()[0] == "New Customers"
    assert out["r_score"].dtype == np.dtype("int8")


def test_fixed_bands_do_not_depend_on_the_other_customers() -> None:
    one = pd.DataFrame(
        {"customer_id": ["a"], "recency_days": [20.0], "frequency": [3.0], "monetary": [120.0]}
    )
    crowd = pd.DataFrame(
        {
            "customer_id": [f"z{i:03d}" for i in range(200)],
            "recency_days": np.linspace(0, 365, 200),
            "frequency": np.arange(1, 201, dtype=float),
            "monetary": np.linspace(1, 5000, 200),
        }
    )
    alone = score_rfm(one, CUTS).iloc[0]
    among = score_rfm(pd.concat([one, crowd], ignore_index=True), CUTS).iloc[0]
    # 20 days: (7, 30] -> 4; 3 purchases: (2, 4] -> 3; 120: (100, 250] -> 3
    for row in (alone, among):
        assert row[["r_score", "f_score", "m_score"]].tolist() == [4, 3, 3]


def test_axes_without_cut_points_keep_quintiles_and_non_buyers_stay_at_one() -> None:
    features = pd.DataFrame(
        {
            "customer_id": [f"c{i:02d}" for i in range(15)],
            "recency_days": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] + [3] * 5,
            "frequency": [10, 9, 8, 7, 6, 5, 4, 3, 2, 1] + [0] * 5,
            "monetary": [100.0] * 10 + [0.0] * 5,
        }
    )
    out = score_rfm(features, {"monetary": (50, 100, 250, 500)})
    quintiles = score_rfm(features)
    assert out["r_score"].tolist() == quintiles["r_score"].tolist()
    assert out["f_score"].tolist() == quintiles["f_score"].tolist()
    assert out["f_score"].tolist()[:10] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert out["m_score"].tolist()[:10] == [2] * 10  # 100 is in (50, 100]
    assert set(out["rfm_score"][10:]) == {"111"}
    # non-buyers stay at 1, 1, 1 with cut points too, though 3 days would be recency band 5
    assert set(score_rfm(features, CUTS)["rfm_score"][10:]) == {"111"}
    assert score_rfm(features, None).equals(quintiles)


def test_the_module_docstring_lists_the_precedence_in_rule_order() -> None:
    def scores(text: str) -> frozenset[int]:
        lo, _, hi = text.partition("-")
        return frozenset(range(int(lo), int(hi or lo) + 1))

    listed = re.findall(r"^ *(\d+)\. (.+?) +R (\S+) +F (\S+)$", rfm.__doc__ or "", re.MULTILINE)
    documented = [(name, scores(r), scores(f)) for _, name, r, f in listed]
    assert [int(n) for n, *_ in listed] == list(range(1, len(RFM_SEGMENTS) + 1))
    assert documented == list(RFM_SEGMENTS)
