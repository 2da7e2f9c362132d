"""The report's drift sections: today's decision banner and the drift charts and tables.

Both read ``drift_metrics`` as the drift step published it: the run row's decision, the
deciding feature metrics (those with a level of ok, warn or alert) and the others, shown for
comparison.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from segmentation.features.labels import feature_label
from segmentation.layout import RUN_KEY
from segmentation.monitoring.drift import LEVELS
from segmentation.report.charts import (
    LEVEL_BACKGROUNDS,
    LEVEL_COLOURS,
    Cell,
    Guide,
    Series,
    heatmap_table,
    legend_list,
    line_chart,
)
from segmentation.report.data import ReportData
from segmentation.report.formatting import (
    as_text,
    esc,
    finite,
    fmt_int,
    fmt_num,
    fmt_pct,
    segment_label,
)
from segmentation.report.sections import how, not_available, section

# the per-feature metrics in the order the drift table shows them; others follow by name
METRIC_ORDER = (
    "psi_quantile",
    "psi_model",
    "wasserstein_model",
    "psi",
    "jensenshannon",
    "ks_statistic",
    "ks_pvalue",
    "wasserstein_normed",
)
SEGMENT_METRICS = (
    "share_change",
    "share_change_reference",
    "centroid_shift",
    "appeared",
    "vanished",
)
# ------------------------------------------------------------------------------ decision


def decision_level(today: pd.DataFrame | None) -> str | None:
    """Today's drift decision (ok, warn, alert) from the run row, or None when not recorded."""
    if today is None or not {"scope", "name", "metric"} <= set(today.columns):
        return None
    rows = today[(today["scope"] == "run") & (today["name"] == "all")]
    rows = rows[rows["metric"] == "decision"]
    if rows.empty:
        return None
    row = rows.iloc[0]
    level = as_text(row["level"]) if "level" in rows else ""
    if level in LEVELS:
        return level
    value = finite(row["value"])
    return LEVELS[int(value)] if value is not None and int(value) in (0, 1, 2) else None


def _deciding(today: pd.DataFrame | None) -> pd.DataFrame | None:
    """Today's feature rows that take part in the decision (level ok, warn or alert)."""
    if today is None or not {"scope", "name", "metric", "level"} <= set(today.columns):
        return None
    return today[(today["scope"] == "feature") & today["level"].isin(LEVELS)]


def drifted_features(today: pd.DataFrame | None, level: str) -> list[str]:
    """Features with a deciding metric at ``level`` today, by name."""
    rows = _deciding(today)
    if rows is None:
        return []
    return sorted({str(n) for n in rows.loc[rows["level"] == level, "name"]})


def decision_section(data: ReportData, words: dict[str, str]) -> str:
    level = decision_level(data.drift_today)
    key = level or "na"
    verdict = words[f"level_{key}"]
    lists = []
    for label, lvl in (("drifted", "alert"), ("watched", "warn")):
        names = [
            feature_label(n, words["language"]) for n in drifted_features(data.drift_today, lvl)
        ]
        shown = ", ".join(names) if names else words["none"]
        lists.append(f"<p><b>{esc(words[label])}:</b> {esc(shown)}</p>")
    style = f"background:{LEVEL_BACKGROUNDS[key]};border-left-color:{LEVEL_COLOURS[key]}"
    return section(
        "decision",
        words,
        f'<p class="verdict" style="color:{LEVEL_COLOURS[key]}">{esc(verdict)}</p>',
        f"<p>{esc(words['decision_' + key])}</p>",
        *lists,
        _figures(data, words),
        css=f"banner level-{key}",
        style=style,
    )


def _figures(data: ReportData, words: dict[str, str]) -> str:
    na = words["na"]
    profiles = data.profiles
    customers = na
    segments = na
    if profiles is not None and "customers" in profiles:
        customers = fmt_int(profiles["customers"].sum(), na)
        segments = fmt_int(len(profiles), na)
    moved = fmt_pct(data.migration_rate, na)
    checks = na
    if data.validation is not None and "success" in data.validation:
        checks = words["passed"] if data.validation["success"] else words["failed"]
    items = (
        ("fig_customers", customers),
        ("fig_segments", segments),
        ("fig_migration", moved),
        ("fig_checks", checks),
    )
    cells = "".join(f"<li>{esc(words[k])}<b>{esc(v)}</b></li>" for k, v in items)
    return f'<ul class="figures">{cells}</ul>'


# ------------------------------------------------------------------------------ drift


def drift_section(data: ReportData, words: dict[str, str], warn: float) -> str:
    today = data.drift_today
    parts = [
        how(words["drift_how"]),
        _drift_multiples(data, words, warn),
        f"<h3>{esc(words['drift_table'])}</h3>",
        how(words["drift_table_how"]),
        _feature_table(today, words),
        f"<h3>{esc(words['segment_drift'])}</h3>",
        how(words["segment_drift_how"]),
        _segment_table(today, data.names, words),
    ]
    return section("drift", words, *parts)


def _alert_threshold(today: pd.DataFrame | None) -> float | None:
    rows = _deciding(today)
    if rows is None or "threshold" not in rows:
        return None
    values = [v for v in (finite(t) for t in rows["threshold"]) if v is not None]
    return max(values) if values else None


def _drift_multiples(data: ReportData, words: dict[str, str], warn: float) -> str:
    history = data.drift
    if history is None or not {"scope", "name", "metric", "value"} <= set(history.columns):
        return not_available(words)
    psi = history[(history["scope"] == "feature") & (history["metric"] == "psi_quantile")]
    if psi.empty:
        return not_available(words, "psi_quantile")
    guides = [Guide(warn, f"{words['warn_line']} {fmt_num(warn, '')}", LEVEL_COLOURS["warn"])]
    alert = _alert_threshold(data.drift_today)
    if alert is not None:
        guides.append(
            Guide(alert, f"{words['alert_line']} {fmt_num(alert, '')}", LEVEL_COLOURS["alert"])
        )
    today = psi[psi[RUN_KEY] == data.day].drop_duplicates("name")
    latest = dict(zip(today["name"], today["value"], strict=True))
    order = sorted(set(psi["name"]), key=lambda n: (-_sort_value(latest.get(n)), str(n)))
    figures = []
    for name in order:
        rows = psi[psi["name"] == name]
        points = tuple((d, float(v)) for d, v in rows[[RUN_KEY, "value"]].to_numpy())
        label = feature_label(str(name), words["language"])
        chart = line_chart(
            [Series("psi_quantile", "#0969da", points)],
            f"{label}: psi_quantile",
            lambda v: fmt_num(v, words["na"]),
            guides,
            width=330,
            height=150,
            legend=False,
        )
        figures.append(
            f"<figure><figcaption>{esc(label)}</figcaption>{chart or not_available(words)}</figure>"
        )
    legend = legend_list([(g.label, g.colour, True) for g in guides])
    return f'{legend}<div class="multiples">{"".join(figures)}</div>'


def _sort_value(value: object) -> float:
    number = finite(value)
    return -math.inf if number is None else number


def _feature_table(today: pd.DataFrame | None, words: dict[str, str]) -> str:
    if today is None or not {"scope", "name", "metric", "value"} <= set(today.columns):
        return not_available(words)
    rows = today[today["scope"] == "feature"]
    if rows.empty:
        return not_available(words)
    present = set(rows["metric"])
    metrics = [m for m in METRIC_ORDER if m in present] + sorted(present - set(METRIC_ORDER))
    header = [words["feature"], words["level"], *metrics]
    out = []
    for name in sorted(set(rows["name"])):
        mine = rows[rows["name"] == name]
        cells = [_level_cell(mine, words)]
        cells += [_metric_cell(mine[mine["metric"] == m], words["na"]) for m in metrics]
        out.append((feature_label(str(name), words["language"]), cells))
    return heatmap_table(header, out)


def _level_cell(rows: pd.DataFrame, words: dict[str, str]) -> Cell:
    levels = [str(v) for v in rows["level"]] if "level" in rows else []
    ranked = [lvl for lvl in LEVELS if lvl in levels]
    if not ranked:
        return Cell(words["na"])
    worst = ranked[-1]
    return Cell(worst, LEVEL_BACKGROUNDS[worst], LEVEL_COLOURS[worst] if worst != "warn" else None)


def _metric_cell(rows: pd.DataFrame, na: str) -> Cell:
    if rows.empty:
        return Cell(na)
    row = rows.iloc[0]
    level = as_text(row["level"]) if "level" in rows else ""
    threshold = finite(row["threshold"]) if "threshold" in rows else None
    note = None if threshold is None else f"threshold {fmt_num(threshold, na)}"
    if level in LEVELS:
        return Cell(fmt_num(row["value"], na), LEVEL_BACKGROUNDS[level], None, note)
    return Cell(fmt_num(row["value"], na), note=note)


def _segment_table(today: pd.DataFrame | None, names: dict[int, str], words: dict[str, str]) -> str:
    if today is None or not {"scope", "name", "metric", "value"} <= set(today.columns):
        return not_available(words)
    rows = today[today["scope"] == "segment"]
    if rows.empty:
        return not_available(words)
    present = set(rows["metric"])
    metrics = [m for m in SEGMENT_METRICS if m in present] + sorted(present - set(SEGMENT_METRICS))
    out = []
    for name in sorted(set(rows["name"]), key=_segment_key):
        mine = rows[rows["name"] == name]
        cells = [_segment_metric(mine[mine["metric"] == m], m, words) for m in metrics]
        label = segment_label(int(name), names) if _segment_key(name)[0] == 0 else str(name)
        out.append((label, cells))
    return heatmap_table([words["segment"], *metrics], out)


def _segment_key(name: object) -> tuple[int, int, str]:
    text = str(name)
    return (0, int(text), "") if re.fullmatch(r"-?\d+", text) else (1, 0, text)


def _segment_metric(rows: pd.DataFrame, metric: str, words: dict[str, str]) -> Cell:
    if rows.empty:  # e.g. "vanished" for a segment still there
        return Cell("—")
    row = rows.iloc[0]
    value = finite(row["value"])
    if value is not None and metric.startswith("share"):
        text = f"{value * 100:+.1f} {words['pp']}"
    else:
        text = fmt_num(value, words["na"])
    level = as_text(row["level"]) if "level" in rows else ""
    if level in ("warn", "alert"):
        return Cell(text, LEVEL_BACKGROUNDS[level])
    return Cell(text)
