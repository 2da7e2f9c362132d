"""The engine seam: where lake partitions become the activity state, features and assignments.

The heavy per-customer work sits behind one interface (``Engine``) so a distributed engine
(Spark) can implement it and give the same tables. The embedded DuckDB engine is the default
and needs nothing installed. Model selection, names, rules and drift stay in plain Python.
"""

from __future__ import annotations

from segmentation.config import Config
from segmentation.engines.base import Engine
from segmentation.engines.duckdb_engine import DuckDBEngine

ENGINES: dict[str, type[DuckDBEngine]] = {"duckdb": DuckDBEngine}


def engine_for(cfg: Config) -> Engine:
    """The configured engine (only ``duckdb`` today)."""
    del cfg  # one engine for now; the Spark issue adds ``engine:`` to the config
    return DuckDBEngine()


__all__ = ["ENGINES", "Engine", "engine_for"]
