"""What validation held back, for ``segmentation quarantine``: days and rows, with reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from segmentation.config import Config
from segmentation.io import lake
from segmentation.layout import EVENT_KEY, Home


def quarantine_report(
    cfg: Config, day: dt.date | None = None, with_rows: bool = False
) -> dict[str, Any]:
    """Every quarantined day (or ``day``): a whole day held back, or the bad rows of a day
    promoted without them, with the row count per reason; ``with_rows`` adds the rows."""
    home = Home(cfg.home)
    days = (
        []
        if not home.quarantine.is_dir()
        else sorted(
            dt.date.fromisoformat(p.name.partition("=")[2])
            for p in home.quarantine.iterdir()
            if p.is_dir() and p.name.startswith(f"{EVENT_KEY}=")
        )
    )
    out = {}
    for d in days if day is None else [x for x in days if x == day]:
        out[d.isoformat()] = _held_back(home, d, with_rows)
    return {"quarantine": str(home.quarantine), "days": out}


def _held_back(home: Home, day: dt.date, with_rows: bool) -> dict[str, Any]:
    """The day's entry; the counts come from the files' footers and the validation record
    (which counted the reasons), the rows themselves are read only for ``with_rows``."""
    folder = home.quarantined(day)
    whole = folder / lake.PART
    if whole.is_file():
        record = lake.read_json(folder / "validation_result.json") or {}
        entry: dict[str, Any] = {
            "held_back": "the whole day",
            "rows": lake.row_count(whole),
            "reasons": record.get("failures", []),
            "fix": "fix the source data or the config, then rerun this date",
        }
        rows = whole
    else:
        rows = home.quarantined_rows(day)
        record = lake.read_json(home.validation_record(day)) or {}
        entry = {
            "held_back": "bad rows (the day was promoted without them)",
            "rows": lake.row_count(rows),
            "reasons": record.get("bad_row_reasons", {}),  # most frequent first
        }
    if with_rows:
        entry["row_values"] = _as_records(lake.read_file(rows))
    return entry


def _as_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    shown = frame.astype(object).where(frame.notna(), None)
    return [
        {str(k): (str(v) if v is not None else None) for k, v in r.items()}
        for r in shown.to_dict("records")
    ]
