"""The report's campaigns section: whether each campaign works, and tonight's audiences.

It reads ``campaign_results`` as ``measure_campaigns`` published it: per campaign, the row of
the whole campaign (``segment_id`` null) gives its status, dates, group sizes, conversion,
the conversion uplift with its 95% interval (drawn as a bar with whiskers, and said in words:
works, hurts, not proven yet, no measurable effect), the revenue uplift, incremental revenue,
ROI and the smallest detectable uplift; its rows per segment make a small table. Then each
audience's exported customers, control group and tonight's entries and exits
(``ReportData.audiences``, counted from ``audience_members`` and ``audience_changes``).
Without any campaign or audience the section says how to define them; a run older than
these tables reads "not available".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import pandas as pd

from segmentation.report.charts import LEVEL_BACKGROUNDS, LEVEL_COLOURS, Cell, heatmap_table
from segmentation.report.charts_xy import Interval, interval_chart
from segmentation.report.data import ReportData
from segmentation.report.formatting import (
    as_date,
    as_text,
    esc,
    finite,
    fmt_int,
    fmt_money,
    fmt_pct,
    hidden_text,
    is_suppressed,
    segment_label,
)
from segmentation.report.sections import how, not_available, section

Row = Mapping[str, Any]
NEEDED = {
    "campaign",
    "segment_id",
    "status",
    "treated",
    "control",
    "conversion_uplift",
    "conversion_uplift_low",
    "conversion_uplift_high",
}
# the verdict of an uplift's interval, and its colour (bar, border) and table background
VERDICT_LEVELS = {"works": "ok", "hurts": "alert", "unproven": "na", "no_effect": "na"}


def campaigns_section(data: ReportData, words: dict[str, str]) -> str:
    results = _results(data.campaign_results)
    audiences = data.audiences
    intro = how(words["campaigns_how"])
    define = f"<p>{esc(words['campaigns_define'])}</p>"
    if results is None and audiences is None:
        return section(
            "campaigns", words, intro, not_available(words, words["campaigns_off"]), define
        )
    if (results is None or results.empty) and (audiences is None or audiences.empty):
        return section("campaigns", words, intro, define)
    return section(
        "campaigns", words, intro, *_campaigns(results, data, words), *_audiences(audiences, words)
    )


def _results(results: pd.DataFrame | None) -> pd.DataFrame | None:
    """Today's ``campaign_results`` (empty when no campaign has started), or None when it is
    missing or lacks its columns."""
    if results is None or not set(results.columns) >= NEEDED:
        return None
    return results


def _records(frame: pd.DataFrame) -> list[Row]:
    return cast(list[Row], frame.to_dict("records"))


def _title(text: str) -> str:
    return f"<h3>{esc(text)}</h3>"


# ------------------------------------------------------------------------------ words


def points(value: object, signed: bool = True) -> str:
    """A fraction as percentage points, one decimal: 0.018 -> "+1.8" (0 -> "0.0")."""
    number = finite(value)
    if number is None:
        return "?"
    shown = round(number * 100, 1)
    if shown == 0:
        return "0.0"
    return f"{shown:+.1f}" if signed else f"{shown:.1f}"


def verdict(row: Row) -> str:
    """What the uplift's 95% interval says: works (above 0), hurts (below 0), unproven (it
    includes 0 while the campaign is measured), no_effect (it includes 0 at the end); empty
    when there is no uplift."""
    low, high = finite(row.get("conversion_uplift_low")), finite(row.get("conversion_uplift_high"))
    if finite(row.get("conversion_uplift")) is None or low is None or high is None:
        return ""
    if low > 0:
        return "works"
    if high < 0:
        return "hurts"
    return "no_effect" if as_text(row.get("status")) == "final" else "unproven"


def uplift_sentence(row: Row, words: dict[str, str]) -> str:
    """The uplift in words: "+1.8 points, 95% CI +0.9 to +2.7: this campaign works"."""
    said = verdict(row)
    if not said:
        return words["uplift_missing"]
    return words["uplift_said"].format(
        uplift=points(row.get("conversion_uplift")),
        low=points(row.get("conversion_uplift_low")),
        high=points(row.get("conversion_uplift_high")),
        verdict=words[f"verdict_{said}"],
    )


def _signed_money(value: object, na: str) -> str:
    number = finite(value)
    return na if number is None else f"{number:+,.2f}"


# ------------------------------------------------------------------------------ campaigns


def _campaigns(results: pd.DataFrame | None, data: ReportData, words: dict[str, str]) -> list[str]:
    """The chart of every campaign's uplift, then each campaign with its segments' table."""
    parts = [_title(words["campaigns_title"])]
    if results is None:
        return [*parts, not_available(words)]
    if results.empty:
        return [*parts, f"<p>{esc(words['campaigns_none'])}</p>"]
    whole = results[results["segment_id"].isna()]
    rows = _records(whole)
    intervals = [
        Interval(
            as_text(r["campaign"]),
            finite(r["conversion_uplift"]) or 0.0,
            finite(r["conversion_uplift_low"]) or 0.0,
            finite(r["conversion_uplift_high"]) or 0.0,
            LEVEL_COLOURS[VERDICT_LEVELS[verdict(r)]],
        )
        for r in rows
        if verdict(r)
    ]
    chart = interval_chart(intervals, words["uplift_chart"], points, words["uplift_axis"])
    parts += [how(words["campaigns_read"]), f"<figure>{chart}</figure>" if chart else ""]
    for r in rows:
        mine = results[(results["campaign"] == r["campaign"]) & results["segment_id"].notna()]
        parts.append(_campaign(r, mine, data, words))
    return parts


def _campaign(row: Row, segments: pd.DataFrame, data: ReportData, words: dict[str, str]) -> str:
    """One campaign: its verdict, figures, detectable uplift, missing figures' reason, and
    its segments."""
    said = verdict(row)
    colour = LEVEL_COLOURS[VERDICT_LEVELS.get(said, "na")]
    mde = finite(row.get("mde"))
    reason = _reason(row, words)
    body = [
        f"<h3>{esc(as_text(row.get('campaign')))}</h3>",
        f"<p><b>{esc(uplift_sentence(row, words))}</b></p>",
        _figures(row, words),
        f"<p>{esc(words['mde_said'].format(mde=points(mde, signed=False)))}</p>"
        if mde is not None
        else "",
        f"<p>{esc(words['campaign_reason'].format(reason=reason))}</p>" if reason else "",
    ]
    if not segments.empty:
        body += [f"<h4>{esc(words['segments_title'])}</h4>", _segment_table(segments, data, words)]
    return (
        f'<article class="campaign" style="border-left-color:{colour}">'
        + "".join(b for b in body if b)
        + "</article>"
    )


def _reason(row: Row, words: dict[str, str]) -> str:
    """Why a row has no figures: its groups too small to show (suppressed), or its reason."""
    if is_suppressed(row):
        return hidden_text(row.get("suppression_reason"), words)
    return as_text(row.get("reason"))


def _item(label: str, value: str, note: str = "") -> str:
    small = f"<small>{esc(note)}</small>" if note else ""
    return f"<li>{esc(label)}<b>{esc(value)}</b>{small}</li>"


def _figures(row: Row, words: dict[str, str]) -> str:
    """The campaign's figures: status and dates, the groups, conversion and revenue uplift,
    incremental revenue, and the return on its cost when one is given."""
    na = words["na"]
    status = as_text(row.get("status"))
    dates = words["campaign_dates"].format(
        start=_date(row.get("start"), na),
        end=_date(row.get("end"), na),
        measured=_date(row.get("measured_to"), na),
        frozen=_date(row.get("frozen_on"), na),
    )
    items = [_item(words["campaign_status"], words.get(f"status_{status}", status or na), dates)]
    for group in ("treated", "control"):
        converted = words["conversion_of"].format(
            rate=fmt_pct(row.get(f"{group}_conversion"), na),
            converters=fmt_int(row.get(f"{group}_converters"), na),
        )
        items.append(_item(words[f"campaign_{group}"], fmt_int(row.get(group), na), converted))
    uplift = finite(row.get("conversion_uplift"))
    notes = [_interval(row, "conversion_uplift", words, points)]
    if finite(row.get("conversion_uplift_relative")) is not None:
        relative = fmt_pct(row.get("conversion_uplift_relative"), na)
        notes.append(words["relative_uplift"].format(relative=relative))
    if finite(row.get("conversion_p_value")) is not None:
        notes.append(words["p_value"].format(p=f"{finite(row.get('conversion_p_value')):.3f}"))
    shown = na if uplift is None else f"{points(uplift)} {words['pp']}"
    items.append(_item(words["conversion_uplift"], shown, "; ".join(n for n in notes if n)))
    return f'<ul class="figures stats">{"".join(items + _revenue(row, words))}</ul>'


def _revenue(row: Row, words: dict[str, str]) -> list[str]:
    """The revenue uplift per customer, incremental revenue and conversions, and ROI."""
    na = words["na"]
    spend = words["revenue_of"].format(
        treated=fmt_money(row.get("treated_revenue_per_customer"), na),
        control=fmt_money(row.get("control_revenue_per_customer"), na),
    )
    interval = _interval(row, "revenue_uplift", words, lambda v: _signed_money(v, na))
    extra = finite(row.get("incremental_conversions"))
    conversions = (
        "" if extra is None else words["incremental_conversions"].format(n=f"{extra:+,.0f}")
    )
    items = [
        _item(
            words["revenue_uplift"],
            _signed_money(row.get("revenue_uplift"), na),
            "; ".join(n for n in (interval, spend) if n),
        ),
        _item(
            words["incremental_revenue"],
            _signed_money(row.get("incremental_revenue"), na),
            conversions,
        ),
    ]
    cost, roi = finite(row.get("cost")), finite(row.get("roi"))
    if cost is not None:
        low, high = finite(row.get("revenue_uplift_low")), finite(row.get("revenue_uplift_high"))
        proven = low is not None and high is not None and (low > 0 or high < 0)
        note = words["roi_cost" if proven else "roi_unproven"].format(cost=fmt_money(cost, na))
        items.append(_item(words["roi"], na if roi is None else f"{roi * 100:+,.0f}%", note))
    return items


def _interval(row: Row, column: str, words: dict[str, str], fmt: Callable[[float], str]) -> str:
    """ "95% CI low to high" of ``column``; empty when either end is missing."""
    low, high = finite(row.get(f"{column}_low")), finite(row.get(f"{column}_high"))
    if low is None or high is None:
        return ""
    return words["uplift_interval"].format(low=fmt(low), high=fmt(high))


def _date(value: object, na: str) -> str:
    day = as_date(value) if as_text(value) else None
    return na if day is None else day.isoformat()


def _segment_table(segments: pd.DataFrame, data: ReportData, words: dict[str, str]) -> str:
    """A row per segment the campaign's customers were in at the start."""
    na = words["na"]
    rows = _records(segments.sort_values("segment_id", kind="stable"))
    notes = any(_reason(r, words) for r in rows)
    table = []
    for r in rows:
        said = verdict(r)
        uplift = Cell(na)
        if said:
            level = VERDICT_LEVELS[said]
            interval = words["interval_short"].format(
                low=points(r["conversion_uplift_low"]), high=points(r["conversion_uplift_high"])
            )
            text = f"{points(r['conversion_uplift'])} ({interval})"
            uplift = Cell(text, LEVEL_BACKGROUNDS[level], "#1f2328")
        conversions = (
            f"{fmt_pct(r.get('treated_conversion'), na)} / "
            f"{fmt_pct(r.get('control_conversion'), na)}"
        )
        cells = [
            Cell(fmt_int(r.get("treated"), na)),
            Cell(fmt_int(r.get("control"), na)),
            Cell(conversions),
            uplift,
            Cell(words[f"short_{said}"] if said else na),
        ]
        if notes:
            cells.append(Cell(_reason(r, words), wide=True))
        table.append((segment_label(int(r["segment_id"]), data.names), cells))
    header = [
        words[k]
        for k in (
            "campaign_segment",
            "campaign_treated",
            "campaign_control",
            "campaign_conversions",
            "campaign_uplift",
            "campaign_verdict",
        )
    ]
    return heatmap_table(header + ([words["campaign_note"]] if notes else []), table)


# ------------------------------------------------------------------------------ audiences


def _audiences(audiences: pd.DataFrame | None, words: dict[str, str]) -> list[str]:
    """Each audience's exported customers, control group, entries and exits tonight."""
    parts = [_title(words["audiences_title"]), how(words["audiences_how"])]
    if audiences is None:
        return [*parts, not_available(words)]
    if audiences.empty:
        return [*parts, f"<p>{esc(words['audiences_none'])}</p>"]
    na = words["na"]
    rows = []
    for r in audiences.to_dict("records"):
        exported_too = int(r["control_exported"]) > 0
        key = "audience_control_exported" if exported_too else "audience_control_held"
        rows.append(
            (
                as_text(r["audience"]),
                [
                    Cell(fmt_int(r["exported"], na)),
                    Cell(words[key].format(n=fmt_int(r["control"], na))),
                    Cell(fmt_int(r["entered"], na)),
                    Cell(fmt_int(r["left"], na)),
                ],
            )
        )
    header = [
        words[k]
        for k in (
            "audience",
            "audience_exported",
            "audience_control",
            "audience_entered",
            "audience_left",
        )
    ]
    return [*parts, heatmap_table(header, rows)]
