"""The real DAG run by Airflow's scheduler on a PostgreSQL metadata database: exact backfills,
and the example downstream DAG triggered by their asset events.

Airflow keeps its metadata in a fresh database on 127.0.0.1:5432 (dropped at the end), through
psycopg 3 (``postgresql+psycopg``, the driver the project already installs; Airflow would
otherwise derive an ``asyncpg`` URL for its async engine, so that URL is set too). A backfill
over 4 days is created with ``airflow backfill create`` and executed for real by
``airflow scheduler`` with the LocalExecutor, whose task processes talk to ``airflow
api-server``'s execution API. Then the same 4 days are backfilled again with
``--reprocess-behavior completed``: every published partition must come back byte for byte.
Last, a backfill of two ingested nights older than the first (which would start a second
model lineage) must fail each run at its first task, without a retry, with the message
naming the first night in the task's log, and write nothing for those nights.

The dags folder also holds ``examples/downstream_segment_sizes.py``, installed as its docstring
says (copied beside the DAG): scheduled on the ``customer_segments`` Asset, which it builds
from the same config as the DAG (a ``file://`` URI under the home), it runs after the nights
publish, counting segment sizes of each new night and skipping the second
backfill's older nights (``current_moved: false``). Each of its runs must report exactly the
nights of the asset events Airflow gave it, with the sizes of those nights' partitions.
Asset-triggered runs need the scheduler's job scheduling, so the nightly DAG's own run for
today is created too; it fails its extract (the test data are from 2024) and waits for a retry,
beside the backfills, as in a deployment whose source has no file for yesterday.

Without a server the test is skipped, except on CI (``CI=true``) where it fails.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from segmentation.config import load_config
from segmentation.layout import TABLES as CATALOG
from segmentation.layout import Home
from tests.conftest import LAST, copy_history, postgres, write_config

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
HOST, PORT, DB = "127.0.0.1", 5432, "test"
DAG_ID = "customer_segmentation"
CONSUMER = "downstream_segment_sizes"  # examples/downstream_segment_sizes.py
# the partitions a night publishes (segment_history is one growing table, not a partition)
TABLES = tuple(t.name for t in CATALOG if t.per_run)
DAYS = [LAST - dt.timedelta(days=3 - i) for i in range(4)]  # the 4 days processed
BACKFILL_TIMEOUT = 600  # seconds per backfill; a night takes about 20 s here


@pytest.fixture
def metadata_db() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh database for Airflow's metadata, dropped at the end."""
    url, conn = postgres()
    user = url.split("//")[1].split("@")[0]
    name = f"airflow_e2e_{uuid.uuid4().hex[:10]}"
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://{user}@{HOST}:{PORT}/{name}"
    finally:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.close()


def query(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(statement, params).fetchall()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Services:
    """Airflow's long-running components as subprocesses, each in its own process group."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> None:
        with (self.logs / f"{name}.log").open("wb") as log:
            self.procs[name] = subprocess.Popen(
                [AIRFLOW, *args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            assert proc.poll() is None, f"airflow {name} exited ({proc.returncode})\n{self.tails()}"

    def tails(self, lines: int = 40) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"----- {path.name} (last {lines} lines)\n" + "\n".join(tail))
        return "\n".join(out)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for proc in self.procs.values():  # children left behind in a group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def wait_for_port(port: int, services: Services, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check_alive()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"api-server not listening on {port}\n{services.tails()}")


def wait_for_backfill(url: str, backfill_id: int, services: Services, refused: bool) -> None:
    """Until the scheduler marks the backfill complete; fail fast on a retried task, and on a
    failed one unless the backfill is to be ``refused``."""
    states = ("up_for_retry",) if refused else ("failed", "up_for_retry", "upstream_failed")
    deadline = time.monotonic() + BACKFILL_TIMEOUT
    while time.monotonic() < deadline:
        services.check_alive()
        bad = query(
            url,
            "SELECT ti.run_id, ti.task_id, ti.state FROM task_instance ti"
            " JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id"
            " WHERE dr.backfill_id = %s AND ti.state = ANY(%s)",
            (backfill_id, list(states)),
        )
        assert not bad, f"backfill {backfill_id}: {bad}\n{services.tails()}"
        [(completed,)] = query(
            url, "SELECT completed_at FROM backfill WHERE id = %s", (backfill_id,)
        )
        if completed is not None:
            return
        time.sleep(2)
    raise AssertionError(
        f"backfill {backfill_id} not complete after {BACKFILL_TIMEOUT}s\n{services.tails()}"
    )


def task_states(url: str, backfill_id: int) -> dict[str, dict[str, tuple[str, int]]]:
    """run id -> task id -> (state, try number) of every task of a backfill's runs."""
    rows = query(
        url,
        "SELECT ti.run_id, ti.task_id, ti.state, ti.try_number FROM task_instance ti"
        " JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id"
        " WHERE dr.backfill_id = %s",
        (backfill_id,),
    )
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for run_id, task_id, state, tries in rows:
        out.setdefault(run_id, {})[task_id] = (state, tries)
    return out


def written_for(home: Path, day: dt.date) -> list[Path]:
    """What a night of ``day`` would have written (beyond the ingested lake and its records)."""
    h = Home(home)
    paths = [h.staged_events(day), h.state_file(day), h.features_file(day), h.work(day)]
    paths += [h.models / f"m{day:%Y%m%d}", h.report(day)]
    paths += [h.partition(t.name, day) for t in CATALOG if t.per_run]
    return [p for p in paths if p.exists()]


def runs(url: str) -> dict[str, tuple[str, int, Any]]:
    """logical date (YYYY-MM-DD) -> (state, backfill id, end date) of every backfill run."""
    rows = query(
        url,
        "SELECT to_char(logical_date AT TIME ZONE 'UTC', 'YYYY-MM-DD'), state, backfill_id,"
        " end_date FROM dag_run WHERE dag_id = %s AND backfill_id IS NOT NULL",
        (DAG_ID,),
    )
    return {day: (state, bf, end) for day, state, bf, end in rows}


def segment_events(url: str) -> dict[int, dict[str, Any]]:
    """id -> extra of every asset event of ``customer_segments``, oldest first."""
    rows = query(
        url,
        "SELECT e.id, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id"
        " WHERE a.name = 'customer_segments' ORDER BY e.id",
    )
    return dict(rows)


def consumer_runs(url: str) -> dict[str, dict[str, Any]]:
    """run id -> state, run type, the asset events it consumed and the XCom result of every
    run of the downstream DAG."""
    rows = query(
        url,
        "SELECT dr.run_id, dr.state, dr.run_type,"
        " array_remove(array_agg(dae.event_id ORDER BY dae.event_id), NULL),"
        " (SELECT x.value FROM xcom x WHERE x.dag_id = dr.dag_id AND x.run_id = dr.run_id"
        "  AND x.task_id = 'count_segments' AND x.key = 'return_value')"
        " FROM dag_run dr LEFT JOIN dagrun_asset_event dae ON dae.dag_run_id = dr.id"
        " WHERE dr.dag_id = %s GROUP BY dr.id",
        (CONSUMER,),
    )
    return {
        run_id: {"state": state, "type": kind, "events": events, "result": result}
        for run_id, state, kind, events, result in rows
    }


def wait_for_consumer(url: str, events: int, services: Services) -> dict[str, dict[str, Any]]:
    """The downstream DAG's runs once they have consumed ``events`` events and all finished."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        services.check_alive()
        done = consumer_runs(url)
        failed = [r for r, run in done.items() if run["state"] == "failed"]
        assert not failed, f"downstream runs failed: {failed}\n{services.tails()}"
        if sum(len(run["events"]) for run in done.values()) >= events and all(
            run["state"] == "success" for run in done.values()
        ):
            return done
        time.sleep(1)
    raise AssertionError(f"downstream runs after 120s: {consumer_runs(url)}\n{services.tails()}")


def partitions(home: Path) -> dict[str, tuple[bytes, int]]:
    """(bytes, inode) of every published partition of the 4 days."""
    out = {}
    for table in TABLES:
        for day in DAYS:
            path = Home(home).partition(table, day)
            assert path.is_file(), path
            out[f"{table}/run_date={day}"] = (path.read_bytes(), path.stat().st_ino)
    return out


@pytest.mark.slow
def test_backfill_on_postgres_metadata_is_exact_and_triggers_the_downstream_dag(
    tmp_path: Path, landing: Path, published_home: Path, metadata_db: str
) -> None:
    # a week of reruns: the second backfill reprocesses all four nights (retention.state_days
    # 3, the default, would refuse the oldest, as tests/integration/test_retention.py shows)
    config = write_config(tmp_path, landing, retention={"state_days": 7})
    cfg = load_config(config)
    # the history before the backfill, as ingest leaves it (copied: ingesting is not tested here)
    copy_history(published_home, cfg.home, DAYS[0] - dt.timedelta(days=1))
    # a run with logical date L processes the day before L
    first, last = (str(d + dt.timedelta(days=1)) for d in (DAYS[0], DAYS[-1]))
    # two ingested nights older than the first backfill's: a second lineage, to be refused
    older = [DAYS[0] - dt.timedelta(days=2 - i) for i in range(2)]

    dags = tmp_path / "dags"  # the nightly DAG and the example consumer, copied in as installed
    dags.mkdir()
    shutil.copy2(ROOT / "dags" / f"{DAG_ID}.py", dags)
    shutil.copy2(ROOT / "examples" / f"{CONSUMER}.py", dags)

    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        # derived otherwise as postgresql+asyncpg, a driver we do not install
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_db,
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),  # not 8793, maybe taken
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",  # paused DAGs run nothing
        "SEGMENTATION_CONFIG": str(config),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    services = Services(env, logs)

    def airflow(*args: str) -> str:
        run = subprocess.run(
            [AIRFLOW, *args], capture_output=True, text=True, env=env, check=False, timeout=300
        )
        out = run.stdout + run.stderr
        (logs / f"cli-{args[0]}-{args[1]}.log").write_text(out)
        assert run.returncode == 0, f"airflow {' '.join(args)}:\n{out[-4000:]}"
        return out

    def backfill(*extra: str, dates: tuple[str, str] = (first, last), refused: bool = False) -> int:
        airflow(
            "backfill", "create", "--dag-id", DAG_ID, "--from-date", dates[0],
            "--to-date", dates[1], "--max-active-runs", "1", *extra,
        )  # fmt: skip
        [(backfill_id,)] = query(
            metadata_db, "SELECT max(id) FROM backfill WHERE dag_id = %s", (DAG_ID,)
        )
        wait_for_backfill(metadata_db, backfill_id, services, refused)
        return int(backfill_id)

    try:
        airflow("db", "migrate")
        # the DAG serialized into the metadata database, for the scheduler and the backfill
        airflow("dags", "reserialize")
        services.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port))
        wait_for_port(port, services)
        services.start("scheduler", "scheduler")

        first_id = backfill()
        done = runs(metadata_db)
        expected = [str(d + dt.timedelta(days=1)) for d in DAYS]
        assert sorted(done) == expected, done
        assert {(s, b) for s, b, _ in done.values()} == {("success", first_id)}, done
        before = partitions(cfg.home)

        second_id = backfill("--reprocess-behavior", "completed")
        redone = runs(metadata_db)
        assert sorted(redone) == expected, redone
        assert {(s, b) for s, b, _ in redone.values()} == {("success", second_id)}, redone
        assert all(redone[d][2] > max(e for _, _, e in done.values()) for d in expected)
        after = partitions(cfg.home)

        # a backfill of nights older than the first: each run fails at its first task
        dates = (str(older[0] + dt.timedelta(days=1)), str(older[-1] + dt.timedelta(days=1)))
        third_id = backfill(dates=dates, refused=True)
        refused = {d: r for d, r in runs(metadata_db).items() if r[1] == third_id}
        tasks = task_states(metadata_db, third_id)

        events = segment_events(metadata_db)
        downstream = wait_for_consumer(metadata_db, len(events), services)
        assets = dict(query(metadata_db, "SELECT name, uri FROM asset"))
    except BaseException:
        print(services.tails())  # noqa: T201 - shown by pytest on failure only
        raise
    finally:
        services.stop()

    assert not (tmp_path / "airflow" / "airflow.db").exists()  # no SQLite on the side
    # every partition was published again (a new file swapped in) with the same bytes
    changed = [k for k in before if before[k][0] != after[k][0]]
    assert not changed, f"partitions that differ after the rerun: {changed}"
    kept = [k for k in before if before[k][1] == after[k][1]]
    assert not kept, f"partitions not republished by the rerun: {kept}"

    # the older nights were refused: runs failed, at extract_events, at once (no retry), with
    # the message in its log naming the first night; nothing written for them, nothing changed
    assert sorted(refused) == list(dates) and {r[0] for r in refused.values()} == {"failed"}
    assert len(tasks) == 2, tasks
    for run_id, states in tasks.items():
        assert states.pop("extract_events") == ("failed", 1), (run_id, states)
        assert {state for state, _ in states.values()} == {"upstream_failed"}, (run_id, states)
        [log] = (tmp_path / "airflow" / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}").glob(
            "task_id=extract_events/attempt=*.log"
        )
        text = log.read_text()
        assert f"is older than the first night this home ran ({DAYS[0]}, model m" in text, text
        assert "would start a second model lineage" in text, text
    for day in older:
        assert not written_for(cfg.home, day), written_for(cfg.home, day)
    assert partitions(cfg.home) == after

    # the Assets: each table by name, its file:// URI the table under the configured home
    home = Home(cfg.home)
    assert assets == {t.name: home.table_location(t.name).as_uri() for t in CATALOG}
    assert assets["customer_segments"] == f"file://{cfg.home}/output/customer_segments"

    # one customer_segments event per night published: the second backfill's older nights
    # did not move current
    rows = {str(d): len(pd.read_parquet(home.partition("customer_segments", d))) for d in DAYS}
    moved = [True] * 4 + [False] * 3 + [True]
    assert list(events.values()) == [
        {"run_date": day, "current_moved": m, "rows": rows[day]}
        for day, m in zip([*rows, *rows], moved, strict=True)
    ]
    # the downstream DAG: triggered by those events, each consumed by exactly one of its runs
    assert sorted(e for run in downstream.values() for e in run["events"]) == sorted(events)
    sizes = {
        str(d): pd.read_parquet(home.partition("customer_segments", d))["segment_name"]
        .value_counts()
        .to_dict()
        for d in DAYS
    }
    for run_id, run in downstream.items():
        assert run["type"] == "asset_triggered", run_id
        given = [events[e] for e in run["events"]]
        # it reports the nights it was given: new ones counted from their partitions, the
        # older nights republished by the second backfill skipped
        assert sorted(run["result"]["skipped"]) == sorted(
            x["run_date"] for x in given if not x["current_moved"]
        ), run
        assert run["result"]["counted"] == {
            x["run_date"]: sizes[x["run_date"]] for x in given if x["current_moved"]
        }, run
    counted = {day for run in downstream.values() for day in run["result"]["counted"]}
    skipped = {day for run in downstream.values() for day in run["result"]["skipped"]}
    assert (counted, skipped) == (set(rows), set(rows) - {str(DAYS[-1])})
