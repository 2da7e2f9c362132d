"""Drift: how far today's customers have moved from the champion's reference, and whether
today's segments can be trusted.

Per feature, Evidently's statistics with its exact definitions
(``segmentation.monitoring.drift_stats``) so users can compare, and the two metrics the
decision rests on, which stay steady on skewed features: PSI on reference-decile bins and
PSI on equal-width bins of the model's scale. Per segment: share changes, centroid shift,
segments that appeared or vanished. Per run: the decision (ok, warn, alert), the drifted
features, the migration rate, and the night's bad, late and duplicate rows as validation
counted them.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from segmentation.config import DriftConfig
from segmentation.monitoring import drift_stats

# features that grow by one every day for every customer: compared with the reference aged
# to today, so only a change in the mix of customers (not the calendar) counts as drift
AGEING_FEATURES = ("tenure_days",)


def aged(reference: pd.DataFrame, days: int) -> pd.DataFrame:
    """The reference as it would look ``days`` later if its customers simply grew older."""
    out = reference.copy()
    for col in AGEING_FEATURES:
        if col in out:
            out[col] = out[col] + days
    return out


# the metrics the alert decision rests on: stable on skewed features (see the README)
DECIDING = ("psi_quantile", "psi_model")
LEVELS = ("ok", "warn", "alert")
# Evidently's defaults, reported beside its statistics for comparison (not deciding)
EVIDENTLY_THRESHOLDS = {
    "psi": 0.1,
    "jensenshannon": 0.1,
    "wasserstein_normed": 0.1,
    "ks_pvalue": 0.05,
}


def psi_equal_width(reference: np.ndarray, current: np.ndarray, bins: int) -> float:
    """PSI on ``bins`` equal-width bins over the combined range (Evidently's epsilon rule).

    Meant for the model's scale, where log1p and standardising have tamed the long tails
    that make equal-width bins on raw spend so fragile. One pass per side, no sort.
    """
    ref = reference[np.isfinite(reference)]
    cur = current[np.isfinite(current)]
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    lo, hi = float(min(ref.min(), cur.min())), float(max(ref.max(), cur.max()))
    if lo == hi:
        return 0.0
    e = np.histogram(ref, bins=bins, range=(lo, hi))[0] / len(ref)
    a = np.histogram(cur, bins=bins, range=(lo, hi))[0] / len(cur)
    e, a = drift_stats.fill_empty(e), drift_stats.fill_empty(a)
    return float(np.sum((e - a) * np.log(e / a)))


def level_of(value: float, warn: float, alert: float) -> str:
    if not np.isfinite(value):
        return "ok"
    return "alert" if value >= alert else "warn" if value >= warn else "ok"


def feature_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    reference_model: np.ndarray | None,
    current_model: np.ndarray | None,
    cfg: DriftConfig,
) -> pd.DataFrame:
    """Per feature: Evidently's statistics on the raw values, and the deciding metrics.

    ``reference_model`` / ``current_model`` are the same columns on the model's scale (log1p,
    standardised), in the same order, or None when the model cannot transform them.
    Evidently's metrics get its default thresholds and level ``info``; ``psi_quantile``
    (reference-decile bins) and ``psi_model`` (equal-width bins on the model's scale) get
    ``drift.psi_warn`` / ``psi_alert`` and decide.
    """
    columns = [c for c in reference.columns if c in current]

    def column(col: str) -> dict[str, float]:
        return drift_stats.column_stats(
            reference[col].to_numpy(dtype="float64"), current[col].to_numpy(dtype="float64")
        )

    # the sorts release the GIL: two threads on large data. Small data stays on one thread,
    # where scipy's exact KS test may warn inside catch_warnings, which is not thread-safe.
    large = min(len(reference), len(current)) > drift_stats.KS_EXACT_MAX_N
    with ThreadPoolExecutor(max_workers=2 if large else 1) as pool:
        all_stats = dict(zip(columns, pool.map(column, columns), strict=True))
    rows = []
    for j, col in enumerate(reference.columns):
        if col not in current:
            continue
        stats = all_stats[col]
        if reference_model is not None and current_model is not None:
            stats["psi_model"] = psi_equal_width(
                reference_model[:, j], current_model[:, j], cfg.bins
            )
        for metric, value in stats.items():
            if metric in DECIDING:
                level = level_of(value, cfg.psi_warn, cfg.psi_alert)
                threshold = cfg.psi_alert
                drifted = level == "alert"
            else:
                threshold = EVIDENTLY_THRESHOLDS.get(metric, float("nan"))
                drifted = bool(value <= threshold if metric == "ks_pvalue" else value >= threshold)
                level = "info"
            rows.append(_row("feature", col, metric, value, threshold, drifted, level))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def segment_drift(
    current: pd.Series,
    previous: pd.Series | None,
    reference: pd.Series | None,
    centroid_shift: dict[int, float],
    share_warn: float,
) -> pd.DataFrame:
    """Per segment: share change since the previous run and since the reference, centroid
    shift (standardised units) and whether it appeared or vanished since the previous run.

    ``current``, ``previous`` and ``reference`` are segment ids, one per customer.
    """
    now = current.value_counts(normalize=True)
    before = previous.value_counts(normalize=True) if previous is not None else None
    ref = reference.value_counts(normalize=True) if reference is not None else None
    ids = sorted(set(now.index) | set(before.index if before is not None else []))
    rows = []
    for sid in ids:
        name = str(sid)
        for metric, base in (("share_change", before), ("share_change_reference", ref)):
            if base is None:
                continue
            change = float(now.get(sid, 0.0) - base.get(sid, 0.0))
            level = "warn" if abs(change) >= share_warn else "ok"
            rows.append(_row("segment", name, metric, change, share_warn, level == "warn", level))
        if sid in centroid_shift:
            shift = centroid_shift[int(sid)]
            rows.append(_row("segment", name, "centroid_shift", shift, np.nan, False, "info"))
        if before is not None and sid not in before.index:
            rows.append(_row("segment", name, "appeared", 1.0, np.nan, True, "warn"))
        if before is not None and sid not in now.index:
            rows.append(_row("segment", name, "vanished", 1.0, np.nan, True, "warn"))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def decision(metrics: pd.DataFrame) -> tuple[str, list[str]]:
    """The run's drift decision (ok, warn, alert) and the features that drifted.

    Alert when a deciding feature metric reaches ``psi_alert`` (the pipeline then forces a
    retrain); warn when one reaches ``psi_warn`` or a segment moved or appeared or vanished.
    """
    ranked = metrics["level"].map({"ok": 0, "info": 0, "warn": 1, "alert": 2}).fillna(0)
    level = LEVELS[int(ranked.max()) if len(ranked) else 0]
    feature = metrics[(metrics["scope"] == "feature") & (metrics["level"] == "alert")]
    return level, sorted(set(feature["name"]))


def membership_chisquare(current: pd.Series, reference: pd.Series | None) -> pd.DataFrame:
    """Chi-square p-value of today's segment membership against the reference's (Evidently's
    categorical test), reported at ``run`` scope; p <= 0.05 reads as a changed mix."""
    if reference is None:
        return pd.DataFrame(columns=list(COLUMNS))
    p = drift_stats.chisquare_pvalue(reference.astype(str), current.astype(str))
    row = _row("run", "all", "segment_chisquare_pvalue", p, 0.05, bool(p <= 0.05), "info")
    return pd.DataFrame([row], columns=list(COLUMNS))


def run_rows(level: str, drifted: list[str], migration_rate: float) -> pd.DataFrame:
    rows = [
        _row("run", "all", "decision", float(LEVELS.index(level)), 2.0, level == "alert", level),
        _row("run", "all", "drifted_features", float(len(drifted)), np.nan, bool(drifted), "info"),
        _row("run", "all", "migration_rate", migration_rate, np.nan, False, "info"),
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


# run metrics copied from the night's validation record (metric: the record's key)
ROW_COUNTS = {
    "bad_rows": "rows_quarantined",
    "late_events": "rows_late",
    "duplicate_events": "rows_duplicate",
}


def row_counts(record: Mapping[str, Any] | None) -> dict[str, int] | None:
    """The night's bad rows, late events and duplicate events from its validation record.

    A key the record lacks reads as 0: records written before that count existed held none.
    None without a record (the counts are unknown, not 0).
    """
    if record is None:
        return None
    return {metric: int(record.get(key) or 0) for metric, key in ROW_COUNTS.items()}


def count_rows(counts: dict[str, int] | None) -> pd.DataFrame:
    """The run rows of ``row_counts``: reported only; null values when there is no record."""
    rows = [
        _row("run", "all", m, np.nan if counts is None else counts[m], np.nan, False, "info")
        for m in ROW_COUNTS
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


COLUMNS = ("scope", "name", "metric", "value", "threshold", "drifted", "level")


def _row(
    scope: str, name: str, metric: str, value: float, threshold: float, drifted: bool, level: str
) -> dict[str, object]:
    return {
        "scope": scope,
        "name": name,
        "metric": metric,
        "value": float(value),
        "threshold": float(threshold),
        "drifted": bool(drifted),
        "level": level,
    }


def migrations(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Customers per (from, to) segment pair; ``from_segment_id`` is null for new customers."""
    con = duckdb.connect()
    try:
        con.register("cur", current[["customer_id", "segment_id"]])
        if previous is None:
            con.execute("CREATE VIEW prev AS SELECT * FROM cur WHERE false")
        else:
            con.register("prev", previous[["customer_id", "segment_id"]])
        out = con.execute(
            """
            SELECT p.segment_id AS from_segment_id, c.segment_id AS to_segment_id,
                   count(*) AS customers
            FROM cur c LEFT JOIN prev p ON p.customer_id = c.customer_id
            GROUP BY ALL ORDER BY from_segment_id NULLS FIRST, to_segment_id
            """
        ).df()
    finally:
        con.close()
    out["from_segment_id"] = out["from_segment_id"].astype("Int64")
    out["to_segment_id"] = out["to_segment_id"].astype("int64")
    out["customers"] = out["customers"].astype("int64")
    return out


def migration_rate(moves: pd.DataFrame | None) -> float:
    """The share of returning customers whose segment changed since the previous run.

    ``moves`` is the run's ``segment_migrations``; new customers (null ``from_segment_id``)
    are not counted; 0.0 on the first run or without migrations.
    """
    if moves is None:
        return 0.0
    both = moves[moves["from_segment_id"].notna()]
    changed = both["from_segment_id"] != both["to_segment_id"]
    return float(both.loc[changed, "customers"].sum() / max(both["customers"].sum(), 1))


def evaluate(
    parts: list[pd.DataFrame], migration: float, counts: dict[str, int] | None
) -> tuple[pd.DataFrame, str, list[str]]:
    """All of a run's drift metrics with its run rows, the decision and the drifted features.

    ``counts`` is the night's ``row_counts``: reported beside the decision, not part of it.
    """
    filled = [p for p in parts if len(p)]
    metrics = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=COLUMNS)
    level, drifted = decision(metrics)
    run = [run_rows(level, drifted, migration), count_rows(counts)]
    return pd.concat([metrics, *run], ignore_index=True), level, drifted
