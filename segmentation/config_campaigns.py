"""The ``audiences`` and ``campaigns`` sections of the config: their types and their checks.

Both sections take a friendlier shape in the file than their dataclasses: ``audiences`` is a
mapping of audience names (plus the reserved key ``export_columns``), and ``campaigns`` is a
list of campaigns or a mapping with ``path`` (a CSV file of campaigns) and ``list``.
:func:`normalize` turns the file's shape into the dataclasses' before they are built.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from segmentation.catalog import CHURN_RISKS
from segmentation.config_coerce import build
from segmentation.errors import ConfigError

EXPORT_COLUMNS = "export_columns"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # a folder name on every file system


@dataclass(frozen=True)
class AudienceConfig:
    """One audience: the customers who match every criterion given (any value of a list)."""

    segments: tuple[Any, ...] = ()  # segment ids (numbers) or names (text)
    rfm_segments: tuple[str, ...] = ()  # e.g. "Can't Lose Them"
    churn_risk: tuple[str, ...] = ()  # low, medium, high (customer_predictions)
    min_predicted_clv_365d: float | None = None
    include_control: bool = False  # the control group is exported (and so targeted) too


@dataclass(frozen=True)
class AudiencesConfig:
    # columns of the customers source written after customer_id in the exported files
    export_columns: tuple[str, ...] = ()
    defined: dict[str, AudienceConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignConfig:
    """A campaign sent to an audience (or to segments) from ``start`` to ``end`` inclusive."""

    id: str
    start: dt.date
    end: dt.date
    audience: str | None = None
    segments: tuple[Any, ...] = ()
    goal: Literal["purchase"] = "purchase"
    min_amount: float | None = None  # an order of at least this amount converts
    attribution_days: int = 7  # purchases this many days after ``end`` still count
    cost: float | None = None


@dataclass(frozen=True)
class CampaignsConfig:
    path: Path | None = None  # a CSV file of campaigns, one per row, read every night
    list: tuple[CampaignConfig, ...] = ()


def normalize(raw: Any) -> Any:
    """The config mapping with ``audiences`` and ``campaigns`` in their dataclasses' shape."""
    if not isinstance(raw, dict):
        return raw
    out = dict(raw)
    audiences = raw.get("audiences")
    if isinstance(audiences, dict):
        named = {k: v for k, v in audiences.items() if k != EXPORT_COLUMNS}
        out["audiences"] = {"defined": named} | (
            {EXPORT_COLUMNS: audiences[EXPORT_COLUMNS]} if EXPORT_COLUMNS in audiences else {}
        )
    if isinstance(raw.get("campaigns"), list):
        out["campaigns"] = {"list": raw["campaigns"]}
    return out


def check_audiences(
    audiences: AudiencesConfig, horizons: tuple[int, ...] | None, origin: str
) -> None:
    """Names usable as folders, known values, and the predictions the criteria need
    (``horizons``: predictions.horizon_days, None when predictions are off)."""
    for name, spec in audiences.defined.items():
        where = f"{origin}: audiences.{name}"
        if not NAME.fullmatch(name):
            raise ConfigError(
                f"{where}: an audience name is a folder name of its exports: letters, digits, "
                "_ and - only, starting with a letter or digit"
            )
        check_segment_list(spec.segments, f"{where}.segments")
        unknown = sorted(set(spec.churn_risk) - set(CHURN_RISKS))
        if unknown:
            raise ConfigError(
                f"{where}.churn_risk: unknown risk {unknown[0]!r}; choose from "
                f"{', '.join(CHURN_RISKS)}"
            )
        clv = spec.min_predicted_clv_365d is not None
        if (spec.churn_risk and horizons is None) or (clv and 365 not in (horizons or ())):
            raise ConfigError(
                f"{where}: churn_risk and min_predicted_clv_365d come from customer_predictions; "
                "set predictions.enabled: true (with 365 in predictions.horizon_days), or drop them"
            )


def check_segment_list(values: tuple[Any, ...], where: str) -> None:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ConfigError(f"{where}: {value!r} is neither a segment id nor a segment name")


def check_campaigns(
    campaigns: tuple[CampaignConfig, ...], audiences: AudiencesConfig, where: str
) -> None:
    """Each campaign names a known audience or segments, with sensible dates and numbers."""
    seen: set[str] = set()
    for c in campaigns:
        at = f"{where} campaign {c.id!r}"
        if c.id in seen:
            raise ConfigError(f"{at}: the id is used twice; give each campaign its own id")
        seen.add(c.id)
        if (c.audience is None) == (not c.segments):
            raise ConfigError(f"{at}: give either an audience or segments (one of the two)")
        if c.audience is not None and c.audience not in audiences.defined:
            known = ", ".join(audiences.defined) or "none defined"
            raise ConfigError(f"{at}: unknown audience {c.audience!r} (audiences: {known})")
        check_segment_list(c.segments, f"{at}.segments")
        if c.end < c.start:
            raise ConfigError(f"{at}: end {c.end} is before start {c.start}")
        if c.attribution_days < 0:
            raise ConfigError(f"{at}: attribution_days must be 0 or more")
        for key in ("min_amount", "cost"):
            value = getattr(c, key)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{at}: {key} must be a number, 0 or more")


def read_campaign_file(path: Path) -> tuple[CampaignConfig, ...]:
    """The campaigns of a CSV file (a header row naming CampaignConfig's fields; empty cells
    are the defaults; ``segments`` separated by ``;``)."""
    if not path.is_file():
        raise ConfigError(f"campaigns.path {path} does not exist; create it or remove the key")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    out = []
    for line, row in enumerate(rows, start=2):
        cells = {k.strip(): v.strip() for k, v in row.items() if k and v and v.strip()}
        for key in ("min_amount", "cost"):
            if key in cells:
                cells[key] = _number(cells[key], f"{path}: line {line}, {key}")
        if "attribution_days" in cells:
            where = f"{path}: line {line}, attribution_days"
            days = _number(cells["attribution_days"], where)
            if not days.is_integer():
                raise ConfigError(f"{where}: expected a whole number of days, got {days!r}")
            cells["attribution_days"] = int(days)
        if "segments" in cells:
            cells["segments"] = [_segment(s) for s in cells["segments"].split(";") if s.strip()]
        out.append(build(CampaignConfig, cells, f"{path}: line {line}:"))
    return tuple(out)


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(f"{where}: expected a number, got {text!r}")
    return value


def _segment(text: str) -> int | str:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else text


def all_campaigns(
    campaigns: CampaignsConfig, audiences: AudiencesConfig
) -> tuple[CampaignConfig, ...]:
    """The config's campaigns and those of ``campaigns.path`` (read now), checked together."""
    listed = campaigns.list
    if campaigns.path is not None:
        listed = (*listed, *read_campaign_file(campaigns.path))
    check_campaigns(listed, audiences, f"{campaigns.path or 'campaigns'}:")
    return listed
