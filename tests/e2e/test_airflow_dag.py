"""The real DAG, run by Airflow itself (`airflow dags test`) on its SQLite metadata database."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from segmentation.config import load_config
from segmentation.features import rfm
from segmentation.io import parquet
from segmentation.layout import TABLE_NAMES, Home
from tests.conftest import LAST, copy_history, write_config

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def airflow(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIRFLOW, *args], capture_output=True, text=True, env=env, check=False, timeout=600
    )


class Receiver:
    """A local HTTP endpoint standing in for the alert webhook (Slack, Teams, on-call)."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.posts: list[dict] = []
        posts = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                posts.append({"path": self.path, "json": json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/SECRET-TOKEN"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
def test_two_consecutive_nights_through_airflow(
    tmp_path: Path, landing: Path, published_home: Path
) -> None:
    receiver = Receiver()
    # an alert threshold nothing stays under: the second night's drift check must alert
    config = write_config(
        tmp_path,
        landing,
        alerts={"target": "webhook", "url": receiver.url},
        drift={"psi_alert": 1e-9},
    )
    cfg = load_config(config)
    day1, day2 = LAST - dt.timedelta(days=1), LAST
    # the history before the first night, as ingest gives it: published_home ingested it
    copy_history(published_home, cfg.home, day1 - dt.timedelta(days=1))

    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SEGMENTATION_CONFIG": str(config),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    migrate = airflow(["db", "migrate"], env)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    assert (tmp_path / "airflow" / "airflow.db").is_file()  # SQLite, not a server

    for day in (day1, day2):
        # a nightly run's logical date is the midnight that closes the day it processes
        logical = (day + dt.timedelta(days=1)).isoformat()
        run = airflow(["dags", "test", "customer_segmentation", logical], env)
        log = run.stdout + run.stderr
        assert run.returncode == 0, log[-4000:]
        assert "state=success" in log, log[-4000:]

    home = cfg.home
    for day in (day1, day2):
        segments = parquet.read_published(Home(home), "customer_segments", day)
        assert segments is not None and segments["customer_id"].is_unique
        features = pd.read_parquet(Home(home).features_file(day))
        assert len(segments) == len(features)
        assert segments["segment_name"].notna().all()
        # valid names, whatever they are: the RFM module's published list is the reference
        assert set(segments["rfm_segment"]) <= {name for name, _, _ in rfm.RFM_SEGMENTS}
        assert Home(home).validation_record(day).is_file()
    moves = parquet.read_published(Home(home), "segment_migrations", day2)
    assert moves is not None and moves["from_segment_id"].notna().any()
    registry = parquet.read_published(Home(home), "model_registry", day2)
    assert registry is not None and sorted(registry["model_version"]) == [
        f"m{day1:%Y%m%d}",
        f"m{day2:%Y%m%d}",
    ]
    for table in TABLE_NAMES:
        assert parquet.current_run_date(Home(home), table) == day2

    # the second night alerted through Airflow's notifier: one POST, naming the features
    receiver.close()
    alerts = [p["json"] for p in receiver.posts]
    assert [a["run_date"] for a in alerts] == [str(day2)], receiver.posts
    assert alerts[0]["level"] == "alert" and alerts[0]["drifted_features"]
    assert receiver.posts[0]["path"] == "/hooks/SECRET-TOKEN"

    # a manual run with the run_date param reprocesses day 1: the same rows, current unmoved
    before = parquet.read_published(Home(home), "customer_segments", day1)
    rerun = airflow(
        ["dags", "test", "customer_segmentation", "--conf", json.dumps({"run_date": str(day1)})],
        env,
    )
    log = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0 and "state=success" in log, log[-4000:]
    assert f"'run_date': '{day1}'" in log  # the tasks' results name the day they processed
    pd.testing.assert_frame_equal(
        parquet.read_published(Home(home), "customer_segments", day1), before
    )
    assert parquet.current_run_date(Home(home), "customer_segments") == day2

    # each table's asset event says which run it is, whether current moved, and the rows
    import sqlite3

    with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as db:
        events = db.execute(
            "SELECT a.name, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
            "ORDER BY e.id"
        ).fetchall()
    segments_events = [json.loads(extra) for name, extra in events if name == "customer_segments"]
    rows = [len(parquet.read_published(Home(home), "customer_segments", d)) for d in (day1, day2)]
    assert segments_events == [
        {"run_date": str(day1), "current_moved": True, "rows": rows[0]},
        {"run_date": str(day2), "current_moved": True, "rows": rows[1]},
        {"run_date": str(day1), "current_moved": False, "rows": rows[0]},  # the backfill
    ]
    assert {name for name, _ in events} == set(TABLE_NAMES)
