"""Campaigns and audiences in the Segments view: each campaign's result from
``campaign_results`` (status, groups, conversion uplift with its 95% interval and what it
says, incremental revenue, ROI, the smallest detectable uplift) and its rows per segment,
tonight's audiences (exported customers, control group, who entered and left, counted from
``audience_members`` and ``audience_changes``), a page of an audience's members, and their
HTML.

Used by ``segmentation_view_app.py`` (its ``/campaigns`` page and the runs page). The words
and the verdict are the report's (``segmentation.report.sections_campaigns``), so the view
and the report say the same. Like the other modules of the plugins folder, which Airflow
imports in every process, it imports only the standard library at module level; DuckDB and
the ``segmentation`` package when called.
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

RESULTS = "campaign_results"
MEMBERS = "audience_members"
CHANGES = "audience_changes"
# columns of the member list, in this order (the run is shown above, not on every row)
MEMBER_COLUMNS = ("audience", "customer_id", "segment_id", "is_control", "exported")


def campaign_rows(home: Home, day: dt.date) -> list[dict[str, str]]:
    """Each row of run ``day``'s ``campaign_results`` as text (``segment`` empty for the
    whole campaign, which comes first): status, dates, sizes, conversion, uplift and its
    interval, verdict, incremental revenue, ROI, detectable uplift and reason; empty when
    the run published none."""
    from segmentation.io import lake
    from segmentation.io.parquet import segment_names
    from segmentation.report.formatting import as_text

    path = home.partition(RESULTS, day)
    if not path.is_file():
        return []
    results = lake.read_file(path)
    names = segment_names(home, day)
    results["order"] = results["segment_id"].fillna(-1).astype("int64")
    out = []
    for row in results.sort_values(["order"], kind="stable").to_dict("records"):
        sid = int(row["order"])
        segment = "" if sid < 0 else f"{names.get(sid, sid)} ({sid})"
        out.append({"campaign": as_text(row["campaign"]), "segment": segment, **_said(row)})
    order = {c: i for i, c in enumerate(dict.fromkeys(r["campaign"] for r in out))}
    return sorted(out, key=lambda r: order[r["campaign"]])  # each campaign, then its segments


def _said(row: dict[Any, Any]) -> dict[str, str]:
    """One result row's figures as the view shows them (the report's words, in English)."""
    from segmentation.report import STRINGS
    from segmentation.report.formatting import (
        as_date,
        as_text,
        finite,
        fmt_int,
        fmt_pct,
        hidden_text,
        is_suppressed,
    )
    from segmentation.report.sections_campaigns import points, verdict

    words, na = STRINGS["en"], "—"
    said = verdict(row)
    low, high = (points(row.get(f"conversion_uplift_{e}")) for e in ("low", "high"))
    start, end = as_date(row.get("start")), as_date(row.get("end"))
    roi, mde = finite(row.get("roi")), finite(row.get("mde"))
    revenue = finite(row.get("incremental_revenue"))
    status = as_text(row.get("status"))
    return {
        "status": words.get(f"status_{status}", status),
        "dates": f"{start} to {end}" if start and end else na,
        "treated": fmt_int(row.get("treated"), na),
        "control": fmt_int(row.get("control"), na),
        "conversion": f"{fmt_pct(row.get('treated_conversion'), na)} / "
        f"{fmt_pct(row.get('control_conversion'), na)}",
        "uplift": f"{points(row.get('conversion_uplift'))} ({low} to {high})" if said else na,
        "verdict": words[f"short_{said}"] if said else na,
        "level": said,
        "revenue": na if revenue is None else f"{revenue:+,.2f}",
        "roi": na if roi is None else f"{roi * 100:+,.0f}%",
        "mde": na if mde is None else points(mde, signed=False),
        "reason": hidden_text(row.get("suppression_reason"), words)
        if is_suppressed(row)
        else as_text(row.get("reason")),
    }


def audiences(home: Home, day: dt.date) -> list[dict[str, Any]]:
    """Run ``day``'s audiences (the report's counts, ``segmentation.report.data``): audience,
    exported, control, control_exported, entered, left; empty without ``audience_members``."""
    from segmentation.report.data import audience_counts

    counts = audience_counts(home, day)
    return (
        []
        if counts is None
        else [{str(k): v for k, v in r.items()} for r in counts.to_dict("records")]
    )


def campaign_status(home: Home, day: dt.date) -> str:
    """Run ``day``'s campaigns in a few words ("2 campaigns: 1 hurts, 1 no measurable
    effect", "2 audiences, no campaign"); empty when the run published neither table."""
    rows = [r for r in campaign_rows(home, day) if not r["segment"]]
    groups = audiences(home, day)
    if not rows:
        if not home.partition(RESULTS, day).is_file() and not groups:
            return ""
        n = len(groups)
        return f"{n} audience{'s' if n != 1 else ''}, no campaign" if n else "none defined"
    said = [r["verdict"] if r["level"] else "not measured" for r in rows]
    counted = ", ".join(f"{said.count(v)} {v}" for v in dict.fromkeys(said))
    return f"{len(rows)} campaign{'s' if len(rows) != 1 else ''}: {counted}"


def how_to_define() -> str:
    """The report's sentence on how to define audiences and campaigns, for a run with none."""
    from segmentation.report import STRINGS

    return f'<p class="define">{_esc(STRINGS["en"]["campaigns_define"])}</p>'


def campaigns_table(rows: list[dict[str, str]]) -> str:
    """The whole campaigns (``campaign_rows`` without a segment) as an HTML table."""
    whole = [r for r in rows if not r["segment"]]
    if not whole:
        return '<p class="muted">No campaign is measured on this night.</p>'
    keys = (
        "campaign",
        "status",
        "dates",
        "treated",
        "control",
        "conversion",
        "uplift",
        "verdict",
        "revenue",
        "roi",
        "mde",
    )
    heads = (
        "Campaign",
        "Status",
        "Dates",
        "Treated",
        "Control",
        "Conversion, treated / control",
        "Uplift, points (95% CI)",
        "Verdict",
        "Incremental revenue",
        "Return on cost",
        "Detectable uplift, points",
    )
    reasons = "".join(
        f'<p class="reason">{_esc(r["campaign"])}: {_esc(r["reason"])}</p>'
        for r in whole
        if r["reason"]
    )
    return _table("summary campaigns", heads, [(r, keys) for r in whole]) + reasons


def segments_table(rows: list[dict[str, str]]) -> str:
    """Each campaign's rows per segment at the start, as an HTML table."""
    parts = [r for r in rows if r["segment"]]
    if not parts:
        return '<p class="muted">No result per segment.</p>'
    keys = ("campaign", "segment", "treated", "control", "conversion", "uplift", "verdict")
    heads = (
        "Campaign",
        "Segment",
        "Treated",
        "Control",
        "Conversion, treated / control",
        "Uplift, points (95% CI)",
        "Verdict",
        "Why figures are missing",
    )
    return _table("summary campaign-segments", heads, [(r, (*keys, "reason")) for r in parts])


def _table(kind: str, heads: tuple[str, ...], rows: list[tuple[dict[str, str], Any]]) -> str:
    body = "".join("<tr>" + "".join(_cell(k, r[k]) for k in keys) + "</tr>" for r, keys in rows)
    head = "".join(f"<th>{_esc(h)}</th>" for h in heads)
    return (
        f'<div class="scroll"><table class="{kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _cell(key: str, text: str) -> str:
    numbers = ("treated", "control", "revenue", "roi", "mde")
    kind = ' class="num"' if key in numbers else ""
    return f"<td{kind}>{_esc(text or '—')}</td>"


def audiences_table(groups: list[dict[str, Any]]) -> str:
    """Tonight's audiences: exported customers, control group, entered and left."""
    if not groups:
        return '<p class="muted">No audience has a member on this night.</p>'
    rows = []
    for g in groups:
        control = f"{g['control']:,} " + ("exported too" if g["control_exported"] else "held out")
        cells = (
            f"<td>{_esc(str(g['audience']))}</td>"
            f'<td class="num">{g["exported"]:,}</td><td class="num">{_esc(control)}</td>'
            f'<td class="num">{g["entered"]:,}</td><td class="num">{g["left"]:,}</td>'
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        '<table class="summary audiences"><thead><tr><th>Audience</th>'
        "<th>Exported (targeted)</th><th>Control group</th><th>Entered tonight</th>"
        f"<th>Left tonight</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def read_members(
    path: Path, changes: Path | None, audience: str, page: int, page_size: int
) -> tuple[int, list[str], list[tuple[Any, ...]], int]:
    """Members (of ``audience`` when given): their count, the columns shown
    (``MEMBER_COLUMNS`` and tonight's change, when ``changes`` is there), the page's rows by
    audience and customer, and the page shown (the last one when ``page`` is past the end).

    DuckDB reads only what the page needs, like the recommendations' ``read_page``."""
    import duckdb

    from segmentation.report.data import customer_column

    scan = "read_parquet(?, hive_partitioning = false)"
    condition, args = (" WHERE m.audience = ?", [audience]) if audience else ("", [])
    who = customer_column(path)  # customer_key when published pseudonymous
    shown = ", ".join(f"m.{who if c == 'customer_id' else c}" for c in MEMBER_COLUMNS)
    if changes is not None:
        source = f"{scan} m LEFT JOIN {scan} c USING (audience, {who})"
        files, shown = [str(path), str(changes)], f"{shown}, c.change"
    else:
        source, files = f"{scan} m", [str(path)]
    con = duckdb.connect()
    try:
        found = con.execute(f"SELECT count(*) FROM {scan} m{condition}", [str(path), *args])
        total = int((found.fetchone() or (0,))[0])
        page = min(page, max(1, math.ceil(total / page_size)))
        cursor = con.execute(
            f"SELECT {shown} FROM {source}{condition} ORDER BY m.audience, m.{who} "
            "LIMIT ? OFFSET ?",
            [*files, *args, page_size, (page - 1) * page_size],
        )
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    finally:
        con.close()
    return total, columns, rows, page


def audience_form(action: str, run_date: dt.date | None, names: list[str], audience: str) -> str:
    """The form that picks an audience's members, keeping the run."""
    options = "".join(
        f'<option value="{_esc(n)}"{" selected" if n == audience else ""}>{_esc(n)}</option>'
        for n in names
    )
    kept = {"run_date": run_date.isoformat()} if run_date else {}
    hidden = "".join(f'<input type="hidden" name="{k}" value="{_esc(v)}">' for k, v in kept.items())
    clear = _esc(f"{action}?{urlencode(kept)}" if kept else action)
    return (
        f'<form class="filter" method="get" action="{_esc(action)}">{hidden}'
        '<label>Audience <select name="audience"><option value="">all</option>'
        f'{options}</select></label> <button type="submit">Show</button> '
        f'<a href="{clear}">clear</a></form>'
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
