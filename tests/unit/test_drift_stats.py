"""Drift statistics pinned to Evidently 0.7.23 and to scipy.

Expected values come from three independent places, never from ``drift_stats`` itself:
``tests/fixtures/drift/expected.json`` (what Evidently 0.7.23 computed on the seeded samples
in ``samples.parquet``; definitions in the shared fixture README), scipy / numpy called
directly, and a line-by-line restatement of Evidently's ``get_binned_data`` below
(pandas ``nunique`` / ``value_counts``, ``np.histogram_bin_edges(..., "sturges")``).
Tolerances: fixture values to relative 1e-6 (every expected value is <= 1, so that is at
least as strict as absolute 1e-6, and it still bites on p-values like 1e-91); the fast path
against scipy to relative 1e-9 (absolute 1e-12 near 0).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from segmentation.monitoring.drift_stats import (
    _kstwo_sf,
    chisquare_pvalue,
    column_stats,
    evidently_bins,
    fill_empty,
    jensen_shannon,
    ks_pvalue,
    ks_statistic,
    psi_evidently,
    psi_quantile,
    wasserstein_normed,
)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "drift"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())["cases"]
NUMERIC_CASES = sorted(name for name, case in EXPECTED.items() if case["kind"] == "num")
NUMERIC_KEYS = ("psi", "jensenshannon", "ks_pvalue", "wasserstein_normed")


def fixture_close(expected: float) -> Any:
    return pytest.approx(expected, rel=1e-6, abs=0.0)


def scipy_close(expected: float) -> Any:
    return pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def samples() -> pd.DataFrame:
    return pd.read_parquet(FIXTURES / "samples.parquet")


def sides(samples: pd.DataFrame, case: str, column: str = "value") -> tuple[pd.Series, pd.Series]:
    rows = samples[samples["case"] == case]
    return (
        rows.loc[rows["side"] == "reference", column].reset_index(drop=True),
        rows.loc[rows["side"] == "current", column].reset_index(drop=True),
    )


# ---------------------------------------------------------------- Evidently, restated


def evidently_shares(
    reference: Any, current: Any, categorical: bool = False, union: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Evidently 0.7.23 ``get_binned_data`` (without the floor), as its source does it."""
    ref = pd.Series(reference).replace([np.inf, -np.inf], np.nan).dropna()
    cur = pd.Series(current).replace([np.inf, -np.inf], np.nan).dropna()
    if not categorical and ref.nunique() > 20:
        bins = np.histogram_bin_edges(pd.concat([ref, cur]).to_numpy(), bins="sturges")
        return np.histogram(ref, bins)[0] / len(ref), np.histogram(cur, bins)[0] / len(cur)
    keys = list(set(ref.unique()) | set(cur.unique())) if union else list(set(ref.unique()))
    ref_counts, cur_counts = ref.value_counts(), cur.value_counts()
    return (
        np.array([ref_counts.get(k, 0) / len(ref) for k in keys]),
        np.array([cur_counts.get(k, 0) / len(cur) for k in keys]),
    )


def evidently_floor(shares: np.ndarray) -> np.ndarray:
    out = shares.copy()
    smallest = min(out[out != 0])
    np.place(out, out == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return out


def evidently_psi(reference: Any, current: Any, **kwargs: bool) -> float:
    r, c = (evidently_floor(s) for s in evidently_shares(reference, current, **kwargs))
    return float(np.sum((r - c) * np.log(r / c)))


def evidently_js(reference: Any, current: Any, **kwargs: bool) -> float:
    return float(distance.jensenshannon(*evidently_shares(reference, current, **kwargs)))


def quantile_psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI on unique'd interior reference quantiles, value on an edge goes up, Evidently floor."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(edges, reference, "right"), minlength=edges.size + 1)
    c = np.bincount(np.searchsorted(edges, current, "right"), minlength=edges.size + 1)
    rs, cs = evidently_floor(r / r.sum()), evidently_floor(c / c.sum())
    return float(np.sum((rs - cs) * np.log(rs / cs)))


# ---------------------------------------------------------------- fixtures from Evidently


def test_fixture_copy_has_the_sizes_evidently_saw(samples: pd.DataFrame) -> None:
    for case, expected in EXPECTED.items():
        column = "value" if expected["kind"] == "num" else "category"
        reference, current = sides(samples, case, column)
        assert (reference.notna().sum(), current.notna().sum()) == (
            expected["n_ref"],
            expected["n_cur"],
        ), case


@pytest.mark.parametrize("case", NUMERIC_CASES)
def test_straight_functions_match_evidently(samples: pd.DataFrame, case: str) -> None:
    reference, current = sides(samples, case)
    expected = EXPECTED[case]
    assert psi_evidently(reference, current) == fixture_close(expected["psi"])
    assert jensen_shannon(reference, current) == fixture_close(expected["jensenshannon"])
    assert ks_pvalue(reference, current) == fixture_close(expected["ks_pvalue"])
    assert wasserstein_normed(reference, current) == fixture_close(expected["wasserstein_normed"])


@pytest.mark.parametrize("case", NUMERIC_CASES)
def test_column_stats_match_evidently(samples: pd.DataFrame, case: str) -> None:
    reference, current = sides(samples, case)
    got = column_stats(reference.to_numpy(), current.to_numpy())
    for key in NUMERIC_KEYS:
        assert got[key] == fixture_close(EXPECTED[case][key]), key


def test_categorical_case_matches_evidently(samples: pd.DataFrame) -> None:
    reference, current = sides(samples, "category", "category")
    expected = EXPECTED["category"]
    assert psi_evidently(reference, current, categorical=True) == fixture_close(expected["psi"])
    assert jensen_shannon(reference, current, categorical=True) == fixture_close(
        expected["jensenshannon"]
    )
    assert chisquare_pvalue(reference, current) == fixture_close(expected["chisquare_pvalue"])
    # a string column is categorical without being told
    assert psi_evidently(reference.to_numpy(), current.to_numpy()) == fixture_close(expected["psi"])


def test_discrete_bins_are_the_union_of_both_sides_values(samples: pd.DataFrame) -> None:
    reference, current = sides(samples, "frequency_counts")
    only_current = sorted(set(current) - set(reference))
    assert only_current  # the case exists to pin what happens to these
    edges = evidently_bins(reference, current)
    values = np.union1d(reference, current)
    np.testing.assert_array_equal(edges[:-1], values)
    counts = np.histogram(current, edges)[0]
    np.testing.assert_array_equal(counts, [np.sum(current == v) for v in values])
    # Evidently's number needs the current-only values as bins: reference values alone miss it
    expected = EXPECTED["frequency_counts"]["psi"]
    assert evidently_psi(reference, current) == fixture_close(expected)
    assert abs(evidently_psi(reference, current, union=False) - expected) > 1e-4


# ---------------------------------------------------------------- bins and the floor


@pytest.mark.parametrize(("n_ref", "n_cur"), [(1000, 24), (512, 512), (3000, 1096), (30, 2)])
def test_equal_width_edges_are_numpys_sturges(n_ref: int, n_cur: int) -> None:
    # totals 1024, 4096 and 32 are powers of two, where ceil(log2(n) + 1) and numpy can differ
    rng = np.random.default_rng(n_ref)
    reference, current = rng.gamma(2.0, 3.0, n_ref), rng.normal(5.0, 2.0, n_cur)
    expected = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
    np.testing.assert_array_equal(evidently_bins(reference, current), expected)


def test_integer_columns_never_get_bins_narrower_than_one() -> None:
    # 21 distinct ints over a range of 20 with 2**20 rows: Sturges asks for 22 bins, but numpy
    # (and so Evidently, which passes the int64 values) caps integer bins at width 1
    rng = np.random.default_rng(1)
    reference = rng.integers(0, 21, 2**19)
    current = rng.integers(0, 21, 2**19)
    expected = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
    assert expected.size == 21  # 20 bins: the rule is in play
    np.testing.assert_array_equal(evidently_bins(reference, current), expected)
    assert evidently_bins(reference.astype(float), current.astype(float)).size == 22
    got = column_stats(reference, current)
    assert got["psi"] == scipy_close(evidently_psi(reference, current))


def test_twenty_unique_reference_values_are_discrete_twenty_one_are_not() -> None:
    current = np.arange(30.0)
    assert evidently_bins(np.arange(20.0), current).size == 31  # 30 values + closing edge
    expected = np.histogram_bin_edges(np.concatenate([np.arange(21.0), current]), "sturges")
    np.testing.assert_array_equal(evidently_bins(np.arange(21.0), current), expected)


def test_psi_floors_each_side_on_its_own() -> None:
    # reference shares 0.5 / 0.5 / 0: its empty bin gets 1e-4 (its smallest share is 0.5);
    # current shares 0.99995 / 0 / 0.00005: its smallest share is <= 1e-4, so 5e-5 / 1e6
    reference = np.array([0.0] * 10_000 + [1.0] * 10_000)
    current = np.array([0.0] * 19_999 + [2.0])
    r, c = (0.5, 0.5, 1e-4), (0.99995, 5e-5 / 1e6, 5e-5)
    expected = sum((ri - ci) * math.log(ri / ci) for ri, ci in zip(r, c, strict=True))
    assert psi_evidently(reference, current) == pytest.approx(expected, rel=1e-12)
    assert column_stats(reference, current)["psi"] == pytest.approx(expected, rel=1e-12)


def test_fill_empty_boundaries() -> None:
    np.testing.assert_array_equal(fill_empty(np.array([0.5, 0.0, 0.5])), [0.5, 1e-4, 0.5])
    # exactly 1e-4 is "<= 1e-4": the floor drops a million-fold below it
    got = fill_empty(np.array([1e-4, 0.0, 1 - 1e-4]))
    np.testing.assert_allclose(got, [1e-4, 1e-10, 1 - 1e-4], rtol=1e-15)
    shares = np.array([0.2, 0.0])
    fill_empty(shares)
    assert shares[1] == 0.0  # a copy


def test_jensen_shannon_uses_no_floor() -> None:
    reference = np.array([0.0] * 5 + [1.0] * 3 + [2.0] * 2)
    current = np.array([0.0] * 6 + [1.0] * 4)
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.6, 0.4, 0.0])
    m = (p + q) / 2
    kl = [sum(x * math.log(x / y) for x, y in zip(s, m, strict=True) if x > 0) for s in (p, q)]
    assert jensen_shannon(reference, current) == pytest.approx(math.sqrt(sum(kl) / 2), rel=1e-12)
    r, c = p, np.array([0.6, 0.4, 1e-4])
    psi = sum((ri - ci) * math.log(ri / ci) for ri, ci in zip(r, c, strict=True))
    assert psi_evidently(reference, current) == pytest.approx(psi, rel=1e-12)


# ---------------------------------------------------------------- the fast path


def lognormal(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    return rng.lognormal(1.0 + shift, 0.9, n)


def rounded_normal(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    return np.round(rng.normal(10.0 + shift, 3.0, n), 1)  # ~200 values, heavy ties


def counts(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    return rng.poisson(3.0 + 4 * shift, n).astype(np.float64)  # <= 20 values: discrete bins


def int_counts(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    return rng.poisson(30.0 + 10 * shift, n)  # int64, > 20 values


Draw = Callable[[np.random.Generator, int, float], np.ndarray]
FAST_CASES = [
    (lognormal, 30_000, 20_000, 0.03),  # asymptotic KS, 2 * smirnov branch
    (lognormal, 30_000, 20_000, 0.0),
    (rounded_normal, 25_000, 25_000, 0.1),
    (counts, 15_000, 12_000, 0.05),
    (int_counts, 12_000, 40_000, 0.05),
    (rounded_normal, 700, 900, 0.3),  # exact KS
    (counts, 10_000, 10_000, 0.05),  # largest exact size
    (lognormal, 10_001, 9_000, 0.05),  # smallest asymptotic size
    (rounded_normal, 20_000, 60, 0.5),  # asymptotic with en <= 140
]


@pytest.mark.parametrize(("draw", "n_ref", "n_cur", "shift"), FAST_CASES)
def test_column_stats_equal_the_straight_scipy_path(
    draw: Draw, n_ref: int, n_cur: int, shift: float
) -> None:
    rng = np.random.default_rng(n_ref + n_cur)
    reference, current = draw(rng, n_ref, 0.0), draw(rng, n_cur, shift)
    got = column_stats(reference, current)
    ks = stats.ks_2samp(reference, current)
    expected = {
        "psi": evidently_psi(reference, current),
        "jensenshannon": evidently_js(reference, current),
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "wasserstein_normed": stats.wasserstein_distance(reference, current)
        / max(np.std(reference), 0.001),
        "psi_quantile": quantile_psi(reference, current),
    }
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == scipy_close(value), key
    # the straight functions are the same definitions
    assert psi_evidently(reference, current) == scipy_close(expected["psi"])
    assert jensen_shannon(reference, current) == scipy_close(expected["jensenshannon"])
    assert ks_statistic(reference, current) == scipy_close(expected["ks_statistic"])
    assert psi_quantile(reference, current) == scipy_close(expected["psi_quantile"])


def test_fast_ks_pvalue_sits_in_a_range_that_tells_methods_apart() -> None:
    # guards the case above against passing vacuously: a p-value that is neither 0 nor 1
    rng = np.random.default_rng(50_000)
    reference, current = lognormal(rng, 30_000, 0.0), lognormal(rng, 20_000, 0.03)
    p = column_stats(reference, current)["ks_pvalue"]
    assert 1e-12 < p < 0.05


@pytest.mark.parametrize("n", [141, 5_000, 10_001, 60_000])
@pytest.mark.parametrize("z", [0.02, 0.8, 1.48, 1.49, 3.0, 10.0, 19.2, 19.3])
def test_kstwo_sf_equals_scipys(n: int, z: float) -> None:
    d = z / math.sqrt(n)  # n d^2 = z^2 sweeps the 2.2 and 370 cut-offs and both sides
    assert _kstwo_sf(d, float(n)) == pytest.approx(stats.kstwo.sf(d, n), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("d", [0.5, 0.6, 0.99, 1.5 / 200, 0.8 / 200])
def test_kstwo_sf_equals_scipys_at_the_edges(d: float) -> None:
    assert _kstwo_sf(d, 200.0) == pytest.approx(stats.kstwo.sf(d, 200), rel=1e-9, abs=1e-300)


def test_non_finite_values_are_dropped_and_inputs_left_alone() -> None:
    rng = np.random.default_rng(3)
    reference, current = rng.normal(size=2_000), rng.normal(0.2, size=1_500)
    dirty = np.concatenate([reference, [np.nan, np.inf, -np.inf]])
    before = dirty.copy()
    assert column_stats(dirty, current) == column_stats(reference, current)
    np.testing.assert_array_equal(dirty, before)
    assert psi_evidently(dirty, current) == psi_evidently(reference, current)
    assert wasserstein_normed(dirty, current) == wasserstein_normed(reference, current)


def test_empty_sides() -> None:
    empty, some = np.array([np.nan]), np.arange(5.0)
    assert all(math.isnan(v) for v in column_stats(empty, some).values())
    for stat in (psi_evidently, jensen_shannon, ks_pvalue, ks_statistic, wasserstein_normed):
        assert math.isnan(stat(some, empty))
    assert math.isnan(psi_quantile(empty, some))
    assert math.isnan(chisquare_pvalue([None], ["a"]))
    with pytest.raises(ValueError, match="finite"):
        evidently_bins(some, empty)


def test_identical_samples_show_no_drift() -> None:
    x = np.random.default_rng(5).lognormal(size=5_000)
    got = column_stats(x, x.copy())
    assert got["psi"] == 0.0 and got["jensenshannon"] == 0.0 and got["psi_quantile"] == 0.0
    assert got["ks_statistic"] == 0.0 and got["ks_pvalue"] == 1.0
    assert got["wasserstein_normed"] == 0.0


def test_wasserstein_norm_has_a_floor() -> None:
    reference, current = np.full(100, 3.0), np.full(100, 3.0005)
    assert wasserstein_normed(reference, current) == pytest.approx(0.0005 / 0.001, rel=1e-9)
    assert column_stats(reference, current)["wasserstein_normed"] == pytest.approx(0.5, rel=1e-9)


# ---------------------------------------------------------------- quantile PSI


def test_psi_quantile_by_hand() -> None:
    reference = np.arange(100.0)  # quartile edges 24.75, 49.5, 74.25
    current = np.concatenate([np.full(20, 30.0), np.full(30, 60.0), np.full(50, 90.0)])
    r, c = (0.25,) * 4, (1e-4, 0.2, 0.3, 0.5)  # first bin empty: 1e-4 (smallest share 0.2)
    expected = sum((ri - ci) * math.log(ri / ci) for ri, ci in zip(r, c, strict=True))
    assert psi_quantile(reference, current, bins=4) == pytest.approx(expected, rel=1e-12)
    # a value on an edge goes to the bin above it
    assert psi_quantile(reference, np.full(10, 49.5), bins=4) == pytest.approx(
        psi_quantile(reference, np.full(10, 60.0), bins=4), rel=1e-12
    )


def test_psi_quantile_merges_repeated_edges_and_checks_bins() -> None:
    reference = np.array([0.0] * 90 + list(range(1, 11)))  # deciles 1..8 all 0
    current = np.array([0.0] * 50 + [5.0] * 50)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, 11)[1:-1]))
    assert edges.size < 9
    assert psi_quantile(reference, current) == pytest.approx(
        quantile_psi(reference, current), rel=1e-12
    )
    assert psi_quantile(reference, reference, bins=1) == 0.0
    with pytest.raises(ValueError, match="bins"):
        psi_quantile(reference, current, bins=0)


# ---------------------------------------------------------------- categories


def test_chisquare_against_scipy_with_a_reference_only_category() -> None:
    reference = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    current = ["a"] * 70 + ["b"] * 50  # no "c" today
    expected = stats.chisquare([70, 50, 0], [50 * 1.2, 30 * 1.2, 20 * 1.2]).pvalue
    assert chisquare_pvalue(reference, current) == pytest.approx(expected, rel=1e-12)
    # missing values are dropped, on either side
    assert chisquare_pvalue([*reference, None], [*current, np.nan]) == pytest.approx(
        expected, rel=1e-12
    )


def test_chisquare_category_only_in_current_is_certain_drift() -> None:
    reference = ["a"] * 60 + ["b"] * 40
    current = ["a"] * 55 + ["b"] * 40 + ["new"] * 5
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        scipy_p = stats.chisquare([55, 40, 5], [60.0, 40.0, 0.0]).pvalue  # what Evidently gets
    assert scipy_p == 0.0
    assert chisquare_pvalue(reference, current) == 0.0


def test_chisquare_single_category_is_no_drift() -> None:
    assert chisquare_pvalue(["a"] * 10, ["a"] * 7) == 1.0


def test_unobserved_categorical_levels_are_not_bins() -> None:
    levels = ["a", "b", "c", "unused"]
    reference = pd.Series(pd.Categorical(["a"] * 5 + ["b"] * 3 + ["c"] * 2, categories=levels))
    current = pd.Series(pd.Categorical(["a"] * 4 + ["b"] * 4 + ["c"] * 2, categories=levels))
    plain_ref, plain_cur = reference.astype(str), current.astype(str)
    assert psi_evidently(reference, current) == pytest.approx(
        evidently_psi(plain_ref, plain_cur, categorical=True), rel=1e-12
    )
    assert jensen_shannon(reference, current) == pytest.approx(
        evidently_js(plain_ref, plain_cur, categorical=True), rel=1e-12
    )
    assert chisquare_pvalue(reference, current) == pytest.approx(
        stats.chisquare([4, 4, 2], [5.0, 3.0, 2.0]).pvalue, rel=1e-12
    )


def test_numbers_as_categories_get_one_bin_each() -> None:
    rng = np.random.default_rng(11)
    reference, current = rng.integers(0, 40, 3_000), rng.integers(0, 45, 2_000)
    assert psi_evidently(reference, current, categorical=True) == pytest.approx(
        evidently_psi(reference, current, categorical=True), rel=1e-12
    )
    assert psi_evidently(reference, current) == pytest.approx(
        evidently_psi(reference, current), rel=1e-12
    )
