"""The Segmenter keeps scikit-learn's estimator contract: scikit-learn's own checks, and ours."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from segmentation.errors import SegmentationError, TrainingDataError
from segmentation.model.segmenter import Segmenter
from segmentation.model.selection import quality

pytestmark = pytest.mark.unit

# scikit-learn's checks fit on 1 to 60 rows; segment counts that suit such small data
# (at the defaults, 4 to 10 segments of 10 rows leave bootstrap clusters of one repeated point)
FOR_CHECKS = Segmenter(k_min=2, k_max=4)

# checks that do not apply to this estimator, and why
NOT_APPLICABLE = {
    "check_clustering": (
        "no labels_: the training data is every customer, and a label per customer in every "
        "saved model would be customer data kept in the registry; fit_predict is "
        "fit(X).predict(X), tested below"
    ),
    "check_fit2d_1sample": (
        "one row gets the pipeline's own message, which names the fix "
        "('only 1 customers to segment; need at least 4 (ingest more days, or lower "
        "model.k_min / model.n_segments)'), not one of the check's phrasings of '1 sample'"
    ),
}


@parametrize_with_checks([FOR_CHECKS])
def test_scikit_learn_estimator_checks(estimator: Segmenter, check: partial[Any]) -> None:
    name = check.func.__name__  # each check is partial(check_function, estimator name)
    if name in NOT_APPLICABLE:
        pytest.skip(NOT_APPLICABLE[name])
    check(estimator)


def blobs(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = [(0, 0, 1), (6, 0, 4), (0, 6, 9)]
    points = np.vstack([rng.normal(c, 0.3, size=(80, 3)) for c in centres])
    frame = pd.DataFrame(points, columns=["x", "y", "frequency"])
    frame["frequency"] = frame["frequency"].clip(lower=0)
    return frame


def fitted() -> tuple[Segmenter, pd.DataFrame]:
    X = blobs()
    return Segmenter(k_min=2, k_max=5, score_sample=150, random_state=1).fit(X), X


def test_methods_that_need_a_fitted_model_raise_not_fitted_error_before_fit() -> None:
    X = blobs()
    for method in ("predict", "transform", "scored_sample"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(Segmenter(), method)(X)


def test_the_fitted_state_is_attributes_ending_in_an_underscore() -> None:
    seg, X = fitted()
    scaler = seg.pipeline_.named_steps["prep"].named_steps["scale"]
    assert list(seg.feature_names_in_) == ["x", "y", "frequency"] and seg.n_features_in_ == 3
    assert np.array_equal(seg.scale_, scaler.scale_)
    assert seg.centers_scaled_.shape == seg.centers_log_.shape == (seg.n_segments_, 3)
    assert np.allclose(seg.centers_log_, scaler.inverse_transform(seg.centers_scaled_))
    # frequency is skewed: its centres are on the log scale
    assert seg.centers_log_[:, 2].max() < np.log1p(X["frequency"].max())


def test_the_scored_sample_is_the_rows_the_scores_were_computed_on() -> None:
    seg, X = fitted()
    table = X.assign(customer_id=[f"c{i}" for i in range(len(X))])  # the whole feature table
    sample = seg.scored_sample(table)
    assert len(sample) == 150 and sample.index.equals(X.index[seg.score_rows_])
    recomputed = quality(seg.transform(sample), seg.predict(sample))
    assert recomputed["silhouette"] == pytest.approx(seg.scores_["silhouette"], abs=1e-12)
    assert np.array_equal(seg.scored_sample(X.to_numpy()), X.to_numpy()[seg.score_rows_])


def test_predict_uses_the_fitted_columns_by_name_and_ignores_the_others() -> None:
    seg, X = fitted()
    shuffled = X[["frequency", "x", "y"]].assign(customer_id="c")
    assert np.array_equal(seg.predict(shuffled), seg.predict(X))


def test_fit_predict_is_fit_then_predict_with_labels_from_zero() -> None:
    X = blobs(seed=2)
    labels = Segmenter(k_min=2, k_max=5, random_state=0).fit_predict(X)
    again = Segmenter(k_min=2, k_max=5, random_state=0).fit(X).predict(X)
    assert np.array_equal(labels, again)
    assert np.array_equal(np.unique(labels), np.arange(3))


def test_bad_training_data_is_a_value_error_with_the_pipelines_message() -> None:
    X = blobs()
    X.loc[3, "y"] = np.nan
    with pytest.raises(TrainingDataError, match=r"features \['y'\] contain missing") as info:
        Segmenter().fit(X)
    assert isinstance(info.value, ValueError) and isinstance(info.value, SegmentationError)


def test_a_model_pickled_before_its_centres_and_scale_were_attributes_still_loads() -> None:
    seg, X = fitted()
    # what an artifact saved by the previous version holds: centers_log_ was a method,
    # centers_scaled_ a property, the scale only inside the pipeline, no n_features_in_
    state = dict(seg.__getstate__())
    for name in ("centers_scaled_", "centers_log_", "scale_", "n_features_in_"):
        del state[name]
    old = Segmenter.__new__(Segmenter)
    old.__setstate__(state)
    for name in ("centers_scaled_", "centers_log_", "scale_"):
        assert np.array_equal(getattr(old, name), getattr(seg, name))
    assert old.n_features_in_ == 3
    assert np.array_equal(old.predict(X), seg.predict(X))


def test_a_model_saved_before_model_became_a_package_loads_and_predicts_the_same() -> None:
    # saved by the flat ``segmentation/model.py`` (commit 71deb20), with the rows' labels then
    from pathlib import Path

    import joblib

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    seg = joblib.load(fixtures / "segmenter_before_split.joblib")
    rows = pd.read_parquet(fixtures / "segmenter_before_split_rows.parquet")
    assert isinstance(seg, Segmenter)
    assert seg.predict(rows).tolist() == rows["expected_label"].tolist()
