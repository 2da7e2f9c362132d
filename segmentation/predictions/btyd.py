"""BG/NBD purchase counts and Gamma-Gamma spend: fits, per-customer predictions, simulators.

BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way". Gamma-Gamma:
Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves", and Fader & Hardie (2013),
"The Gamma-Gamma model of monetary value". Pure numpy/scipy; every function is vectorised
over customers. ``x`` is the number of repeat purchases, ``t_x`` the time of the last one
(the first purchase is at time 0) and ``T`` the customer's age, all in one time unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
Floats = FloatArray | float

# The optimiser works on log-parameters, with the data rescaled to a unit mean, so one box
# and one start (all parameters 1) suit any time or money unit.
_LOG_BOUND = 10.0
# Tight tolerances: the weighted fit on distinct rows must match the fit on all rows.
_OPTIONS = {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9}


def _check_positive(params: Any) -> None:
    for field in fields(params):
        value = getattr(params, field.name)
        if not (math.isfinite(value) and value > 0):
            name = type(params).__name__
            raise ValueError(f"{name}.{field.name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class BgNbdParams:
    """Purchase rate lambda ~ Gamma(r, rate alpha); dropout probability p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def __post_init__(self) -> None:
        _check_positive(self)


@dataclass(frozen=True)
class GammaGammaParams:
    """Transaction value ~ Gamma(p, rate nu); nu ~ Gamma(q, rate v)."""

    p: float
    q: float
    v: float

    def __post_init__(self) -> None:
        _check_positive(self)


# --- input checks -------------------------------------------------------------------------
def _as_1d(name: str, values: ArrayLike, allow_nan: bool = False) -> FloatArray:
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} missing or infinite values")
    return array


def _check_rfm(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    xs, txs, ages = _as_1d("x", x), _as_1d("t_x", t_x), _as_1d("T", T)
    if not len(xs) == len(txs) == len(ages):
        raise ValueError(f"x, t_x and T differ in length: {len(xs)}, {len(txs)}, {len(ages)}")
    if (xs < 0).any() or (xs != np.floor(xs)).any():
        raise ValueError("x (repeat purchases) must be whole numbers >= 0")
    if (txs < 0).any():
        raise ValueError(
            f"t_x (time of the last repeat purchase) is negative in {(txs < 0).sum()} rows"
        )
    if (txs > ages).any():
        raise ValueError(f"t_x exceeds T (the customer's age) in {(txs > ages).sum()} rows")
    return xs, txs, ages


def _check_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if n == 0:
        raise ValueError("no customers to fit")
    if weights is None:
        return np.ones(n)
    w = _as_1d("weights", weights)
    if len(w) != n:
        raise ValueError(f"weights has {len(w)} values for {n} customers")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be >= 0 with a positive total")
    return w


def _horizons(t: ArrayLike) -> tuple[FloatArray, bool]:
    scalar = np.ndim(t) == 0
    horizons = _as_1d("t", t)
    if (horizons < 0).any():
        raise ValueError("the horizon t must be >= 0")
    return horizons, scalar


def _check_a_not_one(params: BgNbdParams) -> None:
    # the closed forms divide by a - 1 (they hold for a < 1 too, e.g. CDNOW's a = 0.793)
    if abs(params.a - 1.0) < 1e-9:
        raise ValueError(
            f"expected purchases need a != 1 (the formula divides by a - 1), got a={params.a}"
        )


# --- distinct rows ------------------------------------------------------------------------
def _distinct(*columns: FloatArray) -> tuple[list[FloatArray], IntArray, IntArray]:
    """(distinct values per column, counts, inverse), sorted by the first column, then the next.

    A lexsort: np.unique(axis=0) sorts rows as opaque bytes and is ~7x slower at 1M rows.
    """
    n = len(columns[0])
    order = np.lexsort(columns[::-1])
    sorted_cols = [c[order] for c in columns]
    starts = np.ones(n, dtype=bool)  # a row starts a group unless it repeats the one before
    starts[1:] = ~np.logical_and.reduce([c[1:] == c[:-1] for c in sorted_cols])
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, n))
    return [c[first] for c in sorted_cols], counts, inverse


def distinct_rows(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray, IntArray]:
    """(x_u, t_x_u, T_u, counts, inverse): fit on the distinct rows with counts as weights.

    ``x_u[inverse]`` gives back ``x`` (likewise t_x, T). With integer-day data most of a
    million customers share a few hundred thousand rows.
    """
    (xu, txu, Tu), counts, inverse = _distinct(*_check_rfm(x, t_x, T))
    return xu, txu, Tu, counts, inverse


# --- BG/NBD likelihood and fit ------------------------------------------------------------
@dataclass(frozen=True)
class _BgNbdData:
    """Rows indexed into their distinct x, t_x and T: the logs need evaluating only there."""

    x: FloatArray
    w: FloatArray
    x_u: FloatArray
    ix: IntArray
    w_x: FloatArray  # total weight per distinct x
    tx_u: FloatArray
    itx: IntArray
    T_u: FloatArray
    iT: IntArray


def _bgnbd_data(x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> _BgNbdData:
    (x_u,), _, ix = _distinct(x)
    (tx_u,), _, itx = _distinct(t_x)
    (T_u,), _, iT = _distinct(T)
    w_x = np.bincount(ix, weights=w, minlength=len(x_u)).astype(np.float64)
    return _BgNbdData(x, w, x_u, ix, w_x, tx_u, itx, T_u, iT)


def _bgnbd_ll_grad(theta: FloatArray, d: _BgNbdData) -> tuple[float, FloatArray]:
    """Weighted log-likelihood and its gradient in (r, alpha, a, b).

    Per customer: log A1 + log A2 + log(A3 + [x>0] A4) with A1 A2 the gamma/beta terms,
    A3 = (alpha+T)^-(r+x) (alive at T), A4 = a/(b+x-1) (alpha+t_x)^-(r+x) (dropped at t_x).
    """
    r, alpha, a, b = theta
    xu, positive = d.x_u, d.x_u > 0
    bx = b + np.maximum(xu, 1.0) - 1.0  # b + x - 1, kept positive where x = 0 (unused there)
    log_drop = np.where(positive, np.log(a) - np.log(bx), -np.inf)  # log a/(b+x-1)
    gammas = special.gammaln(r + xu) - special.gammaln(r) + r * np.log(alpha)
    gammas += special.betaln(a, b + xu) - special.betaln(a, b)
    lt, ltx = np.log(alpha + d.T_u)[d.iT], np.log(alpha + d.tx_u)[d.itx]
    rx = r + d.x
    z = log_drop[d.ix] + rx * (lt - ltx)  # log A4/A3: logaddexp keeps the sum stable
    ll = d.w_x @ gammas + d.w @ (np.logaddexp(0.0, z) - rx * lt)
    share = special.expit(z)  # A4 / (A3 + A4)
    w_share = d.w * share
    inv_t, inv_tx = (1.0 / (alpha + d.T_u))[d.iT], (1.0 / (alpha + d.tx_u))[d.itx]
    psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + xu)
    grad = np.array(
        [
            d.w_x @ (special.digamma(r + xu) - special.digamma(r) + np.log(alpha))
            - d.w @ (lt + share * (ltx - lt)),
            d.w.sum() * r / alpha - (d.w * rx) @ (inv_t + share * (inv_tx - inv_t)),
            d.w_x @ (psi_ab - psi_abx) + w_share.sum() / a,
            d.w_x @ (special.digamma(b + xu) - special.digamma(b) + psi_ab - psi_abx)
            - np.bincount(d.ix, weights=w_share, minlength=len(xu)) @ np.where(positive, 1 / bx, 0),
        ]
    )
    return float(ll), grad


def bgnbd_log_likelihood(
    params_array: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """The weighted BG/NBD log-likelihood at ``params_array = (r, alpha, a, b)``."""
    theta = np.asarray(params_array, dtype=np.float64)
    BgNbdParams(*theta)  # refuses non-positive parameters
    xs, txs, ages = _check_rfm(x, t_x, T)
    w = _check_weights(weights, len(xs))
    return _bgnbd_ll_grad(theta, _bgnbd_data(xs, txs, ages, w))[0]


def _maximise(ll_grad: Any, data: Any, k: int, total: float, what: str) -> FloatArray:
    """Maximise the mean log-likelihood over log-parameters from a fixed start (all ones)."""

    def objective(phi: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(phi)
        ll, grad = ll_grad(theta, data)
        return -ll / total, -grad * theta / total  # chain rule for the log-parameters

    result = optimize.minimize(
        objective,
        np.zeros(k),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * k,
        options=_OPTIONS,
    )
    # L-BFGS-B may stop on a failed line search once rounding dominates: that is converged.
    if not result.success and np.max(np.abs(result.jac)) > 1e-5:
        raise RuntimeError(f"the {what} fit did not converge: {result.message}")
    return np.exp(result.x)


def fit_bgnbd(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> BgNbdParams:
    """Maximum-likelihood BG/NBD; ``weights`` count identical rows (see ``distinct_rows``)."""
    xs, txs, ages = _check_rfm(x, t_x, T)
    w = _check_weights(weights, len(xs))
    if w @ xs <= 0:
        raise ValueError("no customer has a repeat purchase (x > 0): nothing to fit")
    scale = float(w @ ages / w.sum())  # a unit mean age: alpha is on the scale of T
    data = _bgnbd_data(xs, txs / scale, ages / scale, w)
    r, alpha, a, b = _maximise(_bgnbd_ll_grad, data, 4, float(w.sum()), "BG/NBD")
    return BgNbdParams(r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b))


# --- BG/NBD predictions -------------------------------------------------------------------
def _p_alive(params: BgNbdParams, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    bx = params.b + np.maximum(x, 1.0) - 1.0
    log_odds_dead = (
        np.log(params.a)
        - np.log(bx)
        + (params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + t_x))
    )
    return np.where(x > 0, special.expit(-log_odds_dead), 1.0)


def p_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive at T | x, t_x, T); 1 for customers without a repeat purchase."""
    return _p_alive(params, *_check_rfm(x, t_x, T))


def _bracket(params: BgNbdParams, t: Floats, x: Floats, T: Floats) -> FloatArray:
    """1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z), z = t/(alpha+T+t).

    Euler's transformation turns it into 1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z):
    for heavy buyers the original 2F1 overflows while the power underflows (inf * 0).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    span = alpha + T + t
    power = np.exp((a - 1) * (np.log(alpha + T) - np.log(span)))
    return np.asarray(1.0 - power * special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, t / span))


def expected_purchases(params: BgNbdParams, t: ArrayLike) -> FloatArray:
    """Unconditional E[X(t)] for a new customer, in the shape of ``t``."""
    _check_a_not_one(params)
    horizons = np.asarray(t, dtype=np.float64)
    if not np.isfinite(horizons).all() or (horizons < 0).any():
        raise ValueError("the horizon t must be finite and >= 0")
    return (params.a + params.b - 1) / (params.a - 1) * _bracket(params, horizons, 0.0, 0.0)


def _growth(
    params: BgNbdParams, horizons: FloatArray, x: FloatArray, T: FloatArray
) -> tuple[FloatArray, IntArray]:
    """The bracket on each distinct (x, T), shape (pairs, len(t)), and the inverse: it does
    not depend on t_x, and hyp2f1 is the expensive part at 1M customers."""
    (xu, Tu), _, inverse = _distinct(x, T)
    return _bracket(params, horizons, xu[:, None], Tu[:, None]), inverse


def conditional_expected_purchases(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[purchases in (T, T+t] | x, t_x, T]: shape (n,) for a scalar t, (n, len(t)) else."""
    _check_a_not_one(params)
    xs, txs, ages = _check_rfm(x, t_x, T)
    horizons, scalar = _horizons(t)
    growth, inverse = _growth(params, horizons, xs, ages)
    factor = _p_alive(params, xs, txs, ages) * (params.a + params.b + xs - 1) / (params.a - 1)
    expected = factor[:, None] * growth[inverse]
    return expected[:, 0] if scalar else expected


def conditional_p_no_purchase(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(no purchase in (T, T+t] | x, t_x, T): shape (n,) for a scalar t, (n, len(t)) else.

    A customer dead at T never buys again. Given alive at T, the posterior of lambda is
    Gamma(r+x, rate alpha+T) (the likelihood is lambda^x e^(-lambda T), independent of p),
    and since a BG/NBD customer can drop out only right after a purchase, one who makes
    none in the interval stays alive through it: P = E[e^(-lambda t)] =
    ((alpha+T)/(alpha+T+t))^(r+x). Hence P = (1 - p_alive) + p_alive ((alpha+T)/(alpha+T+t))^(r+x).
    """
    xs, txs, ages = _check_rfm(x, t_x, T)
    horizons, scalar = _horizons(t)
    alive = _p_alive(params, xs, txs, ages)[:, None]
    log_base = np.log(params.alpha + ages)[:, None] - np.log(
        params.alpha + ages[:, None] + horizons
    )
    quiet = 1.0 - alive + alive * np.exp((params.r + xs)[:, None] * log_base)
    return quiet[:, 0] if scalar else quiet


def _step_ends(horizon: float, step: float) -> FloatArray:
    if not (math.isfinite(horizon) and horizon > 0 and math.isfinite(step) and step > 0):
        raise ValueError(f"horizon and step must be positive, got {horizon!r} and {step!r}")
    k = math.ceil(horizon / step - 1e-9)  # a float horizon of exactly k steps gives k steps
    ends = np.minimum(np.arange(1, k + 1) * step, horizon)
    ends[-1] = horizon
    return ends


def discounted_expected_purchases(
    params: BgNbdParams,
    horizon: float,
    step: float,
    rate_per_unit: float,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Expected purchases in (T, T+horizon], each step's discounted to the end of the step.

    Steps end at step, 2*step, ..., horizon; a step's purchases are discounted by
    (1 + rate_per_unit)^-(its end). Rate 0 gives ``conditional_expected_purchases`` at horizon.
    """
    _check_a_not_one(params)
    if not (math.isfinite(rate_per_unit) and rate_per_unit >= 0):
        raise ValueError(f"rate_per_unit must be >= 0, got {rate_per_unit!r}")
    xs, txs, ages = _check_rfm(x, t_x, T)
    ends = _step_ends(horizon, step)
    growth, inverse = _growth(params, ends, xs, ages)
    # only p_alive and the factor depend on t_x: discount per distinct (x, T), then spread
    per_pair = np.diff(growth, axis=1, prepend=0.0) @ (1.0 + rate_per_unit) ** -ends
    factor = _p_alive(params, xs, txs, ages) * (params.a + params.b + xs - 1) / (params.a - 1)
    return np.asarray(factor * per_pair[inverse])


# --- Gamma-Gamma ----------------------------------------------------------------------------
def _check_spend(n: ArrayLike, m: ArrayLike) -> tuple[FloatArray, FloatArray]:
    ns, ms = _as_1d("n", n), _as_1d("m", m)
    if len(ns) != len(ms):
        raise ValueError(f"n and m differ in length: {len(ns)} and {len(ms)}")
    if (ns < 1).any():
        raise ValueError(f"n (transactions averaged) must be >= 1; {(ns < 1).sum()} rows are not")
    if (ms <= 0).any():
        raise ValueError(f"m (mean transaction value) must be > 0; {(ms <= 0).sum()} rows are not")
    return ns, ms


@dataclass(frozen=True)
class _SpendData:
    n: FloatArray
    nm: FloatArray  # n * m, the customer's total spend
    w: FloatArray
    n_u: FloatArray
    w_n: FloatArray  # total weight per distinct n
    w_log_m: float  # the constant sum of w * log(m)


def _spend_data(n: FloatArray, m: FloatArray, w: FloatArray) -> _SpendData:
    (n_u,), _, inverse = _distinct(n)
    w_n = np.bincount(inverse, weights=w, minlength=len(n_u)).astype(np.float64)
    return _SpendData(n, n * m, w, n_u, w_n, float(w @ np.log(m)))


def _gg_ll_grad(theta: FloatArray, d: _SpendData) -> tuple[float, FloatArray]:
    """Weighted log-likelihood and gradient in (p, q, v). Per customer, the note's
    q log v + (pn-1) log m + pn log n - (pn+q) log(nm+v) regrouped without cancellation:
    gammaln(pn+q) - gammaln(pn) - gammaln(q) - log m - pn log1p(v/nm) - q log1p(nm/v)."""
    p, q, v = theta
    total, wn = d.w.sum(), d.w * d.n
    pn_u = p * d.n_u
    log_v_share, log_nm_share = np.log1p(v / d.nm), np.log1p(d.nm / v)
    ll = d.w_n @ (special.gammaln(pn_u + q) - special.gammaln(pn_u))
    ll -= total * special.gammaln(q) + d.w_log_m + p * (wn @ log_v_share) + q * (d.w @ log_nm_share)
    psi_u = special.digamma(pn_u + q)
    grad = np.array(
        [
            d.w_n @ (d.n_u * (psi_u - special.digamma(pn_u))) - wn @ log_v_share,
            d.w_n @ psi_u - total * special.digamma(q) - d.w @ log_nm_share,
            # q/v - (pn+q)/(nm+v) over one denominator
            (d.w * (q * d.nm - p * v * d.n)) @ (1.0 / (v * (d.nm + v))),
        ]
    )
    return float(ll), grad


def gamma_gamma_log_likelihood(
    params_array: ArrayLike, n: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """The weighted Gamma-Gamma log-likelihood at ``params_array = (p, q, v)``."""
    theta = np.asarray(params_array, dtype=np.float64)
    GammaGammaParams(*theta)  # refuses non-positive parameters
    ns, ms = _check_spend(n, m)
    return _gg_ll_grad(theta, _spend_data(ns, ms, _check_weights(weights, len(ns))))[0]


def fit_gamma_gamma(
    n: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None
) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma on transactions averaged n and their mean value m."""
    ns, ms = _check_spend(n, m)
    w = _check_weights(weights, len(ns))
    scale = float(w @ ms / w.sum())  # a unit mean spend: v is on the scale of m
    data = _spend_data(ns, ms / scale, w)
    p, q, v = _maximise(_gg_ll_grad, data, 3, float(w.sum()), "Gamma-Gamma")
    return GammaGammaParams(p=float(p), q=float(q), v=float(v * scale))


def conditional_expected_spend(params: GammaGammaParams, n: ArrayLike, m: ArrayLike) -> FloatArray:
    """E[mean transaction value | n, m]: a weighted mean of the population mean v p/(q-1)
    and the customer's own m; the population mean where n == 0 or m is NaN."""
    if params.q <= 1:
        raise ValueError(
            f"expected spend needs q > 1 (the population mean is infinite), got q={params.q}"
        )
    ns, ms = _as_1d("n", n), _as_1d("m", m, allow_nan=True)
    if len(ns) != len(ms):
        raise ValueError(f"n and m differ in length: {len(ns)} and {len(ms)}")
    if (ns < 0).any():
        raise ValueError("n (transactions averaged) must be >= 0")
    known = (ns > 0) & ~np.isnan(ms)
    if (ms[known] <= 0).any():
        raise ValueError("m (mean transaction value) must be > 0 where n > 0")
    population = params.v * params.p / (params.q - 1)
    own = params.p * ns / (params.p * ns + params.q - 1)
    return np.where(known, (1 - own) * population + own * np.where(known, ms, 0.0), population)


# --- simulators (for tests) -----------------------------------------------------------------
def simulate_bgnbd(
    params: BgNbdParams, n_customers: int, T: ArrayLike, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x, t_x, T) of customers drawn from the BG/NBD and observed for T (scalar or per customer).

    Loops over the purchase index, not the customers: each round, every customer still alive
    and inside the window draws the gap to the next purchase, then may drop out after it.
    """
    ages = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    rate = rng.gamma(params.r, 1.0 / params.alpha, n_customers)
    dropout = rng.beta(params.a, params.b, n_customers)
    x, t_x = np.zeros(n_customers), np.zeros(n_customers)
    active = np.arange(n_customers)
    while active.size:
        with np.errstate(divide="ignore"):  # a rate that underflows to 0 never buys
            next_time = t_x[active] + rng.standard_exponential(active.size) / rate[active]
        bought = next_time <= ages[active]
        active = active[bought]
        x[active] += 1
        t_x[active] = next_time[bought]
        active = active[rng.random(active.size) >= dropout[active]]
    return x, t_x, ages


def simulate_gamma_gamma(
    params: GammaGammaParams, n: ArrayLike, rng: np.random.Generator
) -> FloatArray:
    """Mean of n transaction values per customer: the sum of n iid Gamma(p, nu) is Gamma(np, nu)."""
    ns = _as_1d("n", n)
    if (ns < 1).any():
        raise ValueError("n (transactions per customer) must be >= 1")
    nu = rng.gamma(params.q, 1.0 / params.v, len(ns))
    return np.asarray(rng.gamma(ns * params.p, 1.0 / nu) / ns)
