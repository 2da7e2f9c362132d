"""Archetype keys, names in each language, descriptions and category lift on small frames."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import ConfigError
from segmentation.segments import naming, personas

pytestmark = pytest.mark.unit


def three_segments() -> tuple[pd.DataFrame, np.ndarray]:
    """Segment 10 spends a lot often, 20 has not been seen for months, 30 arrived last week."""
    profiles = pd.DataFrame(
        {
            "frequency": [20.0, 1.0, 1.0],
            "monetary": [2000.0, 30.0, 40.0],
            "avg_order_value": [100.0, 30.0, 40.0],
            "days_since_last_event": [2.0, 250.0, 1.0],
            "recency_days": [2.0, 250.0, 1.0],
            "tenure_days": [300.0, 350.0, 3.0],
            "active_days": [40.0, 2.0, 2.0],
            "conversion": [0.3, 0.3, 0.3],
            "n_view": [5.0, 5.0, 5.0],
        },
        index=[10, 20, 30],
    )
    ids = np.repeat(profiles.index.to_numpy(), [4, 5, 3])
    return profiles.loc[ids].reset_index(drop=True), ids


def random_segments(n_segments: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n_segments) * 3 + 1, 5)  # ids 1, 4, 7, ...
    n = len(ids)
    frequency = rng.poisson(rng.uniform(0, 10, n_segments).repeat(5)).astype(float)
    monetary = frequency * rng.uniform(5, 150, n)
    frame = pd.DataFrame(
        {
            "frequency": frequency,
            "monetary": monetary,
            "avg_order_value": np.divide(monetary, frequency, out=np.zeros(n), where=frequency > 0),
            "days_since_last_event": rng.uniform(0, 300, n_segments).repeat(5),
            "recency_days": rng.uniform(0, 300, n),
            "tenure_days": rng.uniform(0, 400, n_segments).repeat(5),
            "active_days": rng.uniform(0, 50, n),
            "conversion": rng.uniform(0, 1, n_segments).repeat(5),
            "n_view": rng.uniform(0, 30, n),
        }
    )
    return frame, ids


# ------------------------------------------------------------------ archetype keys


def test_clear_profiles_get_their_archetypes() -> None:
    features, ids = three_segments()
    keys = personas.assign_archetypes(features, ids)
    assert keys == {10: "high_value_loyal", 20: "hibernating", 30: "new"}


def test_a_previous_name_that_no_longer_fits_is_replaced() -> None:
    features, ids = three_segments()
    swapped = {10: "hibernating", 20: "high_value_loyal", 30: "new"}
    keys = personas.assign_archetypes(features, ids, previous=swapped)
    assert keys == {10: "high_value_loyal", 20: "hibernating", 30: "new"}


def test_between_equally_fitting_names_the_previous_ones_stay() -> None:
    features, ids = three_segments()
    # segments 10 and 20 behave identically: either could be called either. Eight more
    # newcomers keep the twins over twice the median customer's spend (high-value loyal)
    features.loc[ids == 20, :] = features[ids == 10].iloc[0].to_numpy()
    features = pd.concat([features, features[ids == 30].iloc[[0] * 8]], ignore_index=True)
    ids = np.concatenate([ids, [30] * 8])
    first = personas.assign_archetypes(features, ids)
    swapped = {10: first[20], 20: first[10], 30: first[30]}
    assert personas.assign_archetypes(features, ids, previous=swapped) == swapped
    assert personas.assign_archetypes(features, ids, previous=first) == first


def test_more_segments_than_archetypes_get_true_and_distinct_names() -> None:
    n_segments = len(personas.ARCHETYPES) + 3
    features, ids = random_segments(n_segments)
    keys = personas.assign_archetypes(features, ids)
    assert sorted(keys) == sorted({int(s) for s in ids})
    assert len(set(keys.values())) == n_segments
    # every archetype a segment is named after is one whose conditions it meets
    stats = naming.segment_stats(features, ids)
    fits = naming.eligibility(stats, naming.purchase_cycle(features))
    for sid, key in keys.items():
        base = key.partition(":")[0]
        if base in personas.ARCHETYPES:
            assert fits.loc[sid, base], (sid, key)
        else:
            assert base in naming.DESCRIPTIVE_LABELS["en"] or key == f"segment_{sid}"

    en = personas.segment_names(keys, "en")
    zh = personas.segment_names(keys, "zh")
    assert len(set(en.values())) == len(set(zh.values())) == n_segments


# ------------------------------------------------------------------ labels


def test_labels_cover_every_key_in_both_languages_and_are_distinct() -> None:
    for language in ("en", "zh"):
        labels = personas.LABELS[language]
        assert set(labels) == set(personas.ARCHETYPES)
        assert all(label.strip() for label in labels.values())
        assert len(set(labels.values())) == len(labels)
    # the Chinese labels are Chinese, not copies of the English ones
    assert all(re.search(r"[\u4e00-\u9fff]", v) for v in personas.LABELS["zh"].values())


def test_names_follow_the_language() -> None:
    keys = {1: "hibernating", 2: "new", 3: "segment_3"}
    assert personas.segment_names(keys, "en") == {1: "Hibernating", 2: "New", 3: "Segment 3"}
    assert personas.segment_names(keys, "zh") == {1: "沉睡客户", 2: "新客户", 3: "分群 3"}
    with pytest.raises(ConfigError, match="persona language 'fr' is not supported"):
        personas.segment_names(keys, "fr")
    with pytest.raises(ValueError, match="unique"):
        personas.segment_names({1: "new", 2: "new"}, "en")


# ------------------------------------------------------------------ descriptions


def described(non_buyers: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Two buyer segments (1, 2) and ``non_buyers`` customers who never bought (3)."""
    frame = pd.DataFrame(
        {
            "segment": [1, 1, 1, 2, 2, 2] + [3] * non_buyers,
            "monetary": [300.0, 500.0, 1000.0, 40.0, 100.0, 400.0] + [0.0] * non_buyers,
            "frequency": [3.0, 5.0, 7.0, 1.0, 2.0, 3.0] + [0.0] * non_buyers,
            "recency_days": [4.0, 6.0, 8.0, 20.0, 30.0, 40.0] + [100.0] * non_buyers,
            "days_since_last_event": [4.0, 6.0, 8.0, 20.0, 30.0, 40.0]
            + [float(60 + 10 * i) for i in range(non_buyers)],
            "category_share_electronics": [0.5, 0.6, 0.7, 0.3, 0.3, 0.3] + [0.3] * non_buyers,
            "category_share_books": [0.5, 0.4, 0.3, 0.7, 0.7, 0.7] + [0.7] * non_buyers,
        }
    )
    return frame.drop(columns="segment"), frame["segment"].to_numpy()


def test_description_compares_with_the_median_customer() -> None:
    features, ids = described(non_buyers=4)
    # population: 0 0 0 0 40 100 300 400 500 1000 -> median (40 + 100) / 2 = 70
    assert np.median(features["monetary"]) == 70.0
    names = {1: "Big", 2: "Small", 3: "Gone"}
    text = personas.describe_segments(features, ids, names, "en")
    assert text[1].startswith("Big: spends 7.1× the median customer")  # 500 / 70, medians
    assert "1.4× the median customer" in text[2]  # 100 / 70
    assert "5.0 orders in the window" in text[1]
    assert "last bought 6 days ago on average" in text[1]  # (4 + 6 + 8) / 3
    assert "60% of activity in electronics" in text[1]  # (0.5 + 0.6 + 0.7) / 3
    assert "70% of activity in books" in text[2]
    assert text[3].startswith("Gone: 100% have not bought in the window")
    assert "last seen 75 days ago on average" in text[3]  # (60 + 70 + 80 + 90) / 4
    assert "spends" not in text[3]
    assert text[1] == (
        "Big: spends 7.1× the median customer, 5.0 orders in the window, "
        "last bought 6 days ago on average, 60% of activity in electronics."
    )

    zh = personas.describe_segments(features, ids, names, "zh")
    assert zh[1].startswith("Big：消费额是客户中位数的 7.1 倍")
    assert "平均 6 天前购买" in zh[1]
    assert "60% 的活动集中在 电子产品" in zh[1]  # a demo category: its Chinese name
    assert (
        # a category without a Chinese name is shown as the data names it
        zh[3] == "Gone：100% 的客户在窗口期内未购买，平均 75 天前最后活跃，70% 的活动集中在 books。"
    )


def test_description_falls_back_to_the_median_buyer_when_most_have_not_bought() -> None:
    features, ids = described(non_buyers=7)
    assert np.median(features["monetary"]) == 0.0
    # buyers: 40 100 300 400 500 1000 -> median (300 + 400) / 2 = 350
    names = {1: "Big", 2: "Small", 3: "Gone"}
    text = personas.describe_segments(features, ids, names, "en")
    assert text[1].startswith("Big: spends 1.4× the median buyer")  # 500 / 350 = 1.43
    assert "0.3× the median buyer" in text[2]  # 100 / 350 = 0.29
    assert "median customer" not in " ".join(text.values())
    zh = personas.describe_segments(features, ids, names, "zh")
    assert zh[1].startswith("Big：消费额是购买客户中位数的 1.4 倍")


def test_description_without_category_columns() -> None:
    features, ids = described(non_buyers=4)
    features = features.drop(columns=["category_share_electronics", "category_share_books"])
    text = personas.describe_segments(features, ids, {1: "A", 2: "B", 3: "C"}, "en")
    assert "activity" not in " ".join(text.values())
    assert personas.category_affinity(features, ids).empty


# ------------------------------------------------------------------ category lift


def test_lift_is_the_segment_share_over_the_population_share() -> None:
    features, ids = described(non_buyers=4)
    affinity = personas.category_affinity(features, ids).set_index(["segment_id", "category"])
    assert len(affinity) == 3 * 2
    population = (0.5 + 0.6 + 0.7 + 0.3 * 3 + 0.3 * 4) / 10  # electronics, everyone
    row = affinity.loc[(1, "electronics")]
    assert row["share"] == pytest.approx(0.6)
    assert row["population_share"] == pytest.approx(population)
    assert row["lift"] == pytest.approx(0.6 / population)
    books = 1 - population
    assert affinity.loc[(2, "books"), "lift"] == pytest.approx(0.7 / books)
    assert affinity.loc[(3, "books"), "lift"] == pytest.approx(0.7 / books)


def test_summary_lists_the_categories_a_segment_over_indexes_on() -> None:
    features, ids = described(non_buyers=4)
    summary = personas.affinity_summary(personas.category_affinity(features, ids), "en")
    # electronics 0.6 / 0.39 = 1.54; books in segments 2 and 3: 0.7 / 0.61 = 1.15, under 1.2
    assert summary == {1: "electronics 1.5×", 2: "no clear preference", 3: "no clear preference"}
    zh = personas.affinity_summary(personas.category_affinity(features, ids), "zh")
    assert zh == {1: "电子产品 1.5×", 2: "无明显偏好", 3: "无明显偏好"}


def test_summary_keeps_the_top_three_by_lift() -> None:
    shares = {
        "a": [0.30, 0.05],
        "b": [0.25, 0.05],
        "c": [0.20, 0.05],
        "d": [0.20, 0.05],
        "e": [0.05, 0.80],
    }
    features = pd.DataFrame({f"category_share_{k}": v for k, v in shares.items()})
    affinity = personas.category_affinity(features, np.array([0, 1]))
    # population = the mean of both: a 0.175, b 0.15, c 0.125, d 0.125, e 0.425
    # segment 0: a 1.71, b 1.67, c 1.6, d 1.6 (tie: by name); segment 1: e 1.88
    assert personas.affinity_summary(affinity, "en") == {
        0: "a 1.7×, b 1.7×, c 1.6×",
        1: "e 1.9×",
    }


# ------------------------------------------------------------------ determinism


def test_same_input_gives_the_same_output_whatever_the_row_order() -> None:
    features, ids = random_segments(6, seed=3)
    before = features.copy()
    keys = personas.assign_archetypes(features, ids)
    names = personas.segment_names(keys, "en")
    text = personas.describe_segments(features, ids, names, "en")
    assert personas.assign_archetypes(features, ids) == keys
    assert personas.describe_segments(features, ids, names, "en") == text
    pd.testing.assert_frame_equal(features, before)  # inputs are not mutated

    order = np.random.default_rng(1).permutation(len(ids))
    shuffled = features.iloc[order].reset_index(drop=True)
    assert personas.assign_archetypes(shuffled, ids[order]) == keys
    assert personas.describe_segments(shuffled, ids[order], names, "en") == text
