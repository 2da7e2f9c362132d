"""Segments recover the personas planted in generated data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation import model, synthetic
from segmentation.config import parse_config
from segmentation.features.build import build_features, model_feature_columns
from segmentation.segments import personas

pytestmark = pytest.mark.quality


def test_adjusted_rand_index_against_planted_personas() -> None:
    start, days = dt.date(2024, 1, 1), 365
    data = synthetic.generate(customers=3000, start=start, days=days, seed=7)
    cfg = parse_config({}, base_dir=Path("."))  # default settings
    as_of = start + dt.timedelta(days=days - 1)
    features = build_features(data.events, as_of, cfg)
    columns = model_feature_columns(features, cfg.model.features)
    segmenter = model.train(features, columns, cfg.model, as_of)
    labels = segmenter.predict(features)
    truth = features[["customer_id"]].merge(data.ground_truth, on="customer_id", how="left")
    assert truth["persona"].notna().all()
    ari = adjusted_rand_score(truth["persona"], labels)
    chosen = f"chosen {segmenter.algorithm_} k={segmenter.n_segments_}, ARI {ari:.3f}"
    assert segmenter.n_segments_ == len(synthetic.PERSONAS), chosen
    assert ari >= 0.9, chosen

    # the names a marketer reads match the planted behaviour for the clearest personas
    names = pd.Series(labels).map(
        personas.segment_names(personas.assign_archetypes(features, labels), "en")
    )
    majority = pd.crosstab(truth["persona"], names).idxmax(axis=1)
    assert majority["champions"] == "High-value loyal"
    assert majority["hibernating"] == "Hibernating"
    assert majority["new"] == "New"
    assert majority["bargain_hunters"] == "Bargain hunters"
    assert majority["window_shoppers"] == "Window shoppers"


def test_same_data_and_date_give_identical_segments() -> None:
    start = dt.date(2024, 1, 1)
    data = synthetic.generate(customers=800, start=start, days=120, seed=5)
    cfg = parse_config({"model": {"k_min": 3, "k_max": 6}}, base_dir=Path("."))
    as_of = start + dt.timedelta(days=119)
    features = build_features(data.events, as_of, cfg)
    columns = model_feature_columns(features, None)
    first = model.train(features, columns, cfg.model, as_of).predict(features)
    again = model.train(features.copy(), columns, cfg.model, as_of).predict(features)
    assert (first == again).all()
