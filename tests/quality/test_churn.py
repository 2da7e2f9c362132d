"""The churn classifier on generated customers who drop out at planted, persona-specific rates:
it ranks and calibrates well out of time, and beats BG/NBD's chance of no purchase."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from segmentation import synthetic
from segmentation.config import parse_config
from segmentation.features.build import build_features
from segmentation.predictions import churn, lifetime, night

pytestmark = pytest.mark.quality

START, DAYS = dt.date(2024, 1, 1), 450
TONIGHT = START + dt.timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def trained() -> night.ChurnNight:
    """20,000 customers (seed 7) dropping out at persona rates (``dropout=1.0``); tonight's
    classifier trained on the features of 90 days ago with the labels seen since."""
    data = synthetic.generate(customers=20_000, start=START, days=DAYS, seed=7, dropout=1.0)
    cfg = parse_config({}, base_dir=Path("."))
    cutoff = TONIGHT - dt.timedelta(days=cfg.predictions.churn_days)
    # build_features reads only events up to its day: the cutoff's table is point in time
    at_cutoff = build_features(data.events, cutoff, cfg)
    now = build_features(data.events, TONIGHT, cfg)
    later = churn.rows_of(now, at_cutoff["customer_id"], "tonight's features")
    baseline, _, _ = lifetime.at_cutoff(at_cutoff, later, cfg.predictions)
    return night.train(at_cutoff, later, TONIGHT, cfg.predictions, None, baseline)


def test_the_classifier_ranks_churners_out_of_time(trained: night.ChurnNight) -> None:
    m = trained.metrics
    assert m["customers"] > 3000  # the held-out customers the figures are measured on
    assert m["roc_auc"] >= 0.8
    assert m["roc_auc"] > m["baseline_roc_auc"]  # better than BG/NBD's P(no purchase in 90d)
    assert m["pr_auc"] > m["baseline_pr_auc"]
    assert m["lift_decile_10"] > 1.0 > m["lift_decile_1"]


def test_the_classifier_is_calibrated(trained: night.ChurnNight) -> None:
    m = trained.metrics
    assert m["calibration_error"] <= 0.05  # mean |predicted - observed| over 10 bins
    assert m["brier"] < m["baseline_brier"]


def test_the_first_classifier_is_the_champion(trained: night.ChurnNight) -> None:
    assert trained.record is not None and trained.record.promoted
    assert trained.record.reason == "first churn classifier"
    assert trained.scorer is trained.challenger
