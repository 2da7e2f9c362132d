"""Extract a day's events into staging, validate them, promote them to the lake."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
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
    """Validate the staged day; promote it to the lake, or quarantine it and stop the run.

    Rows failing a row-level expectation are quarantined one by one while they are within
    ``validation.max_bad_rows`` / ``max_bad_row_share``, and the day is promoted without
    them; more bad rows than that, or a table-level failure, quarantine the whole day.
    """
    home = Home(cfg.home)
    staged = home.staged_events(day)
    if not (staged / lake.PART).is_file():
        return _recorded_outcome(home, day)
    frame = lake.read_partition(home.staging, EVENT_KEY, day)
    report = validation.validate_frame(
        frame, "events", validation.event_parameters(day, cfg, len(frame))
    )
    bad = report.bad_rows()
    allowed = cfg.validation.allowed_bad_rows(len(frame))
    passed = not report.table_failures and len(bad) <= allowed
    counts = {
        "rows_read": len(frame),
        "rows_valid": len(frame) - len(bad) if passed else 0,
        "rows_quarantined": len(bad) if passed else len(frame),
    }
    record = {
        "run_date": day.isoformat(),
        **report.summary(),
        "success": passed,
        **counts,
        "bad_row_reasons": _reason_counts(bad),
        "gx_result": report.result,
    }
    if not passed:
        _quarantine_day(cfg, home, day, frame, report, record, len(bad), allowed)
    if bad:
        rows = frame.loc[list(bad)].assign(reasons=["; ".join(r) for r in bad.values()])
        lake.write_file(rows.reset_index(drop=True), home.quarantined_rows(day))
        lake.write_partition(
            frame.drop(index=list(bad)), home.lake, EVENT_KEY, day, schema=sources.EVENT_SCHEMA
        )
        shutil.rmtree(staged, ignore_errors=True)
        log.warning(
            "%s: %d bad row(s) quarantined, %d promoted", day, len(bad), counts["rows_valid"]
        )
    lake.write_json(record, home.validation_record(day))
    if not bad:
        lake.move_partition(staged, home.lake_partition(day))
    return {
        "run_date": day.isoformat(),
        "success": True,
        "rows": counts["rows_valid"],
        "rows_quarantined": len(bad),
        "result": str(home.validation_record(day)),
    }


def _quarantine_day(
    cfg: Config,
    home: Home,
    day: dt.date,
    frame: Any,
    report: validation.ValidationReport,
    record: dict[str, Any],
    bad: int,
    allowed: int,
) -> None:
    """Move the whole staged day to quarantine with its record, and stop with the reasons."""
    target = home.quarantined(day)
    lake.move_partition(home.staged_events(day), target)
    lake.write_json(record, target / "validation_result.json")
    result_path = home.validation_record(day)
    lake.write_json(record, result_path)
    failed = "\n".join(f"  - {f}" for f in report.failures)
    too_many = (
        f"{bad} of its {len(frame)} rows are bad, more than the {allowed} allowed "
        "(validation.max_bad_rows, or validation.max_bad_row_share of the rows); "
        if bad > allowed
        else ""
    )
    raise ValidationFailed(
        f"events for {day} failed validation ({len(report.failures)} of {report.evaluated} "
        f"expectations):\n{failed}\n{too_many}The batch ({len(frame)} rows) is quarantined in "
        f"{target}; published tables are unchanged. Fix the source data ({_source_name(cfg)}) "
        f"or the config and rerun this date. Full result: {result_path}"
    )


def _reason_counts(bad: dict[int, list[str]]) -> dict[str, int]:
    """How many bad rows fail each expectation, most frequent first."""
    counts: dict[str, int] = {}
    for reasons in bad.values():
        for reason in reasons:
            counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


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
