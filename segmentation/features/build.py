"""Per-customer features as of the end of a day, from events up to that day only.

The features are derived, with vectorised numpy, from the per-customer activity state of
that day (``segmentation.features.activity``), so a nightly run never re-reads the whole history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import Config
from segmentation.errors import ConfigError
from segmentation.features import activity

# Behavioural features the model uses by default; category shares are added to these.
MODEL_FEATURES = (
    "days_since_last_event",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "active_days",
    "conversion",
)
# Long-tailed counts and amounts (all of the above but the conversion rate): log1p of these.
SKEWED_FEATURES = frozenset({*MODEL_FEATURES, "recency_days"} - {"conversion"})
CATEGORY_PREFIX = "category_share_"
SHARE_PRIOR = 3.0


def build_features(
    events: pd.DataFrame | Sequence[Path],
    as_of: dt.date,
    cfg: Config,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Features as of the end of ``as_of`` from scratch: events frame or lake Parquet files."""
    return features_from_state(activity.full_state(events, as_of, cfg), as_of, cfg, customers)


def features_from_state(
    state: pd.DataFrame,
    as_of: dt.date,
    cfg: Config,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer ever seen up to the end of ``as_of``, sorted by ``customer_id``.

    Recency, tenure and active days are whole days before the end of ``as_of`` (0 = that
    day); ``days_since_last_event`` counts any event, ``recency_days`` only purchases, and a
    customer who never purchased has recency equal to tenure. Frequency, monetary, event
    counts, conversion and category shares cover the last ``features.window_days`` days.
    Frequency counts orders (``activity``: order lines of one order are one), monetary is net
    spend (purchases minus refunds, at least 0) and ``avg_order_value`` net spend per order.
    """

    def days_ago(col: str) -> np.ndarray:
        """Calendar days between the local date of each time and ``as_of`` (0 = that day)."""
        times = pd.to_datetime(state[col].astype("float64"), unit="us", utc=True)
        local = times.dt.tz_convert(cfg.tz).dt.tz_localize(None).dt.normalize()
        return (pd.Timestamp(as_of) - local).dt.days.to_numpy(dtype="float64", na_value=np.nan)

    out = pd.DataFrame({"customer_id": state["customer_id"].astype("string")})
    tenure = days_ago("first_t")
    last_purchase = days_ago("last_purchase_t")
    view_col = f"n_{cfg.events.view_type}"  # state columns keep the raw type names
    freq = state["orders"].to_numpy(dtype="float64")
    refunded = state["refund_amount"].to_numpy(dtype="float64")
    # net spend: purchases minus refunds, never below 0 (a refund of an older order)
    monetary = np.maximum(state["amount"].to_numpy(dtype="float64") - refunded, 0.0)
    views = state[view_col].to_numpy(dtype="float64")
    out["recency_days"] = np.where(np.isnan(last_purchase), tenure, last_purchase)
    out["days_since_last_event"] = days_ago("last_t")
    out["frequency"] = freq
    out["monetary"] = monetary
    out["avg_order_value"] = np.divide(monetary, freq, out=np.zeros_like(freq), where=freq > 0)
    out["tenure_days"] = tenure
    out["active_days"] = state["active_days"].to_numpy(dtype="float64")
    refunds = state["refunds"].to_numpy(dtype="float64")
    out["n_refunds"] = refunds
    out["refund_amount"] = refunded
    # refunds per order; 0 without orders in the window (a refund of an older order)
    out["refund_rate"] = np.divide(refunds, freq, out=np.zeros_like(freq), where=freq > 0)
    _add_lifetime(out, state, days_ago("first_purchase_t"))
    # purchases per view, bounded by 1 for sources that log purchases without views
    denom = np.maximum(views, freq)
    out["conversion"] = np.divide(freq, denom, out=np.zeros_like(freq), where=denom > 0)
    types = cfg.events.allowed_types
    for t, column in zip(types, unique_column_names(types), strict=True):
        out[f"n_{column}"] = state[f"n_{t}"].to_numpy(dtype="float64")
    _add_category_shares(out, state, cfg.features.max_categories)
    if customers is not None:
        out = _add_demographics(out, customers, as_of)
    return out.reset_index(drop=True)


def _add_lifetime(out: pd.DataFrame, state: pd.DataFrame, first_purchase: np.ndarray) -> None:
    """The whole history, for the buy-till-you-die predictions (``segmentation.predictions``):
    days with a purchase, days since the first (NaN: never bought), net spend (at least 0)."""
    life = {c: state[activity.LIFE + c].to_numpy(dtype="float64") for c in activity.LIFETIME}
    out["purchase_days"] = life["purchase_days"]
    out["first_purchase_days_ago"] = first_purchase
    out["lifetime_spend"] = np.maximum(life["amount"] - life["refund_amount"], 0.0)


def _add_category_shares(out: pd.DataFrame, state: pd.DataFrame, limit: int) -> None:
    """Shares of the most frequent categories, shrunk towards the population's mix.

    SHARE_PRIOR pseudo-events at the population's mix keep a customer with two events from
    being pushed to a corner (0% or 100%) of the feature space.
    """
    cat_cols = [c for c in state.columns if c.startswith(activity.CAT)]
    if not cat_cols:
        return
    counts = state[cat_cols].to_numpy(dtype="float64")
    totals = counts.sum(axis=0)
    per_customer = counts.sum(axis=1)
    overall = max(float(totals.sum()), 1.0)
    # most events first, then by name; categories with no event in the window are skipped
    names = [activity.category_of(c) for c in cat_cols]
    ranked = sorted((-t, n) for t, n in zip(totals, names, strict=True) if t > 0)[:limit]
    chosen = sorted(n for _, n in ranked)
    for name, column in zip(chosen, unique_column_names(chosen), strict=True):
        i = names.index(name)
        prior = totals[i] / overall
        out[CATEGORY_PREFIX + column] = (counts[:, i] + SHARE_PRIOR * prior) / (
            per_customer + SHARE_PRIOR
        )


def _add_demographics(
    features: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """Age and one-hot gender/region from the customers source; unknown stays NaN / all 0."""
    attrs = customers.set_index("customer_id")
    out = features.copy()
    keys = out["customer_id"]
    if "age" in attrs:
        out["age"] = keys.map(attrs["age"]).astype("float64")
    elif "birth_date" in attrs:
        born = pd.to_datetime(keys.map(attrs["birth_date"]))
        out["age"] = ((pd.Timestamp(as_of) - born).dt.days / 365.25).round(1)
    for col in ("gender", "region"):
        if col not in attrs:
            continue
        values = keys.map(attrs[col]).astype("string")
        levels = sorted(str(v) for v in values.dropna().unique())
        for level, name in zip(levels, unique_column_names(levels), strict=True):
            out[f"{col}_{name}"] = (values == level).fillna(False).astype("int8")
    return out


def model_feature_columns(features: pd.DataFrame, configured: Sequence[str] | None) -> list[str]:
    """The columns the model trains on: configured ones, or the defaults plus category shares."""
    if configured:
        missing = [c for c in configured if c not in features]
        if missing:
            raise ConfigError(
                f"model.features names {', '.join(missing)}, which the feature table does not "
                f"have; available: {', '.join(features.columns[1:])}"
            )
        return list(configured)
    shares = sorted(c for c in features.columns if c.startswith(CATEGORY_PREFIX))
    return [*MODEL_FEATURES, *shares]


def unique_column_names(values: Sequence[str]) -> list[str]:
    """Readable column-name parts for ``values``; clashes ("Home & Garden", "home-garden")
    are numbered in the given order, so no feature silently overwrites another."""
    seen: dict[str, int] = {}
    out = []
    for value in values:
        base = _column_name(value)
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


def _column_name(value: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", value.strip().lower()).strip("_") or "blank"
