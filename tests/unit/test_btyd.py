"""BG/NBD and Gamma-Gamma: published CDNOW values, hand computations, parameter recovery
from simulated customers, limiting cases and clear errors for bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segmentation.predictions.btyd import (
    BgNbdParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    conditional_expected_purchases,
    conditional_expected_spend,
    conditional_p_no_purchase,
    discounted_expected_purchases,
    distinct_rows,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    p_alive,
    simulate_bgnbd,
    simulate_gamma_gamma,
)

pytestmark = pytest.mark.unit

# CDNOW in weeks (Fader, Hardie & Lee 2005), published as r=0.243, alpha=4.414, a=0.793,
# b=2.426; these are the unrounded estimates (as pinned in CLVTools'
# tests/testthat/test_correctness_bgnbd.R). Hardie's spreadsheet works with the unrounded
# values: the rounded ones give E[X(78)] = 1.8605, off the published 1.8576 by 0.003.
CDNOW = BgNbdParams(r=0.2425945, alpha=4.4136019, a=0.7929199, b=2.4258881)
CDNOW_SPEND = GammaGammaParams(p=6.25, q=3.74, v=15.44)
SECOND = BgNbdParams(r=1.5, alpha=10.0, a=1.2, b=4.0)
SECOND_SPEND = GammaGammaParams(p=2.0, q=5.0, v=40.0)
N = 50_000


def test_cdnow_conditional_expected_purchases_in_the_next_39_weeks() -> None:
    expected = conditional_expected_purchases(CDNOW, 39.0, [2], [30.43], [38.86])
    assert expected.shape == (1,)
    assert expected[0] == pytest.approx(1.226, abs=0.001)


def test_cdnow_unconditional_expected_purchases() -> None:
    t = np.array([0.1429, 1, 3, 31.8571, 32, 78])
    published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_allclose(expected_purchases(CDNOW, t), published, atol=0.001)
    assert expected_purchases(CDNOW, 0.0) == 0.0


def test_cdnow_values_with_the_parameters_as_rounded_in_the_paper() -> None:
    rounded = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    expected = conditional_expected_purchases(rounded, 39.0, [2], [30.43], [38.86])
    assert expected[0] == pytest.approx(1.226, abs=0.001)
    t = np.array([0.1429, 1, 3, 31.8571, 32, 78])
    published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    # the rounding of the parameters alone moves E[X(t)] by up to 0.003 at 78 weeks
    np.testing.assert_allclose(expected_purchases(rounded, t)[:3], published[:3], atol=0.001)
    np.testing.assert_allclose(expected_purchases(rounded, t), published, atol=0.003)


def test_p_alive_by_hand() -> None:
    r, alpha, a, b = CDNOW.r, CDNOW.alpha, CDNOW.a, CDNOW.b
    x, t_x, T = 2, 30.43, 38.86
    odds_dead = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    got = p_alive(CDNOW, [x, 0], [t_x, 0.0], [T, T])
    assert got[0] == pytest.approx(1 / (1 + odds_dead), rel=1e-12)
    assert got[1] == 1.0  # no repeat purchase: nothing to drop out after


def _beta(a: float, b: float) -> float:
    return math.exp(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))


def test_bgnbd_log_likelihood_by_hand() -> None:
    """Equation (6) of the 2005 paper, written as products rather than in log space."""
    r, alpha, a, b = 0.5, 3.0, 0.8, 2.5
    rows = [(0, 0.0, 10.0, 1.0), (2, 4.5, 10.0, 2.0), (5, 9.0, 12.0, 3.0)]
    total = 0.0
    for x, t_x, T, weight in rows:
        gamma = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
        alive = _beta(a, b + x) / _beta(a, b) * gamma / (alpha + T) ** (r + x)
        dropped = _beta(a + 1, b + x - 1) / _beta(a, b) * gamma / (alpha + t_x) ** (r + x)
        total += weight * math.log(alive + (dropped if x > 0 else 0.0))
    x, t_x, T, weights = (list(c) for c in zip(*rows, strict=True))
    got = bgnbd_log_likelihood([r, alpha, a, b], x, t_x, T, weights)
    assert got == pytest.approx(total, rel=1e-12)


def test_gamma_gamma_log_likelihood_by_hand() -> None:
    """Fader & Hardie (2013), the per-customer log-likelihood as written in the note."""
    p, q, v = 6.25, 3.74, 15.44
    rows = [(1.0, 20.0), (3.0, 35.5), (7.0, 12.25)]
    total = sum(
        math.lgamma(p * n + q)
        - math.lgamma(p * n)
        - math.lgamma(q)
        + q * math.log(v)
        + (p * n - 1) * math.log(m)
        + p * n * math.log(n)
        - (p * n + q) * math.log(n * m + v)
        for n, m in rows
    )
    n, m = (list(c) for c in zip(*rows, strict=True))
    assert gamma_gamma_log_likelihood([p, q, v], n, m) == pytest.approx(total, rel=1e-12)


# Relative standard errors of the MLE at 50,000 customers, from the observed information
# (the inverse Hessian of the log-likelihood in log-parameters; the spread over 20 seeds
# agrees). CDNOW's a and b and the spend model's p and v have standard errors near 5%, so
# a flat 5% would fail at about one seed in three: allow 3 standard errors where larger.
BGNBD_CASES = [
    (CDNOW, (30.0, 78.0), (0.010, 0.017, 0.037, 0.049)),
    (SECOND, (52.0, 104.0), (0.009, 0.012, 0.020, 0.027)),
]
SPEND_CASES = [(CDNOW_SPEND, (0.041, 0.009, 0.048)), (SECOND_SPEND, (0.019, 0.012, 0.029))]


@pytest.mark.parametrize(("truth", "ages", "rel_se"), BGNBD_CASES)
def test_fit_bgnbd_recovers_simulated_parameters(
    truth: BgNbdParams, ages: tuple[float, float], rel_se: tuple[float, ...]
) -> None:
    rng = np.random.default_rng(0)
    x, t_x, T = simulate_bgnbd(truth, N, rng.uniform(*ages, N), rng)
    fit = fit_bgnbd(x, t_x, T)
    got, want = np.array([fit.r, fit.alpha, fit.a, fit.b]), [truth.r, truth.alpha, truth.a, truth.b]
    tolerance = np.maximum(0.05, 3 * np.array(rel_se))
    assert np.all(np.abs(got / want - 1) < tolerance), (got, want)


@pytest.mark.parametrize(("truth", "rel_se"), SPEND_CASES)
def test_fit_gamma_gamma_recovers_simulated_parameters(
    truth: GammaGammaParams, rel_se: tuple[float, ...]
) -> None:
    rng = np.random.default_rng(0)
    n = rng.integers(1, 11, N)
    fit = fit_gamma_gamma(n, simulate_gamma_gamma(truth, n, rng))
    got, want = np.array([fit.p, fit.q, fit.v]), [truth.p, truth.q, truth.v]
    tolerance = np.maximum(0.05, 3 * np.array(rel_se))
    assert np.all(np.abs(got / want - 1) < tolerance), (got, want)


def _as_array(params: BgNbdParams | GammaGammaParams) -> np.ndarray:
    return np.array(list(vars(params).values()))


def test_weighted_fit_on_distinct_rows_equals_the_fit_on_all_rows() -> None:
    rng = np.random.default_rng(1)
    x, t_x, T = simulate_bgnbd(CDNOW, 20_000, rng.integers(30, 79, 20_000), rng)
    t_x = np.floor(t_x)  # whole weeks, as the pipeline's whole days: many repeated rows
    x_u, t_x_u, T_u, counts, inverse = distinct_rows(x, t_x, T)
    assert len(x_u) < len(x) / 2
    assert counts.sum() == len(x)
    for column, distinct in ((x, x_u), (t_x, t_x_u), (T, T_u)):
        np.testing.assert_array_equal(distinct[inverse], column)
    np.testing.assert_allclose(
        _as_array(fit_bgnbd(x_u, t_x_u, T_u, weights=counts)),
        _as_array(fit_bgnbd(x, t_x, T)),
        rtol=1e-6,
    )


def test_weighted_gamma_gamma_fit_equals_the_fit_on_all_rows() -> None:
    rng = np.random.default_rng(2)
    n = rng.integers(1, 4, 10_000)
    m = np.round(simulate_gamma_gamma(CDNOW_SPEND, n, rng))  # whole amounts: repeated rows
    rows, counts = np.unique(np.column_stack([n, m]), axis=0, return_counts=True)
    weighted = fit_gamma_gamma(rows[:, 0], rows[:, 1], weights=counts)
    # L-BFGS-B stops within ~1e-7 on this likelihood's flat ridge in (p, q, v)
    np.testing.assert_allclose(_as_array(weighted), _as_array(fit_gamma_gamma(n, m)), rtol=1e-5)


def test_fits_do_not_depend_on_the_time_or_money_unit() -> None:
    rng = np.random.default_rng(3)
    x, t_x, T = simulate_bgnbd(SECOND, 5_000, rng.uniform(52, 104, 5_000), rng)
    weeks, days = fit_bgnbd(x, t_x, T), fit_bgnbd(x, 7 * t_x, 7 * T)
    np.testing.assert_allclose(_as_array(days), _as_array(weeks) * [1, 7, 1, 1], rtol=1e-6)
    n = rng.integers(1, 11, 5_000)
    m = simulate_gamma_gamma(CDNOW_SPEND, n, rng)
    dollars, cents = fit_gamma_gamma(n, m), fit_gamma_gamma(n, 100 * m)
    np.testing.assert_allclose(_as_array(cents), _as_array(dollars) * [1, 1, 100], rtol=1e-5)


def test_simulators_match_the_closed_forms() -> None:
    rng = np.random.default_rng(4)
    x, _, _ = simulate_bgnbd(CDNOW, 200_000, 52.0, rng)
    standard_error = x.std() / math.sqrt(len(x))
    assert abs(x.mean() - expected_purchases(CDNOW, 52.0)) < 4 * standard_error
    m = simulate_gamma_gamma(CDNOW_SPEND, np.ones(200_000), rng)
    population = CDNOW_SPEND.p * CDNOW_SPEND.v / (CDNOW_SPEND.q - 1)
    assert abs(m.mean() - population) < 4 * m.std() / math.sqrt(len(m))


def _history_and_future(
    params: BgNbdParams, n: int, T: float, t: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x) observed at T and the number of purchases in (T, T+t], per customer."""
    rate = rng.gamma(params.r, 1 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    x, t_x, clock, future = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.arange(n)
    while active.size:
        clock[active] += rng.standard_exponential(active.size) / rate[active]
        before = active[clock[active] <= T]
        x[before] += 1
        t_x[before] = clock[before]
        later = active[(clock[active] > T) & (clock[active] <= T + t)]
        future[later] += 1
        active = np.concatenate([before, later])
        active = active[rng.random(active.size) >= dropout[active]]
    return x, t_x, future


def test_conditional_predictions_agree_with_a_simulation_of_the_future() -> None:
    """Averaged over simulated customers with the same x, the conditional probability of no
    purchase and the conditional expectation match what they then do in (T, T+t]."""
    T, t = 52.0, 39.0
    x, t_x, future = _history_and_future(SECOND, N, T, t, np.random.default_rng(5))
    quiet = conditional_p_no_purchase(SECOND, t, x, t_x, np.full(N, T))
    expected = conditional_expected_purchases(SECOND, t, x, t_x, np.full(N, T))
    for group in (x == 0, x == 1, x == 2, (x >= 3) & (x < 6), x >= 6):
        observed_quiet, observed_count = (future[group] == 0).mean(), future[group]
        assert abs(quiet[group].mean() - observed_quiet) < 4 * math.sqrt(0.25 / group.sum())
        count_se = observed_count.std() / math.sqrt(group.sum())
        assert abs(expected[group].mean() - observed_count.mean()) < 4 * count_se


def test_conditional_p_no_purchase_limits() -> None:
    x, t_x, T = np.array([0, 1, 4, 12]), np.array([0.0, 3.0, 20.0, 30.0]), np.full(4, 40.0)
    np.testing.assert_array_equal(conditional_p_no_purchase(CDNOW, 0.0, x, t_x, T), 1.0)
    far = conditional_p_no_purchase(CDNOW, [1e40], x, t_x, T)
    assert far.shape == (4, 1)
    np.testing.assert_allclose(far[:, 0], 1 - p_alive(CDNOW, x, t_x, T), atol=1e-6)
    # without a repeat purchase the customer is alive: the NBD's zero probability
    no_repeat = conditional_p_no_purchase(CDNOW, 10.0, [0], [0.0], [40.0])
    alpha_T = CDNOW.alpha + 40.0
    assert no_repeat[0] == pytest.approx((alpha_T / (alpha_T + 10.0)) ** CDNOW.r, rel=1e-12)
    curve = conditional_p_no_purchase(CDNOW, np.linspace(0, 100, 11), x, t_x, T)
    assert np.all(np.diff(curve, axis=1) < 0)


def test_conditional_expected_purchases_shapes() -> None:
    x, t_x, T = np.array([0, 2, 2, 7]), np.array([0.0, 30.43, 10.0, 35.0]), np.full(4, 38.86)
    horizons = np.array([0.0, 13.0, 39.0])
    grid = conditional_expected_purchases(CDNOW, horizons, x, t_x, T)
    assert grid.shape == (4, 3)
    np.testing.assert_array_equal(grid[:, 0], 0.0)
    for j, horizon in enumerate(horizons):
        np.testing.assert_allclose(
            grid[:, j], conditional_expected_purchases(CDNOW, horizon, x, t_x, T), rtol=1e-14
        )


def test_discounted_expected_purchases() -> None:
    x, t_x, T = np.array([0, 2, 5]), np.array([0.0, 30.43, 36.0]), np.array([20.0, 38.86, 40.0])
    at_horizon = conditional_expected_purchases(CDNOW, 52.0, x, t_x, T)
    undiscounted = discounted_expected_purchases(CDNOW, 52.0, 4.0, 0.0, x, t_x, T)
    np.testing.assert_allclose(undiscounted, at_horizon, rtol=1e-12)
    rate = 1.1 ** (7 / 365) - 1  # 10% a year, per week
    discounted = discounted_expected_purchases(CDNOW, 52.0, 4.0, rate, x, t_x, T)
    assert np.all(discounted < at_horizon)
    assert np.all(discounted > at_horizon / (1 + rate) ** 52)
    # steps of 3 over a horizon of 10 end at 3, 6, 9 and 10
    ends = np.array([3.0, 6.0, 9.0, 10.0])
    cumulative = conditional_expected_purchases(CDNOW, ends, x, t_x, T)
    by_hand = np.diff(cumulative, axis=1, prepend=0.0) @ (1.05**-ends)
    got = discounted_expected_purchases(CDNOW, 10.0, 3.0, 0.05, x, t_x, T)
    np.testing.assert_allclose(got, by_hand, rtol=1e-12)


def test_conditional_expected_spend() -> None:
    p, q, v = CDNOW_SPEND.p, CDNOW_SPEND.q, CDNOW_SPEND.v
    population = v * p / (q - 1)
    got = conditional_expected_spend(CDNOW_SPEND, [0, 2, 5, 3], [np.nan, 20.0, 50.0, np.nan])
    weight_2, weight_5 = p * 2 / (p * 2 + q - 1), p * 5 / (p * 5 + q - 1)
    want = [
        population,
        (1 - weight_2) * population + weight_2 * 20.0,
        (1 - weight_5) * population + weight_5 * 50.0,
        population,
    ]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="q > 1"):
        conditional_expected_spend(GammaGammaParams(p=1.0, q=0.9, v=1.0), [1], [2.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fit_bgnbd([1, -1], [1.0, 0.0], [2.0, 2.0]), "x .* whole numbers >= 0"),
        (lambda: fit_bgnbd([1, 1.5], [1.0, 1.0], [2.0, 2.0]), "x .* whole numbers >= 0"),
        (lambda: fit_bgnbd([1, 2], [3.0, 1.0], [2.0, 2.0]), "t_x exceeds T"),
        (lambda: fit_bgnbd([1, 2], [-1.0, 1.0], [2.0, 2.0]), "t_x .* negative"),
        (lambda: fit_bgnbd([1, 2], [1.0, 1.0], [2.0]), "differ in length"),
        (lambda: fit_bgnbd([1, 2], [1.0, np.nan], [2.0, 2.0]), "t_x has 1 missing"),
        (lambda: fit_bgnbd([0, 0], [0.0, 0.0], [2.0, 2.0]), "no customer has a repeat"),
        (lambda: fit_bgnbd([], [], []), "no customers"),
        (lambda: fit_bgnbd([1], [1.0], [2.0], weights=[-1.0]), "weights must be >= 0"),
        (lambda: fit_gamma_gamma([0, 2], [1.0, 2.0]), r"n \(transactions averaged\)"),
        (lambda: fit_gamma_gamma([1, 2], [0.0, 2.0]), r"m \(mean transaction value\)"),
        (lambda: BgNbdParams(r=-1.0, alpha=1.0, a=1.0, b=1.0), "BgNbdParams.r must be"),
        (lambda: GammaGammaParams(p=1.0, q=2.0, v=math.nan), "GammaGammaParams.v must be"),
        (lambda: expected_purchases(BgNbdParams(1.0, 1.0, 1.0, 2.0), 1.0), "a != 1"),
        (lambda: discounted_expected_purchases(CDNOW, 1, 1, -0.1, [1], [1], [1]), "rate_per"),
        (lambda: discounted_expected_purchases(CDNOW, 0, 1, 0.1, [1], [1], [1]), "horizon"),
        (lambda: conditional_p_no_purchase(CDNOW, -1.0, [1], [1.0], [2.0]), "horizon t"),
    ],
)
def test_bad_input_raises_a_clear_error(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()
