"""What the steps read back from ``home``: features, published segments, the registry.

Registry reads hold the home's shared-state lock, so a model being replaced by a rerun of
another date is never seen half-way.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from segmentation.errors import SegmentationError
from segmentation.io import lake, locks
from segmentation.io.parquet import read_published, stage_table
from segmentation.layout import RUN_KEY, Home
from segmentation.model import registry
from segmentation.model.segmenter import Segmenter


def features_of(home: Home, day: dt.date, columns: list[str] | None = None) -> pd.DataFrame:
    if not home.features_file(day).is_file():
        raise SegmentationError(f"no features for {day}; run build_features for that date first")
    return lake.read_partition(home.features, RUN_KEY, day, columns=columns)


def previous_segments(home: Home, day: dt.date) -> pd.DataFrame | None:
    """The newest published segments strictly before ``day`` (customer_id, segment_id)."""
    root = home.table_root("customer_segments")
    before = lake.latest_before(root, RUN_KEY, day)
    if before is None:
        return None
    return read_published(home, "customer_segments", before, ["customer_id", "segment_id"])


def segments_of(home: Home, day: dt.date) -> pd.DataFrame | None:
    return read_published(home, "customer_segments", day, columns=["segment_id"])


def champion(
    home: Home, day: dt.date, strictly_before: bool = False
) -> registry.ModelRecord | None:
    with locks.shared(home):
        return registry.champion_as_of(home.models, day, strictly_before=strictly_before)


def load_model(home: Home, version: str) -> tuple[Segmenter, registry.ModelRecord]:
    with locks.shared(home):
        return registry.load_model(home.models, version)


def refuse_second_lineage(home: Home, day: dt.date) -> None:
    """``registry.refuse_second_lineage``: a new night older than the first model is refused."""
    with locks.shared(home):
        registry.refuse_second_lineage(home.models, day)


def restage_profiles(home: Home, day: dt.date, by_segment: pd.DataFrame) -> None:
    """Tonight's staged ``segment_profiles`` with the columns a later step fills: each of
    ``by_segment``'s columns (indexed by segment id), set whole (null where a segment has none)."""
    path = home.staged_table("segment_profiles", day)
    profiles = pd.read_parquet(path).drop(columns=["run_date"])
    for column in by_segment.columns:
        values = profiles["segment_id"].map(by_segment[column])
        profiles[column] = values.astype(by_segment[column].dtype)
    stage_table(profiles, "segment_profiles", day, path)
