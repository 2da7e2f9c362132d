"""Segments and their rules recover the personas planted in generated data."""

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
from segmentation.segments.rules import segment_rules
from tests.quality.conftest import Planted

pytestmark = pytest.mark.quality


def test_generated_personas_differ_in_the_planted_ways(planted: Planted) -> None:
    data = planted.data
    ev = data.events.merge(data.ground_truth, on="customer_id")
    buys = ev[ev["event_type"] == "purchase"]
    basket = buys.groupby("persona")["amount"].median()
    assert basket["champions"] > 2 * basket["loyal"] > 2 * basket["bargain_hunters"]
    views = ev[ev["event_type"] == "view"].groupby("persona").size()
    purchases = buys.groupby("persona").size()
    conversion = purchases / views
    assert conversion["window_shoppers"] < conversion.drop("window_shoppers").min() / 3
    last_seen = ev.groupby("persona")["event_time"].max()
    first_seen = (
        ev.groupby("customer_id")["event_time"]
        .min()
        .to_frame()
        .join(data.ground_truth.set_index("customer_id"))
        .groupby("persona")["event_time"]
        .min()
    )
    end = pd.Timestamp(data.start, tz="UTC") + pd.Timedelta(days=data.days)
    assert (
        end - ev[ev["persona"] == "hibernating"].groupby("customer_id")["event_time"].max()
    ).min() > pd.Timedelta(days=150)
    assert first_seen["new"] > end - pd.Timedelta(days=30)
    assert last_seen["champions"] > end - pd.Timedelta(days=2)


def test_adjusted_rand_index_against_planted_personas(planted: Planted) -> None:
    data, cfg, as_of, features = planted.data, planted.cfg, planted.as_of, planted.features
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


def test_realistic_rules_on_generated_personas_are_precise(planted: Planted) -> None:
    cfg, features = planted.cfg, planted.features
    columns = model_feature_columns(features, None)
    truth = features[["customer_id"]].merge(planted.data.ground_truth, on="customer_id", how="left")
    labels, names = pd.factorize(truth["persona"], sort=True)
    assert (labels >= 0).all()
    rules = segment_rules(
        features, labels, columns, cfg.rules.max_depth, cfg.rules.sample, random_state=42
    )
    top = rules[rules["rank"] == 1].set_index("segment_id")
    sizes = pd.Series(labels).value_counts()
    assert sorted(top.index) == sorted(sizes.index), "every planted persona gets a rule"
    weighted = float((top["precision"] * sizes[top.index]).sum() / sizes[top.index].sum())
    per_persona = {names[s]: round(p, 3) for s, p in top["precision"].items()}
    assert weighted >= 0.85, per_persona


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
