"""The night's last step: delete what retention no longer keeps (``privacy.retention``).

Relative to the newest night run so far (never the clock), so a rerun or a backfill of an
older night deletes nothing a newer night needs, and running it again deletes nothing more.
It keeps what the last ``retention.state_days`` nights and tomorrow's read back of older
nights: the champions before them (segmentation, churn) and the recommender they serve
with, their drift reference features and segments, the churn cutoff's features, the
segments before a recommender's cutoff, the groups each configured campaign froze, and each
output table's and audience's night before the oldest rerunnable night.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

from segmentation import layout
from segmentation.config import Config
from segmentation.config_campaigns import all_campaigns
from segmentation.io import lake, locks
from segmentation.layout import EVENT_KEY, RUN_KEY, Home
from segmentation.model import registry
from segmentation.predictions import registry as churn_registry
from segmentation.privacy import retention
from segmentation.recommendations import registry as rec_registry

log = logging.getLogger(__name__)

MODEL_DIRS = {"models": "m", "churn_models": "c", "recommendation_models": "r"}


@locks.locked
def clean_up(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Delete the partitions retention no longer keeps; record the rerun window.

    Returns how many partitions (or model artifacts) and bytes each area lost: dates and
    counts only, never a customer.
    """
    home = Home(cfg.home)
    with locks.shared(home):  # the registries, and what every date shares
        recorded = lake.read_json(home.retention_record)
        w = retention.window(cfg.retention, newest_night(home, day, recorded))
        plan = deletions(cfg, home, w)
        deleted = {
            area: {"deleted": len(paths), "bytes": sum(retention.remove(p) for p in paths)}
            for area, paths in plan.items()
        }
        lake.write_json(retention.record(w, day, cfg.retention.state_days), home.retention_record)
    total = sum(d["deleted"] for d in deleted.values())
    log.info(
        "retention as of %s: %d partitions deleted (%d bytes); nights from %s can be rerun",
        w.newest,
        total,
        sum(d["bytes"] for d in deleted.values()),
        w.rerun_from or "any night",
    )
    return {
        "run_date": day.isoformat(),
        "newest": w.newest.isoformat(),
        "rerun_from": None if w.rerun_from is None else w.rerun_from.isoformat(),
        "deleted": deleted,
    }


def newest_night(home: Home, day: dt.date, recorded: dict[str, Any] | None) -> dt.date:
    """The newest night run so far: tonight, the last cleanup's, or the newest published."""
    found = [day, *lake.partition_days(home.table_root("customer_segments"), RUN_KEY)]
    if recorded and recorded.get("newest"):
        found.append(dt.date.fromisoformat(recorded["newest"]))
    return max(found)


def dated(root: Path, prefix: str) -> dict[dt.date, Path]:
    """The folders under ``root`` named ``<prefix>YYYY-MM-DD`` (or ``<prefix>YYYYMMDD``)."""
    if not root.is_dir():
        return {}
    pattern = re.compile(re.escape(prefix) + r"(\d{4}-\d\d-\d\d|\d{8})")
    out = {}
    for child in root.iterdir():
        match = pattern.fullmatch(child.name)
        if match and child.is_dir():
            text = match.group(1)
            out[
                dt.date.fromisoformat(text if "-" in text else f"{text[:4]}-{text[4:6]}-{text[6:]}")
            ] = child
    return out


def deletions(cfg: Config, home: Home, w: retention.Window) -> dict[str, list[Path]]:
    """Per area, the folders (for a model, its artifact) the cleanup deletes."""
    needs = gather_needs(cfg, home, w)
    folders = {
        "staging": dated(home.staging, f"{EVENT_KEY}="),
        "work": dated(home.work_area, f"{RUN_KEY}="),
        "state": dated(home.state, f"{RUN_KEY}="),
        "features": dated(home.features, f"{RUN_KEY}="),
        "reports": dated(home.reports, f"{RUN_KEY}="),
    }
    keep: dict[str, set[dt.date]] = {"features": set()}
    if needs is not None:
        keep["features"] = retention.needed_features(needs)
    out = {
        area: [found[d] for d in retention.to_delete(found, w.keep_from[area], keep.get(area, ()))]
        for area, found in folders.items()
    }
    out.update(_models(home, w, needs))
    out.update(_outputs(home, w, needs))
    return out


def _models(
    home: Home, w: retention.Window, needs: retention.Needs | None
) -> dict[str, list[Path]]:
    roots = {
        "models": home.models,
        "churn_models": home.churn_models,
        "recommendation_models": home.recommendation_models,
    }
    if needs is None:  # every night stays rerunnable: every model that ever served
        keep = {
            "models": {r.trained_run_date for r in registry.list_models(home.models) if r.promoted},
            "churn_models": {
                r.trained_run_date for r in churn_registry.records(home.churn_models) if r.promoted
            },
            "recommendation_models": set(dated(home.recommendation_models, "r")),
        }
    else:
        keep = retention.needed_models(needs)
    out = {}
    for area, root in roots.items():
        found = {
            d: path / registry.ARTIFACT
            for d, path in dated(root, MODEL_DIRS[area]).items()
            if (path / registry.ARTIFACT).is_file()
        }
        out[area] = [found[d] for d in retention.to_delete(found, w.keep_from[area], keep[area])]
    return out


def _outputs(
    home: Home, w: retention.Window, needs: retention.Needs | None
) -> dict[str, list[Path]]:
    tables = {
        t.name: dated(home.table_root(t.name), f"{RUN_KEY}=") for t in layout.TABLES if t.per_run
    }
    audiences = {
        a.name: dated(a, f"{RUN_KEY}=")
        for a in (sorted(home.audiences.iterdir()) if home.audiences.is_dir() else [])
        if a.is_dir()
    }
    runs = sorted(tables["customer_segments"])
    needed = set() if needs is None else retention.needed_outputs(needs, runs)
    out: dict[str, list[Path]] = {"output": [], "audiences": []}
    for area, series in (("output", tables), ("audiences", audiences)):
        plan = retention.plan_outputs({k: sorted(v) for k, v in series.items()}, w, needed)
        out[area] = [series[name][d] for name, days in plan.items() for d in days]
    return out


def gather_needs(cfg: Config, home: Home, w: retention.Window) -> retention.Needs | None:
    """What the runnable nights read back of older nights (None: every night is runnable)."""
    if w.rerun_from is None:
        return None
    models = registry.list_models(home.models)
    churns = churn_registry.records(home.churn_models) if cfg.predictions.enabled else []
    champions: dict[dt.date, tuple[dt.date, dt.date] | None] = {}
    churn: dict[dt.date, dt.date | None] = {}
    recommenders: dict[dt.date, dt.date | None] = {}
    for night in w.nights:
        seg = [r for r in models if r.promoted and r.trained_run_date < night]
        champions[night] = (seg[-1].trained_run_date, seg[-1].reference_day) if seg else None
        c = [r for r in churns if r.promoted and r.trained_run_date < night]
        churn[night] = c[-1].trained_run_date if c else None
    if cfg.recommendations.enabled:
        for night in [w.nights[0] - dt.timedelta(days=1), *w.nights]:
            found = rec_registry.latest_as_of(home.recommendation_models, night)
            recommenders[night] = found.trained_run_date if found else None
    return retention.Needs(
        champions=champions,
        churn=churn,
        recommenders=recommenders,
        churn_days=cfg.predictions.churn_days if cfg.predictions.enabled else None,
        holdout_days=(cfg.recommendations.holdout_days if cfg.recommendations.enabled else None),
        campaign_starts=[c.start for c in all_campaigns(cfg.campaigns, cfg.audiences)],
    )
