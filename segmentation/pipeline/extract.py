"""Extract a day's events into staging, validate them, promote them to the lake."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.config import Config
from segmentation.errors import SegmentationError, ValidationFailed
from segmentation.io import lake, locks, sources
from segmentation.layout import EVENT_KEY, Home
from segmentation.pipeline import forget, intake, store
from segmentation.privacy import erasure, retention
from segmentation.quality import validation

log = logging.getLogger(__name__)
ROWS_ERASED = "rows_erased"  # staged partition metadata: erased rows the extract dropped


@locks.locked
def extract_events(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Read day ``day``'s events from the source into the staging area.

    The night's first step: a new night older than the home's first model (one that would
    start a second model lineage) is refused here, before anything is written for it.
    ``ingest`` (history, no training) is not a night and is never refused. So is a night
    older than what the retention cleanup kept for reruns (``retention.state_days``). A rerun
    of a night that customers were erased after says so: its tables lack them.
    """
    home = Home(cfg.home)
    retention.refuse_rerun(lake.read_json(home.retention_record), day)
    store.refuse_second_lineage(home, day)
    result = extract_range(cfg, day, day)[0]
    erased = forget.erased_since(home, day)
    if erased:
        log.warning(
            "%s was first run before %d customer(s) were erased (segmentation forget): "
            "this rerun's tables lack them",
            day,
            erased,
        )
        result["erased_since_first_run"] = erased
    return result


def extract_range(cfg: Config, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Read the source once for nights [first, last] and stage what each night takes in.

    Each night stages its day's rows, the late rows it is the first to see and the re-sent
    copies it drops (see :mod:`segmentation.pipeline.intake`).
    """
    home = Home(cfg.home)
    late_days = cfg.events.late_days
    ingested = set(lake.partition_days(home.lake, EVENT_KEY))
    nights = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    # rows older than the home's first night are history, for `segmentation ingest`
    oldest = min([first, *ingested])
    source = sources.event_source(cfg.source, cfg.tz)
    events = source.read_events(first, last, since=oldest, late_days=late_days)
    night = intake.nights_of(events, cfg.tz, first)
    day = intake.local_days(events["event_time"], cfg.tz)
    known = pd.DatetimeIndex(sorted(ingested | set(nights))).as_unit("s")
    # an earlier day not in the lake yet (its night failed or never ran) keeps its rows for
    # its own night; rows older than the home's first night in a night's file are too late
    held = ((day < night) & (day >= pd.Timestamp(oldest)) & ~day.isin(known)).to_numpy()
    since = (day.min() if day.notna().any() else pd.Timestamp(first)).date()
    # the customers of the erasure list never come back: their rows are dropped, counted by
    # the night that takes them (a held row by its own night, later)
    erased_ids = erasure.read_erasure_list(cfg.privacy.erasure_list)
    gone = events["customer_id"].isin(erased_ids).to_numpy()
    erased = night[gone & ~held].value_counts()
    # nights in order, each in the source's order: the first night to see an event takes it
    order = np.argsort(night.to_numpy(), kind="stable")
    kept = order[~(held | gone)[order]]
    mine, night = events.iloc[kept], night.iloc[kept]
    keys, origins = intake.event_keys(mine), intake.origin_keys(mine)
    before = intake.taken_before(home, since - dt.timedelta(days=late_days), nights, mine, origins)
    take, duplicate = intake.split_copies(keys, origins, before)
    mine = mine.drop(columns=[sources.ARRIVAL, sources.ORIGIN]).assign(
        **{sources.SOURCE_ROW: origins.view("int64")}
    )
    out = []
    for today in nights:
        tonight = (night == pd.Timestamp(today)).to_numpy()
        n_erased = int(erased.get(pd.Timestamp(today), 0))
        out.append(_stage(home, today, mine[tonight & take], mine[tonight & duplicate], n_erased))
    return out


def _stage(
    home: Home, day: dt.date, rows: pd.DataFrame, duplicates: pd.DataFrame, erased: int
) -> dict[str, Any]:
    """Stage night ``day``'s intake: the rows to validate, and the copies it drops; the
    count of erased customers' rows it dropped goes with them, for the night's accounting."""
    ingested = {sources.INGESTED: day}
    path = lake.write_partition(
        rows.assign(**ingested),
        home.staging,
        EVENT_KEY,
        day,
        schema=sources.STAGED_SCHEMA,
        metadata={ROWS_ERASED: str(erased)},
    )
    lake.write_file(
        pa.Table.from_pandas(
            duplicates.assign(**ingested),
            schema=sources.STAGED_SCHEMA,
            preserve_index=False,
        ),
        home.staged_duplicates(day),
    )
    log.info(
        "extracted %d events for %s (%d re-sent copies, %d rows of erased customers dropped)",
        len(rows),
        day,
        len(duplicates),
        erased,
    )
    return {
        "run_date": day.isoformat(),
        "rows": len(rows),
        "duplicates": len(duplicates),
        "rows_erased": erased,
        "staged": str(path),
    }


@locks.locked
def validate_events(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Validate the staged night; promote it to the lake, or quarantine it and stop the run.

    Rows failing a row-level expectation are quarantined one by one while they are within
    ``validation.max_bad_rows`` / ``max_bad_row_share``, and the night is promoted without
    them; more bad rows than that, or a table-level failure, quarantine the whole night.
    """
    home = Home(cfg.home)
    staged = home.staged_events(day)
    if not (staged / lake.PART).is_file():
        return _recorded_outcome(home, day)
    frame = lake.read_partition(home.staging, EVENT_KEY, day)
    duplicates = _staged_duplicates(home, day)
    erased = int(lake.file_metadata(staged / lake.PART).get(ROWS_ERASED, 0))
    report = validation.validate_frame(
        frame.drop(columns=[sources.INGESTED]),
        "events",
        validation.event_parameters(day, cfg, len(frame)),
    )
    bad = _with_lateness(report.bad_rows(), frame, day, cfg)
    allowed = cfg.validation.allowed_bad_rows(len(frame))
    passed = not report.table_failures and len(bad) <= allowed
    valid = frame.drop(index=list(bad)).drop(columns=[sources.PROBLEM])
    record = {
        "run_date": day.isoformat(),
        **report.summary(),
        "success": passed,
        **_counts(frame, valid, bad, duplicates, erased, passed, day, cfg),
        "bad_row_reasons": _reason_counts(bad),
        "gx_result": report.result,
    }
    if not passed:
        _quarantine_day(cfg, home, day, frame, report, record, len(bad), allowed)
    _promote(home, day, frame, valid, bad, duplicates, cfg)
    lake.write_json(record, home.validation_record(day))
    shutil.rmtree(staged, ignore_errors=True)
    if bad:
        log.warning("%s: %d bad row(s) quarantined, %d promoted", day, len(bad), len(valid))
    return {
        "run_date": day.isoformat(),
        "success": True,
        "rows": len(valid),
        "rows_quarantined": len(bad),
        "rows_duplicate": len(duplicates),
        "result": str(home.validation_record(day)),
    }


def _staged_duplicates(home: Home, day: dt.date) -> pd.DataFrame:
    path = home.staged_duplicates(day)
    return lake.read_file(path) if path.is_file() else pd.DataFrame()


def _with_lateness(
    bad: dict[int, list[str]], frame: pd.DataFrame, day: dt.date, cfg: Config
) -> dict[int, list[str]]:
    """The bad rows, with rows more than ``late_days`` late among them for that reason."""
    late_days = cfg.events.late_days
    oldest, _ = sources.day_bounds(day - dt.timedelta(days=late_days), cfg.tz)
    too_late = frame.index[frame["event_time"] < oldest]
    reason = _too_late(cfg)
    out = {row: list(reasons) for row, reasons in bad.items()}
    for row in too_late:
        kept = [
            r for r in out.get(row, []) if r != "expect_column_values_to_be_between on event_time"
        ]
        out[int(row)] = [reason, *kept]
    return dict(sorted(out.items()))


def _too_late(cfg: Config) -> str:
    return f"arrived more than events.late_days ({cfg.events.late_days}) days after its day"


def _counts(
    frame: pd.DataFrame,
    valid: pd.DataFrame,
    bad: dict[int, list[str]],
    duplicates: pd.DataFrame,
    erased: int,
    passed: bool,
    day: dt.date,
    cfg: Config,
) -> dict[str, int]:
    """Where each row the night took in went:
    rows_read = valid + quarantined + duplicate + erased."""
    start, _ = sources.day_bounds(day, cfg.tz)
    return {
        "rows_read": len(frame) + len(duplicates) + erased,
        "rows_valid": len(valid) if passed else 0,
        "rows_quarantined": len(bad) if passed else len(frame),
        "rows_duplicate": len(duplicates),
        # rows of customers in privacy.erasure_list, dropped at the extract
        "rows_erased": erased,
        # valid rows of an earlier day, first seen tonight
        "rows_late": int((valid["event_time"] < start).sum()) if passed else 0,
    }


def _promote(
    home: Home,
    day: dt.date,
    frame: pd.DataFrame,
    valid: pd.DataFrame,
    bad: dict[int, list[str]],
    duplicates: pd.DataFrame,
    cfg: Config,
) -> None:
    """Write the night's lake partition, its quarantined rows and its dropped duplicates;
    a rerun that has none of the latter removes those of the night's previous run."""
    rows, dropped = home.quarantined_rows(day), home.duplicates_file(day)
    if bad:
        held = frame.loc[list(bad)].assign(reasons=["; ".join(r) for r in bad.values()])
        lake.write_file(held.reset_index(drop=True), rows)
    else:
        rows.unlink(missing_ok=True)
    if len(duplicates):
        lake.write_file(duplicates, dropped)
    else:
        dropped.unlink(missing_ok=True)
    start, _ = sources.day_bounds(day, cfg.tz)
    late = valid["event_time"] < start
    # features roll their state forward only over nights without late rows (see features)
    metadata = (
        {
            intake.LATE_FROM: intake.local_days(valid.loc[late, "event_time"], cfg.tz)
            .min()
            .date()
            .isoformat()
        }
        if late.any()
        else None
    )
    lake.write_partition(
        valid, home.lake, EVENT_KEY, day, schema=sources.LAKE_SCHEMA, metadata=metadata
    )


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
    late = record["bad_row_reasons"].get(_too_late(cfg), 0)
    if late:
        too_many += (
            f"{late} of them arrived more than events.late_days ({cfg.events.late_days}) "
            "days after their day: raise events.late_days to take such rows in, or allow "
            "them as bad rows to quarantine them; "
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
