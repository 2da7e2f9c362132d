"""Every campaign's result tonight: its frozen groups, who converted, the uplift.

Runs after ``export_audiences``. A campaign is measured from the night of its start on, with
the groups of the last night before its start (the audience ``audience_members`` published
then, or the segments of ``customer_segments``), and publishes ``campaign_results``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

import numpy as np
import pandas as pd

from segmentation import layout
from segmentation.campaigns import audiences, outcomes, results
from segmentation.config import Config
from segmentation.config_campaigns import CampaignConfig, all_campaigns
from segmentation.io import lake, locks, sinks
from segmentation.io.parquet import read_published, stage_table
from segmentation.layout import EVENT_KEY, RUN_KEY, Home
from segmentation.pipeline.publish import asset_facts
from segmentation.privacy.suppression import FLAGS, suppress_campaign_results
from segmentation.segments.control import global_control_flags

TABLE = "campaign_results"


@locks.locked
def measure_campaigns(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Measure each campaign started by ``day``; publish ``campaign_results``."""
    home = Home(cfg.home)
    started = [c for c in all_campaigns(cfg.campaigns, cfg.audiences) if c.start <= day]
    parts = []
    for c in started:
        frozen_on, groups, reason = frozen_groups(cfg, home, c)
        first, last = results.window(c, day)
        # a row of a day up to ``last`` is ingested by last + late_days at the latest: a
        # campaign that ended long ago reads its window's nights, not every night since
        upto = min(day, last + dt.timedelta(days=cfg.events.late_days))
        files = lake.partition_files(home.lake, EVENT_KEY, upto=upto, since=first)
        found = outcomes.read(files, cfg, first, last, c.min_amount)
        parts.append(results.rows(c, day, frozen_on, groups, found, reason))
    columns = [c.name for c in layout.table(TABLE).columns if c.name not in FLAGS]
    frame = suppress_campaign_results(results.table(parts, columns), cfg.privacy.min_group_size)
    staged = stage_table(frame, TABLE, day, home.staged_table(TABLE, day))
    try:
        moved = sinks.publish_files(sinks.sinks_for(cfg), day, {TABLE: staged})
    finally:
        shutil.rmtree(home.work(day), ignore_errors=True)
    whole = frame[frame["segment_id"].isna()]
    return {
        "run_date": day.isoformat(),
        "campaigns": {
            str(r.campaign): {"status": r.status, "uplift": _round(r.conversion_uplift)}
            for r in whole.itertuples()
        },
        "assets": asset_facts(home, day, moved),
    }


def _round(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def frozen_groups(
    cfg: Config, home: Home, c: CampaignConfig
) -> tuple[dt.date | None, pd.DataFrame | None, str | None]:
    """The night the groups are frozen on, the groups (customer_id, treated, segment_id),
    or None and why not."""
    root = home.table_root("customer_segments")
    frozen_on = lake.latest_before(root, RUN_KEY, c.start)
    if frozen_on is None:
        return None, None, f"no segments were published before the start {c.start}"
    if c.audience is None:
        segments = read_published(home, "customer_segments", frozen_on, audiences.SEGMENT_COLUMNS)
        assert segments is not None  # a complete partition
        # the global control group as the config draws it now: changing control.global_share
        # or control.salt during a campaign moves its customers (the README says so)
        chosen = segments[audiences.in_segments(segments, c.segments)]
        held_out = global_control_flags(
            chosen["customer_id"], cfg.control.global_share, cfg.control.salt
        )
        chosen = chosen[~held_out]
        treated = ~chosen["is_control"].to_numpy(dtype=bool)
    else:
        members = read_published(
            home,
            "audience_members",
            frozen_on,
            ["audience", "customer_id", "exported", "segment_id"],
        )
        if members is None or not (members["audience"] == c.audience).any():
            return (
                frozen_on,
                None,
                (
                    f"audience {c.audience!r} has no members on {frozen_on}, the night before the "
                    f"start (empty, or not exported then: run export_audiences for {frozen_on})"
                ),
            )
        # the members as exported that night, with their segment then
        chosen = members[members["audience"] == c.audience]
        treated = chosen["exported"].to_numpy(dtype=bool)
    groups = pd.DataFrame(
        {
            "customer_id": chosen["customer_id"].astype(str).to_numpy(),
            "treated": np.asarray(treated, dtype=bool),
            "segment_id": chosen["segment_id"].to_numpy(dtype="int64"),
        }
    )
    return frozen_on, groups, None
