"""RFM scores and the named segments' precedence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.rfm import RFM_SEGMENTS, quintile_scores, rfm_segment, score_rfm

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
