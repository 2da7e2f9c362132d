"""The Segments view (plugins/) in a real Airflow API server, by HTTP and in a real browser.

One api-server per module (SimpleAuthManager, SQLite) serves a home with two published nights.
Checked: every page refuses a request without Airflow's login (401) or with a user who may not
read the DAG (403); with a token the pages show the runs, validation summaries, reports and the
segment table; a person logging in through the UI's form finds the view in the navigation bar,
under a label that fits its button, and reads its pages (in the UI's frame) with nothing wider
than its box, headers in words, whole numbers as such and no path of the server. Screenshots:
``test-artifacts/airflow_view*.png``. The predictions page's sorting, filter and model table
are checked on the app alone, under FastAPI's TestClient.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation.config import load_config
from segmentation.layout import Home
from tests.conftest import LAST, view_client, write_config
from tests.e2e.readable import machine_names, overflowing, page_overflows

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
DAY1, DAY2 = LAST - dt.timedelta(days=1), LAST  # the nights of ``two_nights_home``
PREDICTED = "customer_predictions"
USERS = {"admin": ("admin", "admin-pw-1"), "viewer": ("viewer", "viewer-pw-2"), "nobody": ("", "x")}
PAGES = [  # every route of the plugin app, with its parameters filled in
    "/segmentation/",
    "/segmentation/segments",
    f"/segmentation/segments?run_date={DAY1}&segment_id=0&page=2",
    f"/segmentation/runs/{DAY2}/report",
    f"/segmentation/runs/{DAY2}/validation",
    f"/segmentation/predictions?run_date={DAY1}&churn_risk=high&sort=p_alive",
    f"/segmentation/recommendations?run_date={DAY1}&source=collaborative&page=2",
    f"/segmentation/campaigns?run_date={DAY1}&page=2",
]
# the segment table's headers, in the file's column order, as a person should read them
HEADERS = [
    "Run date",
    "Customer",
    "Segment id",
    "Segment",
    "Model version",
    "Control group",
    "Days since last purchase",
    "Number of orders",
    "Net spend",
    "R score",
    "F score",
    "M score",
    "RFM score",
    "RFM segment",
]
# boxes of the view's pages (and of the report inside it): nothing may stick out of them
VIEW_BOXES = "body, main, nav, h1, h2, p, form, label, .scroll, table, th, td, li"
REPORT_BOXES = "main, section, article.card, .card dd, .banner, figure, .scroll, th, td, p, li"
STATIC_REPORT = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Report {day}</title>'
    "</head><body><h1>Segmentation report {day}</h1><p>A static stand-in.</p></body></html>"
)


@dataclass(frozen=True)
class Server:
    url: str
    home: Path  # the pipeline's home the server reads
    env: dict[str, str]  # the server's environment, for other Airflow processes on its DB
    log: Path


# the server is local: never send requests to it through a proxy from the environment
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def report_path(home: Path, day: dt.date) -> Path:
    return home / "output" / "reports" / f"run_date={day}" / "report.html"


@pytest.fixture(scope="module")
def view_config(
    two_nights_home: Path, landing: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of the home with two published nights: DAY2 has a report, DAY1 none."""
    folder = tmp_path_factory.mktemp("view")
    shutil.copytree(two_nights_home / "home", folder / "home")
    config = write_config(folder, landing)
    cfg = load_config(config)
    # DAY1 stands for a night published before reports existed; DAY2 gets a stand-in report
    # unless segmentation.report (segmentation.report.write_report) already wrote one.
    report_path(cfg.home, DAY1).unlink(missing_ok=True)
    if not report_path(cfg.home, DAY2).is_file():
        report_path(cfg.home, DAY2).parent.mkdir(parents=True, exist_ok=True)
        report_path(cfg.home, DAY2).write_text(STATIC_REPORT.format(day=DAY2), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def server(view_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`airflow api-server` on a free port, with a migrated SQLite DB and known users."""
    folder = tmp_path_factory.mktemp("airflow")
    passwords = folder / "passwords.json"
    passwords.write_text(json.dumps({user: pw for user, (_, pw) in USERS.items()}))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(folder / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        # user:role; "nobody" has no role, so it may log in but read nothing
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
            f"{user}:{role}" for user, (role, _) in USERS.items()
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "SEGMENTATION_CONFIG": str(view_config),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]

    log = folder / "api-server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "airflow"), "api-server", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole below
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"api-server exited with {proc.returncode}:\n{tail(log)}")
            try:
                with DIRECT.open(f"{url}/api/v2/monitor/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"api-server not healthy after 180 s:\n{tail(log)}")
            time.sleep(0.5)
        yield Server(url=url, home=load_config(view_config).home, env=env, log=log)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, then SIGKILL to whatever is left of it."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.is_file() else "(no log)"


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers (lower-case names) and body of a GET."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with DIRECT.open(request, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


def token(server: Server, user: str) -> str:
    body = json.dumps({"username": user, "password": USERS[user][1]}).encode()
    request = urllib.request.Request(
        f"{server.url}/auth/token",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with DIRECT.open(request, timeout=30) as r:
        assert r.status == 201
        return str(json.loads(r.read())["access_token"])


def bearer(server: Server, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(server, user)}"}


def table_rows(page: str) -> list[list[str]]:
    body = re.search(r'<table class="segments">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, page[-2000:]
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body[1])
    ]


# ---------------------------------------------------------------- HTTP


def test_requests_without_airflow_login_are_refused(server: Server) -> None:
    for page in PAGES:
        status, _, body = get(server.url + page)
        assert status == 401, (page, status, body[:300])
        assert "Not authenticated" in body
        assert "customer_id" not in body and "C000" not in body
        # a browser gets a page that says so, still with 401, not a redirect to data
        status, _, body = get(server.url + page, {"Accept": "text/html"})
        assert status == 401 and "Not signed in" in body, (page, status)
        # a token Airflow did not sign, as header or as the UI's cookie
        for forged in ({"Authorization": "Bearer not-a-jwt"}, {"Cookie": "_token=not-a-jwt"}):
            status, _, body = get(server.url + page, forged)
            assert status in (401, 403), (page, forged, status)
            assert "C000" not in body


def test_a_user_who_may_not_read_the_dag_is_refused(server: Server) -> None:
    headers = bearer(server, "nobody")  # a real Airflow login, but no role
    for page in PAGES:
        status, _, body = get(server.url + page, headers)
        assert status == 403, (page, status, body[:300])
        assert "C000" not in body


def test_runs_page_lists_runs_with_validation_and_report(server: Server) -> None:
    status, headers, page = get(f"{server.url}/segmentation/", bearer(server, "viewer"))
    assert status == 200, page[:500]
    assert headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    rows = re.findall(r"<tr><td>(\d{4}-\d{2}-\d{2})(.*?)</tr>", page, re.S)
    assert [day for day, _ in rows] == [str(DAY2), str(DAY1)]  # newest first
    by_day = dict(rows)
    assert "current" in by_day[str(DAY2)] and "current" not in by_day[str(DAY1)]
    assert f"/segmentation/runs/{DAY2}/report" in by_day[str(DAY2)]
    assert "no report" in by_day[str(DAY1)] and "/report" not in by_day[str(DAY1)]
    for day in (DAY1, DAY2):
        result = json.loads(
            (server.home / "validation" / "events" / f"run_date={day}.json").read_text()
        )
        assert result["success"] is True
        label = f"passed ({result['evaluated_expectations']} expectations)"
        assert label in by_day[str(day)]
        customers = pq.ParquetFile(
            server.home / "output" / "customer_segments" / f"run_date={day}" / "part-0.parquet"
        ).metadata.num_rows
        assert f">{customers:,}<" in by_day[str(day)]


def test_validation_page_shows_the_summary(server: Server) -> None:
    headers = bearer(server, "admin")
    status, _, page = get(f"{server.url}/segmentation/runs/{DAY2}/validation", headers)
    assert status == 200, page[:500]
    result = json.loads(
        (server.home / "validation" / "events" / f"run_date={DAY2}.json").read_text()
    )
    summary = re.sub(r"<[^>]+>", " ", page)
    assert re.search(r"Result\s+passed", summary)
    assert re.search(rf"Checked\s+{result['evaluated_expectations']} expectations", summary)
    assert re.search(r"Failures\s+0\b", summary) and "No failures." in summary
    # a day without a validation result
    status, _, page = get(f"{server.url}/segmentation/runs/2020-01-01/validation", headers)
    assert status == 404 and "no validation result for 2020-01-01" in page


def test_a_day_promoted_without_a_few_rows_shows_them_held_back(server: Server) -> None:
    record = server.home / "validation" / "events" / "run_date=2019-12-31.json"
    record.write_text(
        json.dumps(
            {
                "success": True,
                "suite": "events",
                "evaluated_expectations": 13,
                "failures": [
                    "expect_column_values_to_be_in_set on event_type: 3 unexpected row(s)"
                ],
                "rows_read": 1200,
                "rows_quarantined": 3,
            }
        )
    )
    try:
        status, _, page = get(
            f"{server.url}/segmentation/runs/2019-12-31/validation", bearer(server, "admin")
        )
    finally:
        record.unlink()
    summary = re.sub(r"<[^>]+>", " ", page)
    assert status == 200 and re.search(r"Result\s+passed", summary)
    assert re.search(r"Rows held back\s+3 of 1,200", summary)
    assert "Checks that failed on single rows" in summary
    assert "expect_column_values_to_be_in_set on event_type: 3 unexpected row(s)" in summary


def test_report_is_served_sandboxed_and_missing_ones_say_so(server: Server) -> None:
    headers = bearer(server, "admin")
    status, response_headers, page = get(f"{server.url}/segmentation/runs/{DAY2}/report", headers)
    assert status == 200
    assert response_headers["content-type"].startswith("text/html")
    assert response_headers["content-security-policy"].startswith("sandbox allow-scripts")
    assert page == report_path(server.home, DAY2).read_text(encoding="utf-8")
    status, _, page = get(f"{server.url}/segmentation/runs/{DAY1}/report", headers)
    assert status == 404 and f"no report for run {DAY1}" in page
    status, _, _ = get(f"{server.url}/segmentation/runs/..%2F..%2Fetc/report", headers)
    assert status in (404, 422)  # a run date is a date, never a path


def test_segment_table_is_paginated_and_filtered(server: Server) -> None:
    headers = bearer(server, "admin")
    current = pq.read_table(server.home / "output" / "current" / "customer_segments.parquet")
    ids = current["segment_id"].to_pylist()
    names = current["segment_name"].to_pylist()
    total = current.num_rows
    assert total > 200  # three pages at least: the fixture's 400 customers

    status, _, page = get(f"{server.url}/segmentation/segments", headers)
    assert status == 200, page[:500]
    assert f"Published by run {DAY2}." in page
    for name in set(names):
        assert f'<option value="{html.escape(name)}">{html.escape(name)}</option>' in page
    assert f"Customers 1–100 of {total:,}." in page
    rows = table_rows(page)
    assert len(rows) == 100
    assert [r[1] for r in rows] == current["customer_id"].to_pylist()[:100]
    pages = -(-total // 100)
    assert f"page 1 of {pages}" in page

    status, _, page = get(f"{server.url}/segmentation/segments?page={pages}", headers)
    assert len(table_rows(page)) == total - 100 * (pages - 1)
    status, _, page = get(f"{server.url}/segmentation/segments?page=999", headers)
    assert status == 200 and f"page {pages} of {pages}" in page  # past the end: the last page

    sid = max(set(ids), key=ids.count)
    status, _, page = get(f"{server.url}/segmentation/segments?segment_id={sid}", headers)
    rows = table_rows(page)
    assert len(rows) == min(100, ids.count(sid))
    assert {r[2] for r in rows} == {str(sid)}
    assert f"of {ids.count(sid):,}." in page

    name = names[ids.index(sid)]
    query = urllib.parse.urlencode({"segment_name": name, "segment_id": ""})
    status, _, page = get(f"{server.url}/segmentation/segments?{query}", headers)
    assert {r[3] for r in table_rows(page)} == {name}
    assert f"of {names.count(name):,}." in page

    # an older run's partition
    status, _, page = get(f"{server.url}/segmentation/segments?run_date={DAY1}", headers)
    assert status == 200 and f"Segment table of {DAY1}" in page
    assert {r[0] for r in table_rows(page)} == {str(DAY1)}
    status, _, page = get(f"{server.url}/segmentation/segments?segment_id=abc", headers)
    assert status == 400 and "segment_id must be a whole number" in page


def test_every_route_requires_airflow_auth_and_a_missing_config_is_explained(
    server: Server, tmp_path: Path
) -> None:
    """Airflow's own app (create_app: plugins, auth manager, middlewares) under TestClient, in a
    process without SEGMENTATION_CONFIG: the plugin imports, each of its routes depends on
    Airflow's get_user and requires_access_dag, and a logged-in user reads how to fix it."""
    script = tmp_path / "check.py"
    script.write_text(
        """
import json, sys
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount
from airflow.api_fastapi.app import create_app
from airflow.api_fastapi.core_api import security

app = create_app()
mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/segmentation")

def calls(dependant):
    yield dependant.call
    for sub in dependant.dependencies:
        yield from calls(sub)

routes = {}
for route in mount.app.routes:
    names = {getattr(c, "__qualname__", "") for c in calls(route.dependant)}
    routes[route.path] = {
        "api_route": isinstance(route, APIRoute),
        "get_user": security.get_user in set(calls(route.dependant)),
        "dag_access": "requires_access_dag.<locals>.inner" in names,
    }
client = TestClient(app)
admin = client.post("/auth/token", json={"username": "admin", "password": sys.argv[1]})
page = client.get(
    "/segmentation/",
    headers={"Authorization": "Bearer " + admin.json()["access_token"], "Accept": "text/html"},
)
print(json.dumps({
    "routes": routes,
    "anonymous": client.get("/segmentation/").status_code,
    "status": page.status_code,
    "page": page.text,
}))
"""
    )
    env = {k: v for k, v in server.env.items() if k != "SEGMENTATION_CONFIG"}
    run = subprocess.run(
        [sys.executable, str(script), USERS["admin"][1]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(result["routes"]) == {
        "/",
        "/runs/{run_date}/report",
        "/runs/{run_date}/validation",
        "/segments",
        "/predictions",
        "/recommendations",
        "/campaigns",
    }  # no /docs or /openapi.json, which would sit outside the dependencies
    for path, route in result["routes"].items():
        assert route == {"api_route": True, "get_user": True, "dag_access": True}, path
    assert result["anonymous"] == 401
    assert result["status"] == 503
    assert "The pipeline&#x27;s configuration cannot be read" in result["page"]
    assert "SEGMENTATION_CONFIG" in result["page"] and "restart" in result["page"]


def test_pages_show_human_headers_whole_numbers_and_no_server_path(server: Server) -> None:
    headers = bearer(server, "admin")
    status, _, page = get(f"{server.url}/segmentation/segments", headers)
    assert status == 200, page[:500]
    heads = re.findall(r'<th title="([^"]*)">([^<]*)</th>', page)
    assert [shown for _, shown in heads] == HEADERS
    current = pq.read_table(server.home / "output" / "current" / "customer_segments.parquet")
    assert [name for name, _ in heads] == current.column_names  # the name, as a tooltip
    rows = table_rows(page)
    # days and purchases are stored as floats but are whole numbers; spend is money
    expected = [
        (f"{round(r):,}", f"{round(f):,}")
        for r, f in zip(
            current["recency_days"].to_pylist()[:100],
            current["frequency"].to_pylist()[:100],
            strict=True,
        )
    ]
    assert [(row[6], row[7]) for row in rows] == expected
    assert all(re.fullmatch(r"\d+", row[7]) for row in rows)
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d", row[8]) for row in rows)
    assert {row[5] for row in rows} <= {"yes", "no"}

    missing = (
        "/segmentation/segments?run_date=2020-01-01",
        "/segmentation/runs/2020-01-01/report",
    )
    for url in [*PAGES, *missing]:
        status, _, body = get(server.url + url, {**headers, "Accept": "text/html"})
        assert status in (200, 404), (url, status)
        for path in (str(server.home), str(server.home.parent), "/tmp/", "/home/", "/root/"):
            assert path not in body, (url, path)
    status, _, body = get(f"{server.url}/segmentation/segments?run_date=2020-01-01", headers)
    assert status == 404 and "no segment table (customer_segments) for the run 2020-01-01" in body


# ---------------------------------------------------------------- the app, without a server


@pytest.fixture
def view_app(
    tmp_path: Path, published_home: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, pd.DataFrame]:
    """The view's routes under FastAPI's TestClient, without Airflow's access check (the
    tests above check it on every route), on a copy of ``published_home`` whose night's
    predictions are made by hand: scores for most customers, none for some; BG/NBD and
    Gamma-Gamma skipped, the classifier champion. Returns the client and the predictions."""
    shutil.copytree(published_home / "home", tmp_path / "home")
    monkeypatch.setenv("SEGMENTATION_CONFIG", str(write_config(tmp_path, landing)))
    home = Home(tmp_path / "home")
    for path in (home.partition(PREDICTED, DAY1), home.current_table(PREDICTED)):
        frame = pd.read_parquet(path)
        n = len(frame)
        probability = pd.Series([(i * 37 % 101) / 100 for i in range(n)], dtype="float64")
        probability[::9] = float("nan")  # customers who did not buy in the window
        frame["churn_probability"] = probability
        frame["p_alive"] = pd.Series([(i * 53 % 97) / 96 for i in range(n)], dtype="float64")
        risk = pd.cut(
            probability, [-1, 0.33, 0.66, 2], right=False, labels=["low", "medium", "high"]
        )
        frame["churn_risk"] = risk.astype("string")
        frame.to_parquet(path, index=False)
    quality = pd.DataFrame(
        {
            "model": ["bgnbd", "gamma_gamma", "churn", "churn"],
            "model_version": [None, None, f"c{DAY1:%Y%m%d}", f"c{DAY1:%Y%m%d}"],
            "metric": ["skipped", "skipped", "customers", "roc_auc"],
            "value": [float("nan"), float("nan"), 300.0, 0.8123],
            "status": ["skipped", "skipped", "champion", "champion"],
            "reason": ["62 repeat buyers"] * 2 + ["first churn classifier"] * 2,
        }
    )
    quality.to_parquet(home.partition("prediction_quality", DAY1), index=False)
    return view_client(monkeypatch), pd.read_parquet(home.partition(PREDICTED, DAY1))


def predicted_rows(page: str) -> list[list[str]]:
    body = re.search(r'<table class="predictions">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, page[-2000:]
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body[1])
    ]


def test_predictions_page_sorts_filters_and_shows_the_models(view_app: Any) -> None:
    client, written = view_app
    ids = written["customer_id"].tolist()
    # most likely to leave first; customers without a score last; ties by customer id
    by_churn = written.sort_values(
        ["churn_probability", "customer_id"], ascending=[False, True], na_position="last"
    )
    page = client.get(f"/predictions?run_date={DAY1}").text
    heads = re.findall(r'<th title="([^"]*)"><a href="([^"]*)">([^<]*)</a></th>', page)
    labels = {name: (link, shown) for name, link, shown in heads}
    # who is at risk first; the run and the models' versions are above the table, not on
    # every row
    names = [name for name, _, _ in heads]
    first = ["customer_id", "churn_risk", "churn_probability", "churn_decile", "p_alive"]
    others = [c for c in written.columns if c not in (*first, "model_version", "btyd_version")]
    assert names == first + others
    customer, churn = names.index("customer_id"), names.index("churn_probability")
    rows = predicted_rows(page)
    assert [r[customer] for r in rows] == by_churn["customer_id"].tolist()[:100]
    assert rows[0][churn] == f"{by_churn['churn_probability'].iloc[0]:.2f}"
    assert f"Customers 1–100 of {len(ids):,}, by Churn probability, highest first." in page
    assert labels["p_alive"][1] == "Chance still active"
    assert labels["predicted_clv_365d"][1] == "Predicted value, next 365 days"
    assert "sort=churn_probability&amp;order=asc" in labels["churn_probability"][0]  # flips
    # the models of the run, each with its status and reason
    models = re.sub(r"<[^>]+>", " ", page[page.index('class="summary models"') :])
    assert re.search(r"Churn classifier\s+champion\s+c\d{8}\s+0\.812\s+first churn", models)
    assert re.search(r"BG/NBD\s+skipped\s+—\s+—\s+62 repeat buyers", models)

    last = client.get(f"/predictions?run_date={DAY1}&page=99").text  # past the end: the last
    pages = -(-len(ids) // 100)
    assert f"page {pages} of {pages}" in last
    assert predicted_rows(last)[-1][churn] == "—"

    high = client.get(f"/predictions?run_date={DAY1}&churn_risk=high&sort=p_alive&order=asc")
    expected = written[written["churn_risk"] == "high"].sort_values(["p_alive", "customer_id"])
    top = expected["customer_id"].tolist()[:100]
    assert [r[customer] for r in predicted_rows(high.text)] == top
    assert f"of {len(expected):,}, by Chance still active, lowest first." in high.text

    runs = client.get("/").text  # the run list links each run's predictions
    assert f'<a href="/predictions?run_date={DAY1}">champion, ROC AUC 0.812</a>' in runs

    for query, status in (
        ("sort=nope", 400),
        ("churn_risk=extreme", 400),
        ("order=sideways", 400),
        ("run_date=2020-01-01", 404),
    ):
        response = client.get(f"/predictions?{query}", headers={"Accept": "text/html"})
        assert response.status_code == status, query
        assert "/tmp/" not in response.text


# ---------------------------------------------------------------- browser


def browser() -> Any:
    """Headless Chromium driven by Selenium, or a skip (on CI a failure) naming what is missing."""
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    try:
        from selenium import webdriver
    except ImportError:
        missing.append("the selenium package (pip install selenium)")
    if missing:
        message = (
            f"{', '.join(missing)} not found: install them (Debian: apt-get install -y chromium "
            "chromium-driver) to run the browser test of the Segments view"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--window-size=1400,1000",
        "--no-proxy-server",
    ):
        options.add_argument(arg)
    options.binary_location = str(shutil.which("chromium"))
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(shutil.which("chromedriver"))))


def test_a_person_logs_in_and_opens_the_view(server: Server) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = browser()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(f"{server.url}/")  # the UI sends a visitor without a session to its login
        user = wait.until(ec.presence_of_element_located((By.NAME, "username")))
        assert "/auth/login" in driver.current_url
        user.send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(USERS["admin"][1])
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

        # the view is in the navigation bar; the login's redirect may abort a lookup under
        # way ("aborted by navigation", seen once in CI): keep waiting through it
        landing = WebDriverWait(driver, 60, ignored_exceptions=[WebDriverException])
        landing.until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, "a[href$='/plugin/segmentation']"))
        ).click()
        frame = wait.until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[title=Segments]"))
        )
        assert driver.current_url.startswith(f"{server.url}/plugin/segmentation")
        driver.switch_to.frame(frame)
        runs = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.runs")))
        text = runs.text
        assert str(DAY2) in text and str(DAY1) in text and "no report" in text
        assert "passed (" in text
        driver.switch_to.default_content()
        driver.save_screenshot(str(ARTIFACTS / "airflow_view.png"))

        # the current segment table, filtered by segment
        driver.switch_to.frame(frame)
        driver.find_element(By.LINK_TEXT, "Current segment table").click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.segments")))
        assert len(driver.find_elements(By.CSS_SELECTOR, "table.segments tbody tr")) == 100
        current = pq.read_table(server.home / "output" / "current" / "customer_segments.parquet")
        ids = current["segment_id"].to_pylist()
        sid = max(set(ids), key=ids.count)
        Select(driver.find_element(By.NAME, "segment_id")).select_by_value(str(sid))
        driver.find_element(By.CSS_SELECTOR, "form.filter button").click()
        wait.until(
            ec.text_to_be_present_in_element(
                (By.CSS_SELECTOR, "p.count"), f"of {ids.count(sid):,}."
            )
        )
        shown = {
            cell.text
            for cell in driver.find_elements(
                By.CSS_SELECTOR, "table.segments tbody tr td:nth-child(3)"
            )
        }
        assert shown == {str(sid)}
        driver.switch_to.default_content()
        driver.save_screenshot(str(ARTIFACTS / "airflow_view_segments.png"))

        # a run's report, opened from the run list
        driver.switch_to.frame(frame)
        driver.find_element(By.LINK_TEXT, "Runs").click()
        wait.until(ec.element_to_be_clickable((By.LINK_TEXT, "open report"))).click()
        wait.until(lambda d: d.execute_script("return location.pathname").endswith("/report"))
        assert driver.execute_script("return location.pathname") == (
            f"/segmentation/runs/{DAY2}/report"
        )
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").text.strip() != "")
        driver.switch_to.default_content()
        driver.save_screenshot(str(ARTIFACTS / "airflow_view_report.png"))

        ours = [
            entry
            for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and f"{server.url}/segmentation" in entry["message"]
        ]
        assert ours == [], ours

        # after logging out (the session cookie gone) the view's page is refused, not shown
        driver.delete_all_cookies()
        driver.get(f"{server.url}/segmentation/segments")
        assert "Not signed in" in driver.find_element(By.TAG_NAME, "body").text
        assert not driver.find_elements(By.CSS_SELECTOR, "table.segments")
    finally:
        driver.quit()


def log_in(driver: Any, server: Server) -> Any:
    """Log in as admin through the UI's form; returns the WebDriverWait used."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 60)
    driver.get(f"{server.url}/")
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys(USERS["admin"][1])
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    return wait


def open_in_frame(driver: Any, wait: Any, path: str, ready: str) -> None:
    """Show the view's page ``path`` in the UI's plugin frame; wait for ``ready`` in it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.switch_to.default_content()
    frame = driver.find_element(By.CSS_SELECTOR, "iframe[title=Segments]")
    driver.execute_script("arguments[0].src = arguments[1]", frame, path)
    driver.switch_to.frame(frame)
    wait.until(lambda d: d.execute_script("return location.pathname + location.search") == path)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ready)))


def test_the_view_reads_well_in_the_ui(server: Server) -> None:
    """The navigation label fits its button; the view's pages, shown in the UI's frame, have
    nothing wider than its box, human headers, whole numbers and no path of the server."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = browser()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        wait = log_in(driver, server)
        entry = wait.until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, "a[href$='/plugin/segmentation']"))
        )
        assert entry.text == "Segments"
        # the label is drawn on one line and cut with an ellipsis when it does not fit
        label = entry.find_elements(By.XPATH, ".//*[normalize-space(text())='Segments']")
        assert label, entry.get_attribute("outerHTML")
        assert overflowing(driver, "a[href$='/plugin/segmentation'] *") == []
        # the check sees what the old name did: "Segmentation" does not fit the button
        driver.execute_script("arguments[0].textContent = 'Segmentation'", label[0])
        assert overflowing(driver, "a[href$='/plugin/segmentation'] *") != []
        driver.execute_script("arguments[0].textContent = 'Segments'", label[0])
        assert entry.screenshot(str(ARTIFACTS / "airflow_view_nav.png"))
        entry.click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[title=Segments]")))

        pages = {
            "runs": ("/segmentation/", "table.runs"),
            "segments": ("/segmentation/segments", "table.segments"),
            "segments_day1": (f"/segmentation/segments?run_date={DAY1}&page=2", "table.segments"),
            "validation": (f"/segmentation/runs/{DAY2}/validation", "table.summary"),
            "predictions": ("/segmentation/predictions", "table.predictions"),
            "recommendations": ("/segmentation/recommendations", "table.recommendations"),
            "campaigns": ("/segmentation/campaigns", "table.audiences"),
            "report": (f"/segmentation/runs/{DAY2}/report", "section#profiles"),
        }
        for name, (path, ready) in pages.items():
            open_in_frame(driver, wait, path, ready)
            boxes = REPORT_BOXES if name == "report" else VIEW_BOXES
            assert overflowing(driver, boxes) == [], name
            assert not page_overflows(driver), name
            text = driver.find_element(By.TAG_NAME, "body").text
            source = driver.page_source
            for where in (text, source):
                for folder in (str(server.home), "/tmp/", "/home/", "/root/"):
                    assert folder not in where, (name, folder)
            if name.startswith("segments"):
                heads = driver.find_elements(By.CSS_SELECTOR, "table.segments thead th")
                assert [h.text for h in heads] == HEADERS
                assert machine_names(text.split("Customers", 1)[0]) == []  # above the rows
                purchases = driver.find_elements(
                    By.CSS_SELECTOR, "table.segments tbody td:nth-child(8)"
                )
                assert purchases and all(re.fullmatch(r"\d+", c.text) for c in purchases)
            if name == "report":
                assert "days since last visit" in text and "days_since_last_event" not in text
            driver.switch_to.default_content()
            driver.save_screenshot(str(ARTIFACTS / f"airflow_view_{name}_page.png"))
    finally:
        driver.quit()


def test_the_backfill_dialog_starts_at_one_active_run(server: Server) -> None:
    """What the README says of the UI's backfill: Trigger → Backfill, Missing Runs, Max Active
    Runs 1 (the dialog of Airflow 3.3, on the DAG serialized into the server's database)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    serialized = subprocess.run(
        [str(BIN / "airflow"), "dags", "reserialize"],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert serialized.returncode == 0, serialized.stderr[-3000:]
    driver = browser()
    try:
        wait = log_in(driver, server)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "nav, a[href$='/dags']")))
        driver.get(f"{server.url}/dags/customer_segmentation")
        trigger = wait.until(
            ec.element_to_be_clickable(
                (By.XPATH, "//button[normalize-space()='Trigger' or @aria-label='Trigger']")
            )
        )
        trigger.click()
        wait.until(ec.presence_of_element_located((By.XPATH, "//*[normalize-space()='Backfill']")))
        driver.find_element(By.XPATH, "//label[.//*[normalize-space()='Backfill']]").click()
        runs = wait.until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "input[name=max_active_runs]"))
        )
        assert runs.get_attribute("value") == "1"
        reprocess = driver.find_element(By.CSS_SELECTOR, "input[type=radio][value=none]")
        assert reprocess.is_selected()  # "Missing Runs"
        assert "Max Active Runs" in driver.find_element(By.TAG_NAME, "body").text
        assert driver.find_elements(By.XPATH, "//button[normalize-space()='Run Backfill']")
        driver.save_screenshot(str(ARTIFACTS / "airflow_backfill_dialog.png"))
    finally:
        driver.quit()
