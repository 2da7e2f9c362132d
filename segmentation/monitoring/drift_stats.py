"""Per-feature drift statistics with exactly Evidently 0.7.23's definitions.

Evidently is the most used open-source drift library, so its numbers are the ones a reader
can check ours against; but it cannot be installed beside pandas 3, so its definitions are
re-implemented here on numpy and scipy and pinned by tests against values Evidently computed
(``tests/fixtures/drift``). The definitions, as Evidently's ``get_binned_data`` and stat tests
implement them:

- bins: a numeric column with more than 20 unique reference values gets equal-width bins over
  the combined range, as many as numpy's ``"sturges"`` rule gives for the combined size;
  otherwise (and always for categories) one bin per value seen on *either* side;
- PSI = sum((r - c) * ln(r / c)) over those bins, empty bins floored per side (``fill_empty``);
- Jensen-Shannon: ``scipy.spatial.distance.jensenshannon`` (natural log) on the same bins,
  without the floor;
- KS: ``scipy.stats.ks_2samp`` (two-sided, ``method="auto"``);
- Wasserstein normed: ``scipy.stats.wasserstein_distance`` / max(std(reference), 0.001);
- chi-square: ``scipy.stats.chisquare`` of current counts against reference counts scaled to
  the current size.

Non-finite numbers and missing categories are dropped first, as Evidently does. The straight
functions call scipy; :func:`column_stats` computes every numeric statistic from one sort per
side, for million-row columns.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.spatial import distance

# Evidently: a numeric column with more unique reference values than this is binned by width
DISCRETE_MAX_UNIQUE = 20
# Evidently's floor for empty bins, unless the smallest non-zero share is itself this small
EMPTY_SHARE = 1e-4
# Evidently: std below this is treated as this, so a near-constant reference cannot explode it
MIN_STD = 0.001
# scipy's ks_2samp(method="auto") is exact up to this many rows per side, asymptotic above
KS_EXACT_MAX_N = 10_000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# ---------------------------------------------------------------------------- helpers


def _finite(values: npt.ArrayLike) -> tuple[FloatArray, bool]:
    """Finite values as float64, and whether the input was integer-typed.

    Evidently drops NaN and +-inf before testing a column; the integer flag matters only for
    numpy's ``"sturges"`` rule, which never makes integer bins narrower than 1.
    """
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"numeric values expected, got dtype {arr.dtype}")
    integer = arr.dtype.kind in "iu"
    out = arr.astype(np.float64, copy=False).ravel()
    if integer:
        return out, True
    return out[np.isfinite(out)], False


def _categories(values: Any) -> pd.Series:
    """Non-missing values of a categorical column, as a plain Series."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return series.dropna()


def _category_counts(reference: Any, current: Any) -> tuple[IntArray, IntArray]:
    """Counts per category seen on either side (unobserved ``Categorical`` levels ignored)."""
    ref = _categories(reference).value_counts()
    cur = _categories(current).value_counts()
    ref, cur = ref[ref > 0], cur[cur > 0]
    keys = ref.index.union(cur.index, sort=False)
    return (
        np.asarray(ref.reindex(keys, fill_value=0), dtype=np.int64),
        np.asarray(cur.reindex(keys, fill_value=0), dtype=np.int64),
    )


def _sturges_edges(lo: float, hi: float, n_total: int, integer: bool) -> FloatArray:
    """``np.histogram_bin_edges(combined, bins="sturges")`` from the range and size alone.

    numpy takes width = range / (log2(n) + 1) and then ceil(range / width) bins, which is
    ceil(log2(n) + 1) up to rounding (it can be one more when log2(n) + 1 is a whole number,
    so the same two steps are replayed here); integer data never get bins narrower than 1.
    """
    width = (hi - lo) / (float(np.log2(n_total)) + 1.0)  # numpy's own log2, as numpy
    if width:
        if integer and width < 1:
            width = 1.0
        count = math.ceil((hi - lo) / width)
    else:
        count = 1
    # numpy's own code for the edges: linspace, +-0.5 around a constant, the too-many-bins check
    return np.histogram_bin_edges(np.array([lo, hi]), bins=count)


def _value_edges(values: FloatArray) -> FloatArray:
    """Edges giving each of the sorted unique ``values`` a bin of its own under np.histogram.

    Bins are [v_i, v_i+1) and the last one [v_k, next float after v_k], so each holds
    exactly one of the values.
    """
    return np.append(values, np.nextafter(values[-1], np.inf))


def _histogram_sorted(sorted_values: FloatArray, edges: FloatArray) -> IntArray:
    """np.histogram counts of already sorted values: the same searchsorted numpy runs."""
    cum = np.concatenate(
        (
            np.searchsorted(sorted_values, edges[:-1], side="left"),
            np.searchsorted(sorted_values, edges[-1:], side="right"),
        )
    )
    return np.diff(cum).astype(np.int64, copy=False)


def fill_empty(shares: FloatArray) -> FloatArray:
    """Evidently's floor for empty bins, applied to one side's shares (a copy).

    Empty bins get 1e-4, or the smallest non-zero share / 1e6 when that share is itself
    <= 1e-4, so the floor stays far below every observed share and ln(r / c) stays finite.
    """
    out = np.array(shares, dtype=np.float64)
    nonzero = out[out != 0]
    if nonzero.size:
        smallest = float(nonzero.min())
        out[out == 0] = smallest / 1e6 if smallest <= EMPTY_SHARE else EMPTY_SHARE
    return out


def _psi_from_counts(ref_counts: IntArray, cur_counts: IntArray) -> float:
    """PSI = sum((r - c) * ln(r / c)) on shares with empty bins floored per side."""
    r = fill_empty(ref_counts / ref_counts.sum())
    c = fill_empty(cur_counts / cur_counts.sum())
    return float(np.sum((r - c) * np.log(r / c)))


def _js_from_counts(ref_counts: IntArray, cur_counts: IntArray) -> float:
    """scipy's Jensen-Shannon distance (natural log) of the two sides' shares."""
    return float(
        distance.jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())
    )


def _binned_counts(
    reference: npt.ArrayLike, current: npt.ArrayLike, categorical: bool
) -> tuple[IntArray, IntArray] | None:
    """Both sides' counts on Evidently's bins, or None when a side has nothing to count."""
    arr = np.asarray(reference)
    if categorical or arr.dtype.kind not in "biuf":
        ref_counts, cur_counts = _category_counts(reference, current)
        if ref_counts.sum() == 0 or cur_counts.sum() == 0:
            return None
        return ref_counts, cur_counts
    ref, _ = _finite(reference)
    cur, _ = _finite(current)
    if ref.size == 0 or cur.size == 0:
        return None
    edges = evidently_bins(reference, current)
    return (
        np.histogram(ref, edges)[0].astype(np.int64, copy=False),
        np.histogram(cur, edges)[0].astype(np.int64, copy=False),
    )


# ---------------------------------------------------------------------------- definitions


def evidently_bins(reference: npt.ArrayLike, current: npt.ArrayLike) -> FloatArray:
    """Bin edges Evidently uses for a numeric column, for use with ``np.histogram``.

    More than 20 unique reference values: numpy's ``"sturges"`` equal-width edges over the
    combined reference + current values (about ceil(log2(n_ref + n_cur) + 1) bins). Otherwise
    one bin per unique value of reference *and* current together, so a value only today's
    data has gets its own bin (ref share 0, floored) instead of being dropped: that union is
    what Evidently counts, and the fixture's ``frequency_counts`` case pins it. Non-finite
    values are ignored; raises ``ValueError`` if a side has no finite value.
    """
    ref, ref_int = _finite(reference)
    cur, cur_int = _finite(current)
    if ref.size == 0 or cur.size == 0:
        raise ValueError("both samples need at least one finite value to be binned")
    if np.unique(ref).size > DISCRETE_MAX_UNIQUE:
        lo = float(min(ref.min(), cur.min()))
        hi = float(max(ref.max(), cur.max()))
        return _sturges_edges(lo, hi, ref.size + cur.size, ref_int and cur_int)
    return _value_edges(np.union1d(ref, cur))


def psi_evidently(
    reference: npt.ArrayLike, current: npt.ArrayLike, *, categorical: bool = False
) -> float:
    """Population stability index on Evidently's bins (:func:`evidently_bins`).

    PSI = sum((r - c) * ln(r / c)) over bins, r and c the reference and current shares, with
    empty bins floored per side by :func:`fill_empty`. ``categorical=True`` (or a non-numeric
    dtype) uses one bin per category. NaN when a side is empty, as in Evidently.
    """
    counts = _binned_counts(reference, current, categorical)
    return float("nan") if counts is None else _psi_from_counts(*counts)


def jensen_shannon(
    reference: npt.ArrayLike, current: npt.ArrayLike, *, categorical: bool = False
) -> float:
    """Jensen-Shannon distance on Evidently's bins: scipy's, natural log, no empty-bin floor.

    A distance (the square root of the divergence), between 0 and sqrt(ln 2). NaN when a side
    is empty.
    """
    counts = _binned_counts(reference, current, categorical)
    return float("nan") if counts is None else _js_from_counts(*counts)


def _quiet_ks(a: FloatArray, b: FloatArray) -> Any:
    """``ks_2samp``, without its warning when the exact method falls back to the asymptotic
    one: Evidently gets the same fallback, and the p-value is still scipy's."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")
        return stats.ks_2samp(a, b)


def _ks_2samp(reference: npt.ArrayLike, current: npt.ArrayLike) -> tuple[float, float]:
    ref, _ = _finite(reference)
    cur, _ = _finite(current)
    if ref.size == 0 or cur.size == 0:
        return float("nan"), float("nan")
    result = _quiet_ks(ref, cur)
    return float(result.statistic), float(result.pvalue)


def ks_statistic(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Two-sample Kolmogorov-Smirnov statistic, max |F_ref - F_cur| (``scipy.stats.ks_2samp``).

    Up to 10,000 rows per side scipy rounds it to the lattice h / lcm(n_ref, n_cur) used by
    the exact p-value; NaN when a side is empty.
    """
    return _ks_2samp(reference, current)[0]


def ks_pvalue(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Two-sided KS p-value of ``scipy.stats.ks_2samp`` (``method="auto"``), as Evidently.

    Exact up to 10,000 rows per side, otherwise the asymptotic kstwo.sf(D, round(en)) with
    en = n_ref * n_cur / (n_ref + n_cur). NaN when a side is empty.
    """
    return _ks_2samp(reference, current)[1]


def wasserstein_normed(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Wasserstein-1 distance divided by max(std(reference, ddof=0), 0.001).

    Dividing by the reference's spread makes one threshold (Evidently's 0.1) fit features of
    any unit; the floor keeps a near-constant reference from making it explode.
    """
    ref, _ = _finite(reference)
    cur, _ = _finite(current)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    return float(stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), MIN_STD))


def chisquare_pvalue(reference_categories: Any, current_categories: Any) -> float:
    """Chi-square p-value of current category counts against the reference's shares.

    Expected counts are the reference counts scaled to the current size, over the categories
    seen on either side (missing values dropped). A category present only in current has an
    expected count of 0: scipy would divide by zero (statistic inf, p 0, a RuntimeWarning),
    so this returns 0.0 directly (certain drift). With a single category on both sides the
    samples cannot differ and this returns 1.0 (scipy: NaN, zero degrees of freedom).
    NaN when a side is empty.
    """
    ref_counts, cur_counts = _category_counts(reference_categories, current_categories)
    n_ref, n_cur = int(ref_counts.sum()), int(cur_counts.sum())
    if n_ref == 0 or n_cur == 0:
        return float("nan")
    if ref_counts.size == 1:
        return 1.0
    expected = ref_counts * (n_cur / n_ref)
    if np.any((expected == 0) & (cur_counts > 0)):
        return 0.0
    return float(stats.chisquare(cur_counts, expected).pvalue)


def _quantile_edges(reference: FloatArray, bins: int) -> FloatArray:
    """Interior reference-quantile edges, repeated edges merged (many equal values)."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))


def psi_quantile(reference: npt.ArrayLike, current: npt.ArrayLike, bins: int = 10) -> float:
    """PSI on reference-quantile bins, the steadier variant for skewed features.

    Interior edges are the reference's quantiles (np.quantile, linear), unique'd; a value on
    an edge goes to the bin above it (``searchsorted(side="right")``, as ``drift.psi``).
    Each bin holds about 1 / bins of the reference however skewed the feature is, so one
    extreme value cannot move the score much. Empty bins use Evidently's floor
    (:func:`fill_empty`), not ``drift.EPS`` clipping. NaN when a side is empty.
    """
    ref, _ = _finite(reference)
    cur, _ = _finite(current)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    edges = _quantile_edges(ref, bins)
    n_bins = edges.size + 1
    ref_counts = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=n_bins)
    cur_counts = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=n_bins)
    return _psi_from_counts(ref_counts, cur_counts)


# ---------------------------------------------------------------------------- fast path


def _smirnov(n: int, d: float) -> float:
    """scipy.special.smirnov(n, d), vectorised: P(D+_n >= d) by Birnbaum and Tingey's sum.

    d * sum over v = 0 .. floor(n (1 - d)) of C(n, v) p^(v-1) (1 - p)^(n - v), p = d + v / n,
    i.e. d * sum(binom.pmf(v, n, p) / p). scipy loops over the terms in C (about 0.5 s for
    n = 500,000); numpy evaluates them all at once with boost's accurate binomial pmf.
    """
    v = np.arange(math.floor(n * (1.0 - d)) + 1, dtype=np.float64)
    p = d + v / n
    return float(d * np.sum(stats.binom.pmf(v, n, p) / p))


def _kstwo_sf(d: float, n: float) -> float:
    """``scipy.stats.kstwo.sf(d, n)`` with its one slow branch (2 * smirnov) vectorised.

    scipy 1.17 (``_ksstats._kolmogn``) uses 2 * smirnov(n, d) when d >= 0.5, or, for
    n > 140, when 2.2 <= n d^2 < 370 (past that the survival function is 0); every other
    case is cheap and is left to scipy.
    """
    t = n * d
    slow = d >= 0.5 or (n > 140 and 2.2 <= t * d < 370.0)
    if slow and 0.0 < d < 1.0 and 1.0 < t < n - 1:
        return min(max(2.0 * _smirnov(round(n), d), 0.0), 1.0)
    return float(stats.kstwo.sf(d, n))


def column_stats(reference: npt.ArrayLike, current: npt.ArrayLike) -> dict[str, float]:
    """Every numeric drift statistic of one column, from one sort per side.

    Keys: ``psi``, ``jensenshannon``, ``ks_statistic``, ``ks_pvalue``,
    ``wasserstein_normed``, ``psi_quantile``; each equals its straight function above (to
    rounding). The two sorted sides are merged once (a stable merge of two sorted runs is
    linear); from the merge come the union of values and both ECDFs at every distinct value,
    which give the KS statistic (max |F_ref - F_cur|), Wasserstein (integral of
    |F_ref - F_cur|) and, for discrete columns, the per-value counts. Equal-width histograms
    are searchsorted on the sorted sides. The KS p-value is scipy's for the statistic and
    sizes: ks_2samp itself up to 10,000 rows per side (exact method, cheap at that size),
    above that kstwo.sf(D, round(en)) as ks_2samp's asymptotic method computes it.
    All values NaN when a side has no finite value. Inputs are not modified.
    """
    ref, ref_int = _finite(reference)
    cur, cur_int = _finite(current)
    n_ref, n_cur = ref.size, cur.size
    if n_ref == 0 or n_cur == 0:
        keys = ("psi", "jensenshannon", "ks_statistic", "ks_pvalue")
        return dict.fromkeys((*keys, "wasserstein_normed", "psi_quantile"), float("nan"))
    std = float(np.std(ref))
    a = np.sort(ref)
    b = np.sort(cur)
    values, cum_ref, cum_cur = _merged_ecdfs(a, b)
    cdf_diff = cum_ref / n_ref - cum_cur / n_cur  # same floats as ks_2samp's cddiffs
    d, p = _ks(a, b, cdf_diff)
    wasserstein = float(np.vecdot(np.abs(cdf_diff[:-1]), np.diff(values)))

    ref_unique = 1 + int(np.count_nonzero(a[1:] != a[:-1]))
    if ref_unique > DISCRETE_MAX_UNIQUE:
        edges = _sturges_edges(
            float(min(a[0], b[0])), float(max(a[-1], b[-1])), n_ref + n_cur, ref_int and cur_int
        )
        ref_counts, cur_counts = _histogram_sorted(a, edges), _histogram_sorted(b, edges)
    else:  # one bin per distinct value of either side: the merge's run lengths
        ref_counts = np.diff(cum_ref, prepend=0)
        cur_counts = np.diff(cum_cur, prepend=0)

    q_edges = _quantile_edges(a, 10)
    q_ref = np.diff(np.searchsorted(a, q_edges, side="left"), prepend=0, append=n_ref)
    q_cur = np.diff(np.searchsorted(b, q_edges, side="left"), prepend=0, append=n_cur)
    return {
        "psi": _psi_from_counts(ref_counts, cur_counts),
        "jensenshannon": _js_from_counts(ref_counts, cur_counts),
        "ks_statistic": d,
        "ks_pvalue": min(max(p, 0.0), 1.0),
        "wasserstein_normed": wasserstein / max(std, MIN_STD),
        "psi_quantile": _psi_from_counts(q_ref, q_cur),
    }


def _merged_ecdfs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of two sorted sides, and each side's count of rows <= each value."""
    # merged sorted values; on ties reference rows come first (stable)
    both = np.concatenate((a, b))
    order = np.argsort(both, kind="stable")
    merged = both[order]
    last = np.empty(merged.size, dtype=bool)  # last position of each distinct value
    np.not_equal(merged[1:], merged[:-1], out=last[:-1])
    last[-1] = True
    cum_ref = np.cumsum(order < a.size)[last]
    cum_cur = np.flatnonzero(last) + 1 - cum_ref
    return merged[last], cum_ref, cum_cur


def _ks(a: np.ndarray, b: np.ndarray, cdf_diff: np.ndarray) -> tuple[float, float]:
    """The two-sample KS statistic and p-value as scipy's ks_2samp gives them."""
    max_s = float(cdf_diff.max())
    min_s = float(np.clip(-cdf_diff.min(), 0, 1))
    d = min_s if min_s > max_s else max_s
    if max(a.size, b.size) <= KS_EXACT_MAX_N:
        result = _quiet_ks(a, b)
        return float(result.statistic), float(result.pvalue)
    big, small = sorted((float(a.size), float(b.size)), reverse=True)
    return d, _kstwo_sf(d, float(np.round(big * small / (big + small))))
