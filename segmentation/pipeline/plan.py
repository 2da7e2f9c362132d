"""``segmentation plan-campaign``: size up a test on an audience before launching it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from segmentation.campaigns import outcomes, plan
from segmentation.config import Config
from segmentation.errors import ConfigError, SegmentationError
from segmentation.io import lake
from segmentation.io.parquet import read_published
from segmentation.layout import EVENT_KEY, RUN_KEY, Home

RECENT_NIGHTS = 7  # the nights whose newcomers give the audience's growth


def plan_campaign(
    cfg: Config, audience: str, mde: float, attribution_days: int = 7, day: dt.date | None = None
) -> dict[str, Any]:
    """The audience's sizes on night ``day`` (default: the newest published), its baseline
    conversion over the ``attribution_days`` up to then, and whether ``mde`` is detectable."""
    if audience not in cfg.audiences.defined:
        known = ", ".join(cfg.audiences.defined) or "none defined"
        raise ConfigError(f"unknown audience {audience!r} (audiences in the config: {known})")
    if attribution_days < 1:
        raise ConfigError(f"--attribution-days {attribution_days} must be 1 or more")
    if not 0 < mde < 1:
        raise ConfigError(f"--mde {mde} must be an absolute uplift between 0 and 1, e.g. 0.01")
    home = Home(cfg.home)
    nights = lake.partition_days(home.table_root("audience_members"), RUN_KEY)
    nights = [n for n in nights if day is None or n <= day]
    if not nights:
        raise SegmentationError(
            f"no audiences are published {'yet' if day is None else f'by {day}'}"
        )
    day = nights[-1]
    members = read_published(home, "audience_members", day)
    assert members is not None  # a complete partition
    mine = members[members["audience"] == audience]
    treated = int(mine["exported"].sum())
    baseline = _baseline(cfg, home, audience, nights, attribution_days)
    if baseline["baseline_conversion"] is None:
        raise SegmentationError(
            f"no baseline for {audience!r} on {day}: it needs the audience's members of an "
            "earlier night (one night of audiences so far, the audience new in the config, or "
            "empty then) and the purchases since; plan again after another night"
        )
    entering = _entering(home, audience, day)
    return {
        "audience": audience,
        "night": day.isoformat(),
        **baseline,
        **plan.verdict(
            treated, len(mine) - treated, baseline["baseline_conversion"], mde, entering
        ),
    }


def _baseline(
    cfg: Config, home: Home, audience: str, nights: list[dt.date], days: int
) -> dict[str, Any]:
    """The conversion of the audience's members of a night over the ``days`` after it, as a
    campaign would measure it untreated: the members of the newest night ``days`` before the
    last (else the first night), and their purchases since. Members of tonight would do: a
    recency filter (win back) makes their recent past empty."""
    last = nights[-1]
    earlier = [n for n in nights if n <= last - dt.timedelta(days=days)] or nights[:1]
    base = earlier[-1]
    members = read_published(home, "audience_members", base, ["audience", "customer_id"])
    assert members is not None
    ids = members.loc[members["audience"] == audience, "customer_id"]
    first = base + dt.timedelta(days=1)
    files = lake.partition_files(home.lake, EVENT_KEY, upto=last, since=first)
    converted = None
    if first <= last and len(ids):
        found = outcomes.read(files, cfg, first, last, None)
        buyers = found.loc[found["converted"], "customer_id"]
        converted = float(ids.isin(buyers).mean())
    return {
        "baseline_members_of": base.isoformat(),
        "baseline_window": f"{first} .. {last}",
        "baseline_conversion": converted,
    }


def _entering(home: Home, audience: str, day: dt.date) -> float:
    """Customers who entered the exported audience per night, over its last nights."""
    root = home.table_root("audience_changes")
    recent = [d for d in lake.partition_days(root, RUN_KEY) if d <= day][-RECENT_NIGHTS:]
    entered = 0
    for night in recent[1:]:  # the first night everyone enters: not growth
        rows = read_published(home, "audience_changes", night, ["audience", "change"])
        assert rows is not None
        entered += int(((rows["audience"] == audience) & (rows["change"] == "entered")).sum())
    return entered / max(len(recent) - 1, 1)
