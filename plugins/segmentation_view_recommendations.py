"""The recommendations in the Segments view: a page of ``customer_recommendations`` (a
customer's ten items, best first), what is served and the held-out figures from
``recommendation_quality``, the strongest rules of ``association_rules``, and their HTML.

Used by ``segmentation_view_app.py`` (its ``/recommendations`` page and the runs page). Like
the other modules of the plugins folder, which Airflow imports in every process, it imports
only the standard library at module level; DuckDB and the ``segmentation`` package when
called.
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

RECOMMENDATIONS = "customer_recommendations"
QUALITY = "recommendation_quality"
RULES = "association_rules"
# columns the page does not repeat on every row: its run and its model are shown above
HIDDEN = ("run_date", "model_version")
MODEL_LABELS = {
    "als": "ALS model (similar customers)",
    "popular": "Best sellers (all customers)",
    "segment_popular": "Segment best sellers",
}
SOURCE_LABELS = {
    "collaborative": "model (similar customers)",
    "rule": "bought together (rules)",
    "segment_popular": "segment best sellers",
    "popular": "everyone's best sellers",
}
FIGURES = ("ndcg_at_10", "precision_at_10", "recall_at_10", "customers")
TOP_RULES = 3  # rules shown per segment


def read_page(
    path: Path, customer_id: str, source: str, page: int, page_size: int
) -> tuple[int, list[str], list[tuple[Any, ...]], int]:
    """Rows (of ``customer_id`` and ``source`` when given), the columns shown (the file's,
    ``HIDDEN`` aside), the page's rows in file order (customer, then rank: a customer's list
    reads top down) and the page shown (the last one when ``page`` is past the end).

    DuckDB reads only what the page needs: the filter columns to count, then ``page_size``
    rows, so a page of ten million rows takes milliseconds and little memory."""
    import duckdb

    from segmentation.io import lake
    from segmentation.report.data import customer_column

    names = [c for c in lake.column_names(path) if c not in HIDDEN]
    shown = ", ".join(_quoted(c) for c in names)
    where, args = [], []
    # the customer box looks up customer_key where the table was published pseudonymous
    for column, value in ((customer_column(path), customer_id), ("source", source)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    scan = "read_parquet(?, hive_partitioning = false)"
    con = duckdb.connect()
    try:
        found = con.execute(f"SELECT count(*) FROM {scan}{condition}", [str(path), *args])
        total = int((found.fetchone() or (0,))[0])
        page = min(page, max(1, math.ceil(total / page_size)))
        cursor = con.execute(
            f"SELECT {shown} FROM {scan}{condition} LIMIT ? OFFSET ?",
            [str(path), *args, page_size, (page - 1) * page_size],
        )
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    finally:
        con.close()
    if "source" in columns:  # the source in words, as the form offers it
        at = columns.index("source")
        rows = [(*r[:at], SOURCE_LABELS.get(r[at], r[at]), *r[at + 1 :]) for r in rows]
    return total, columns, rows, page


def _quoted(column: str) -> str:
    """A column's name as a quoted SQL identifier."""
    return '"' + column.replace('"', '""') + '"'


def recommendation_models(home: Home, day: dt.date) -> list[dict[str, str]]:
    """Each model of run ``day``'s ``recommendation_quality``: label, status, version, the
    held-out figures (``FIGURES``, as text) and the reason; empty when the run published
    none."""
    from segmentation.io import lake
    from segmentation.report.formatting import as_text

    path = home.partition(QUALITY, day)
    if not path.is_file():
        return []
    quality = lake.read_file(path)
    out = []
    for model in dict.fromkeys(quality["model"]):
        rows = quality[quality["model"] == model]
        values = dict(zip(rows["metric"], rows["value"], strict=True))
        figures = {
            f: ("" if _missing(values.get(f)) else _figure(f, float(values[f]))) for f in FIGURES
        }
        out.append(
            {
                "model": str(model),
                "label": MODEL_LABELS.get(str(model), str(model)),
                "status": as_text(rows["status"].iloc[0]),
                "version": as_text(rows["model_version"].iloc[0]),
                "reason": as_text(rows["reason"].iloc[0]),
                **figures,
            }
        )
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _figure(metric: str, value: float) -> str:
    return f"{round(value):,}" if metric == "customers" else f"{value:.3f}"


def recommendation_status(home: Home, day: dt.date) -> str:
    """What run ``day`` serves in a few words ("ALS model served, NDCG@10 0.128", "Segment
    best sellers served, NDCG@10 0.056", "skipped"); empty when it published none."""
    models = recommendation_models(home, day)
    served = [m for m in models if m["status"] == "served"]
    if not served:
        return "skipped" if models else ""
    ndcg = served[0]["ndcg_at_10"]
    label = {"als": "ALS model"}.get(served[0]["model"], served[0]["label"])
    return f"{label} served" + (f", NDCG@10 {ndcg}" if ndcg else "")


def models_table(models: list[dict[str, str]]) -> str:
    """The models of a run (``recommendation_models``) as an HTML table, and under it the
    reason (one a night: the comparison that decides what is served, or why none was)."""
    if not models:
        return '<p class="muted">No recommendation models recorded for this run.</p>'
    keys = ("label", "status", "version", *FIGURES)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_esc(m[k] or '—')}</td>" for k in keys) + "</tr>" for m in models
    )
    reasons = list(dict.fromkeys(m["reason"] for m in models if m["reason"]))
    why = "".join(f'<p class="reason">Why: {_esc(r)}</p>' for r in reasons)
    return (
        '<table class="summary models"><thead><tr><th>Model</th><th>Status</th>'
        "<th>Version</th><th>Held-out NDCG@10</th><th>Precision@10</th><th>Recall@10</th>"
        f"<th>Customers evaluated</th></tr></thead><tbody>{rows}</tbody></table>{why}"
    )


def rules_table(home: Home, day: dt.date) -> str:
    """The ``TOP_RULES`` strongest rules of each segment of run ``day`` and of all customers,
    as an HTML table (segments by their name in that run's ``segment_profiles``). A segment
    too small to show (its rules suppressed) is one line that says so; a suppressed rule of
    a shown segment (too few baskets) is left out."""
    from segmentation.io import lake
    from segmentation.io.parquet import segment_names
    from segmentation.report import STRINGS
    from segmentation.report.data import hidden_segments
    from segmentation.report.formatting import hidden_text

    path = home.partition(RULES, day)
    if not path.is_file():
        return '<p class="muted">No association rules recorded for this run.</p>'
    rules = lake.read_file(path)
    if rules.empty:
        return '<p class="muted">No rule tonight: no items were bought together often enough.</p>'
    names = segment_names(home, day)
    profiles = home.partition("segment_profiles", day)
    hidden = hidden_segments(lake.read_file(profiles)) if profiles.is_file() else {}
    if "suppressed" in rules:
        rules = rules[~rules["suppressed"].fillna(False).astype(bool)]
    rules = rules[rules["rank"] <= TOP_RULES].copy()
    rules["order"] = rules["segment_id"].fillna(-1).astype("int64")
    rows = [
        f"<tr><td>{_esc(f'{names.get(sid, sid)} ({sid})')}</td>"
        f'<td colspan="5">{_esc(hidden_text(why, STRINGS["en"]))}</td></tr>'
        for sid, why in sorted(hidden.items())
    ]
    for rule in rules.sort_values(["order", "rank"], kind="stable").itertuples(index=False):
        sid = None if rule.order < 0 else int(rule.order)
        group = "All customers" if sid is None else f"{names.get(sid, sid)} ({sid})"
        cells = (
            group,
            " + ".join(map(str, rule.antecedent)),
            " + ".join(map(str, rule.consequent)),
            f"{float(rule.confidence) * 100:.1f}%",
            f"{float(rule.lift):.1f}×",
            f"{int(rule.baskets):,}",
        )
        rows.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>")
    return (
        '<table class="summary rules"><thead><tr><th>Segment</th><th>Customers who buy</th>'
        "<th>also buy</th><th>Confidence</th><th>As often as others</th><th>Baskets</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def source_form(action: str, run_date: dt.date | None, customer_id: str, source: str) -> str:
    """The form that finds a customer's list and filters by source, keeping the run."""
    options = "".join(
        f'<option value="{s}"{" selected" if s == source else ""}>{_esc(label)}</option>'
        for s, label in SOURCE_LABELS.items()
    )
    kept = {"run_date": run_date.isoformat()} if run_date else {}
    hidden = "".join(f'<input type="hidden" name="{k}" value="{_esc(v)}">' for k, v in kept.items())
    clear = _esc(f"{action}?{urlencode(kept)}" if kept else action)
    return (
        f'<form class="filter" method="get" action="{_esc(action)}">{hidden}'
        f'<label>Customer <input name="customer_id" value="{_esc(customer_id)}" size="12">'
        '</label> <label>Source <select name="source"><option value="">all</option>'
        f'{options}</select></label> <button type="submit">Filter</button> '
        f'<a href="{clear}">clear</a></form>'
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
