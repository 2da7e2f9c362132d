"""Where published tables go: one interface, the Parquet output and a SQL warehouse behind it.

The publishing steps stage each table as a Parquet file in its published form, then hand the
same files to every sink configured for them (``layout.Table.sinks``). The Parquet sink is the
source of truth and goes first; the warehouse mirrors what it published, in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import pyarrow.parquet as pq

from segmentation import layout
from segmentation.config import Config, WarehouseConfig, secret_from_env
from segmentation.io import warehouse
from segmentation.io.parquet import ParquetSink
from segmentation.layout import Home


class Sink(Protocol):
    """Receives one run's tables, each a Parquet file in its published form."""

    name: str

    def write(self, day: dt.date, files: Mapping[str, Path]) -> dict[str, bool]:
        """Publish ``files`` (table -> file) of run ``day``; per table, whether current moved."""
        ...


class WarehouseSink:
    """Mirrors the tables into PostgreSQL: all of one call in one transaction."""

    name = "warehouse"

    def __init__(self, cfg: WarehouseConfig) -> None:
        self.cfg = cfg

    def write(self, day: dt.date, files: Mapping[str, Path]) -> dict[str, bool]:
        url = secret_from_env(self.cfg.url_env, "warehouse")
        frames = {table: pq.read_table(path).to_pandas() for table, path in files.items()}
        warehouse.publish_many(url, self.cfg.schema, day, frames, url_env=self.cfg.url_env)
        return dict.fromkeys(files, True)  # each table's _current view shows its newest run


def sinks_for(cfg: Config) -> list[Sink]:
    """The configured sinks, the Parquet output first."""
    sinks: list[Sink] = [ParquetSink(Home(cfg.home))]
    if cfg.warehouse is not None:
        sinks.append(WarehouseSink(cfg.warehouse))
    return sinks


def publish_files(sinks: list[Sink], day: dt.date, files: Mapping[str, Path]) -> dict[str, bool]:
    """Hand ``files`` to every sink that receives them; whether each table's current moved."""
    moved: dict[str, bool] = {}
    for sink in sinks:
        mine = {t: f for t, f in files.items() if sink.name in layout.table(t).sinks}
        if mine:
            result = sink.write(day, mine)
            if sink.name == ParquetSink.name:
                moved = result
    return moved
