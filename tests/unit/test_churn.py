"""The churn classifier's pieces on small hand-computed frames: labels, split, bands,
deciles, and the evaluation figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segmentation.predictions import churn, evaluation, registry

pytestmark = pytest.mark.unit


def test_labels_say_who_has_not_bought_since_the_cutoff() -> None:
    at_cutoff = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "frequency": [2, 0, 1, 5]})
    # 90 days later: a last bought 95 days ago (before the cutoff), c 90 days ago (on the
    # cutoff day itself: nothing since), d 3 days ago; b never bought in the window
    now = pd.DataFrame(
        {"customer_id": ["e", "d", "c", "b", "a"], "recency_days": [0, 3, 90, 200, 95]}
    )
    later = churn.rows_of(now, at_cutoff["customer_id"], "tonight")
    assert later["customer_id"].tolist() == ["a", "b", "c", "d"]
    assert churn.churn_labels(at_cutoff, later, churn_days=90).tolist() == [
        True,
        True,
        True,
        False,
    ]
    assert churn.eligible(at_cutoff).tolist() == [True, False, True, True]  # b is not trained on


def test_a_customer_missing_tonight_is_an_error_not_a_guess() -> None:
    now = pd.DataFrame({"customer_id": ["b"], "recency_days": [1]})
    with pytest.raises(ValueError, match="customer a of the cutoff is missing from tonight"):
        churn.rows_of(now, pd.Series(["b", "a"]), "tonight")


def test_the_split_depends_on_the_customer_id_alone() -> None:
    ids = pd.Series([f"C{i:05d}" for i in range(2000)])
    first = churn.hash_unit(ids, seed=42)
    # the same ids in another order, among others: the same numbers
    shuffled = pd.concat([ids.iloc[::-1], pd.Series(["X1", "X2"])], ignore_index=True)
    again = pd.Series(churn.hash_unit(shuffled, seed=42), index=shuffled).loc[ids].to_numpy()
    assert np.array_equal(first, again)
    assert ((first >= 0) & (first < 1)).all()
    assert not np.array_equal(first, churn.hash_unit(ids, seed=7))  # the seed changes them
    # the parts have the planned sizes: 55% fit, 20% calibration, 25% test (within noise)
    features = pd.DataFrame({"customer_id": ids, "frequency": 1.0})
    data = churn.training_set(features, np.arange(2000) % 3 == 0)
    shares = pd.Series(data.part).value_counts(normalize=True)
    assert shares["fit"] == pytest.approx(0.55, abs=0.04)
    assert shares["calibrate"] == pytest.approx(0.20, abs=0.04)
    assert shares["test"] == pytest.approx(0.25, abs=0.04)


def test_a_sample_by_id_keeps_its_customers_and_their_parts() -> None:
    ids = pd.Series([f"C{i:05d}" for i in range(3000)])
    features = pd.DataFrame({"customer_id": ids, "frequency": 1.0})
    sample = churn.sample_by_id(features, 500, 1)
    assert len(sample) == 500 and sample["customer_id"].is_monotonic_increasing
    # the customers with the 500 lowest hashes, whatever the table's order
    lowest = ids.iloc[np.argsort(churn.hash_unit(ids, 1))[:500]]
    assert set(sample["customer_id"]) == set(lowest)
    reversed_table = churn.sample_by_id(features.iloc[::-1], 500, 1)
    assert set(reversed_table["customer_id"]) == set(lowest)
    whole = churn.training_set(features, np.zeros(3000, dtype=bool))
    part = pd.Series(whole.part, index=whole.rows["customer_id"])
    sampled = churn.training_set(sample, np.zeros(500, dtype=bool))
    assert (part.loc[sampled.rows["customer_id"]].to_numpy() == sampled.part).all()


def test_a_part_without_both_classes_skips_the_training_with_the_reason() -> None:
    ids = pd.Series([f"C{i:05d}" for i in range(400)])
    features = pd.DataFrame({"customer_id": ids, "frequency": 1.0})
    one_class = churn.training_set(features, np.zeros(400, dtype=bool))
    assert churn.too_few(one_class, 100) == (
        "0 churned and 400 retained customers in the sample; each needs at least "
        "predictions.min_class_customers (100)"
    )
    # enough of each in all, but the fit part all churned (and the other parts all retained)
    fit = churn.training_set(features, np.zeros(400, dtype=bool)).part == "fit"
    lopsided = churn.training_set(features, fit)
    assert churn.too_few(lopsided, 10) == (
        "the fit part of the sample lacks churned or retained customers"
    )
    balanced = churn.training_set(features, np.arange(400) % 2 == 0)
    assert churn.too_few(balanced, 100) is None


def test_risk_bands_and_deciles() -> None:
    p = np.array([0.0, 0.329, 0.33, 0.659, 0.66, 1.0, np.nan])
    assert churn.risk_bands(p, (0.33, 0.66)).tolist() == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
        None,
    ]
    scores = np.array([0.9, 0.1, 0.5, np.nan, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.05])
    # ten scored customers: one a decile, 1 = the lowest score; no score, no decile (0)
    assert churn.deciles(scores).tolist() == [10, 2, 6, 0, 4, 8, 3, 9, 5, 7, 1]
    twenty = np.repeat([0.1, 0.2], 10)  # ties: in the order given
    assert churn.deciles(twenty).tolist() == np.repeat(np.arange(1, 11), 2).tolist()


def test_figures_by_hand() -> None:
    churned = np.array([True, False, True, True, False, False, True, False, True, False])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.35, 0.3, 0.2, 0.1])
    m = evaluation.score_metrics(churned, score, threshold=0.55)
    # pairs (churned, kept) with the churned one scored higher: 5 + 4 + 4 + 2 + 1 of 25
    assert m["roc_auc"] == pytest.approx(16 / 25)
    # flagged: 0.9, 0.8, 0.7, 0.6 -> 3 of 4 churned; 3 of the 5 churners flagged
    assert m["precision"] == pytest.approx(0.75)
    assert m["recall"] == pytest.approx(0.6)
    assert m["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert m["brier"] == pytest.approx(np.mean((score - churned) ** 2))
    assert m["churn_rate"] == 0.5
    # one customer a decile: the 10th holds 0.9 (churned: lift 1 / 0.5 = 2), the 1st 0.1 (0)
    assert m["lift_decile_10"] == 2.0 and m["lift_decile_1"] == 0.0
    assert m["lift_decile_9"] == 0.0  # 0.8 stayed


def test_calibration_bins_compare_mean_score_with_the_observed_rate() -> None:
    score = np.repeat(np.linspace(0.05, 0.95, 10), 10)
    churned = np.zeros(100, dtype=bool)
    for k in range(10):  # bin k has k+1 churners of 10: observed 0.1 .. 1.0
        churned[k * 10 : k * 10 + k + 1] = True
    table = evaluation.calibration_table(churned, score)
    assert table["calibration_bin_1_predicted"] == pytest.approx(0.05)
    assert table["calibration_bin_1_observed"] == pytest.approx(0.1)
    assert table["calibration_bin_10_observed"] == pytest.approx(1.0)
    assert table["calibration_error"] == pytest.approx(0.05)  # every bin 0.05 below


def test_the_operating_threshold_maximises_f1() -> None:
    churned = np.array([False, False, True, True, True])
    score = np.array([0.1, 0.4, 0.35, 0.8, 0.9])
    # threshold 0.35 flags 4 (3 churned): F1 6/7; 0.8 flags 2: F1 0.8; 0.1 flags all: 0.75
    assert evaluation.best_f1_threshold(churned, score) == 0.35


def test_promotion_keeps_the_champion_only_when_clearly_worse() -> None:
    assert registry.promotion(0.80, None, 0.005) == (True, "first churn classifier")
    assert registry.promotion(0.796, 0.80, 0.005)[0]
    kept, reason = registry.promotion(0.79, 0.80, 0.005)
    assert not kept and reason.startswith("champion kept: challenger ROC AUC 0.790")


def test_the_champion_of_a_night_is_the_newest_promoted_on_or_before_it(tmp_path) -> None:
    def record(day: dt.date, promoted: bool) -> registry.ChurnRecord:
        return registry.ChurnRecord(
            registry.churn_version(day), day, day - dt.timedelta(days=90), 0.8, promoted, "", None
        )

    for day, promoted in [(dt.date(2024, 5, 1), True), (dt.date(2024, 5, 2), False)]:
        registry.save({"model": day.isoformat()}, record(day, promoted), tmp_path)
    registry.save({"model": "3rd"}, record(dt.date(2024, 5, 3), True), tmp_path)
    found = registry.champion_as_of(tmp_path, dt.date(2024, 5, 2))
    assert found is not None and found.model_version == "c20240501"
    found = registry.champion_as_of(tmp_path, dt.date(2024, 5, 3), strictly_before=True)
    assert found is not None and found.model_version == "c20240501"
    found = registry.champion_as_of(tmp_path, dt.date(2024, 5, 3))
    assert found is not None and found.model_version == "c20240503"
    assert registry.load(tmp_path, "c20240503") == {"model": "3rd"}
    assert registry.champion_as_of(tmp_path, dt.date(2024, 4, 30)) is None
