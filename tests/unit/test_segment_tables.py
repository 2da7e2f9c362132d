"""The per-run segment tables are built by column name from small hand-made inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.segments.tables import customer_segments, profiles_table, rules_table

pytestmark = pytest.mark.unit


def test_customer_segments_carries_ids_names_control_and_rfm_per_customer() -> None:
    features = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "recency_days": [1.0, 30.0, 300.0],
            "frequency": [9, 2, 1],
            "monetary": [900.0, 80.0, 5.0],
            "tenure_days": [400, 60, 300],  # not a column of the table
        }
    )
    scores = pd.DataFrame(
        {
            "r_score": [5, 3, 1],
            "f_score": [5, 2, 1],
            "m_score": [5, 3, 1],
            "rfm_score": ["555", "323", "111"],
            "rfm_segment": ["Champions", "Need Attention", "Lost"],
        }
    )
    table = customer_segments(
        features,
        np.array([4, 7, 7]),
        {4: "Loyal", 7: "New"},
        "m20240310",
        np.array([False, True, False]),
        scores,
    )
    assert list(table.columns) == [
        "customer_id",
        "segment_id",
        "segment_name",
        "model_version",
        "is_control",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_score",
        "rfm_segment",
    ]
    assert table["segment_name"].tolist() == ["Loyal", "New", "New"]
    assert table["model_version"].tolist() == ["m20240310"] * 3
    assert table.loc[1].tolist()[:5] == ["C2", 7, "New", "m20240310", True]
    assert table["rfm_segment"].tolist() == ["Champions", "Need Attention", "Lost"]


def test_profiles_have_texts_control_counts_and_lifts_by_name() -> None:
    profiles = pd.DataFrame(
        {
            "segment_id": [4, 7],
            "customers": [3, 1],
            "share": [0.75, 0.25],
            "mean_frequency": [6.0, 1.0],
        }
    )
    lifts = pd.DataFrame(
        {"lift_home": [1.5, 0.5], "lift_toys": [0.8, 2.0]}, index=pd.Index([4, 7], name="sid")
    )
    texts = {
        "segment_name": {4: "Loyal", 7: "New"},
        "description": {4: "buys often", 7: "just arrived"},
        "rules": {4: "frequency > 3", 7: ""},
        "affinity": {4: "home 1.5×", 7: "toys 2.0×"},
    }
    table = profiles_table(profiles, "m1", texts, pd.Series({4: 1, 7: 0}), lifts)
    assert list(table.columns) == [
        "segment_id",
        "segment_name",
        "description",
        "model_version",
        "rules",
        "affinity",
        "customers",
        "share",
        "control_customers",
        "mean_frequency",
        "lift_home",
        "lift_toys",
    ]
    assert table.to_dict("records")[1] == {
        "segment_id": 7,
        "segment_name": "New",
        "description": "just arrived",
        "model_version": "m1",
        "rules": "",
        "affinity": "toys 2.0×",
        "customers": 1,
        "share": 0.25,
        "control_customers": 0,
        "mean_frequency": 1.0,
        "lift_home": 0.5,
        "lift_toys": 2.0,
    }
    assert str(table["control_customers"].dtype) == "int64"


def test_rules_lead_with_the_model_version_and_keep_an_empty_table_typed() -> None:
    rules = pd.DataFrame({"segment_id": [4], "rule": ["frequency > 3"], "rank": [1]})
    assert rules_table(rules, "m1").to_dict("records") == [
        {"model_version": "m1", "segment_id": 4, "rule": "frequency > 3", "rank": 1}
    ]
    empty = rules_table(rules.iloc[:0], "m1")
    assert list(empty.columns) == ["model_version", "segment_id", "rule", "rank"]
    assert len(empty) == 0
