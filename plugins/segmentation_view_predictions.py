"""The predictions in the Segments view: a sorted page of ``customer_predictions``, each
prediction model's status from ``prediction_quality``, and their HTML (the models' table and
the churn-risk filter).

Used by ``segmentation_view_app.py`` (its ``/predictions`` page and the runs page). Like the
other modules of the plugins folder, which Airflow imports in every process, it imports only
the standard library at module level; DuckDB and the ``segmentation`` package when called.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from segmentation.layout import Home

PREDICTIONS = "customer_predictions"
QUALITY = "prediction_quality"
# columns the page does not repeat on every row: its run and its models are shown above
HIDDEN = ("run_date", "model_version", "btyd_version")
# who is at risk first, then the file's other columns in their order
FIRST = (
    "customer_id",
    "customer_key",
    "churn_risk",
    "churn_probability",
    "churn_decile",
    "p_alive",
)
MODEL_LABELS = {"bgnbd": "BG/NBD", "gamma_gamma": "Gamma-Gamma", "churn": "Churn classifier"}


def read_sorted(
    path: Path,
    churn_risk: str,
    sort: tuple[str, str],
    page: int,
    page_size: int,
) -> tuple[int, list[str], list[tuple[Any, ...]], int]:
    """Customers (of ``churn_risk``, or all), the columns shown (``FIRST``, then the file's
    others, ``HIDDEN`` aside), the page's rows in ``sort`` order (a column of the file,
    checked by the caller, and asc or desc; missing values last, then by customer) and the
    page shown (the last one when ``page`` is past the end)."""
    import duckdb

    from segmentation.io import lake
    from segmentation.report.data import customer_column

    names = [c for c in lake.column_names(path) if c not in HIDDEN]
    ordered = [c for c in FIRST if c in names] + [c for c in names if c not in FIRST]
    who = customer_column(path)  # customer_key when published pseudonymous
    shown = ", ".join(_quoted(c) for c in ordered)
    column, order = sort
    source = "read_parquet(?, hive_partitioning = true)"
    condition, args = (" WHERE churn_risk = ?", [churn_risk]) if churn_risk else ("", [])
    direction = "DESC" if order == "desc" else "ASC"
    con = duckdb.connect()
    try:
        found = con.execute(f"SELECT count(*) FROM {source}{condition}", [str(path), *args])
        total = int((found.fetchone() or (0,))[0])
        page = min(page, max(1, math.ceil(total / page_size)))
        cursor = con.execute(
            f"SELECT {shown} FROM {source}{condition} "
            f"ORDER BY {_quoted(column)} {direction} NULLS LAST, {who} LIMIT ? OFFSET ?",
            [str(path), *args, page_size, (page - 1) * page_size],
        )
        columns = [d[0] for d in cursor.description or []]
        return total, columns, cursor.fetchall(), page
    finally:
        con.close()


def _quoted(column: str) -> str:
    """A column's name as a quoted SQL identifier."""
    return '"' + column.replace('"', '""') + '"'


def prediction_models(home: Home, day: dt.date) -> list[dict[str, str]]:
    """Each prediction model's label, status, version, held-out ROC AUC (the churn
    classifier's, as text) and reason in run ``day``; empty when the run published none."""
    from segmentation.io import lake
    from segmentation.report.formatting import as_text

    path = home.partition(QUALITY, day)
    if not path.is_file():
        return []
    quality = lake.read_file(path)
    out = []
    for model, label in MODEL_LABELS.items():
        # the row of the champion a challenger was held to is about another model
        rows = quality[(quality["model"] == model) & (quality["metric"] != "champion_roc_auc")]
        if rows.empty:
            continue
        row = rows.iloc[0]
        auc = rows.loc[rows["metric"] == "roc_auc", "value"]
        out.append(
            {
                "model": model,
                "label": label,
                "status": as_text(row["status"]),
                "version": as_text(row["model_version"]),
                "roc_auc": f"{float(auc.iloc[0]):.3f}" if len(auc) else "",
                "reason": as_text(row["reason"]),
            }
        )
    return out


def churn_status(home: Home, day: dt.date) -> str:
    """The churn classifier of run ``day`` in a few words ("champion, ROC AUC 0.926",
    "skipped"); empty when the run published no predictions."""
    churn = [m for m in prediction_models(home, day) if m["model"] == "churn"]
    if not churn:
        return ""
    auc = churn[0]["roc_auc"]
    return churn[0]["status"] + (f", ROC AUC {auc}" if auc else "")


def models_table(models: list[dict[str, str]]) -> str:
    """The prediction models of a run (``prediction_models``) as an HTML table."""
    if not models:
        return '<p class="muted">No prediction models recorded for this run.</p>'
    keys = ("label", "status", "version", "roc_auc", "reason")
    rows = "".join(
        "<tr>" + "".join(f"<td>{_esc(m[k] or '—')}</td>" for k in keys) + "</tr>" for m in models
    )
    return (
        '<table class="summary models"><thead><tr><th>Model</th><th>Status</th>'
        "<th>Version</th><th>Held-out ROC AUC</th><th>Reason</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def risk_form(action: str, run_date: dt.date | None, churn_risk: str, sort: tuple[str, str]) -> str:
    """The form that filters the predictions by churn risk, keeping the run and the sort."""
    from segmentation.catalog import CHURN_RISKS

    options = "".join(
        f'<option value="{r}"{" selected" if r == churn_risk else ""}>{r}</option>'
        for r in CHURN_RISKS
    )
    kept = {"run_date": run_date.isoformat()} if run_date else {}
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{_esc(v)}">'
        for k, v in {**kept, "sort": sort[0], "order": sort[1]}.items()
    )
    clear = _esc(f"{action}?{urlencode(kept)}" if kept else action)
    return (
        f'<form class="filter" method="get" action="{_esc(action)}">{hidden}'
        '<label>Churn risk <select name="churn_risk"><option value="">all</option>'
        f'{options}</select></label> <button type="submit">Filter</button> '
        f'<a href="{clear}">clear</a></form>'
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
