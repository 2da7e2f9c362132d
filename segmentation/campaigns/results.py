"""A campaign's nightly result: its groups' conversion and revenue, and the uplift.

The groups are frozen on the night before the campaign starts (``frozen_on``): treated, the
customers it targeted; control, those who would otherwise have been targeted. Nobody enters
or leaves them later, whatever their segment does. One row for the whole campaign
(``segment_id`` null) and one per segment the customers were in at the start.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from segmentation.campaigns import stats
from segmentation.catalog_campaigns import CAMPAIGN_STATUSES
from segmentation.config_campaigns import CampaignConfig


def status(c: CampaignConfig, day: dt.date) -> str:
    """running until ``end``, attributing for ``attribution_days`` after, then final."""
    last = c.end + dt.timedelta(days=c.attribution_days)
    if day <= c.end and day < last:
        return CAMPAIGN_STATUSES[0]
    return CAMPAIGN_STATUSES[1] if day < last else CAMPAIGN_STATUSES[2]


def window(c: CampaignConfig, day: dt.date) -> tuple[dt.date, dt.date]:
    """The local dates whose purchases count on night ``day``: start .. end + attribution."""
    return c.start, min(day, c.end + dt.timedelta(days=c.attribution_days))


def rows(
    c: CampaignConfig,
    day: dt.date,
    frozen_on: dt.date | None,
    groups: pd.DataFrame | None,
    outcomes: pd.DataFrame,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """The result rows of ``c`` on ``day``. ``groups``: customer_id, treated, segment_id (None
    when they cannot be formed, and ``reason`` says why); ``outcomes``: :mod:`outcomes`'."""
    head = {
        "campaign": c.id,
        "audience": c.audience,
        "status": status(c, day),
        "start": c.start,
        "end": c.end,
        "frozen_on": frozen_on,
        "measured_to": window(c, day)[1],
        "cost": c.cost,
    }
    if groups is None:
        return [{**head, "segment_id": None, "treated": 0, "control": 0, "reason": reason}]
    joined = groups.merge(outcomes, on="customer_id", how="left", validate="one_to_one")
    joined["converted"] = joined["converted"].eq(True)  # no purchase in the window: False
    joined["revenue"] = joined["revenue"].fillna(0.0).astype("float64")
    out = [{**head, "segment_id": None, **figures(joined, c.cost)}]
    for segment, part in joined.groupby("segment_id", sort=True):
        row = {**head, "segment_id": int(str(segment)), **figures(part, None), "cost": None}
        if row["control"] == 0 and out[0]["control"] > 0:  # the campaign has a control group
            row["reason"] = "no control customer in this segment: too few customers in it"
        elif row["treated"] == 0 and out[0]["treated"] > 0:
            row["reason"] = "nobody targeted in this segment: its customers were all held out"
        out.append(row)  # the cost is the whole campaign's
    return out


def figures(joined: pd.DataFrame, cost: float | None) -> dict[str, Any]:
    """The counts and statistics of one group of customers (treated and control)."""
    treated = joined["treated"].to_numpy(dtype=bool)
    converted = joined["converted"].to_numpy(dtype=bool)
    revenue = joined["revenue"].to_numpy(dtype="float64")
    n1, n0 = int(treated.sum()), int((~treated).sum())
    x1, x0 = int(converted[treated].sum()), int(converted[~treated].sum())
    out: dict[str, Any] = {
        "treated": n1,
        "control": n0,
        "treated_converters": x1,
        "control_converters": x0,
        **stats.conversion(x1, n1, x0, n0),
        **stats.revenue(revenue[treated], revenue[~treated]),
    }
    uplift, revenue_uplift = out["conversion_uplift"], out["revenue_uplift"]
    out["incremental_conversions"] = None if uplift is None else uplift * n1
    out["incremental_revenue"] = None if revenue_uplift is None else revenue_uplift * n1
    if cost and out["incremental_revenue"] is not None:
        out["roi"] = (out["incremental_revenue"] - cost) / cost
    baseline = out["control_conversion"]
    out["mde"] = None if baseline is None else stats.mde(n1, n0, baseline)
    out["reason"] = _missing(n1, n0)
    return out


def _missing(n1: int, n0: int) -> str | None:
    if n1 == n0 == 0:
        return "nobody: no customer was in the audience or segments on the night before the start"
    if n0 == 0:
        return (
            "no control group: nobody who would have been targeted was held out (the audience "
            "includes the control group, or the control share is 0)"
        )
    if n1 == 0:
        return "nobody was targeted: the audience was empty on the night before the start"
    return None


def table(parts: list[list[dict[str, Any]]], columns: list[str]) -> pd.DataFrame:
    """The rows of every campaign as the table's columns (absent figures null)."""
    flat = [row for part in parts for row in part]
    frame = pd.DataFrame(flat, columns=columns)
    frame["segment_id"] = frame["segment_id"].astype("Int64")
    for name in ("treated", "control", "treated_converters", "control_converters"):
        frame[name] = frame[name].fillna(0).astype("int64")
    return frame
