"""Buy-till-you-die predictions per customer from the feature table: BG/NBD and Gamma-Gamma.

A customer's history, from their first purchase day F to the end of the run date D, in
``predictions.time_unit``: ``x`` repeat purchase days (one purchase day counts once, as in
Fader, Hardie & Lee 2005), ``t_x`` the time from F to the last purchase day and ``T`` the
time from F to the end of D (a purchase on a day counts at its start, so ``T > t_x``).
Spend per purchase day is the net lifetime spend over the purchase days; Gamma-Gamma is
fitted on the repeat buyers whose spend is positive and shrinks every buyer's mean towards
the population's. Customers who never bought have no buy-till-you-die prediction (the
models start at the first purchase): their columns are null.

Both models are fitted on the distinct histories with their counts as weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.config import PredictionsConfig
from segmentation.predictions import btyd

UNIT_DAYS = {"day": 1, "week": 7}
HOLDOUT_GROUPS = 8  # past repeat purchases 0, 1, ..., 6 and 7 or more
# parameters are fitted in [e^-10, e^10]: BG/NBD's r, a or b near the top has no dropout to
# learn from (b -> infinity: nobody leaves) and its closed forms lose all precision;
# Gamma-Gamma's p there has no shrinkage left (a buyer's expected spend is their own mean)
DEGENERATE = 1e4


@dataclass(frozen=True)
class Histories:
    """Buyers' histories in the time unit, in the order of the feature table's buyers."""

    buyer: np.ndarray  # bool, per row of the feature table
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    n: np.ndarray  # purchase days (the first included): what the spend is averaged over
    m: np.ndarray  # net spend per purchase day


@dataclass(frozen=True)
class Fitted:
    """The night's fits; a model that could not be fitted is None, with the reason."""

    bgnbd: btyd.BgNbdParams | None
    gamma_gamma: btyd.GammaGammaParams | None
    bgnbd_reason: str | None
    gamma_gamma_reason: str | None
    repeat_buyers: int


def histories(features: pd.DataFrame, unit: str) -> Histories:
    """Each buyer's (x, t_x, T) and spend from ``purchase_days``, ``first_purchase_days_ago``,
    ``recency_days`` (days since the last purchase for a buyer) and ``lifetime_spend``."""
    days = features["purchase_days"].to_numpy(dtype="float64")
    buyer = days > 0
    first = features["first_purchase_days_ago"].to_numpy(dtype="float64")[buyer]
    last = features["recency_days"].to_numpy(dtype="float64")[buyer]
    n = days[buyer]
    scale = float(UNIT_DAYS[unit])
    return Histories(
        buyer=buyer,
        x=n - 1,
        t_x=(first - last) / scale,
        T=(first + 1) / scale,
        n=n,
        m=features["lifetime_spend"].to_numpy(dtype="float64")[buyer] / n,
    )


def fit(h: Histories, cfg: PredictionsConfig) -> Fitted:
    """BG/NBD on every buyer and Gamma-Gamma on repeat buyers with positive spend, each only
    with at least ``min_repeat_buyers`` repeat buyers."""
    repeat = int((h.x > 0).sum())
    least = cfg.min_repeat_buyers
    if repeat < least:
        why = f"{repeat} repeat buyers, fewer than predictions.min_repeat_buyers ({least})"
        return Fitted(None, None, why, why, repeat)
    x, t_x, T, counts, _ = btyd.distinct_rows(h.x, h.t_x, h.T)
    try:
        bgnbd = btyd.fit_bgnbd(x, t_x, T, weights=counts)
    except RuntimeError as exc:  # the optimiser did not converge: no prediction, said why
        return Fitted(None, None, f"BG/NBD: {exc}", f"BG/NBD: {exc}", repeat)
    if max(bgnbd.r, bgnbd.a, bgnbd.b) >= DEGENERATE:
        why = (
            f"BG/NBD found no sign of customers leaving (r {bgnbd.r:.3g}, a {bgnbd.a:.3g}, "
            f"b {bgnbd.b:.3g}: a parameter at its bound); the history is too short, or "
            "too regular, to tell who has left"
        )
        return Fitted(None, None, why, why, repeat)
    spenders = (h.x > 0) & (h.m > 0)
    if spenders.sum() < least:
        why = f"{int(spenders.sum())} repeat buyers with a positive net spend, fewer than {least}"
        return Fitted(bgnbd, None, None, why, repeat)
    spend = pd.DataFrame({"n": h.n[spenders], "m": h.m[spenders]}).value_counts(sort=False)
    pairs = spend.index.to_frame(index=False)
    try:
        gamma_gamma = btyd.fit_gamma_gamma(pairs["n"], pairs["m"], weights=spend.to_numpy())
    except RuntimeError as exc:
        return Fitted(bgnbd, None, None, f"Gamma-Gamma: {exc}", repeat)
    if gamma_gamma.q <= 1:
        why = f"Gamma-Gamma's q is {gamma_gamma.q:.3f}: spend has no finite mean (q <= 1)"
        return Fitted(bgnbd, None, None, why, repeat)
    return Fitted(bgnbd, gamma_gamma, None, None, repeat)


def predict(h: Histories, fitted: Fitted, cfg: PredictionsConfig) -> pd.DataFrame:
    """Per row of the feature table: ``p_alive``, and per horizon h ``expected_purchases_hd``,
    ``p_no_purchase_hd`` and ``predicted_clv_hd``; null for non-buyers and unfitted models."""
    names = ["p_alive"] + [
        f"{name}_{days}d"
        for days in cfg.horizon_days
        for name in ("expected_purchases", "p_no_purchase", "predicted_clv")
    ]
    buyers: dict[str, np.ndarray] = {}  # each column's values for the buyers
    params = fitted.bgnbd
    if params is not None:
        scale = float(UNIT_DAYS[cfg.time_unit])
        buyers["p_alive"] = btyd.p_alive(params, h.x, h.t_x, h.T)
        spend = None
        if fitted.gamma_gamma is not None:
            # a buyer whose returns cancel their spend gets the population's mean spend
            spend = btyd.conditional_expected_spend(
                fitted.gamma_gamma, h.n, np.where(h.m > 0, h.m, np.nan)
            )
        rate = (1 + cfg.annual_discount_rate) ** (scale / 365) - 1
        # every horizon in one call: the closed forms share their per-customer parts
        horizons = np.asarray(cfg.horizon_days, dtype="float64") / scale
        expected = btyd.conditional_expected_purchases(params, horizons, h.x, h.t_x, h.T)
        quiet = btyd.conditional_p_no_purchase(params, horizons, h.x, h.t_x, h.T)
        for i, days in enumerate(cfg.horizon_days):
            t = days / scale
            buyers[f"expected_purchases_{days}d"] = expected[:, i]
            buyers[f"p_no_purchase_{days}d"] = quiet[:, i]
            if spend is not None:
                step = min(t, 30 / scale)  # discounted month by month
                discounted = btyd.discounted_expected_purchases(
                    params, t, step, rate, h.x, h.t_x, h.T
                )
                buyers[f"predicted_clv_{days}d"] = discounted * spend
    columns = {}
    for name in names:
        column = np.full(len(h.buyer), np.nan)
        if name in buyers:
            column[h.buyer] = buyers[name]
        columns[name] = column
    return pd.DataFrame(columns)


def at_cutoff(
    features: pd.DataFrame, later: pd.DataFrame, cfg: PredictionsConfig
) -> tuple[np.ndarray | None, dict[str, float], str | None]:
    """BG/NBD fitted at the cutoff (``features``, a sample of the cutoff's customers) against
    what they did since (``later``: the same customers' features ``churn_days`` on, row by
    row): each row's chance of no purchase in ``churn_days`` (NaN for non-buyers), the churn
    classifier's baseline, and the holdout table: mean predicted and actual purchase days
    since the cutoff, per number of past repeat purchases (0, 1, ..., 7 or more), as Fader,
    Hardie & Lee's tables show. Without a fit: None, no table, and why."""
    h = histories(features, cfg.time_unit)
    fitted = fit(h, cfg)
    if fitted.bgnbd is None:
        return None, {}, fitted.bgnbd_reason
    t = cfg.churn_days / UNIT_DAYS[cfg.time_unit]
    quiet = np.full(len(h.buyer), np.nan)
    quiet[h.buyer] = btyd.conditional_p_no_purchase(fitted.bgnbd, t, h.x, h.t_x, h.T)
    actual = later["purchase_days"].to_numpy(dtype="float64")[h.buyer] - h.n
    predicted = btyd.conditional_expected_purchases(fitted.bgnbd, t, h.x, h.t_x, h.T)
    group = np.minimum(h.x, HOLDOUT_GROUPS - 1).astype(int)
    out: dict[str, float] = {"holdout_days": float(cfg.churn_days)}
    for k in range(HOLDOUT_GROUPS):
        name = f"{k}plus" if k == HOLDOUT_GROUPS - 1 else str(k)
        members = group == k
        out[f"holdout_repeat_{name}_customers"] = float(members.sum())
        out[f"holdout_repeat_{name}_predicted"] = (
            float(predicted[members].mean()) if members.any() else np.nan
        )
        out[f"holdout_repeat_{name}_actual"] = (
            float(actual[members].mean()) if members.any() else np.nan
        )
    return quiet, out, None
