"""Small groups suppressed (privacy.min_group_size): hand-made aggregates, hand-counted rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation import catalog
from segmentation.config import parse_config
from segmentation.errors import ConfigError
from segmentation.privacy import suppression

pytestmark = pytest.mark.unit

WHY = "fewer than 50 customers (privacy.min_group_size)"


def profiles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment_id": [0, 1, 2],
            "segment_name": ["Loyal", "Tiny", "Lapsed"],
            "model_version": ["m20250101"] * 3,
            "description": ["buys often", "a planted few", "gone quiet"],
            "customers": [120, 30, 50],
            "share": [0.6, 0.15, 0.25],
            "mean_frequency": [6.5, 42.0, 0.5],
            "lift_toys": [1.1, 3.3, np.nan],
        }
    )


def test_a_segment_under_the_threshold_keeps_its_keys_and_loses_every_value() -> None:
    before = profiles()
    out = suppression.suppress_profiles(before, 50)
    tiny = out.iloc[1]
    assert (tiny["segment_id"], tiny["segment_name"], tiny["model_version"]) == (
        1,
        "Tiny",
        "m20250101",
    )
    for column in ("description", "customers", "share", "mean_frequency", "lift_toys"):
        assert pd.isna(tiny[column]), column
    assert out["suppressed"].tolist() == [False, True, False]
    assert out["suppression_reason"].tolist()[1] == WHY
    assert out["suppression_reason"].isna().tolist() == [True, False, True]
    # 50 is not fewer than 50: shown; the others keep their values and types
    assert out["customers"].tolist()[::2] == [120, 50]
    assert out["mean_frequency"].tolist()[::2] == [6.5, 0.5]
    assert str(out["customers"].dtype) == "Int64"
    assert before["customers"].tolist() == [120, 30, 50]  # the input is not changed


def test_suppressing_twice_or_by_a_second_size_keeps_the_first_reason() -> None:
    once = suppression.suppress_profiles(profiles(), 50)
    twice = suppression.suppress(once, "segment_profiles", pd.Series([1, 1, 1]), 1)
    assert twice["suppressed"].tolist() == [False, True, False]
    assert twice["suppression_reason"].tolist()[1] == WHY
    assert twice["customers"].tolist()[0] == 120


def test_rules_follow_their_segments_size() -> None:
    rules = pd.DataFrame(
        {
            "model_version": ["m"] * 4,
            "segment_id": [0, 0, 1, 2],
            "rule": ["a", "b", "c", "d"],
            "customers": [100, 3, 28, 60],  # a rule of 3 customers in a big segment stays
            "coverage": [0.8, 0.02, 0.9, 0.7],
            "precision": [0.9, 1.0, 0.95, 0.6],
            "rank": [1, 2, 1, 1],
        }
    )
    sizes = pd.Series([120, 30, 50], index=[0, 1, 2])
    out = suppression.suppress_rules(rules, sizes, 50)
    assert out["suppressed"].tolist() == [False, False, True, False]
    assert out["rule"].tolist()[:2] == ["a", "b"] and pd.isna(out["rule"].iloc[2])
    assert out["rank"].tolist() == [1, 2, 1, 1]


def test_association_rules_of_a_small_segment_or_of_few_baskets() -> None:
    found = pd.DataFrame(
        {
            "segment_id": pd.array([None, 0, 0, 1], dtype="Int64"),
            "antecedent": [["tea"], ["tea"], ["cups"], ["toys"]],
            "consequent": [["cups"], ["cups"], ["tea"], ["games"]],
            "support": [0.1, 0.2, 0.05, 0.5],
            "confidence": [0.5, 0.6, 0.4, 0.9],
            "lift": [2.0, 2.5, 1.8, 4.0],
            "leverage": [0.05, 0.08, 0.02, 0.3],
            "baskets": [80, 60, 20, 70],
            "rank": [1, 1, 2, 1],
        }
    )
    sizes = pd.Series([120, 30, 50], index=[0, 1, 2])
    out = suppression.suppress_association_rules(found, sizes, 50)
    # everyone (200 customers) and segment 0's first rule stay; 20 baskets < 50; segment 1
    # has 30 customers although its rule has 70 baskets
    assert out["suppressed"].tolist() == [False, False, True, True]
    assert out["suppression_reason"].tolist()[2:] == [
        "fewer than 50 baskets (privacy.min_group_size)",
        WHY,
    ]
    assert out["antecedent"].iloc[3] is None or pd.isna(out["antecedent"].iloc[3])
    assert list(out["antecedent"].iloc[0]) == ["tea"]


def test_a_migration_cell_hides_with_its_small_segment_not_for_its_own_size() -> None:
    moves = pd.DataFrame(
        {
            "from_segment_id": pd.array([None, 0, 0, 1, 1], dtype="Int64"),
            "to_segment_id": [0, 0, 1, 0, 1],
            "customers": [5, 40, 3, 20, 30],
        }
    )
    out = suppression.suppress_migrations(moves, 50)
    # into 0: 5 + 40 + 20 = 65, into 1: 3 + 30 = 33; out of 0: 43, out of 1: 50
    assert out["suppressed"].tolist() == [False, True, True, False, True]
    assert out["customers"].tolist()[0] == 5  # 5 new customers of a 65-customer segment
    assert out["customers"].tolist()[3] == 20


def test_campaign_rows_with_a_small_group_and_rows_of_nobody() -> None:
    results = pd.DataFrame(
        {
            "campaign": ["c"] * 4,
            "audience": [None] * 4,
            "segment_id": pd.array([None, 0, 1, None], dtype="Int64"),
            "status": ["running"] * 4,
            "treated": [900, 700, 200, 0],
            "control": [100, 80, 20, 0],
            "conversion_uplift": [0.01, 0.02, -0.3, np.nan],
            "reason": [None, None, None, "no segments were published before the start"],
        }
    )
    out = suppression.suppress_campaign_results(results, 50)
    assert out["suppressed"].tolist() == [False, False, True, False]
    assert pd.isna(out["treated"].iloc[2]) and pd.isna(out["conversion_uplift"].iloc[2])
    assert out["reason"].iloc[3] == "no segments were published before the start"
    assert out["treated"].tolist()[:2] == [900, 700]


def test_drift_rows_of_a_small_or_vanished_segment_lose_their_value_only() -> None:
    metrics = pd.DataFrame(
        {
            "scope": ["feature", "segment", "segment", "segment", "run"],
            "name": ["frequency", "0", "1", "3", "all"],
            "metric": ["psi", "share_change", "share_change", "vanished", "decision"],
            "value": [0.3, 0.05, 0.1, 1.0, 2.0],
            "threshold": [0.25, 0.05, 0.05, None, None],
            "drifted": [True, True, True, True, True],
            "level": ["alert", "warn", "warn", "warn", "alert"],
        }
    )
    out = suppression.suppress_drift(metrics, pd.Series([120, 30], index=[0, 1]), 50)
    assert out["suppressed"].tolist() == [False, False, True, True, False]
    assert out["value"].tolist()[:2] == [0.3, 0.05] and out["value"].iloc[4] == 2.0
    assert out["value"].iloc[2:4].isna().all()
    assert out["level"].tolist() == metrics["level"].tolist()  # the decision stays


def test_every_value_column_of_a_suppressed_table_may_be_null() -> None:
    for entry in catalog.TABLES:
        if not entry.suppressible:
            continue
        names = [c.name for c in entry.published_columns()]
        assert set(entry.kept) <= set(names), entry.name
        assert {"suppressed", "suppression_reason"} <= set(names)
        for name in entry.value_columns(names):
            column = entry.column(name)
            assert column is not None and column.nullable, (entry.name, name)
    shown = {t.name for t in catalog.TABLES if t.suppressible}
    assert shown == {
        "segment_profiles",
        "segment_rules",
        "segment_migrations",
        "association_rules",
        "campaign_results",
        "drift_metrics",
    }


@pytest.mark.parametrize("column", ["region", "age", "state"])
def test_demographic_export_columns_are_refused(tmp_path: Path, column: str) -> None:
    raw = {
        "home": "./home",
        "customers": {"path": "customers", "columns": {"region": "state"}},
        "audiences": {"export_columns": ["signup_date", column], "all": {}},
    }
    with pytest.raises(ConfigError, match=f"export_columns names '{column}', a demographic"):
        parse_config(raw, base_dir=tmp_path)
    raw["audiences"] = {"export_columns": ["signup_date"], "all": {}}
    assert parse_config(raw, base_dir=tmp_path).audiences.export_columns == ("signup_date",)
