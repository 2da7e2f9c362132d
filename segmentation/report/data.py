"""What one report shows, read from the published tables of its run and of earlier runs.

Only runs up to the report's day are read, never later ones, so the report of an old night
is the same whenever it is rebuilt. A table or file that is missing reads as None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation.catalog import CHURN_RISKS
from segmentation.catalog_types import CUSTOMER_ID, CUSTOMER_KEY
from segmentation.io import lake
from segmentation.layout import RUN_KEY, Home
from segmentation.report.formatting import as_text, finite


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows; None where a table or file is missing."""

    day: dt.date
    profiles: pd.DataFrame | None  # today's segment_profiles
    sizes: pd.DataFrame | None  # run_date, segment_id, segment_name, customers for runs <= day
    migrations: pd.DataFrame | None  # today's segment_migrations
    drift: pd.DataFrame | None  # drift_metrics of runs <= day
    registry: pd.DataFrame | None  # today's model_registry
    validation: dict[str, Any] | None
    names: dict[int, str]  # each segment id's newest name up to the day, gone ones included
    quality: pd.DataFrame | None = None  # today's prediction_quality
    # customers per segment_id (index) and churn_risk (columns CHURN_RISKS, "none": not scored)
    risk: pd.DataFrame | None = None
    churn_days: int | None = None  # the churn window of today's classifier, when known
    recommendation_quality: pd.DataFrame | None = None  # today's recommendation_quality
    association_rules: pd.DataFrame | None = None  # today's; empty when none was found
    # today's recommended items per segment_id (null: not in customer_segments) and source:
    # items, customers (with an item from it), leading (customers whose first item it gives)
    recommendation_sources: pd.DataFrame | None = None
    campaign_results: pd.DataFrame | None = None  # today's; empty when no campaign has started
    # today's audiences: audience, exported, control, control_exported, entered, left (counts)
    audiences: pd.DataFrame | None = None
    # today's suppressed segments (privacy.min_group_size): segment id -> suppression_reason
    hidden: dict[int, str] = field(default_factory=dict)

    @property
    def drift_today(self) -> pd.DataFrame | None:
        if self.drift is None:
            return None
        today = self.drift[self.drift[RUN_KEY] == self.day]
        return today if len(today) else None

    @property
    def migration_rate(self) -> float | None:
        """The share of customers present in both runs who changed segment, as the drift step
        published it (``drift_metrics``, run row ``migration_rate``), or None.

        None as well when no customer was in an earlier run: the drift step then publishes 0,
        but there is no rate to show.
        """
        if migration_counts(self.migrations) is None:
            return None
        return run_value(self.drift_today, "migration_rate")


def load_data(home: Home, day: dt.date) -> ReportData:
    """Read the run ``day`` and, for the charts over time, the runs before it (never after)."""
    sizes = _history(home, "segment_profiles", day)
    quality = _partition(home, "prediction_quality", day)
    if sizes is not None and not {"segment_id", "customers"} <= set(sizes.columns):
        sizes = None
    profiles = _partition(home, "segment_profiles", day)
    hidden = hidden_segments(profiles)
    return ReportData(
        day=day,
        profiles=profiles,
        sizes=sizes,
        migrations=_partition(home, "segment_migrations", day),
        drift=_history(home, "drift_metrics", day),
        registry=_partition(home, "model_registry", day),
        validation=_validation(home, day),
        names=_names(sizes),
        quality=quality,
        risk=_without(_risk_by_segment(home, day), hidden),
        churn_days=_churn_days(quality),
        recommendation_quality=_partition(home, "recommendation_quality", day),
        association_rules=_table(home, "association_rules", day),
        recommendation_sources=_without(_sources(home, day), hidden),
        campaign_results=_table(home, "campaign_results", day),
        audiences=audience_counts(home, day),
        hidden=hidden,
    )


def hidden_segments(profiles: pd.DataFrame | None) -> dict[int, str]:
    """The suppressed segments of ``segment_profiles``: {segment id: suppression_reason}."""
    if profiles is None or "suppressed" not in profiles:
        return {}
    rows = profiles[profiles["suppressed"].fillna(False).astype(bool)]
    return {
        int(s): as_text(r)
        for s, r in zip(rows["segment_id"], rows["suppression_reason"], strict=True)
    }


def _without(counts: pd.DataFrame | None, hidden: dict[int, str]) -> pd.DataFrame | None:
    """Counts per segment computed here from per-customer tables, without the suppressed
    segments (by index, or by a segment_id column): the report never shows them."""
    if counts is None or not hidden:
        return counts
    ids = counts["segment_id"] if "segment_id" in counts else counts.index.to_series()
    return counts[~ids.isin(list(hidden)).to_numpy(dtype=bool)]


def run_value(today: pd.DataFrame | None, metric: str) -> float | None:
    """The value of today's run-scope ``metric`` in ``drift_metrics``, or None if not there."""
    if today is None or not {"scope", "name", "metric", "value"} <= set(today.columns):
        return None
    rows = today[(today["scope"] == "run") & (today["name"] == "all")]
    rows = rows[rows["metric"] == metric]
    return None if rows.empty else finite(rows["value"].iloc[0])


def migration_counts(moves: pd.DataFrame | None) -> tuple[int, int] | None:
    """Customers who changed segment and customers present in both runs (from today's
    ``segment_migrations``), or None when no customer was in an earlier run."""
    if moves is None or not {"from_segment_id", "to_segment_id", "customers"} <= set(moves):
        return None
    known = moves[moves["from_segment_id"].notna()]
    both = int(known["customers"].sum())
    if both == 0:
        return None
    moved = known["from_segment_id"].astype("int64") != known["to_segment_id"].astype("int64")
    return int(known.loc[moved, "customers"].sum()), both


def _names(sizes: pd.DataFrame | None) -> dict[int, str]:
    if sizes is None or "segment_name" not in sizes:
        return {}
    ordered = sizes.sort_values([RUN_KEY, "segment_id"], kind="stable")
    return {int(s): as_text(n) for s, n in ordered[["segment_id", "segment_name"]].to_numpy()}


def _partition(home: Home, table: str, day: dt.date) -> pd.DataFrame | None:
    path = home.partition(table, day)
    if not path.is_file():
        return None
    frame = lake.read_file(path)
    return frame if len(frame) else None


def _table(home: Home, table: str, day: dt.date) -> pd.DataFrame | None:
    """Today's partition of ``table``, even when it has no row (None only when missing)."""
    path = home.partition(table, day)
    return lake.read_file(path) if path.is_file() else None


def _history(home: Home, table: str, day: dt.date) -> pd.DataFrame | None:
    frames = []
    for d in lake.partition_days(home.table_root(table), RUN_KEY):
        if d <= day:
            frame = lake.read_file(home.partition(table, d))
            if len(frame):
                frames.append(frame.assign(**{RUN_KEY: d}))
    return pd.concat(frames, ignore_index=True) if frames else None


def _risk_by_segment(home: Home, day: dt.date) -> pd.DataFrame | None:
    """Today's customers per segment and churn risk, from ``customer_segments`` and
    ``customer_predictions`` joined by customer (only those two columns of each are read);
    None without both tables, or when no customer has a churn risk."""
    segments_path = home.partition("customer_segments", day)
    predictions_path = home.partition("customer_predictions", day)
    if not (segments_path.is_file() and predictions_path.is_file()):
        return None
    if "churn_risk" not in lake.column_names(predictions_path):
        return None
    who = customer_column(segments_path)
    segments = lake.read_file(segments_path, [who, "segment_id"])
    risks = lake.read_file(predictions_path, [who, "churn_risk"])
    if risks["churn_risk"].isna().all():
        return None
    joined = segments.merge(risks, on=who, how="left")
    risk = joined["churn_risk"].astype("object").where(joined["churn_risk"].notna(), "none")
    counts = pd.crosstab(joined["segment_id"].astype("int64"), risk)
    return counts.reindex(columns=[*CHURN_RISKS, "none"], fill_value=0).astype("int64")


def _sources(home: Home, day: dt.date) -> pd.DataFrame | None:
    """Today's recommended items per segment and source, counted by DuckDB from the columns
    it needs only (``customer_recommendations`` has ``top_n`` rows per customer: 10 million
    at a million customers, never read whole); None without the table."""
    import duckdb

    path = home.partition("customer_recommendations", day)
    if not path.is_file():
        return None
    segments = home.partition("customer_segments", day)
    scan = "read_parquet(?, hive_partitioning = false)"
    who = customer_column(path)  # one of two names: never text from outside
    if segments.is_file():
        source = f"{scan} r LEFT JOIN {scan} s USING ({who})"
        args = [str(path), str(segments)]
    else:
        source, args = f"{scan} r CROSS JOIN (SELECT NULL::BIGINT AS segment_id) s", [str(path)]
    query = (
        "SELECT s.segment_id, r.source, count(*) AS items, "
        f"count(DISTINCT r.{who}) AS customers, "
        "count(*) FILTER (WHERE r.rank = 1) AS leading "
        f"FROM {source} GROUP BY ALL ORDER BY s.segment_id NULLS FIRST, r.source"
    )
    con = duckdb.connect()
    try:
        rows = con.execute(query, args).fetchall()
    finally:
        con.close()
    counts = pd.DataFrame(rows, columns=["segment_id", "source", "items", "customers", "leading"])
    whole = dict.fromkeys(("items", "customers", "leading"), "int64")
    return counts.astype({"segment_id": "Int64", "source": "object", **whole})


def audience_counts(home: Home, day: dt.date) -> pd.DataFrame | None:
    """Today's customers per audience, counted by DuckDB from ``audience_members`` (one row
    per member: never read whole) and ``audience_changes``: exported, control (members in the
    control group), control_exported (of them, exported too: include_control), entered and
    left tonight. None without ``audience_members``; no row when no audience has a member."""
    import duckdb

    members, changes = (home.partition(t, day) for t in ("audience_members", "audience_changes"))
    if not members.is_file():
        return None
    scan = "read_parquet(?, hive_partitioning = false)"
    if changes.is_file():
        moves, args = scan, [str(members), str(changes)]
    else:  # counted as none
        moves, args = "(SELECT NULL::VARCHAR AS audience, NULL::VARCHAR AS change)", [str(members)]
    query = (
        "WITH m AS (SELECT audience, count(*) FILTER (WHERE exported) AS exported, "
        "count(*) FILTER (WHERE is_control) AS control, "
        "count(*) FILTER (WHERE is_control AND exported) AS control_exported "
        f"FROM {scan} GROUP BY audience), "
        "c AS (SELECT audience, count(*) FILTER (WHERE change = 'entered') AS entered, "
        "count(*) FILTER (WHERE change = 'left') AS gone "
        f"FROM {moves} WHERE audience IS NOT NULL GROUP BY audience) "
        "SELECT audience, coalesce(exported, 0), coalesce(control, 0), "
        "coalesce(control_exported, 0), coalesce(entered, 0), coalesce(gone, 0) "
        "FROM m FULL JOIN c USING (audience) ORDER BY audience"
    )
    con = duckdb.connect()
    try:
        rows = con.execute(query, args).fetchall()
    finally:
        con.close()
    counts = ("exported", "control", "control_exported", "entered", "left")
    frame = pd.DataFrame(rows, columns=["audience", *counts])
    return frame.astype({"audience": "object", **dict.fromkeys(counts, "int64")})


def customer_column(path: Path) -> str:
    """``customer_key`` in a table published pseudonymous, else ``customer_id``."""
    return CUSTOMER_KEY if CUSTOMER_KEY in lake.column_names(path) else CUSTOMER_ID


def _churn_days(quality: pd.DataFrame | None) -> int | None:
    """The days of BG/NBD's holdout (the churn window: from the cutoff to the run), as
    ``prediction_quality`` publishes them; None when unknown."""
    if quality is None or not {"model", "metric", "value"} <= set(quality.columns):
        return None
    rows = quality[(quality["model"] == "bgnbd") & (quality["metric"] == "holdout_days")]
    days = finite(rows["value"].iloc[0]) if len(rows) else None
    return int(days) if days else None


def _validation(home: Home, day: dt.date) -> dict[str, Any] | None:
    return lake.read_json(home.validation_record(day))
