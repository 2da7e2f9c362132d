"""Extract a day's events into staging, validate them, promote them to the lake."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from segmentation.config import Config
from segmentation.errors import SegmentationError, ValidationFailed
from segmentation.io import lake, locks, sources
from segmentation.layout import EVENT_KEY, Home
from segmentation.pipeline import store
from segmentation.quality import validation

log = logging.getLogger(__name__)


@locks.locked
def extract_events(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Read day ``day``'s events from the source into the staging area.

    The night's first step: a new night older than the home's first model (one that would
    start a second model lineage) is refused here, before anything is written for it.
    ``ingest`` (history, no training) is not a night and is never refused.
    """
    store.refuse_second_lineage(Home(cfg.home), day)
    return extract_range(cfg, day, day)[0]


def extract_range(cfg: Config, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Read the source once for days [first, last] and stage one partition per day."""
    home = Home(cfg.home)
    events = sources.event_source(cfg.source, cfg.tz).read_events(first, last)
    local_day = events["event_time"].dt.tz_convert(cfg.tz).dt.date
    out = []
    for i in range((last - first).days + 1):
        day = first + dt.timedelta(days=i)
        batch = events[local_day == day]
        path = lake.write_partition(
            batch, home.staging, EVENT_KEY, day, schema=sources.EVENT_SCHEMA
        )
        out.append({"run_date": day.isoformat(), "rows": len(batch), "staged": str(path)})
        log.info("extracted %d events for %s", len(batch), day)
    return out


@locks.locked
def validate_events(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Validate the staged day; promote it to the lake, or quarantine it and stop the run."""
    home = Home(cfg.home)
    staged = home.staged_events(day)
    if not (staged / lake.PART).is_file():
        return _recorded_outcome(home, day)
    frame = lake.read_partition(home.staging, EVENT_KEY, day)
    report = validation.validate_frame(frame, "events", validation.event_parameters(day, cfg))
    record = {"run_date": day.isoformat(), **report.summary(), "gx_result": report.result}
    result_path = home.validation_record(day)
    if not report.success:
        target = home.quarantined(day)
        lake.move_partition(staged, target)
        lake.write_json(record, target / "validation_result.json")
        lake.write_json(record, result_path)
        failed = "\n".join(f"  - {f}" for f in report.failures)
        raise ValidationFailed(
            f"events for {day} failed validation ({len(report.failures)} of {report.evaluated} "
            f"expectations):\n{failed}\nThe batch ({len(frame)} rows) is quarantined in {target}; "
            f"published tables are unchanged. Fix the source data ({_source_name(cfg)}) or the "
            f"config and rerun this date. Full result: {result_path}"
        )
    lake.write_json(record, result_path)
    lake.move_partition(staged, home.lake_partition(day))
    return {
        "run_date": day.isoformat(),
        "success": True,
        "rows": len(frame),
        "result": str(result_path),
    }


def _recorded_outcome(home: Home, day: dt.date) -> dict[str, Any]:
    """A retry after validation already ran: report its recorded outcome again."""
    result_path = home.validation_record(day)
    if result_path.is_file():
        recorded = json.loads(result_path.read_text(encoding="utf-8"))
        if recorded.get("success") and home.lake_file(day).is_file():
            return {"run_date": day.isoformat(), "success": True, "result": str(result_path)}
        if not recorded.get("success"):
            failed = "\n".join(f"  - {f}" for f in recorded.get("failures", []))
            raise ValidationFailed(
                f"events for {day} failed validation:\n{failed}\nThe batch is in quarantine; "
                "fix the source data and rerun this date (extract first). "
                f"Full result: {result_path}"
            )
    raise SegmentationError(f"no extracted events staged for {day}; run extract_events first")


def ingest(cfg: Config, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Extract (reading the source once) and validate days [first, last] into the lake."""
    if last < first:
        raise SegmentationError(f"--end {last} is before --start {first}")
    staged = extract_range(cfg, first, last)
    return [validate_events(cfg, dt.date.fromisoformat(s["run_date"])) for s in staged]


def _source_name(cfg: Config) -> str:
    return sources.event_source(cfg.source, cfg.tz).name
