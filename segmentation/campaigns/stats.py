"""The statistics of campaign measurement: a treated group against its control group.

Every interval, test and power figure is computed by statsmodels; this module only chooses
the method, guards the cases where a figure is undefined (they come back as ``None``, never
as NaN or a warning) and turns numpy scalars into Python floats.

Conversion (:func:`conversion`), x converters out of n customers per group:

- ``conversion_uplift``: p1 - p0, with Newcombe's hybrid score interval (Newcombe 1998,
  method 10; ``confint_proportions_2indep(method="newcomb", compare="diff")``);
- ``conversion_uplift_relative``: p1 / p0 - 1, with the log interval of the risk ratio with
  0.5 added to each count (``confint_proportions_2indep(compare="ratio")``, its default
  ``"log-adjusted"`` method), minus 1; that interval is centred on the adjusted ratio, so at
  0 treated converters it does not reach down to -1;
- ``conversion_p_value``: two-sided z-test of p1 = p0 with the pooled proportion
  (``proportions_ztest``), the same p-value as the 2x2 chi-square test without correction.

Revenue (:func:`revenue`), revenue per customer with zeros for non-buyers: the difference
of the means with Welch's interval and two-sided Welch t-test (``CompareMeans`` of two
``DescrStatsW``, ``usevar="unequal"``).

Power (:func:`mde`, :func:`required_treated`): two-sided z-test on Cohen's h (the
arcsine-transformed difference, ``proportion_effectsize``) solved by ``NormalIndPower``;
:func:`mde` is the smallest absolute uplift over the baseline that the group sizes detect,
:func:`required_treated` the treated customers needed to detect a given uplift.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

Figures = dict[str, float | None]

CONVERSION_KEYS = (
    "treated_conversion",
    "control_conversion",
    "conversion_uplift",
    "conversion_uplift_low",
    "conversion_uplift_high",
    "conversion_uplift_relative",
    "conversion_uplift_relative_low",
    "conversion_uplift_relative_high",
    "conversion_p_value",
)
REVENUE_KEYS = (
    "treated_revenue_per_customer",
    "control_revenue_per_customer",
    "revenue_uplift",
    "revenue_uplift_low",
    "revenue_uplift_high",
    "revenue_p_value",
)

# statsmodels finds Cohen's h to an absolute 1e-5, which is 0.2 % of the h of ten million
# customers a group; and it looks for a group size of at least 2, so it fails (warning, NaN)
# when a huge uplift needs fewer. Its per-instance root-finding settings fix both.
_EFFECT_SIZE_XTOL = 1e-14
_SMALLEST_GROUP = 1e-8


def _check_counts(converters: int, customers: int, group: str) -> None:
    if customers < 0 or not 0 <= converters <= customers:
        raise ValueError(
            f"{group} group: {converters} converters out of {customers} customers is not a "
            "count of converters (need 0 <= converters <= customers)"
        )


def _relative(x1: int, n1: int, x0: int, n0: int, alpha: float) -> Figures:
    """p1 / p0 - 1 and its interval; undefined (None) without control converters."""
    if x0 == 0:
        return {}
    low, high = confint_proportions_2indep(x1, n1, x0, n0, compare="ratio", alpha=alpha)
    return {
        "conversion_uplift_relative": (x1 / n1) / (x0 / n0) - 1.0,
        "conversion_uplift_relative_low": float(low) - 1.0,
        "conversion_uplift_relative_high": float(high) - 1.0,
    }


def _pooled_p_value(x1: int, n1: int, x0: int, n0: int) -> float | None:
    """Two-sided pooled z-test; None when nobody or everybody converted (z is 0/0)."""
    if x1 + x0 in (0, n1 + n0):
        return None
    _, p_value = proportions_ztest(np.array([x1, x0]), np.array([n1, n0]))
    return float(p_value)


def conversion(x1: int, n1: int, x0: int, n0: int, alpha: float = 0.05) -> Figures:
    """Conversion of the treated (x1 of n1) against the control (x0 of n0) and its uplift."""
    _check_counts(x1, n1, "treated")
    _check_counts(x0, n0, "control")
    figures: Figures = dict.fromkeys(CONVERSION_KEYS)
    if n1 > 0:
        figures["treated_conversion"] = x1 / n1
    if n0 > 0:
        figures["control_conversion"] = x0 / n0
    if n1 == 0 or n0 == 0:
        return figures
    low, high = confint_proportions_2indep(
        x1, n1, x0, n0, method="newcomb", compare="diff", alpha=alpha
    )
    figures["conversion_uplift"] = x1 / n1 - x0 / n0
    figures["conversion_uplift_low"] = float(low)
    figures["conversion_uplift_high"] = float(high)
    figures.update(_relative(x1, n1, x0, n0, alpha))
    figures["conversion_p_value"] = _pooled_p_value(x1, n1, x0, n0)
    return figures


def _revenues(values: npt.ArrayLike, group: str) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{group} revenue must be one value per customer (a 1-D array)")
    if not np.isfinite(array).all():
        raise ValueError(f"{group} revenue has missing or infinite values; use 0 for non-buyers")
    return array


def _constant(values: npt.NDArray[np.float64]) -> bool:
    return bool(values.min() == values.max())


def revenue(treated: np.ndarray, control: np.ndarray, alpha: float = 0.05) -> Figures:
    """Revenue per customer of both groups, its uplift, Welch's interval and p-value."""
    t = _revenues(treated, "treated")
    c = _revenues(control, "control")
    figures: Figures = dict.fromkeys(REVENUE_KEYS)
    if t.size:
        figures["treated_revenue_per_customer"] = float(t.mean())
    if c.size:
        figures["control_revenue_per_customer"] = float(c.mean())
    if t.size and c.size:
        figures["revenue_uplift"] = float(t.mean() - c.mean())
    if t.size < 2 or c.size < 2 or (_constant(t) and _constant(c)):
        return figures
    compared = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    low, high = compared.tconfint_diff(alpha=alpha, usevar="unequal")
    _, p_value, _ = compared.ttest_ind(usevar="unequal")
    figures["revenue_uplift_low"] = float(low)
    figures["revenue_uplift_high"] = float(high)
    figures["revenue_p_value"] = float(p_value)
    return figures


def _power_solver() -> NormalIndPower:
    """statsmodels' normal power solver with a tight root for h and no floor of 2 on n."""
    solver = NormalIndPower()
    solver.start_bqexp["effect_size"] = {"xtol": _EFFECT_SIZE_XTOL}
    solver.start_bqexp["nobs1"] = {"low": _SMALLEST_GROUP, "start_upp": 50.0}
    return solver


def mde(n1: int, n0: int, baseline: float, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest absolute uplift over ``baseline`` that n1 treated and n0 control detect."""
    if n1 <= 0 or n0 <= 0 or not 0.0 <= baseline < 1.0:
        return None
    h = _power_solver().solve_power(
        effect_size=None,
        nobs1=n1,
        alpha=alpha,
        power=power,
        ratio=n0 / n1,
        alternative="two-sided",
    )
    angle = math.asin(math.sqrt(baseline)) + float(h) / 2.0
    treated = 1.0 if angle >= math.pi / 2.0 else math.sin(angle) ** 2
    return treated - baseline


def required_treated(
    baseline: float, uplift: float, ratio: float, alpha: float = 0.05, power: float = 0.8
) -> float | None:
    """Treated customers needed to detect ``uplift``, with ``ratio`` control per treated."""
    if uplift <= 0.0 or ratio <= 0.0 or baseline < 0.0 or baseline + uplift > 1.0:
        return None
    h = proportion_effectsize(baseline + uplift, baseline)
    n1 = _power_solver().solve_power(
        effect_size=h,
        nobs1=None,
        alpha=alpha,
        power=power,
        ratio=ratio,
        alternative="two-sided",
    )
    return float(n1)
