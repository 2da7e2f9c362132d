"""Per-customer features as of the end of a day, from events up to that day only.

One vectorised DuckDB aggregation over the lake's Parquet partitions (or over a DataFrame in
tests): only the needed columns of partitions <= the day are read. Times are compared as
microseconds before the end of the day, so day boundaries follow the configured timezone
without any timezone arithmetic in SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from segmentation.config import Config
from segmentation.errors import ConfigError
from segmentation.sources import day_bounds

US_PER_DAY = 86_400_000_000
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
# Long-tailed counts and amounts: the model sees log1p of these.
SKEWED_FEATURES = frozenset(
    {
        "recency_days",
        "days_since_last_event",
        "frequency",
        "monetary",
        "avg_order_value",
        "tenure_days",
        "active_days",
    }
)
CATEGORY_PREFIX = "category_share_"
SHARE_PRIOR = 3.0
EVENT_COLUMNS = ("customer_id", "event_time", "event_type", "amount", "category")


def build_features(
    events: pd.DataFrame | Sequence[Path],
    as_of: dt.date,
    cfg: Config,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer ever seen up to the end of ``as_of``, sorted by ``customer_id``.

    ``events`` is a canonical events frame or a list of lake Parquet files. Recency, tenure
    and active days are whole days before the end of ``as_of`` (0 = that day);
    ``days_since_last_event`` counts any event, ``recency_days`` only purchases. Frequency,
    monetary, event counts, conversion and category shares cover the last
    ``features.window_days`` days. A customer who never purchased has recency equal to tenure.
    """
    _, end = day_bounds(as_of, cfg.tz)
    end_us = int(end.value // 1_000)  # pandas Timestamp.value is in ns
    window_us = cfg.features.window_days * US_PER_DAY
    con = duckdb.connect()
    try:
        if isinstance(events, pd.DataFrame):
            con.register("raw_events", events[list(EVENT_COLUMNS)])
        else:
            files = [str(p) for p in events]
            if not files:
                return _empty_features()
            con.read_parquet(files).project(", ".join(EVENT_COLUMNS)).create_view("raw_events")
        # end_us is an int computed here, safe to inline (views cannot take parameters)
        con.execute(
            "CREATE TEMP VIEW ev AS SELECT customer_id, event_type, amount, category, "
            f"epoch_us(event_time) - {end_us} AS t FROM raw_events "
            f"WHERE epoch_us(event_time) < {end_us}"
        )
        categories = _top_categories(con, window_us, cfg.features.max_categories)
        types = cfg.events.allowed_types
        in_window = f"t >= -{window_us}"
        purchase = f"event_type = '{_sql_literal(cfg.events.purchase_type)}'"
        view = f"event_type = '{_sql_literal(cfg.events.view_type)}'"
        type_counts = [
            f"count(*) FILTER (WHERE {in_window} AND event_type = '{_sql_literal(t)}') "
            f'AS "n_{_column_name(t)}"'
            for t in types
        ]
        cat_counts = [
            f"count(*) FILTER (WHERE {in_window} AND category = '{_sql_literal(c)}') "
            f'AS "_cat_{i}"'
            for i, c in enumerate(categories)
        ]
        query = f"""
            SELECT customer_id,
                   min(t) AS first_t,
                   max(t) AS last_t,
                   max(t) FILTER (WHERE {purchase}) AS last_purchase_t,
                   count(*) FILTER (WHERE {in_window} AND {purchase}) AS frequency,
                   coalesce(sum(amount) FILTER (WHERE {in_window} AND {purchase}), 0) AS monetary,
                   count(DISTINCT floor(t / {US_PER_DAY})) FILTER (WHERE {in_window})
                       AS active_days,
                   count(*) FILTER (WHERE {in_window} AND {view}) AS _views,
                   count(*) FILTER (WHERE {in_window} AND category IS NOT NULL) AS _cat_total
                   {"".join(", " + c for c in type_counts + cat_counts)}
            FROM ev GROUP BY customer_id ORDER BY customer_id
        """
        agg = con.execute(query).df()
    finally:
        con.close()
    return _finish(agg, categories, customers, as_of)


def _finish(
    agg: pd.DataFrame,
    categories: list[str],
    customers: pd.DataFrame | None,
    as_of: dt.date,
) -> pd.DataFrame:
    out = pd.DataFrame({"customer_id": agg["customer_id"].astype("string")})
    tenure = _days_ago(agg["first_t"])
    last = _days_ago(agg["last_purchase_t"])
    recency = np.where(np.isnan(last), tenure, last)
    freq = agg["frequency"].to_numpy(dtype="float64")
    monetary = agg["monetary"].to_numpy(dtype="float64")
    views = agg["_views"].to_numpy(dtype="float64")
    out["recency_days"] = recency
    out["days_since_last_event"] = _days_ago(agg["last_t"])
    out["frequency"] = freq
    out["monetary"] = monetary
    out["avg_order_value"] = np.divide(monetary, freq, out=np.zeros_like(freq), where=freq > 0)
    out["tenure_days"] = tenure
    out["active_days"] = agg["active_days"].to_numpy(dtype="float64")
    # purchases per view, bounded by 1 for sources that log purchases without views
    denom = np.maximum(views, freq)
    out["conversion"] = np.divide(freq, denom, out=np.zeros_like(freq), where=denom > 0)
    for col in agg.columns:
        if col.startswith("n_"):
            out[col] = agg[col].to_numpy(dtype="float64")
    # Shares are shrunk towards the population's mix by SHARE_PRIOR pseudo-events, so a
    # customer with two events is not pushed to a corner (0% or 100%) of the feature space.
    total = agg["_cat_total"].to_numpy(dtype="float64")
    counts = [agg[f"_cat_{i}"].to_numpy(dtype="float64") for i in range(len(categories))]
    overall = max(float(total.sum()), 1.0)
    for name, count in zip(categories, counts, strict=True):
        prior = float(count.sum()) / overall
        out[CATEGORY_PREFIX + _column_name(name)] = (count + SHARE_PRIOR * prior) / (
            total + SHARE_PRIOR
        )
    if customers is not None:
        out = _add_demographics(out, customers, as_of)
    return out.reset_index(drop=True)


def _days_ago(t: pd.Series) -> np.ndarray:
    """Whole days before the as-of day: t is microseconds before its end, so [-1 day, 0) is 0."""
    return -np.floor(t.to_numpy(dtype="float64") / US_PER_DAY) - 1


def _top_categories(con: duckdb.DuckDBPyConnection, window_us: int, limit: int) -> list[str]:
    rows = con.execute(
        "SELECT category FROM ev WHERE category IS NOT NULL AND t >= $w "
        "GROUP BY category ORDER BY count(*) DESC, category LIMIT $n",
        {"w": -window_us, "n": limit},
    ).fetchall()
    return sorted(str(r[0]) for r in rows)


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
        for level in sorted(v for v in values.dropna().unique()):
            out[f"{col}_{_column_name(str(level))}"] = (
                (values == level).fillna(False).astype("int8")
            )
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


def _column_name(value: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", value.strip().lower()).strip("_") or "blank"


def _sql_literal(value: str) -> str:
    return value.replace("'", "''")


def _empty_features() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": pd.Series(dtype="string")})
