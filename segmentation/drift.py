"""Drift: how far today's customers have moved from the model's training reference.

First version: the population stability index (PSI) per feature on bins cut at the
reference's quantiles, plus segment share changes against the previous run. PSI is
sum((a - e) * ln(a / e)) over bins, with empty-bin proportions floored at ``EPS`` so the
logarithm stays finite.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

EPS = 1e-4
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


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI of ``current`` against ``reference`` on ``bins`` reference-quantile bins."""
    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(current, dtype="float64")
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    # interior edges only; repeated quantiles (many equal values) collapse into one bin
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    e = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    a = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    e, a = np.maximum(e, EPS), np.maximum(a, EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, bins: int, warn: float, alert: float
) -> pd.DataFrame:
    """One PSI row per feature present in both frames, with its alert threshold."""
    rows = []
    for col in reference.columns:
        if col not in current:
            continue
        value = psi(reference[col].to_numpy(), current[col].to_numpy(), bins)
        rows.append(
            {
                "scope": "feature",
                "name": col,
                "metric": "psi",
                "value": value,
                "threshold": alert,
                "drifted": bool(value >= alert),
                "level": "alert" if value >= alert else "warn" if value >= warn else "ok",
            }
        )
    return pd.DataFrame(rows)


def share_drift(
    current: pd.DataFrame, previous: pd.DataFrame | None, threshold: float = 0.05
) -> pd.DataFrame:
    """Absolute change of each segment's share of customers since the previous run."""
    now = current["segment_id"].value_counts(normalize=True)
    before = (
        previous["segment_id"].value_counts(normalize=True)
        if previous is not None
        else pd.Series(dtype="float64")
    )
    ids = sorted(set(now.index) | set(before.index))
    rows = []
    for sid in ids:
        change = (
            float(now.get(sid, 0.0) - before.get(sid, 0.0))
            if previous is not None
            else float("nan")
        )
        rows.append(
            {
                "scope": "segment",
                "name": str(sid),
                "metric": "share_change",
                "value": change,
                "threshold": threshold,
                "drifted": bool(abs(change) >= threshold) if previous is not None else False,
                "level": "warn" if previous is not None and abs(change) >= threshold else "ok",
            }
        )
    return pd.DataFrame(rows)


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
