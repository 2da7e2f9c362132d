"""The lake the quality tests write straight from the generator is the lake ingest writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from segmentation import synthetic
from segmentation.config import load_config
from segmentation.io import lake
from segmentation.layout import EVENT_KEY, Home
from tests.conftest import LAST, START, write_config, write_lake

pytestmark = pytest.mark.integration


def test_a_lake_written_from_the_generator_is_the_ingested_one(
    tmp_path: Path, published_home: Path, landing_data: synthetic.GeneratedData
) -> None:
    # published_home ingested the landing's days up to LAST-2 and extracted LAST-1 in its run
    upto = LAST - dt.timedelta(days=1)
    cfg = load_config(write_config(tmp_path, tmp_path / "no-landing"))
    write_lake(cfg, landing_data.events, START, upto)
    ingested, written = Home(published_home / "home").lake, Home(cfg.home).lake
    days = lake.partition_days(written, EVENT_KEY)
    assert days == [START + dt.timedelta(days=i) for i in range((upto - START).days + 1)]
    assert [d for d in lake.partition_days(ingested, EVENT_KEY) if d <= upto] == days
    for day in days:
        expected = pq.read_table(lake.partition_dir(ingested, EVENT_KEY, day) / lake.PART)
        got = pq.read_table(lake.partition_dir(written, EVENT_KEY, day) / lake.PART)
        assert got.num_rows > 0
        assert got.equals(expected, check_metadata=True), day
