"""Campaign measurement statistics against published values, scipy and hand computation.

Expected values never come from ``segmentation.campaigns.stats`` itself:

- the Newcombe interval: Newcombe (1998), "Interval estimation for the difference between
  independent proportions: comparison of eleven methods", Statistics in Medicine 17:873-890,
  Table II, method 10 (the hybrid score interval without continuity correction), to the 4
  decimals printed there;
- the relative uplift interval: Fagerland, Lydersen & Laake (2015), "Recommended confidence
  intervals for two independent binomial proportions", Statistical Methods in Medical
  Research 24(2):224-254, the "adjusted log" interval for 7/34 against 1/34, to the 2 figures
  printed there, and the textbook formula written out below;
- the z-test: the pooled z statistic written out with ``math.erfc``, and scipy's chi-square
  test of the 2x2 table without continuity correction (z squared is that chi-square);
- Welch: ``scipy.stats.ttest_ind(equal_var=False)`` and the Welch-Satterthwaite formulas
  written out with ``scipy.stats.t``;
- power: the textbook closed form of the minimum detectable Cohen's h with
  ``scipy.stats.norm.ppf``.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest
from scipy import stats

from segmentation.campaigns.stats import conversion, mde, required_treated, revenue

pytestmark = pytest.mark.unit

CONVERSION_KEYS = {
    "treated_conversion",
    "control_conversion",
    "conversion_uplift",
    "conversion_uplift_low",
    "conversion_uplift_high",
    "conversion_uplift_relative",
    "conversion_uplift_relative_low",
    "conversion_uplift_relative_high",
    "conversion_p_value",
}
REVENUE_KEYS = {
    "treated_revenue_per_customer",
    "control_revenue_per_customer",
    "revenue_uplift",
    "revenue_uplift_low",
    "revenue_uplift_high",
    "revenue_p_value",
}

# Newcombe (1998), Table II, method 10: (x1, n1, x0, n0) -> (lower, upper) of p1 - p0
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),  # (a)
    ((9, 10, 3, 10), (0.1705, 0.8090)),  # (b)
    ((6, 7, 2, 7), (0.0582, 0.8062)),  # (c)
    ((5, 56, 0, 29), (-0.0381, 0.1926)),  # (d)
    ((0, 10, 0, 20), (-0.1611, 0.2775)),  # (e)
    ((0, 10, 0, 10), (-0.2775, 0.2775)),  # (f)
    ((10, 10, 0, 20), (0.6791, 1.0000)),  # (g)
    ((10, 10, 0, 10), (0.6075, 1.0000)),  # (h)
]


def assert_python_floats_or_none(figures: dict[str, float | None]) -> None:
    for key, value in figures.items():
        assert value is None or type(value) is float, (key, type(value))


# ---------------------------------------------------------------------------- conversion


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_uplift_interval_is_newcombes_method_10_as_published(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    x1, n1, x0, n0 = counts
    figures = conversion(x1, n1, x0, n0)
    assert set(figures) == CONVERSION_KEYS
    assert_python_floats_or_none(figures)
    assert figures["treated_conversion"] == x1 / n1
    assert figures["control_conversion"] == x0 / n0
    assert figures["conversion_uplift"] == pytest.approx(x1 / n1 - x0 / n0, abs=1e-15)
    assert figures["conversion_uplift_low"] == pytest.approx(published[0], abs=5e-5)
    assert figures["conversion_uplift_high"] == pytest.approx(published[1], abs=5e-5)


def test_relative_uplift_interval_is_the_published_adjusted_log_interval() -> None:
    # Fagerland et al. (2015), 7/34 against 1/34: ratio 7, adjusted log 0.92 to 27
    # (the Newcombe hybrid score interval of the same table: 0.019 to 0.34)
    figures = conversion(7, 34, 1, 34)
    assert figures["conversion_uplift_relative"] == pytest.approx(7.0 - 1.0, rel=1e-12)
    assert figures["conversion_uplift_relative_low"] == pytest.approx(0.92 - 1.0, abs=0.005)
    assert figures["conversion_uplift_relative_high"] == pytest.approx(27.0 - 1.0, abs=0.5)
    assert figures["conversion_uplift_low"] == pytest.approx(0.019, abs=0.0005)
    assert figures["conversion_uplift_high"] == pytest.approx(0.34, abs=0.005)


def test_relative_uplift_interval_against_the_adjusted_log_formula() -> None:
    # log risk ratio with 0.5 added to every count and total, +- z * its standard error
    x1, n1, x0, n0, alpha = 48, 1200, 30, 1100, 0.1
    a1, m1, a0, m0 = x1 + 0.5, n1 + 0.5, x0 + 0.5, n0 + 0.5
    log_ratio = math.log((a1 / m1) / (a0 / m0))
    half = stats.norm.ppf(1 - alpha / 2) * math.sqrt(1 / a1 - 1 / m1 + 1 / a0 - 1 / m0)
    figures = conversion(x1, n1, x0, n0, alpha=alpha)
    assert figures["conversion_uplift_relative"] == pytest.approx(
        (48 / 1200) / (30 / 1100) - 1, rel=1e-12
    )
    assert figures["conversion_uplift_relative_low"] == pytest.approx(
        math.exp(log_ratio - half) - 1, rel=1e-12
    )
    assert figures["conversion_uplift_relative_high"] == pytest.approx(
        math.exp(log_ratio + half) - 1, rel=1e-12
    )


def test_p_value_is_the_pooled_two_proportion_z_test_by_hand() -> None:
    x1, n1, x0, n0 = 30, 200, 18, 220
    pooled = (x1 + x0) / (n1 + n0)
    z = (x1 / n1 - x0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    assert z == pytest.approx(2.1934, abs=1e-4)  # 0.15 - 0.0818 = 0.0682 over 0.03108
    by_hand = math.erfc(abs(z) / math.sqrt(2))
    assert conversion(x1, n1, x0, n0)["conversion_p_value"] == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize(
    "counts", [(30, 200, 18, 220), (5, 56, 0, 29), (420, 9000, 40, 1000), (1, 3, 2, 2)]
)
def test_p_value_equals_the_uncorrected_chi_square_test(counts: tuple[int, int, int, int]) -> None:
    x1, n1, x0, n0 = counts
    table = np.array([[x1, n1 - x1], [x0, n0 - x0]])
    chi_square = stats.chi2_contingency(table, correction=False)
    assert conversion(x1, n1, x0, n0)["conversion_p_value"] == pytest.approx(
        chi_square.pvalue, rel=1e-9
    )


def test_alpha_widens_the_interval() -> None:
    wide = conversion(56, 70, 48, 80, alpha=0.01)
    narrow = conversion(56, 70, 48, 80, alpha=0.05)
    bounds = ("conversion_uplift_low", "conversion_uplift_high")
    wide_low, wide_high = (wide[key] for key in bounds)
    narrow_low, narrow_high = (narrow[key] for key in bounds)
    assert wide_low is not None and wide_high is not None
    assert narrow_low is not None and narrow_high is not None
    assert wide_low < narrow_low < narrow_high < wide_high


@pytest.mark.parametrize(
    ("counts", "undefined"),
    [
        # nobody converted: the uplift interval exists, the ratio and the z statistic do not
        (
            (0, 100, 0, 200),
            {"conversion_uplift_relative", "conversion_uplift_relative_low"}
            | {"conversion_uplift_relative_high", "conversion_p_value"},
        ),
        # everybody converted: the pooled proportion is 1, z is 0/0
        ((100, 100, 50, 50), {"conversion_p_value"}),
        # no control converters: the ratio is undefined, the test is not
        (
            (3, 100, 0, 100),
            {"conversion_uplift_relative", "conversion_uplift_relative_low"}
            | {"conversion_uplift_relative_high"},
        ),
        # an empty control group: only the treated conversion is defined
        ((5, 100, 0, 0), CONVERSION_KEYS - {"treated_conversion"}),
        ((0, 0, 3, 10), CONVERSION_KEYS - {"control_conversion"}),
        ((0, 0, 0, 0), CONVERSION_KEYS),
    ],
)
def test_degenerate_conversion_gives_none_without_warnings(
    counts: tuple[int, int, int, int], undefined: set[str]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures = conversion(*counts)
    assert set(figures) == CONVERSION_KEYS
    assert_python_floats_or_none(figures)
    assert {key for key, value in figures.items() if value is None} == undefined


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="treated group"):
        conversion(11, 10, 1, 10)
    with pytest.raises(ValueError, match="control group"):
        conversion(1, 10, -1, 10)


# ---------------------------------------------------------------------------- revenue


def test_welch_by_hand() -> None:
    treated = np.array([1.0, 2.0, 3.0, 4.0])  # mean 2.5, variance 5/3
    control = np.array([2.0, 4.0, 9.0])  # mean 5, variance (9 + 1 + 16) / 2 = 13
    v1, v0 = (5 / 3) / 4, 13 / 3  # squared standard errors of the means
    se = math.sqrt(v1 + v0)
    df = (v1 + v0) ** 2 / (v1**2 / (4 - 1) + v0**2 / (3 - 1))
    assert df == pytest.approx(2.3884, abs=1e-4)
    half = stats.t.ppf(0.975, df) * se
    p_value = 2 * stats.t.sf(abs(-2.5 / se), df)

    figures = revenue(treated, control)
    assert set(figures) == REVENUE_KEYS
    assert_python_floats_or_none(figures)
    assert figures["treated_revenue_per_customer"] == 2.5
    assert figures["control_revenue_per_customer"] == 5.0
    assert figures["revenue_uplift"] == -2.5
    assert figures["revenue_uplift_low"] == pytest.approx(-2.5 - half, rel=1e-10)
    assert figures["revenue_uplift_high"] == pytest.approx(-2.5 + half, rel=1e-10)
    assert figures["revenue_p_value"] == pytest.approx(p_value, rel=1e-10)


@pytest.mark.parametrize("alpha", [0.05, 0.1])
@pytest.mark.parametrize(
    ("treated", "control"),
    [
        ([0, 0, 12.5, 30, 0, 8, 0, 45.2, 0, 0], [0, 10, 0, 0, 5.5, 0, 20]),
        ([0, 0, 0, 0, 99.9, 0], [0, 0, 0, 0, 0, 0, 0, 0]),  # one group constant
        ([3, 3, 4], [1, 2]),
    ],
)
def test_welch_against_scipy(treated: list[float], control: list[float], alpha: float) -> None:
    expected = stats.ttest_ind(treated, control, equal_var=False)
    interval = expected.confidence_interval(confidence_level=1 - alpha)
    figures = revenue(np.array(treated), np.array(control), alpha=alpha)
    assert figures["revenue_uplift"] == pytest.approx(np.mean(treated) - np.mean(control))
    assert figures["revenue_uplift_low"] == pytest.approx(interval.low, rel=1e-10)
    assert figures["revenue_uplift_high"] == pytest.approx(interval.high, rel=1e-10)
    assert figures["revenue_p_value"] == pytest.approx(expected.pvalue, rel=1e-10)


def test_welch_on_a_million_customers_per_group_is_fast_and_agrees_with_scipy() -> None:
    rng = np.random.default_rng(7)
    buys = rng.random((2, 1_000_000)) < [[0.05], [0.045]]
    spend = rng.gamma(2.0, 40.0, (2, 1_000_000))
    treated, control = np.where(buys, spend, 0.0)
    start = time.perf_counter()
    figures = revenue(treated, control)
    elapsed = time.perf_counter() - start
    expected = stats.ttest_ind(treated, control, equal_var=False)
    interval = expected.confidence_interval()
    assert figures["revenue_uplift_low"] == pytest.approx(interval.low, rel=1e-8)
    assert figures["revenue_uplift_high"] == pytest.approx(interval.high, rel=1e-8)
    assert figures["revenue_p_value"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert elapsed < 5.0  # numpy throughout: about 0.1 s; a Python loop would take far longer


NO_TEST = {"revenue_uplift_low", "revenue_uplift_high", "revenue_p_value"}


@pytest.mark.parametrize(
    ("treated", "control", "undefined"),
    [
        # both constant: no variance, no test
        ([0.0, 0.0, 0.0], [5.0, 5.0], NO_TEST),
        ([0.1] * 1000, [0.1] * 999, NO_TEST),
        # one customer in a group: means, but no variance of that group
        ([12.0], [0.0, 3.0, 4.0], NO_TEST),
        # an empty group: no mean for it, so no uplift either
        ([1.0, 2.0], [], NO_TEST | {"control_revenue_per_customer", "revenue_uplift"}),
        ([], [], REVENUE_KEYS),
    ],
)
def test_degenerate_revenue_gives_none_without_warnings(
    treated: list[float], control: list[float], undefined: set[str]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures = revenue(np.array(treated, dtype=float), np.array(control, dtype=float))
    assert set(figures) == REVENUE_KEYS
    assert_python_floats_or_none(figures)
    assert {key for key, value in figures.items() if value is None} == undefined


def test_constant_groups_still_report_their_means() -> None:
    figures = revenue(np.zeros(3), np.full(2, 5.0))
    assert figures["treated_revenue_per_customer"] == 0.0
    assert figures["control_revenue_per_customer"] == 5.0
    assert figures["revenue_uplift"] == -5.0


def test_missing_revenue_is_refused() -> None:
    with pytest.raises(ValueError, match="treated revenue"):
        revenue(np.array([1.0, np.nan]), np.array([1.0, 2.0]))


# ---------------------------------------------------------------------------- power


def closed_form_mde(n1: int, n0: int, baseline: float, alpha: float, power: float) -> float:
    """Textbook: h = (z_{1-alpha/2} + z_power) * sqrt(1/n1 + 1/n0), back through the arcsine."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    h = z * math.sqrt(1 / n1 + 1 / n0)
    return math.sin(math.asin(math.sqrt(baseline)) + h / 2) ** 2 - baseline


@pytest.mark.parametrize(
    ("n1", "n0", "baseline", "alpha", "power"),
    [
        (9000, 1000, 0.05, 0.05, 0.8),
        (5000, 5000, 0.2, 0.01, 0.9),
        (400, 250, 0.0, 0.05, 0.8),
        # statsmodels' default tolerance on h (absolute 1e-5) would be 0.2 % off here
        (10_000_000, 10_000_000, 0.02, 0.05, 0.8),
        (2_000_000_000, 500_000_000, 0.001, 0.05, 0.8),
    ],
)
def test_mde_matches_the_closed_form(
    n1: int, n0: int, baseline: float, alpha: float, power: float
) -> None:
    # the closed form drops the far tail of the two-sided test (1e-6 of power at alpha 0.05
    # and power 0.8, whatever the sizes), which moves h by about a millionth of itself
    expected = closed_form_mde(n1, n0, baseline, alpha, power)
    assert mde(n1, n0, baseline, alpha=alpha, power=power) == pytest.approx(expected, rel=1e-5)


def test_mde_of_the_usual_holdout() -> None:
    # 9000 treated, 1000 control, 5 % baseline: h = 2.8016 * sqrt(1/9000 + 1/1000) = 0.09339
    assert mde(9000, 1000, 0.05) == pytest.approx(0.02228, abs=1e-5)


@pytest.mark.parametrize(
    ("baseline", "uplift", "ratio"), [(0.05, 0.01, 1.0), (0.05, 0.01, 9.0), (0.3, 0.05, 2.0)]
)
def test_required_treated_round_trips_through_mde(
    baseline: float, uplift: float, ratio: float
) -> None:
    n = required_treated(baseline, uplift, ratio)
    assert n is not None
    above, below = math.ceil(n), math.floor(n)
    at_above = mde(above, round(above * ratio), baseline)
    at_below = mde(below, round(below * ratio), baseline)
    assert at_above is not None and at_below is not None
    # the mde falls with n, so the uplift sits between the mde of the two whole sizes around n
    assert at_above <= uplift <= at_below
    assert at_above == pytest.approx(uplift, rel=1e-3)


def test_required_treated_against_the_closed_form() -> None:
    # n1 = (z_{1-alpha/2} + z_power)^2 * (1 + 1/ratio) / h^2, h = 2 asin sqrt(p1) - 2 asin sqrt(p0)
    h = 2 * math.asin(math.sqrt(0.06)) - 2 * math.asin(math.sqrt(0.05))
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    expected = z**2 * (1 + 9) / h**2  # ratio 1/9: one control customer per nine treated
    assert required_treated(0.05, 0.01, 1 / 9) == pytest.approx(expected, rel=1e-5)


def test_required_treated_below_two_customers_is_solved_without_warnings() -> None:
    # from 0 % to 100 %: h = pi, so n1 = 2.8016^2 * 2 / pi^2 = 1.59 (statsmodels' default
    # search starts at 2 and warns)
    h = math.pi
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        n = required_treated(0.0, 1.0, 1.0)
    assert n == pytest.approx(z**2 * 2 / h**2, rel=1e-5)


def test_mde_is_capped_at_a_conversion_of_one() -> None:
    assert mde(1, 1, 0.5) == 0.5
    assert mde(2, 3, 0.9) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("n1", "n0", "baseline"), [(0, 100, 0.05), (100, 0, 0.05), (100, 100, 1.0), (100, 100, -0.1)]
)
def test_mde_is_none_when_undefined(n1: int, n0: int, baseline: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mde(n1, n0, baseline) is None


@pytest.mark.parametrize(
    ("baseline", "uplift", "ratio"),
    [(0.05, 0.0, 1.0), (0.05, -0.01, 1.0), (0.05, 0.01, 0.0), (0.995, 0.01, 1.0)],
)
def test_required_treated_is_none_when_undefined(
    baseline: float, uplift: float, ratio: float
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert required_treated(baseline, uplift, ratio) is None
