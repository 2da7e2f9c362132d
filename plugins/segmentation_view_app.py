"""The pages behind the Segments view: runs, reports, validation results, segment tables,
predictions, recommendations, and campaigns and audiences (the reading and HTML of the last
three in ``segmentation_view_predictions.py``, ``segmentation_view_recommendations.py`` and
``segmentation_view_campaigns.py``).

``build_app()`` makes the FastAPI app that ``segmentation_view.py`` mounts on the Airflow API
server under ``/segmentation``. Every route of it requires Airflow's own authentication (the
JWT of the Airflow login, as the UI's ``_token`` cookie or an ``Authorization: Bearer``
header) and read access to the ``customer_segmentation`` DAG's runs, checked by Airflow's auth
manager (``airflow.api_fastapi.core_api.security.requires_access_dag``): the segment table
holds customer data.

The pipeline's configuration is read on every request (``segmentation.config.load_config``,
from ``$SEGMENTATION_CONFIG``), never at import: Airflow imports every module of the plugins
folder in every process, with or without that variable, and a config edited while the server
runs is picked up at the next request. Module-level imports stay light (the standard library
and FastAPI); Airflow's API security, pyarrow and the ``segmentation`` package are imported
when first needed.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

if TYPE_CHECKING:  # imported when first needed: the plugin stays cheap to import
    from segmentation.layout import Home

DAG_ID = "customer_segmentation"
TABLE = "customer_segments"
PAGE_SIZE = 100
RUNS_PAGE_SIZE = 100

# Our pages run no script and load nothing but their own inline style; only Airflow (same
# origin) may frame them.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
# A report is served as is, but sandboxed: its scripts (charts) run in an opaque origin, so
# nothing in it can act on the Airflow API with the viewer's session.
REPORT_CSP = "sandbox allow-scripts allow-popups; frame-ancestors 'self'"

router = APIRouter()


class Unavailable(Exception):
    """The view cannot read the pipeline's configuration: shown as a page, with the fix."""


def build_app() -> FastAPI:
    """The plugin's FastAPI app; every route requires an Airflow user who may read the DAG."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    # Airflow's dependency: resolves the user from the Bearer header or the `_token` cookie
    # (401 without one, 403 for an invalid one), then asks the auth manager whether that user
    # may read the runs of DAG_ID (403 if not).
    can_read_runs = Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=DAG_ID))
    app = FastAPI(
        title="Customer segmentation",
        # no generated docs: they would be routes outside these dependencies
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[can_read_runs],
    )
    app.include_router(router)  # the app's dependencies apply to every route in it
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Unavailable, _unavailable)
    return app


# ---------------------------------------------------------------- routes


@router.get("/", response_class=HTMLResponse)
def runs_page(request: Request, page: int = Query(1, ge=1)) -> HTMLResponse:
    import segmentation_view_campaigns  # the plugins folder is on sys.path
    import segmentation_view_predictions
    import segmentation_view_recommendations

    from segmentation.report.cells import validation_label

    home = _home()
    runs = _run_days(home)[::-1]  # newest first
    current = _current_run_date(home)
    page, pages, shown = _paginate(runs, page, RUNS_PAGE_SIZE)
    root = _root(request)
    rows = []
    for day in shown:
        d = day.isoformat()
        report = (
            f'<a href="{root}/runs/{d}/report">open report</a>'
            if home.report(day).is_file()
            else '<span class="muted">no report</span>'
        )
        summary = _validation_summary(home, day)
        if summary is None:
            validation = '<span class="muted">no validation result</span>'
        else:
            validation = f'<a href="{root}/runs/{d}/validation">{validation_label(summary)}</a>'
        churn = segmentation_view_predictions.churn_status(home, day)
        predictions = (
            f'<a href="{_url(f"{root}/predictions", {"run_date": d})}">{_esc(churn)}</a>'
            if churn
            else '<span class="muted">no predictions</span>'
        )
        served = segmentation_view_recommendations.recommendation_status(home, day)
        recommendations = (
            f'<a href="{_url(f"{root}/recommendations", {"run_date": d})}">{_esc(served)}</a>'
            if served
            else '<span class="muted">no recommendations</span>'
        )
        measured = segmentation_view_campaigns.campaign_status(home, day)
        campaigns = (
            f'<a href="{_url(f"{root}/campaigns", {"run_date": d})}">{_esc(measured)}</a>'
            if measured
            else '<span class="muted">no campaigns</span>'
        )
        badge = ' <span class="badge">current</span>' if day == current else ""
        rows.append(
            "<tr>"
            f"<td>{d}{badge}</td>"
            f'<td class="num">{_row_count(home.partition(TABLE, day)):,}</td>'
            f"<td>{validation}</td>"
            f"<td>{report}</td>"
            f'<td><a href="{_url(f"{root}/segments", {"run_date": d})}">segments</a></td>'
            f"<td>{predictions}</td>"
            f"<td>{recommendations}</td>"
            f"<td>{campaigns}</td>"
            "</tr>"
        )
    if runs:
        body = (
            f"<p>{len(runs)} run{'s' if len(runs) != 1 else ''} with a published segment "
            "table, newest first.</p>"
            '<table class="runs"><thead><tr><th>Run date</th><th>Customers</th>'
            "<th>Validation</th><th>Report</th><th>Segment table</th>"
            "<th>Churn classifier</th><th>Recommendations</th><th>Campaigns</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>" + _pager(f"{root}/", {}, page, pages)
        )
    else:
        body = (
            '<p class="empty">No runs yet: no segment table has been published. Runs appear '
            f"here once the <code>{DAG_ID}</code> DAG has published a night.</p>"
        )
    return _html_page(request, "Runs", body)


@router.get("/runs/{run_date}/report")
def report(run_date: dt.date) -> Response:
    path = _home().report(run_date)
    if not path.is_file():
        raise HTTPException(404, f"no report for run {run_date.isoformat()}")
    return FileResponse(
        path,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"},
    )


@router.get("/runs/{run_date}/validation", response_class=HTMLResponse)
def validation(request: Request, run_date: dt.date) -> HTMLResponse:
    from segmentation.report.cells import validation_badge

    summary = _validation_summary(_home(), run_date)
    d = run_date.isoformat()
    if summary is None:
        raise HTTPException(404, f"no validation result for {d}")
    failures = summary["failures"]
    items = "".join(f"<li><code>{_esc(str(f))}</code></li>" for f in failures)
    failure_list = f'<ul class="failures">{items}</ul>' if failures else "<p>No failures.</p>"
    evaluated = summary["evaluated"]
    held = summary.get("held") or 0
    # a day promoted without a few bad rows: its failures are those rows' checks
    held_row = (
        f"<tr><th>Rows held back</th><td>{held:,} of {summary.get('read') or 0:,} "
        "(in quarantine; <code>segmentation quarantine</code> lists them)</td></tr>"
        if held
        else ""
    )
    body = (
        f"<h2>Validation of the events of {d}</h2>"
        '<table class="summary">'
        f"<tr><th>Result</th><td>{validation_badge(summary)}</td></tr>"
        f"<tr><th>Checked</th><td>{'' if evaluated is None else _esc(str(evaluated))} "
        "expectations</td></tr>"
        f"<tr><th>Failures</th><td>{len(failures)}</td></tr>"
        f"{held_row}"
        f"<tr><th>Suite</th><td>{_esc(str(summary['suite'] or ''))}</td></tr>"
        "</table>"
        f"<h3>{'Checks that failed on single rows' if held else 'Failures'}</h3>{failure_list}"
    )
    return _html_page(request, f"Validation {d}", body)


@router.get("/segments", response_class=HTMLResponse)
def segments_page(
    request: Request,
    run_date: dt.date | None = None,
    segment_id: str = "",
    segment_name: str = "",
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    path, shown_run, title = _segment_table(_home(), run_date)  # the path is never shown
    wanted_id = _segment_id(segment_id)
    where: list[str] = []
    args: list[Any] = []
    if wanted_id is not None:
        where.append("segment_id = ?")
        args.append(wanted_id)
    if segment_name:
        where.append("segment_name = ?")
        args.append(segment_name)
    segments, total, columns, rows, page = _read_page(path, where, args, page)
    pages = max(1, math.ceil(total / PAGE_SIZE))

    root = _root(request)
    params = {"run_date": run_date.isoformat()} if run_date else {}
    form = _filter_form(root, run_date, params, segments, wanted_id, segment_name)
    if wanted_id is not None:
        params["segment_id"] = str(wanted_id)
    if segment_name:
        params["segment_name"] = segment_name
    first = (page - 1) * PAGE_SIZE + 1 if total else 0
    last = min(page * PAGE_SIZE, total)
    run_note = f"Published by run {shown_run.isoformat()}." if shown_run else "Run date unknown."
    body = (
        f"<h2>{_esc(title)}</h2>"
        f'<p class="run">{run_note}</p>'
        f"{form}"
        f'<p class="count">Customers {first:,}–{last:,} of {total:,}.</p>'
        + _pager(f"{root}/segments", params, page, pages)
        + _rows_table(columns, rows)
    )
    return _html_page(request, title, body)


def _segment_table(home: Home, run_date: dt.date | None) -> tuple[Path, dt.date | None, str]:
    """The segment table's file (current, or of ``run_date``), its run date and page title.

    A table that does not exist is a 404 that says which run's table is missing.
    """
    if run_date is None:
        path = home.current_table(TABLE)
        shown_run = _current_run_date(home)
        title = "Current segment table"
    else:
        path = home.partition(TABLE, run_date)
        shown_run = run_date
        title = f"Segment table of {run_date.isoformat()}"
    if not path.is_file():
        what = "current" if run_date is None else f"run {run_date.isoformat()}"
        raise HTTPException(404, f"no segment table ({TABLE}) for the {what}: not published")
    return path, shown_run, title


def _segment_id(segment_id: str) -> int | None:
    """The ``segment_id`` filter: None for all segments; not a whole number is a 400."""
    if not segment_id.strip():
        return None
    try:
        return int(segment_id)
    except ValueError:
        raise HTTPException(400, f"segment_id must be a whole number, got {segment_id!r}") from None


def _filter_form(
    root: str,
    run_date: dt.date | None,
    params: dict[str, str],
    segments: list[tuple[int, str]],
    wanted_id: int | None,
    segment_name: str,
) -> str:
    """The form that filters the table by segment id and name (``params``: the clear link)."""
    id_options = "".join(
        f'<option value="{i}"{" selected" if i == wanted_id else ""}>{i} — {_esc(n)}</option>'
        for i, n in segments
    )
    names = sorted({n for _, n in segments})
    name_options = "".join(
        f'<option value="{_esc(n)}"{" selected" if n == segment_name else ""}>{_esc(n)}</option>'
        for n in names
    )
    hidden = (
        f'<input type="hidden" name="run_date" value="{run_date.isoformat()}">' if run_date else ""
    )
    return (
        f'<form class="filter" method="get" action="{root}/segments">{hidden}'
        '<label>Segment id <select name="segment_id"><option value="">all</option>'
        f"{id_options}</select></label> "
        '<label>Segment <select name="segment_name"><option value="">all</option>'
        f"{name_options}</select></label> "
        '<button type="submit">Filter</button> '
        f'<a href="{_url(f"{root}/segments", params)}">clear</a></form>'
    )


def _column_label(name: str) -> str:
    from segmentation.report.cells import column_label

    return column_label(name)


def _rows_table(
    columns: list[str],
    rows: list[tuple[Any, ...]],
    kind: str = "segments",
    links: dict[str, str] | None = None,
) -> str:
    """The page's rows under human headers (the column's name as a tooltip), each header a
    link (to sort by it) when ``links`` has one; ``kind`` is the table's class."""
    from segmentation.report.cells import cell

    head = "".join(
        f'<th title="{_esc(c)}">'
        + (
            f'<a href="{links[c]}">{_esc(_column_label(c))}</a>'
            if links and c in links
            else _esc(_column_label(c))
        )
        + "</th>"
        for c in columns
    )
    body_rows = "".join(
        "<tr>" + "".join(cell(c, v) for c, v in zip(columns, row, strict=True)) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table class="{kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body_rows}</tbody></table></div>"
    )


@router.get("/predictions", response_class=HTMLResponse)
def predictions_page(
    request: Request,
    run_date: dt.date | None = None,
    churn_risk: str = "",
    sort: str = "churn_probability",
    order: str = "desc",
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    """``customer_predictions`` (current, or a run's), 100 customers a page, most likely to
    leave first (any column sorts: its header is a link), filtered by churn risk; above it
    the status of each prediction model of the run (``prediction_quality``)."""
    import segmentation_view_predictions as predictions  # the plugins folder is on sys.path

    from segmentation.io import lake

    home = _home()
    table = predictions.PREDICTIONS
    path = home.partition(table, run_date) if run_date else home.current_table(table)
    if not path.is_file():
        what = f"run {run_date.isoformat()}" if run_date else "current run"
        raise HTTPException(404, f"no predictions ({table}) for the {what}: not published")
    from segmentation.catalog import CHURN_RISKS

    if churn_risk not in ("", *CHURN_RISKS):
        raise HTTPException(400, f"churn_risk must be low, medium or high, got {churn_risk!r}")
    if order not in ("asc", "desc") or sort not in lake.column_names(path):
        raise HTTPException(400, f"sort by a column of {table}, order asc or desc")
    total, columns, rows, page = predictions.read_sorted(
        path, churn_risk, (sort, order), page, PAGE_SIZE
    )
    shown_run = run_date or _current_run_date(home, table)
    root = _root(request)
    params = {"run_date": run_date.isoformat()} if run_date else {}
    params |= {"churn_risk": churn_risk} if churn_risk else {}
    flip = {"asc": "desc", "desc": "asc"}
    links = {
        c: _url(
            f"{root}/predictions",
            {**params, "sort": c, "order": flip[order] if c == sort else "desc"},
        )
        for c in columns
    }
    first, last = ((page - 1) * PAGE_SIZE + 1 if total else 0), min(page * PAGE_SIZE, total)
    title = f"Predictions of {run_date.isoformat()}" if run_date else "Current predictions"
    body = (
        f"<h2>{_esc(title)}</h2>"
        f'<p class="run">Published by run {shown_run.isoformat() if shown_run else "unknown"}.</p>'
        + predictions.models_table(
            predictions.prediction_models(home, shown_run) if shown_run else []
        )
        + predictions.risk_form(f"{root}/predictions", run_date, churn_risk, (sort, order))
        + f'<p class="count">Customers {first:,}–{last:,} of {total:,}, by '
        f"{_esc(_column_label(sort))}, {'highest' if order == 'desc' else 'lowest'} first.</p>"
        + _pager(
            f"{root}/predictions",
            {**params, "sort": sort, "order": order},
            page,
            max(1, math.ceil(total / PAGE_SIZE)),
        )
        + _rows_table(columns, rows, "predictions", links)
    )
    return _html_page(request, title, body)


@router.get("/recommendations", response_class=HTMLResponse)
def recommendations_page(
    request: Request,
    run_date: dt.date | None = None,
    customer_id: str = "",
    source: str = "",
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    """``customer_recommendations`` (current, or a run's), 100 rows a page in the file's order
    (a customer's items best first), found by customer and filtered by source; above it what
    the run serves and why, the models' held-out figures (``recommendation_quality``) and the
    strongest rules of each segment (``association_rules``)."""
    import segmentation_view_recommendations as recommendations  # the plugins folder

    from segmentation.catalog import RECOMMENDATION_SOURCES

    home = _home()
    table = recommendations.RECOMMENDATIONS
    path = home.partition(table, run_date) if run_date else home.current_table(table)
    if not path.is_file():
        what = f"run {run_date.isoformat()}" if run_date else "current run"
        raise HTTPException(404, f"no recommendations ({table}) for the {what}: not published")
    if source not in ("", *RECOMMENDATION_SOURCES):
        choices = ", ".join(RECOMMENDATION_SOURCES)
        raise HTTPException(400, f"source must be one of {choices}, got {source!r}")
    customer_id = customer_id.strip()
    total, columns, rows, page = recommendations.read_page(
        path, customer_id, source, page, PAGE_SIZE
    )
    shown_run = run_date or _current_run_date(home, table)
    root = _root(request)
    params = {"run_date": run_date.isoformat()} if run_date else {}
    params |= {"customer_id": customer_id} if customer_id else {}
    params |= {"source": source} if source else {}
    first, last = ((page - 1) * PAGE_SIZE + 1 if total else 0), min(page * PAGE_SIZE, total)
    title = f"Recommendations of {run_date.isoformat()}" if run_date else "Current recommendations"
    models = recommendations.recommendation_models(home, shown_run) if shown_run else []
    body = (
        f"<h2>{_esc(title)}</h2>"
        f'<p class="run">Published by run {shown_run.isoformat() if shown_run else "unknown"}.</p>'
        "<h3>What is served, and the held-out figures</h3>"
        + recommendations.models_table(models)
        + "<h3>Bought together: each segment's strongest rules</h3>"
        + (recommendations.rules_table(home, shown_run) if shown_run else "")
        + "<h3>Each customer's items, best first</h3>"
        + recommendations.source_form(f"{root}/recommendations", run_date, customer_id, source)
        + f'<p class="count">Recommendations {first:,}–{last:,} of {total:,}.</p>'
        + _pager(f"{root}/recommendations", params, page, max(1, math.ceil(total / PAGE_SIZE)))
        + _rows_table(columns, rows, "recommendations")
    )
    return _html_page(request, title, body)


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(
    request: Request,
    run_date: dt.date | None = None,
    audience: str = "",
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    """The campaigns of a run (current: the newest) from ``campaign_results``: each one's
    result and its rows per segment; tonight's audiences (``audience_members``,
    ``audience_changes``); and 100 members a page, of one audience or all."""
    import segmentation_view_campaigns as campaigns  # the plugins folder is on sys.path

    home = _home()
    table = campaigns.MEMBERS
    path = home.partition(table, run_date) if run_date else home.current_table(table)
    shown_run = run_date or _current_run_date(home, table)
    if not path.is_file() or shown_run is None:
        what = f"run {run_date.isoformat()}" if run_date else "current run"
        raise HTTPException(404, f"no audiences ({table}) for the {what}: not published")
    groups = campaigns.audiences(home, shown_run)
    names = [str(g["audience"]) for g in groups]
    audience = audience.strip()
    if audience and audience not in names:
        raise HTTPException(400, f"audience must be one of {', '.join(names)}, got {audience!r}")
    changes = home.partition(campaigns.CHANGES, shown_run)
    total, columns, rows, page = campaigns.read_members(
        path, changes if changes.is_file() else None, audience, page, PAGE_SIZE
    )
    results = campaigns.campaign_rows(home, shown_run)
    root = _root(request)
    params = {"run_date": run_date.isoformat()} if run_date else {}
    params |= {"audience": audience} if audience else {}
    first, last = ((page - 1) * PAGE_SIZE + 1 if total else 0), min(page * PAGE_SIZE, total)
    title = (
        f"Campaigns and audiences of {run_date.isoformat()}"
        if run_date
        else "Current campaigns and audiences"
    )
    head = f'<h2>{_esc(title)}</h2><p class="run">Published by run {shown_run.isoformat()}.</p>'
    if not results and not groups:  # nothing configured: say how, as the report does
        return _html_page(request, title, head + campaigns.how_to_define())
    body = (
        head
        + "<h3>Does each campaign work?</h3>"
        + campaigns.campaigns_table(results)
        + "<h3>By segment at the start</h3>"
        + campaigns.segments_table(results)
        + "<h3>Audiences tonight</h3>"
        + campaigns.audiences_table(groups)
        + "<h3>Each audience's members</h3>"
        + campaigns.audience_form(f"{root}/campaigns", run_date, names, audience)
        + f'<p class="count">Members {first:,}–{last:,} of {total:,}.</p>'
        + _pager(f"{root}/campaigns", params, page, max(1, math.ceil(total / PAGE_SIZE)))
        + _rows_table(columns, rows, "members")
    )
    return _html_page(request, title, body)


# ---------------------------------------------------------------- data


def _home() -> Home:
    """The pipeline's home, from the config named by $SEGMENTATION_CONFIG (per request)."""
    try:
        from segmentation.config import load_config
        from segmentation.errors import SegmentationError
        from segmentation.layout import Home
    except ImportError as exc:
        raise Unavailable(
            "The segmentation package cannot be imported by the Airflow API server "
            f"({exc}). Install the project into the Python environment that runs Airflow."
        ) from exc
    try:
        return Home(load_config().home)
    except SegmentationError as exc:
        from segmentation.report.cells import without_paths

        raise Unavailable(
            f"The pipeline's configuration cannot be read: {without_paths(str(exc))}. Set "
            "SEGMENTATION_CONFIG to "
            "the pipeline's config file (the one the DAG uses) in the environment of the "
            "Airflow API server (`airflow api-server` or `airflow standalone`) and restart it."
        ) from exc


def _run_days(home: Home) -> list[dt.date]:
    from segmentation.io import lake
    from segmentation.layout import RUN_KEY

    return lake.partition_days(home.table_root(TABLE), RUN_KEY)


def _current_run_date(home: Home, table: str = TABLE) -> dt.date | None:
    from segmentation.io import parquet

    return parquet.current_run_date(home, table)


def _row_count(path: Path) -> int:
    from segmentation.io import lake

    return lake.row_count(path)


def _read_page(
    path: Path, where: list[str], args: list[Any], page: int
) -> tuple[list[tuple[int, str]], int, list[str], list[tuple[Any, ...]], int]:
    """Segments (id, name), matching rows, columns, the page's rows and the page shown.

    DuckDB reads only what a page needs (the filter columns to count, then 100 rows in file
    order), so a page of a million-customer table takes milliseconds and little memory.
    """
    import duckdb

    # a partition's run_date is its folder name (hive), current's a column: first either way
    source = "read_parquet(?, hive_partitioning = true)"
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    con = duckdb.connect()
    try:
        segments = [
            (int(i), str(n))
            for i, n in con.execute(
                f"SELECT DISTINCT segment_id, segment_name FROM {source} "
                "WHERE segment_id IS NOT NULL ORDER BY 1, 2",
                [str(path)],
            ).fetchall()
        ]
        found = con.execute(f"SELECT count(*) FROM {source}{condition}", [str(path), *args])
        total = int((found.fetchone() or (0,))[0])
        page = min(page, max(1, math.ceil(total / PAGE_SIZE)))
        cursor = con.execute(
            f"SELECT run_date, * EXCLUDE (run_date) FROM {source}{condition} LIMIT ? OFFSET ?",
            [str(path), *args, PAGE_SIZE, (page - 1) * PAGE_SIZE],
        )
        columns = [d[0] for d in cursor.description or []]
        return segments, total, columns, cursor.fetchall(), page
    finally:
        con.close()


def _validation_summary(home: Home, day: dt.date) -> dict[str, Any] | None:
    """success, evaluated, failures (and suite) of the day's validation result, if any."""
    path = home.validation_record(day)
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # named by the day, never by the server's path
        failure = (
            f"the validation result of {day.isoformat()} cannot be read ({type(exc).__name__})"
        )
        return {"success": None, "evaluated": None, "failures": [failure], "suite": None}
    failures = raw.get("failures") or []
    return {
        "success": raw.get("success"),
        "evaluated": raw.get("evaluated_expectations", raw.get("evaluated")),
        "failures": failures if isinstance(failures, list) else [failures],
        "suite": raw.get("suite"),
        "held": int(raw.get("rows_quarantined") or 0) if raw.get("success") else 0,
        "read": int(raw.get("rows_read") or 0),
    }


# ---------------------------------------------------------------- HTML


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _root(request: Request) -> str:
    """Where this app is mounted (Airflow's base_url path + /segmentation), for links."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _url(path: str, params: dict[str, str]) -> str:
    """An escaped link to ``path`` with ``params`` as its query string."""
    return _esc(f"{path}?{urlencode(params)}" if params else path)


def _paginate(items: list[Any], page: int, size: int) -> tuple[int, int, list[Any]]:
    pages = max(1, math.ceil(len(items) / size))
    page = min(page, pages)
    return page, pages, items[(page - 1) * size : page * size]


def _pager(base: str, params: dict[str, str], page: int, pages: int) -> str:
    if pages <= 1:
        return ""

    def link(p: int, label: str) -> str:
        return f'<a href="{_url(base, {**params, "page": str(p)})}">{label}</a>'

    prev = link(page - 1, "← previous") if page > 1 else '<span class="muted">← previous</span>'
    nxt = link(page + 1, "next →") if page < pages else '<span class="muted">next →</span>'
    return f'<p class="pager">{prev} · page {page} of {pages} · {nxt}</p>'


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1rem 1.5rem;
       color: #1a202c; font-size: 14px; }
nav { margin-bottom: 1rem; } nav a { margin-right: 1rem; font-weight: 600; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; } h2 { font-size: 1.15rem; } h3 { font-size: 1rem; }
a { color: #017cee; text-decoration: none; } a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border-bottom: 1px solid #e2e8f0; padding: .3rem .5rem; text-align: left; }
td.num, td.date { white-space: nowrap; }
th { background: #f7fafc; font-weight: 600; position: sticky; top: 0; white-space: normal;
     vertical-align: bottom; }
p, li, label { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #718096; } .ok { color: #2f855a; font-weight: 600; }
.bad { color: #c53030; font-weight: 600; }
.badge { background: #ebf8ff; color: #2b6cb0; border-radius: 4px; padding: 0 .35rem;
         font-size: .8rem; }
.scroll { overflow: auto; max-height: 70vh; }
.filter { margin: .5rem 0; } .filter label { margin-right: .5rem; }
.error { border-left: 4px solid #c53030; background: #fff5f5; padding: .6rem 1rem; }
"""


def _html_page(request: Request, title: str, body: str, status_code: int = 200) -> HTMLResponse:
    root = _root(request)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)} · Customer segmentation</title><style>{STYLE}</style>"
        "</head><body><h1>Customer segmentation</h1>"
        f'<nav><a href="{root}/">Runs</a><a href="{root}/segments">Current segment table</a>'
        f'<a href="{root}/predictions">Current predictions</a>'
        f'<a href="{root}/recommendations">Current recommendations</a>'
        f'<a href="{root}/campaigns">Campaigns and audiences</a>'
        f"</nav><main>{body}</main></body></html>"
    )
    return HTMLResponse(
        page,
        status_code=status_code,
        headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"},
    )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def _http_error(request: Request, exc: Exception) -> Response:
    """401/403 from Airflow's security dependency, and our 400/404s: HTML for a browser."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if not _wants_html(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    detail = _esc(str(exc.detail))
    if exc.status_code == 401:
        body = (
            f'<p class="error">Not signed in ({detail}). <a href="{_login_url(request)}">Log in '
            "to Airflow</a>, then open the Segments view again.</p>"
        )
    elif exc.status_code == 403:
        body = (
            f'<p class="error">Access denied ({detail}): this view needs read access to the '
            f"runs of the <code>{DAG_ID}</code> DAG.</p>"
        )
    else:
        body = f'<p class="error">{detail}</p>'
    response = _html_page(request, "Error", body, status_code=exc.status_code)
    response.headers.update(headers)
    return response


async def _unavailable(request: Request, exc: Exception) -> Response:
    if not _wants_html(request):
        return JSONResponse({"detail": str(exc)}, status_code=503)
    body = f'<p class="error">{_esc(str(exc))}</p>'
    return _html_page(request, "Not configured", body, status_code=503)


def _login_url(request: Request) -> str:
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return _esc(get_auth_manager().get_url_login(next_url=str(request.url)))
    except Exception:  # no auth manager to ask: Airflow's home page leads to its login
        return "/"
