"""Build every customer's features as of the end of the day, rolling the activity state."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation.config import Config
from segmentation.engines import Engine, engine_for
from segmentation.errors import SegmentationError
from segmentation.features import activity
from segmentation.io import lake, locks, sources
from segmentation.layout import EVENT_KEY, RUN_KEY, Home
from segmentation.pipeline import intake

STATE_KEY = "segmentation.state_of"


@locks.locked
def build_features(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Features of every customer seen up to the end of ``day``, from lake partitions <= day."""
    home = Home(cfg.home)
    if not home.lake_partition(day).is_dir():
        raise SegmentationError(
            f"{day} is not in the lake yet; extract and validate it first "
            f"(segmentation ingest --start {day} --end {day})"
        )
    engine = engine_for(cfg)
    state, how = activity_state(engine, cfg, home, day)
    customers = sources.read_customers(cfg.customers) if cfg.customers else None
    features = engine.features(state, day, cfg, customers)
    path = lake.write_partition(features, home.features, RUN_KEY, day)
    return {
        "run_date": day.isoformat(),
        "customers": len(features),
        "state": how,
        "features": str(path),
    }


def activity_state(
    engine: Engine, cfg: Config, home: Home, day: dt.date
) -> tuple[pd.DataFrame, str]:
    """Roll yesterday's activity state forward when it is still valid, else rebuild it.

    Yesterday's state is valid when it was built from exactly the lake partitions (names,
    sizes, modification times) and settings that exist now; a re-ingested older day, a
    changed window or a missing state means one full scan of the history instead.
    """
    previous = home.state_file(day - dt.timedelta(days=1))
    files = lake.partition_files(home.lake, EVENT_KEY, upto=day)
    expired_day = day - dt.timedelta(days=cfg.features.window_days)
    if (
        previous.is_file()
        and lake.file_metadata(previous).get(STATE_KEY) == fingerprint(cfg, files[:-1])
        and _day_by_day(files, expired_day)
    ):
        expired = home.lake_file(expired_day)
        state = engine.roll_forward(
            pd.read_parquet(previous),
            files[-1:],
            ([expired], expired_day) if expired.is_file() else None,
            day,
            cfg,
        )
        how = "rolled forward"
    else:
        state = engine.full_state(files, day, cfg)
        how = "rebuilt from history"
    lake.write_partition(
        state, home.state, RUN_KEY, day, metadata={STATE_KEY: fingerprint(cfg, files)}
    )
    return state, how


def _day_by_day(files: list[Path], expired_day: dt.date) -> bool:
    """Whether adding tonight's partition and taking out the expired day's is exact: tonight
    took in no late rows, and no partition after the expired day holds rows of it or before
    (late rows change counts of days already counted; a full scan gets them right)."""
    for path in files:
        night = dt.date.fromisoformat(path.parent.name.partition("=")[2])
        late_from = lake.file_metadata(path).get(intake.LATE_FROM) if night > expired_day else None
        if late_from is not None and (
            path == files[-1] or dt.date.fromisoformat(late_from) <= expired_day
        ):
            return False
    return True


def fingerprint(cfg: Config, files: list[Path]) -> str:
    """Identifies the lake partitions and settings a state was built from."""
    digest = hashlib.sha256(
        repr(
            (
                activity.STATE_VERSION,
                cfg.timezone,
                cfg.features.window_days,
                cfg.events.allowed_types,
                cfg.events.purchase_type,
                cfg.events.refund_type,
                cfg.events.negative_amounts,
            )
        ).encode()
    )
    for f in files:
        st = f.stat()
        digest.update(f"{f.parent.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()
