"""Drift metrics and the decision, on hand-computed and planted values; migrations."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from segmentation.config import DriftConfig
from segmentation.layout import Home
from segmentation.model import registry
from segmentation.monitoring.drift import (
    decision,
    feature_drift,
    membership_chisquare,
    migrations,
    psi_equal_width,
    segment_drift,
)
from segmentation.pipeline.drift import centroid_shifts

pytestmark = pytest.mark.unit


def test_psi_on_equal_width_bins_matches_the_formula() -> None:
    reference = np.array([0.0, 1.0, 2.0, 3.0])  # range 0..4 over 2 bins: [0, 2), [2, 4]
    current = np.array([0.5, 3.0, 3.5, 4.0])
    e, a = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    expected = float(np.sum((e - a) * np.log(e / a)))
    assert psi_equal_width(reference, current, bins=2) == pytest.approx(expected, abs=1e-12)
    assert psi_equal_width(reference, reference, bins=2) == 0.0


def test_a_planted_shift_alerts_and_names_the_feature_while_a_steady_one_does_not() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    reference = pd.DataFrame({"steady": rng.lognormal(3, 1, n), "moved": rng.normal(0, 1, n)})
    current = pd.DataFrame({"steady": rng.lognormal(3, 1, n), "moved": rng.normal(1, 1, n)})
    metrics = feature_drift(reference, current, None, None, DriftConfig())
    deciding = metrics[metrics["metric"] == "psi_quantile"].set_index("name")
    assert deciding.loc["steady", "level"] == "ok"
    assert deciding.loc["moved", "level"] == "alert"
    # Evidently's statistics ride along for comparison, without deciding
    assert set(metrics.loc[metrics["level"] == "info", "metric"]) >= {"psi", "ks_pvalue"}
    assert decision(metrics) == ("alert", ["moved"])


def test_one_extreme_customer_sways_evidentlys_metrics_but_not_the_deciding_ones() -> None:
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"monetary": rng.lognormal(4, 1, 50_000)})
    shifted = pd.DataFrame({"monetary": rng.lognormal(4, 1, 50_000) * 1.3})  # a real shift
    whale = shifted.copy()
    whale.loc[0, "monetary"] = 5e6  # plus one extreme customer

    def metrics(current: pd.DataFrame) -> pd.Series:
        scaled = (np.log1p(reference.to_numpy()), np.log1p(current.to_numpy()))
        frame = feature_drift(reference, current, *scaled, DriftConfig())
        return frame.set_index("metric")["value"]

    calm, swayed = metrics(shifted), metrics(whale)
    # equal-width bins on raw spend: one customer in 50,000 changes the verdict
    assert swayed["wasserstein_normed"] > 3 * calm["wasserstein_normed"]
    assert swayed["jensenshannon"] < calm["jensenshannon"] / 3
    # the deciding metrics barely notice
    assert swayed["psi_quantile"] == pytest.approx(calm["psi_quantile"], abs=1e-3)
    assert swayed["psi_model"] == pytest.approx(calm["psi_model"], rel=0.15)
    assert calm["psi_quantile"] > 0.05  # and they do see the real shift


def test_segments_that_appear_vanish_or_move_are_flagged() -> None:
    previous = pd.Series([1] * 50 + [2] * 50)
    current = pd.Series([1] * 30 + [3] * 70)
    rows = segment_drift(current, previous, None, {}, share_warn=0.05)
    got = {(r.name, r.metric): r.value for r in rows.itertuples()}
    assert got[("1", "share_change")] == pytest.approx(-0.2)  # 0.3 now, 0.5 before
    assert got[("3", "share_change")] == pytest.approx(0.7)
    assert got[("2", "share_change")] == pytest.approx(-0.5)
    assert got[("3", "appeared")] == 1.0 and got[("2", "vanished")] == 1.0
    assert ("1", "appeared") not in got and ("1", "vanished") not in got
    level, drifted = decision(rows)
    assert level == "warn" and drifted == []


def test_centroid_shift_is_the_distance_of_a_segments_mean_from_the_champions_centre(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # today's customers in the champion's scaled space (standard units)
    scaled = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [3.0, 4.0], [9.0, 9.0]])
    segment_ids = np.array([1, 1, 2, 2, 5])
    # segment 1: mean (1, 0), centre (1, 3): 3.0; segment 2: mean (1.5, 4), centre (-1.5, 0):
    # a 3-4-5 triangle, 5.0; segment 5 is new (no centre); 7 has a centre but no customer
    centres = np.array([[1.0, 3.0], [-1.5, 0.0], [50.0, 50.0]])
    champion = SimpleNamespace(segment_ids=[1, 2, 7], model_version="m20240301")
    loaded = []

    def load_model(models: Path, version: str) -> tuple[SimpleNamespace, None]:
        loaded.append((models, version))
        return SimpleNamespace(centers_scaled_=centres), None

    monkeypatch.setattr(registry, "load_model", load_model)
    shifts = centroid_shifts(Home(tmp_path), champion, scaled, segment_ids)  # type: ignore[arg-type]
    assert loaded == [(tmp_path / "models", "m20240301")]
    assert shifts == {1: pytest.approx(3.0), 2: pytest.approx(5.0)}

    rows = segment_drift(pd.Series(segment_ids), None, None, shifts, share_warn=0.05)
    shift_rows = rows[rows["metric"] == "centroid_shift"].set_index("name")
    assert shift_rows["value"].to_dict() == {"1": pytest.approx(3.0), "2": pytest.approx(5.0)}
    # reported for reading, never deciding: however far a centre moved, the run stays ok
    assert set(shift_rows["level"]) == {"info"} and not shift_rows["drifted"].any()
    assert decision(rows) == ("ok", [])


def test_migrations_count_pairs_and_new_customers() -> None:
    prev = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment_id": [1, 1, 2]})
    cur = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment_id": [1, 2, 2, 2]})
    m = migrations(cur, prev)
    pairs = {
        (None if pd.isna(f) else int(f), int(t)): int(n) for f, t, n in m.itertuples(index=False)
    }
    assert pairs == {(1, 1): 1, (1, 2): 1, (2, 2): 1, (None, 2): 1}


def test_a_changed_segment_mix_shows_in_the_chisquare_test() -> None:
    from scipy.stats import chisquare

    reference = pd.Series([1] * 500 + [2] * 500)
    same = pd.Series([1] * 490 + [2] * 510)
    moved = pd.Series([1] * 400 + [2] * 600)
    p_same = membership_chisquare(same, reference)["value"].item()
    p_moved = membership_chisquare(moved, reference)["value"].item()
    assert p_same == pytest.approx(chisquare([490, 510], [500, 500]).pvalue)
    assert p_same > 0.05 > p_moved
    assert membership_chisquare(same, None).empty


def test_migration_rate_counts_returning_customers_who_changed_segment() -> None:
    from segmentation.monitoring.drift import migration_rate

    moves = pd.DataFrame(
        {
            "from_segment_id": [1, 1, 2, None],
            "to_segment_id": [1, 2, 2, 3],
            "customers": [6, 2, 2, 40],  # the 40 new customers do not count
        }
    )
    assert migration_rate(moves) == pytest.approx(2 / 10)
    assert migration_rate(moves.iloc[3:]) == 0.0  # the first run: everyone is new
    assert migration_rate(None) == 0.0


def test_evaluate_appends_the_run_rows_with_the_decision() -> None:
    from segmentation.monitoring.drift import COLUMNS, evaluate

    alert = pd.DataFrame(
        [("feature", "monetary", "psi_quantile", 0.4, 0.25, True, "alert")], columns=COLUMNS
    )
    counts = {"bad_rows": 2, "late_events": 5, "duplicate_events": 3}
    metrics, level, drifted = evaluate([alert, pd.DataFrame(columns=COLUMNS)], 0.125, counts)
    assert (level, drifted) == ("alert", ["monetary"])
    run = metrics[metrics["scope"] == "run"].set_index("metric")["value"].to_dict()
    assert run == {
        "decision": 2.0,
        "drifted_features": 1.0,
        "migration_rate": 0.125,
        "bad_rows": 2.0,
        "late_events": 5.0,
        "duplicate_events": 3.0,
    }
    counted = metrics[metrics["metric"].isin(list(counts))]
    assert counted["level"].eq("info").all() and not counted["drifted"].any()
    _, level, drifted = evaluate([], 0.0, None)
    assert (level, drifted) == ("ok", [])


def test_row_counts_read_the_validation_record_and_a_missing_key_as_0() -> None:
    from segmentation.monitoring.drift import count_rows, row_counts

    # rows_read = valid + quarantined + duplicate (500 = 490 + 4 + 6); late is part of valid
    new = {"rows_read": 500, "rows_valid": 490, "rows_quarantined": 4, "rows_duplicate": 6}
    assert row_counts({**new, "rows_late": 7}) == {
        "bad_rows": 4,
        "late_events": 7,
        "duplicate_events": 6,
    }
    # a record from before the late and duplicate counts (and one without rows_quarantined)
    old = {"rows_read": 500, "rows_valid": 498, "rows_quarantined": 2}
    assert row_counts(old) == {"bad_rows": 2, "late_events": 0, "duplicate_events": 0}
    assert row_counts({"success": True}) == {"bad_rows": 0, "late_events": 0, "duplicate_events": 0}
    assert row_counts(None) is None
    unknown = count_rows(None)  # no record: unknown, published as null rather than as 0
    assert unknown["metric"].tolist() == ["bad_rows", "late_events", "duplicate_events"]
    assert unknown["value"].isna().all()
