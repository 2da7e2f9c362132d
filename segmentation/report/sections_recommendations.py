"""The report's recommendations section: what is served tonight and why, how the model did
against the best sellers on held-out purchases, what is bought together per segment, and
where tonight's lists come from.

It reads ``recommendation_quality`` as ``recommend_items`` published it (each model's held-out
figures, its status: served, evaluated or skipped, and the reason), ``association_rules``
(the strongest rules of each segment and of all customers) and the recommended items counted
per segment and source (``ReportData.recommendation_sources``). When no model could be
trained the reason stands instead of the figures; a run without the tables reads "not
available".
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from segmentation.catalog import RECOMMENDATION_SOURCES
from segmentation.report.charts import Cell, heatmap_table, segment_colour
from segmentation.report.charts_xy import Bars, Part, column_chart, stacked_bars
from segmentation.report.data import ReportData
from segmentation.report.formatting import (
    as_text,
    esc,
    finite,
    fmt_int,
    fmt_pct,
    fmt_score,
    hidden_text,
    segment_label,
)
from segmentation.report.sections import how, not_available, section

MODELS = ("als", "popular", "segment_popular")
FIGURES = ("ndcg_at_10", "precision_at_10", "recall_at_10", "map_at_10", "coverage")
HEADLINE = "ndcg_at_10"  # the figure that decides what is served
MODEL_COLOURS = {"als": "#0969da", "popular": "#8c959f", "segment_popular": "#f28e2b"}
SOURCE_COLOURS = {
    "collaborative": ("#0969da", "#ffffff"),
    "rule": ("#8250df", "#ffffff"),
    "segment_popular": ("#f28e2b", "#1f2328"),
    "popular": ("#d0d7de", "#1f2328"),
}
TOP_RULES = 3  # rules shown per segment
ALL_COLOUR = "#57606a"  # the card of the rules over all customers
OTHER_SOURCE = ("#6e7781", "#ffffff")  # a source this report does not know yet


def recommendations_section(data: ReportData, words: dict[str, str]) -> str:
    quality = _quality(data.recommendation_quality)
    intro = how(words["recommendations_how"])
    if quality is None and data.association_rules is None and data.recommendation_sources is None:
        off = not_available(words, words["recommendations_off"])
        return section("recommendations", words, intro, off)
    parts = [intro, _title(words["served_title"]), *_served(quality, words)]
    if quality is not None and _served_model(quality) is not None:
        parts += _comparison(quality, words)
    parts += _rules(data, words)
    parts += _sources(data, words)
    return section("recommendations", words, *parts)


def _title(text: str) -> str:
    return f"<h3>{esc(text)}</h3>"


def _quality(quality: pd.DataFrame | None) -> pd.DataFrame | None:
    """Today's ``recommendation_quality``, or None when it is missing or lacks its columns."""
    needed = {"model", "model_version", "metric", "value", "status", "reason"}
    if quality is None or quality.empty or not needed <= set(quality.columns):
        return None
    return quality


def _value(quality: pd.DataFrame, model: str, metric: str) -> float | None:
    """The published value of ``model``'s ``metric`` (None if absent or not finite)."""
    rows = quality[(quality["model"] == model) & (quality["metric"] == metric)]
    return None if rows.empty else finite(rows["value"].iloc[0])


def _served_model(quality: pd.DataFrame) -> str | None:
    """The model whose lists are published tonight (als or segment_popular), or None when
    no model could be trained (status skipped)."""
    served = quality.loc[quality["status"] == "served", "model"]
    return None if served.empty else as_text(served.iloc[0])


def _first(quality: pd.DataFrame, column: str) -> str:
    """A column's first value, as text: the rows of a night share the version and reason."""
    values = [as_text(v) for v in quality[column] if as_text(v)]
    return values[0] if values else ""


def _model_name(model: str, words: dict[str, str]) -> str:
    return words.get(f"rec_model_{model}", model)


# ------------------------------------------------------------------------------ served


def _served(quality: pd.DataFrame | None, words: dict[str, str]) -> list[str]:
    """What is served and why: the headline figures and the published reason, or the reason
    no model could be trained."""
    if quality is None:
        return [not_available(words)]
    reason = _first(quality, "reason")
    why = f"<p>{esc(words['rec_why'].format(reason=reason))}</p>" if reason else ""
    served = _served_model(quality)
    if served is None:
        return [
            f"<p><b>{esc(words['rec_skipped'])}</b></p>",
            why,
            f"<p>{esc(words['rec_skipped_means'])}</p>",
        ]
    na = words["na"]
    others = [m for m in ("als", "segment_popular") if m != served]
    compared = "; ".join(
        words["vs_other"].format(
            model=_model_name(m, words), value=fmt_score(_value(quality, m, HEADLINE), na)
        )
        for m in others
    )
    version = _first(quality, "model_version")
    items = [
        f"<li>{esc(words['served_model'])}<b>{esc(_model_name(served, words))}</b></li>",
        f"<li>{esc(words['served_ndcg'])}"
        f"<b>{esc(fmt_score(_value(quality, served, HEADLINE), na))}</b>"
        f"<small>{esc(compared)}</small></li>",
        f"<li>{esc(words['rec_customers'])}"
        f"<b>{esc(fmt_int(_value(quality, served, 'customers'), na))}</b></li>",
        f"<li>{esc(words['rec_version'])}<b>{esc(version or na)}</b></li>",
    ]
    means = words.get(f"served_{served}_means", "")
    return [
        f'<ul class="figures stats">{"".join(items)}</ul>',
        why,
        f"<p>{esc(means)}</p>" if means else "",
    ]


# ------------------------------------------------------------------------------ comparison


def _comparison(quality: pd.DataFrame, words: dict[str, str]) -> list[str]:
    """The three models' held-out figures: a column chart and the table, with the version."""
    na = words["na"]
    models = [m for m in MODELS if not quality[quality["model"] == m].empty]
    served = _served_model(quality)
    series = [
        Bars(
            _model_name(m, words),
            MODEL_COLOURS[m],
            tuple(_number(_value(quality, m, f)) for f in FIGURES),
        )
        for m in models
    ]
    chart = column_chart(
        [words[f"fig_{f}"] for f in FIGURES],
        series,
        words["comparison_chart"],
        lambda v: fmt_score(v, na),
        width=640,
    )
    shown = {"coverage": lambda v: fmt_pct(v, na), "customers": lambda v: fmt_int(v, na)}
    rows = [
        (
            words[f"rec_metric_{f}"],
            [Cell(shown.get(f, lambda v: fmt_score(v, na))(_value(quality, m, f))) for m in models],
        )
        for f in (*FIGURES, "customers")
    ]
    header = [words["figure_name"]] + [
        words["rec_served_mark"].format(model=_model_name(m, words))
        if m == served
        else _model_name(m, words)
        for m in models
    ]
    version = _first(quality, "model_version")
    return [
        _title(words["comparison_title"]),
        how(words["comparison_how"]),
        f"<p>{esc(words['comparison_version'].format(version=version))}</p>" if version else "",
        f"<figure>{chart}</figure>" if chart else not_available(words),
        heatmap_table(header, rows),
    ]


def _number(value: float | None) -> float:
    return float("nan") if value is None else value


# ------------------------------------------------------------------------------ rules


def _rules(data: ReportData, words: dict[str, str]) -> list[str]:
    """Each segment's strongest rules as sentences, and the rules over all customers."""
    parts = [_title(words["rules_title"]), how(words["rules_how"])]
    rules = _rule_table(data.association_rules)
    if rules is None:
        return [*parts, not_available(words)]
    if rules.empty:
        return [*parts, f"<p><b>{esc(words['rules_none'])}</b></p>"]
    everyone = rules["segment_id"].isna()
    found = {int(s) for s in rules.loc[~everyone, "segment_id"]}
    ids = sorted(found | set(_segment_ids(data)))
    groups: list[tuple[int | None, pd.DataFrame]] = [(None, rules[everyone])]
    groups += [(sid, rules[~everyone & (rules["segment_id"] == sid)]) for sid in ids]
    cards = "".join(_rule_card(sid, group, data, words) for sid, group in groups)
    return [*parts, f'<div class="cards">{cards}</div>']


def _rule_table(rules: pd.DataFrame | None) -> pd.DataFrame | None:
    """Today's ``association_rules`` in rank order per group (None when missing or lacking
    its columns); an empty frame when none was found."""
    needed = {"segment_id", "antecedent", "consequent", "confidence", "lift", "baskets", "rank"}
    if rules is None or not needed <= set(rules.columns):
        return None
    if "suppressed" in rules:  # a small segment's rules, or a rule of too few baskets
        rules = rules[~rules["suppressed"].fillna(False).astype(bool)]
    return rules.sort_values(["rank", "lift"], ascending=[True, False], kind="stable")


def _segment_ids(data: ReportData) -> list[int]:
    profiles = data.profiles
    if profiles is None or "segment_id" not in profiles:
        return []
    return sorted(int(s) for s in profiles["segment_id"])


def _rule_card(
    sid: int | None, rules: pd.DataFrame, data: ReportData, words: dict[str, str]
) -> str:
    """One group's card: its name and its ``TOP_RULES`` strongest rules, one a line."""
    na = words["na"]
    if sid is None:
        title, colour, name = words["rules_all"], ALL_COLOUR, None
    else:
        title, colour = segment_label(sid, data.names), segment_colour(sid)
        name = data.names.get(sid) or f"{words['segment']} {sid}"
    top = rules.head(TOP_RULES)
    lines = []
    for a, c, lift, confidence, baskets in zip(
        top["antecedent"],
        top["consequent"],
        top["lift"],
        top["confidence"],
        top["baskets"],
        strict=True,
    ):
        said = rule_sentence(list(a), list(c), finite(lift), name, words)
        figures = words["rule_figures"].format(
            confidence=fmt_pct(confidence, na), baskets=fmt_int(baskets, na)
        )
        lines.append(f"<li>{esc(said)} <small>({esc(figures)})</small></li>")
    said_none = words["rules_none_here"]
    if sid is not None and sid in data.hidden:
        said_none = hidden_text(data.hidden[sid], words)
    none = f'<p class="na">{esc(said_none)}</p>'
    body = f"<ol>{''.join(lines)}</ol>" if lines else none
    return (
        f'<article class="card rules" style="border-top-color:{colour}">'
        f"<h3>{esc(title)}</h3>{body}</article>"
    )


def rule_sentence(
    antecedent: Sequence[object],
    consequent: Sequence[object],
    lift: float | None,
    segment: str | None,
    words: dict[str, str],
) -> str:
    """A rule in words: "Customers in Bargain hunters who buy P00012 also buy P00013: 4.1×
    as often as others" (``segment`` None: a rule over all customers)."""
    shown = "?" if lift is None else f"{lift:.1f}"
    a, c = " + ".join(map(str, antecedent)), " + ".join(map(str, consequent))
    if segment is None:
        return words["rule_all"].format(a=a, c=c, lift=shown)
    return words["rule_segment"].format(segment=segment, a=a, c=c, lift=shown)


# ------------------------------------------------------------------------------ sources


def _sources(data: ReportData, words: dict[str, str]) -> list[str]:
    """Tonight's recommended items by source: a bar per segment and a table over everyone."""
    parts = [_title(words["sources_title"]), how(words["sources_how"])]
    counts = data.recommendation_sources
    if counts is None:
        return [*parts, not_available(words)]
    if counts.empty:
        return [*parts, not_available(words, words["sources_na"])]
    na = words["na"]
    kinds = list(RECOMMENDATION_SOURCES)
    kinds += sorted({str(s) for s in counts["source"]} - set(kinds))  # a source added later
    total = {k: _counts(counts[counts["source"] == k]) for k in kinds}
    rows = [(words["rules_all"], _shares(counts, kinds))]
    ids = sorted({int(s) for s in counts["segment_id"].dropna()})
    rows += [
        (segment_label(sid, data.names), _shares(counts[counts["segment_id"] == sid], kinds))
        for sid in ids
    ]
    colours = [SOURCE_COLOURS.get(k, OTHER_SOURCE) for k in kinds]
    chart = stacked_bars(
        rows,
        [Part(_source_name(k, words), *c) for k, c in zip(kinds, colours, strict=True)],
        words["sources_chart"],
        lambda v: fmt_pct(v, na),
    )
    items = sum(n[0] for n in total.values())
    customers = sum(n[2] for n in total.values())  # each customer has one first item
    said = words["sources_total"].format(customers=fmt_int(customers, na), items=fmt_int(items, na))
    table = [
        (
            _source_name(k, words),
            [
                Cell(fmt_int(total[k][1], na)),
                Cell(fmt_int(total[k][2], na)),
                Cell(f"{fmt_int(total[k][0], na)} ({fmt_pct(total[k][0] / items, na)})"),
            ],
        )
        for k in kinds
        if total[k][0]
    ]
    header = [words["source"], words["source_customers"], words["source_leading"]]
    return [
        *parts,
        f"<p><b>{esc(said)}</b></p>",
        chart,
        heatmap_table([*header, words["source_items"]], table),
    ]


def _counts(rows: pd.DataFrame) -> tuple[int, int, int]:
    """Items, customers and leading customers summed over ``rows`` (a customer is in one
    segment, so customers add up across segments)."""
    return int(rows["items"].sum()), int(rows["customers"].sum()), int(rows["leading"].sum())


def _shares(rows: pd.DataFrame, kinds: list[str]) -> list[float]:
    """Each source's share of the items of ``rows``, in the order of ``kinds``."""
    counts = [float(rows.loc[rows["source"] == k, "items"].sum()) for k in kinds]
    whole = sum(counts)
    return [n / whole if whole else 0.0 for n in counts]


def _source_name(source: str, words: dict[str, str]) -> str:
    return words.get(f"source_{source}", source)
