"""The Great Expectations gate: suites kept as JSON in ``expectations/``, loaded at run time.

GX silently drops expectations it cannot parse, so loading compares the count in the file
with the count in the suite and refuses a suite that lost any.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation.config import Config
from segmentation.errors import ConfigError
from segmentation.io.sources import day_bounds

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    unexpected: int | None
    detail: str
    examples: tuple[str, ...] = ()
    # the index labels of the failing rows, for a row-level expectation (one with ``mostly``)
    rows: tuple[int, ...] | None = None

    def __str__(self) -> str:
        where = f" on {self.column}" if self.column else ""
        count = f": {self.unexpected} unexpected row(s)" if self.unexpected is not None else ""
        shown = f", e.g. {', '.join(self.examples)}" if self.examples else ""
        return f"{self.expectation}{where}{count}{shown}{self.detail}"


@dataclass(frozen=True)
class ValidationReport:
    suite: str
    success: bool
    evaluated: int
    failures: tuple[Failure, ...]
    result: dict[str, Any]  # the GX result as JSON

    def summary(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "success": self.success,
            "evaluated_expectations": self.evaluated,
            "failures": [str(f) for f in self.failures],
        }

    @property
    def table_failures(self) -> tuple[Failure, ...]:
        """Failures that judge the whole batch (a missing column, no rows, duplicates)."""
        return tuple(f for f in self.failures if f.rows is None)

    def bad_rows(self) -> dict[int, list[str]]:
        """Each failing row's index label and the row-level expectations it fails."""
        reasons: dict[int, list[str]] = {}
        for f in self.failures:
            where = f" on {f.column}" if f.column else ""
            for row in f.rows or ():
                reasons.setdefault(row, []).append(f"{f.expectation}{where}")
        return dict(sorted(reasons.items()))


def suite_path(name: str, folder: Path = EXPECTATIONS_DIR) -> Path:
    return folder / f"{name}.json"


@functools.cache
def load_suite(name: str, folder: Path = EXPECTATIONS_DIR) -> Any:
    """The GX ExpectationSuite stored in ``folder/name.json``, with every expectation intact."""
    import great_expectations as gx  # heavy: imported only when validating

    path = suite_path(name, folder)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"expectation suite {path} cannot be read: {exc}") from None
    # GX logs and drops invalid entries; keep its log quiet and count instead
    logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
    suite = gx.ExpectationSuite(**raw)
    if len(suite.expectations) != len(raw.get("expectations", [])):
        raise ConfigError(
            f"expectation suite {path} has {len(raw['expectations'])} expectations but GX "
            f"accepted only {len(suite.expectations)}; fix the invalid entries"
        )
    return suite


@functools.cache
def _batch_definition() -> Any:
    """One ephemeral GX context per process: creating it costs more than validating a day."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (
        context.data_sources.add_pandas("lake")
        .add_dataframe_asset("batch")
        .add_batch_definition_whole_dataframe("whole")
    )


def event_parameters(day: dt.date, cfg: Config, rows: int = 0) -> dict[str, Any]:
    # a night takes in its day's events and late ones, at most events.late_days old
    start, _ = day_bounds(day - dt.timedelta(days=cfg.events.late_days), cfg.tz)
    _, end = day_bounds(day, cfg.tz)
    return {
        "day_start": start.tz_convert(None),
        "day_end": end.tz_convert(None),
        "event_types": list(cfg.events.types),
        "max_amount": cfg.validation.max_amount,
        # returns are negative purchases, unless the config says they are bad rows
        "min_amount": -cfg.validation.max_amount if cfg.events.negative_amounts == "refund" else 0,
        "min_rows": 0 if cfg.validation.allow_empty_days else 1,
        # row-level expectations pass with up to the allowed bad rows (those are quarantined)
        "mostly": max(0.0, 1 - cfg.validation.allowed_bad_rows(rows) / rows) if rows else 1.0,
    }


def validate_frame(
    frame: pd.DataFrame, suite_name: str, parameters: dict[str, Any]
) -> ValidationReport:
    """Run suite ``suite_name`` on ``frame`` with an ephemeral GX context.

    Timezone-aware columns are checked as naive UTC: GX cannot match their pandas dtype.
    """
    frame = frame.assign(
        **{
            c: frame[c].dt.tz_convert(None)
            for c in frame.columns
            if isinstance(frame[c].dtype, pd.DatetimeTZDtype)
        }
    )
    suite = load_suite(suite_name)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        expectation_parameters=parameters,
        result_format={"result_format": "COMPLETE", "partial_unexpected_count": 20},
    )
    failures = []
    for r in result.results:
        rows = _failing_rows(r)
        if r.success and not rows:
            continue
        kwargs = r.expectation_config.kwargs
        exc = r.exception_info or {}
        detail = f" (error: {exc.get('exception_message')})" if exc.get("raised_exception") else ""
        observed = r.result.get("observed_value") if r.result else None
        if observed is not None and r.result.get("unexpected_count") is None:
            detail += f" (observed {observed})"
        examples = (r.result or {}).get("partial_unexpected_list") or []
        allowed = kwargs.get("value_set")
        if isinstance(allowed, list):
            detail += f" (allowed: {', '.join(map(str, allowed))})"
        failures.append(
            Failure(
                expectation=r.expectation_config.type,
                column=kwargs.get("column"),
                unexpected=r.result.get("unexpected_count") if r.result else None,
                detail=detail,
                examples=tuple(dict.fromkeys(repr(v) for v in examples))[:3],
                rows=rows,
            )
        )
    failures.sort(key=lambda f: (f.expectation, f.column or ""))
    return ValidationReport(
        suite=suite_name,
        success=bool(result.success),
        evaluated=len(result.results),
        failures=tuple(failures),
        result=_without_row_lists(result.to_json_dict()),
    )


def _failing_rows(r: Any) -> tuple[int, ...] | None:
    """The failing rows of a row-level result (None for a table-level expectation)."""
    if "mostly" not in r.expectation_config.kwargs:
        return None
    return tuple(int(i) for i in (r.result or {}).get("unexpected_index_list") or ())


def _without_row_lists(result: dict[str, Any]) -> dict[str, Any]:
    """The GX result without its complete lists of rows: the bad rows are kept as Parquet."""
    for r in result.get("results", []):
        for key in ("unexpected_list", "unexpected_index_list", "unexpected_index_query"):
            (r.get("result") or {}).pop(key, None)
    return result
