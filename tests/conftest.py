"""Shared fixtures: small generated landing data, configs in temporary folders."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from segmentation import pipeline, synthetic
from segmentation.config import Config, load_config

START = dt.date(2024, 1, 1)
DAYS = 40
LAST = START + dt.timedelta(days=DAYS - 1)  # 2024-02-09
NEW_CUSTOMER = "C9999999"


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only landing folder: 400 customers, 40 days of CSV, one file per day."""
    out = tmp_path_factory.mktemp("landing")
    data = synthetic.generate(customers=400, start=START, days=DAYS, seed=3)
    synthetic.write(data, out, "csv")
    # a customer whose first event is on the last day: new in the last night's tables
    with (out / "events" / f"{LAST}.csv").open("a") as f:
        f.write(f"E900000001,{NEW_CUSTOMER},{LAST}T12:00:00Z,purchase,25.0,home,web,P00001,1\n")
    return out


def write_config(folder: Path, landing: Path, **overrides: Any) -> Path:
    raw: dict[str, Any] = {
        "home": "./home",  # relative to the config file, so a copied folder is self-contained
        "timezone": "UTC",
        "source": {
            "kind": "files",
            "path": str(landing / "events" / "{ds}.csv"),
            "format": "csv",
        },
        "model": {"k_min": 3, "k_max": 5},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture
def make_config(tmp_path: Path, landing: Path) -> Callable[..., Config]:
    def make(**overrides: Any) -> Config:
        return load_config(write_config(tmp_path, landing, **overrides))

    return make


@pytest.fixture(scope="session")
def published_home(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> Path:
    """A home where days up to LAST-1 are ingested and LAST-1 is fully run and published."""
    folder = tmp_path_factory.mktemp("published")
    cfg = load_config(write_config(folder, landing))
    pipeline.ingest(cfg, START, LAST - dt.timedelta(days=2))
    pipeline.run(cfg, LAST - dt.timedelta(days=1))
    return folder


@pytest.fixture
def published(tmp_path: Path, published_home: Path, landing: Path) -> Path:
    """A private copy of ``published_home`` for a test that may break things."""
    shutil.copytree(published_home / "home", tmp_path / "home")
    write_config(tmp_path, landing)
    return tmp_path


def snapshot(home: Path) -> dict[str, bytes]:
    """Every published file's bytes, to prove a failed run changed nothing."""
    root = home / "output"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "test"


def postgres() -> tuple[str, psycopg.Connection]:
    """(url, autocommit connection) to the test server as the first user that works.

    Without a server the calling test is skipped, except under CI=true, where it fails:
    CI must run the PostgreSQL tests (`.ci/run` starts the server).
    """
    errors = []
    for user in ("postgres", "root"):
        url = f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{PG_DB}"
        try:
            return url, psycopg.connect(url, connect_timeout=5, autocommit=True)
        except psycopg.OperationalError as exc:
            errors.append(f"{user}: {' '.join(str(exc).split())}")
    why = "; ".join(errors)
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"no PostgreSQL on {PG_HOST}:{PG_PORT} ({why}); start one on CI, e.g. a postgres:15 "
            f"service with trust auth and a database {PG_DB!r}"
        )
    pytest.skip(f"no PostgreSQL on {PG_HOST}:{PG_PORT}: {why}")


TIERS = {"unit", "dag", "integration", "e2e", "quality", "bad_input"}
# "slow" (pyproject.toml) is no tier: it goes beside one, and a developer deselects those
# tests with `-m "not slow"`; `make test` and CI run everything


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test belongs to exactly one tier, so `pytest -m <tier>` runs all of it.

    Markers that are not tiers (``slow``, ``parametrize``) are ignored: a slow quality test is
    a quality test.
    """
    for item in items:
        tiers = {m.name for m in item.iter_markers()} & TIERS
        if len(tiers) != 1:
            raise pytest.UsageError(f"{item.nodeid} has tier markers {sorted(tiers)}; use one")
