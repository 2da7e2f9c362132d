"""Shared fixtures: small generated landing data, configs in temporary folders, published homes
and lakes written straight from the generator."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pytest
import yaml

from segmentation import pipeline, synthetic
from segmentation.config import Config, load_config
from segmentation.io import lake
from segmentation.io.sources import (
    EVENT_SCHEMA,
    INGESTED,
    LAKE_SCHEMA,
    ORIGIN,
    PROBLEM,
    SOURCE_ROW,
)
from segmentation.layout import EVENT_KEY, RUN_KEY, Home
from segmentation.pipeline import intake

START = dt.date(2024, 1, 1)
DAYS = 40
LAST = START + dt.timedelta(days=DAYS - 1)  # 2024-02-09
NEW_CUSTOMER = "C9999999"


@pytest.fixture(scope="session")
def landing_data() -> synthetic.GeneratedData:
    """What ``landing`` holds, before its extra customer: 400 customers over 40 days."""
    return synthetic.generate(customers=400, start=START, days=DAYS, seed=3)


@pytest.fixture(scope="session")
def landing(
    tmp_path_factory: pytest.TempPathFactory, landing_data: synthetic.GeneratedData
) -> Path:
    """Read-only landing folder: 400 customers, 40 days of CSV, one file per day."""
    out = tmp_path_factory.mktemp("landing")
    synthetic.write(landing_data, out, "csv")
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
        # every table of the contract has rows: an audience of everyone, and a campaign on it
        # from the last night (its groups frozen on the night before)
        "audiences": {"everyone": {}},
        "campaigns": [
            {"id": "last_day", "audience": "everyone", "start": str(LAST), "end": str(LAST)}
        ],
    }
    for key, value in overrides.items():
        if value is None:  # None: leave the key out (no audiences, no campaigns)
            raw.pop(key, None)
        elif isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def folder_config(folder: Path, landing: Path, pattern: str = "", **overrides: Any) -> Config:
    """A config reading the CSV files dropped into ``landing`` (or ``landing/<pattern>``)."""
    source = {"kind": "files", "path": str(landing / pattern), "format": "csv"}
    return load_config(write_config(folder, landing, source=source, **overrides))


def night_counts(cfg: Config, day: dt.date, keys: tuple[str, ...]) -> dict[str, int]:
    """The ``keys`` of night ``day``'s validation record (rows read, valid, ...)."""
    record = json.loads(Home(cfg.home).validation_record(day).read_text())
    return {k: record[k] for k in keys}


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


@pytest.fixture(scope="session")
def two_nights_home(tmp_path_factory: pytest.TempPathFactory, published_home: Path) -> Path:
    """Read-only: ``published_home`` plus the night of LAST (config.yaml and home/)."""
    folder = tmp_path_factory.mktemp("two_nights")
    shutil.copytree(published_home, folder, dirs_exist_ok=True)
    pipeline.run(load_config(folder / "config.yaml"), LAST)
    return folder


def copy_history(published_home: Path, home: Path, upto: dt.date) -> None:
    """Give ``home`` what ``pipeline.ingest(cfg, START, upto)`` of ``landing`` gives it, copied
    from ``published_home`` (which ingested those days): lake partitions and validation records
    of the days up to ``upto``, nothing of its published night."""
    source = Home(published_home / "home")
    target = Home(home)
    days = [d for d in lake.partition_days(source.lake, EVENT_KEY) if d <= upto]
    assert days and days[-1] == upto, f"published_home has no lake up to {upto}"
    for day in days:
        shutil.copytree(source.lake_partition(day), target.lake_partition(day))
        target.validation.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source.validation_record(day), target.validation_record(day))


@pytest.fixture
def published(tmp_path: Path, published_home: Path, landing: Path) -> Path:
    """A private copy of ``published_home`` for a test that may break things."""
    shutil.copytree(published_home / "home", tmp_path / "home")
    write_config(tmp_path, landing)
    return tmp_path


def snapshot(home: Path) -> dict[str, bytes]:
    """Every published file's bytes, to prove a failed run changed nothing."""
    root = Home(home).output
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def write_lake(cfg: Config, events: pd.DataFrame, first: dt.date, last: dt.date) -> None:
    """The lake ``pipeline.ingest(cfg, first, last)`` builds, written straight from generated
    ``events``: no landing files, no extract, no Great Expectations run.

    For tests that are not about validation: one ``lake/events/event_date=D/part-0.parquet``
    per local day D of ``cfg``'s timezone, empty days included, with the lake's schema and
    sort order, as ``extract_range`` stages and ``validate_events`` promotes them (no
    validation records). Generated events without ``bad_rows`` pass validation, and
    ``tests/integration/test_generated_lake.py`` holds this to the lake ingest writes.
    """
    text = {f.name: "string" for f in EVENT_SCHEMA if pa.types.is_string(f.type)}
    table = pa.Table.from_pandas(
        events.reindex(columns=EVENT_SCHEMA.names).astype(text),
        schema=EVENT_SCHEMA,
        preserve_index=False,
    )
    frame = table.to_pandas()  # the dtypes the source reader hands to the staging step
    assert frame["event_id"].is_unique, "generated with bad_rows: ingest would quarantine them"
    frame = frame.sort_values(["event_time", "customer_id", "event_id"], kind="stable")
    local_day = frame["event_time"].dt.tz_convert(cfg.tz).dt.date
    root = Home(cfg.home).lake
    for i in range((last - first).days + 1):
        day = first + dt.timedelta(days=i)
        part = frame[local_day == day].assign(**{INGESTED: day})
        # where ingest would have read each row: the generator's file of its UTC day
        origin = part["event_time"].dt.strftime("%Y-%m-%d") + ".csv"
        read = part.assign(**{ORIGIN: origin, PROBLEM: None})
        part[SOURCE_ROW] = intake.origin_keys(read).view("int64")
        lake.write_partition(part, root, EVENT_KEY, day, schema=LAKE_SCHEMA)


def generated_home(
    folder: Path, data: synthetic.GeneratedData, first_night: dt.date, **overrides: Any
) -> Config:
    """A config under ``folder`` whose lake holds ``data``'s history before ``first_night``
    (``write_lake``) and whose landing folder holds the daily CSV files of the nights from
    ``first_night`` on, for ``pipeline.run`` to extract and validate as a real night does."""
    tonight = data.events["event_time"] >= pd.Timestamp(first_night, tz="UTC")
    nights = synthetic.GeneratedData(
        events=data.events[tonight],
        customers=data.customers,
        ground_truth=data.ground_truth,
        start=first_night,
        days=data.days - (first_night - data.start).days,
    )
    synthetic.write(nights, folder / "landing", "csv")
    cfg = load_config(write_config(folder, folder / "landing", **overrides))
    write_lake(cfg, data.events, data.start, first_night - dt.timedelta(days=1))
    return cfg


def view_client(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Segments view's routes (plugins/segmentation_view_app.py) under FastAPI's
    TestClient, without Airflow's access check (tests/e2e/test_airflow_view.py checks it on
    every route). The config comes from SEGMENTATION_CONFIG, read on every request."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "plugins"))
    with warnings.catch_warnings():  # starlette's TestClient prefers httpx2 (on import)
        warnings.filterwarnings("ignore", message=".*httpx2", category=UserWarning)
        from fastapi import FastAPI
        from fastapi.testclient import TestClient
    from starlette.exceptions import HTTPException

    module = importlib.import_module("segmentation_view_app")
    app = FastAPI()
    app.include_router(module.router)
    app.add_exception_handler(HTTPException, module._http_error)
    return TestClient(app)


def published_in(home: Home, table: str, day: dt.date) -> pd.DataFrame:
    """Night ``day``'s partition of a published table."""
    return lake.read_partition(home.table_root(table), RUN_KEY, day)


def figure(quality: pd.DataFrame, model: str, metric: str) -> pd.Series:
    """The one row of a quality table (prediction_quality, recommendation_quality) of a model
    and metric."""
    rows = quality[(quality["model"] == model) & (quality["metric"] == metric)]
    assert len(rows) == 1, (model, metric)
    return rows.iloc[0]


def section_html(page: str, sid: str) -> str:
    """The report's ``<section>`` ``sid`` of a page."""
    start = page.index(f'<section id="{sid}"')
    return page[start : page.index("</section>", start)]


# two real nights with predictions: 1,500 customers who drop out at persona rates (seed 11),
# 298 days of lake, then PREDICTED_NIGHTS[0] (the first churn classifier) and [1] (its challenger)
PREDICTED_START, PREDICTED_DAYS = dt.date(2024, 1, 1), 300
PREDICTED_NIGHTS = tuple(
    PREDICTED_START + dt.timedelta(days=PREDICTED_DAYS - 2 + i) for i in range(2)
)


@pytest.fixture(scope="session")
def predicted_nights(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A home whose two nights ``PREDICTED_NIGHTS`` ran with predictions (read-only: a test
    that changes it works on a copy; rerunning a night in place must give the same bytes)."""
    data = synthetic.generate(
        customers=1500, start=PREDICTED_START, days=PREDICTED_DAYS, seed=11, dropout=1.0
    )
    cfg = generated_home(tmp_path_factory.mktemp("predictions"), data, PREDICTED_NIGHTS[0])
    for night in PREDICTED_NIGHTS:
        pipeline.run(cfg, night)
    return cfg


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
