"""The prediction_quality rows: what was fitted, what was skipped and why."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segmentation.predictions import btyd, tables
from segmentation.predictions.lifetime import Fitted
from segmentation.predictions.night import ChurnNight
from segmentation.predictions.registry import ChurnRecord

pytestmark = pytest.mark.unit

FIT = Fitted(
    btyd.BgNbdParams(0.5, 10.0, 1.2, 4.0), btyd.GammaGammaParams(6.0, 4.0, 15.0), None, None, 300
)


def rows(frame: pd.DataFrame) -> dict[tuple[str, str], tuple]:
    return {
        (r.model, r.metric): (r.model_version, r.value, r.status, r.reason)
        for r in frame.astype(object).where(frame.notna(), None).itertuples()
    }


def test_a_trained_night_publishes_parameters_holdout_and_the_decision() -> None:
    record = ChurnRecord(
        "c20240502", dt.date(2024, 5, 2), dt.date(2024, 2, 2), 0.8, True, "why", "c20240501"
    )
    night = ChurnNight(record=record, metrics={"roc_auc": 0.8, "champion_roc_auc": 0.79})
    holdout = ({"holdout_days": 90.0, "holdout_repeat_0_actual": 0.25}, None)
    got = rows(tables.quality_table(FIT, "b20240502", holdout, night, "b20240202"))
    assert got[("bgnbd", "r")] == ("b20240502", 0.5, "fitted", None)
    assert got[("gamma_gamma", "q")] == ("b20240502", 4.0, "fitted", None)
    # the holdout belongs to the fit at the cutoff
    assert got[("bgnbd", "holdout_repeat_0_actual")][:3] == ("b20240202", 0.25, "fitted")
    assert got[("churn", "roc_auc")] == ("c20240502", 0.8, "champion", "why")
    assert got[("churn", "champion_roc_auc")][:3] == ("c20240501", 0.79, "retired")


def test_skipped_models_say_why() -> None:
    unfit = Fitted(None, None, "12 repeat buyers", "12 repeat buyers", 12)
    night = ChurnNight(skipped="40 days of history")
    holdout: tuple[dict[str, float], str | None] = ({}, "a parameter at its bound")
    frame = tables.quality_table(unfit, "", holdout, night, "b20240202")
    got = rows(frame)
    assert set(got) == {
        ("bgnbd", "skipped"),
        ("gamma_gamma", "skipped"),
        ("bgnbd", "holdout_skipped"),
        ("churn", "skipped"),
    }
    assert got[("bgnbd", "skipped")] == (None, None, "skipped", "12 repeat buyers")
    assert got[("churn", "skipped")][2:] == ("skipped", "40 days of history")
    assert got[("bgnbd", "holdout_skipped")][3] == (
        "BG/NBD at the cutoff: a parameter at its bound; no holdout table and no churn baseline"
    )
    assert frame["value"].isna().all()  # a skipped model has no figures


def test_profile_means_are_null_when_nothing_was_scored() -> None:
    predictions = pd.DataFrame(
        {
            "p_alive": [0.5, 1.0, np.nan],
            "churn_probability": [np.nan, np.nan, np.nan],
            "churn_risk": pd.Series([None, None, None], dtype="string"),
            "predicted_clv_365d": [10.0, 30.0, np.nan],
        }
    )
    means = tables.profile_columns(pd.Series([1, 1, 2]), predictions, "predicted_clv_365d")
    assert means.loc[1, "mean_p_alive"] == 0.75
    assert means.loc[1, "mean_predicted_clv_365d"] == 20.0
    assert np.isnan(means.loc[2, "mean_p_alive"])
    assert means["high_churn_risk_share"].isna().all()
