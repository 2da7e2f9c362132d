"""The report's predictions section: churn risk and predicted value per segment, and how far
the prediction models can be trusted tonight.

It reads ``prediction_quality`` as ``predict_customers`` published it (each model's status
and reason, the classifier's held-out figures beside BG/NBD's baseline, the lift and
calibration tables, BG/NBD's holdout), the segments' prediction means of
``segment_profiles``, and the customers per segment and churn risk (``ReportData.risk``). A
model that was skipped shows its reason instead of its charts; a run without the tables
reads "not available".
"""

from __future__ import annotations

import pandas as pd

from segmentation.catalog import CHURN_RISKS, PREDICTION_PROFILE_COLUMNS
from segmentation.report.charts import (
    LEVEL_BACKGROUNDS,
    LEVEL_COLOURS,
    Cell,
    Guide,
    bar_chart,
    heatmap_table,
    segment_colour,
)
from segmentation.report.charts_xy import Bars, Part, Points, column_chart, stacked_bars, xy_chart
from segmentation.report.data import ReportData
from segmentation.report.formatting import (
    as_text,
    esc,
    finite,
    fmt_int,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_score,
    segment_label,
)
from segmentation.report.sections import how, not_available, section

MODELS = ("bgnbd", "gamma_gamma", "churn")
TRAINED = ("champion", "rejected")  # statuses of a churn challenger trained tonight
FIGURES = ("roc_auc", "pr_auc", "calibration_error")  # the headline figures, vs the baseline
METRICS = (*FIGURES, "log_loss", "brier", "threshold", "precision", "recall", "f1")
BINS = 10  # deciles of the lift table, bins of the calibration table
HOLDOUT = ("0", "1", "2", "3", "4", "5", "6", "7plus")  # BG/NBD's groups by repeat purchases
CLASSIFIER, BASELINE = "#0969da", "#f28e2b"
EXPECTED, ACTUAL = "#b07aa1", "#59a14f"  # BG/NBD holdout
RISK_COLOURS = {
    "low": (LEVEL_COLOURS["ok"], "#ffffff"),
    "medium": (LEVEL_COLOURS["warn"], "#1f2328"),
    "high": (LEVEL_COLOURS["alert"], "#ffffff"),
    "none": ("#d0d7de", "#1f2328"),
}
STATUS_LEVELS = {"champion": "ok", "fitted": "ok", "rejected": "warn", "skipped": "na"}


def predictions_section(data: ReportData, words: dict[str, str]) -> str:
    quality = _quality(data.quality)
    intro = how(words["predictions_how"])
    if quality is None and data.risk is None:
        return section("predictions", words, intro, not_available(words, words["predictions_off"]))
    parts = [intro]
    means = PREDICTION_PROFILE_COLUMNS
    if data.risk is None and not any(_profile_values(data, c) for c in means):
        parts.append(f"<p><b>{esc(words['predictions_none'])}</b></p>")
    else:
        parts += [
            _title(words["risk_title"]),
            how(words["risk_how"]),
            _risk_chart(data, words),
            _title(words["value_title"]),
            how(words["value_how"]),
            _value_chart(data, words),
            _value_table(data, words),
        ]
    if quality is not None and _churn_trained(quality):
        parts += _churn_quality(quality, words)
    parts += [
        _title(words["models_title"]),
        how(words["models_how"]),
        _models_table(quality, words),
        _churn_notes(quality, words),
    ]
    if quality is not None and _value(quality, "bgnbd", "holdout_repeat_0_customers") is not None:
        parts += _holdout(quality, data.churn_days, words)
    elif quality is not None:
        parts += _holdout_skipped(quality, words)
    return section("predictions", words, *parts)


def _holdout_skipped(quality: pd.DataFrame, words: dict[str, str]) -> list[str]:
    """Why there is no holdout table (BG/NBD could not be fitted at the cutoff), if said."""
    rows = quality[(quality["model"] == "bgnbd") & (quality["metric"] == "holdout_skipped")]
    if rows.empty:
        return []
    return [_title(words["holdout_title"]), f"<p>{esc(as_text(rows['reason'].iloc[0]))}</p>"]


def _title(text: str) -> str:
    return f"<h3>{esc(text)}</h3>"


def _quality(quality: pd.DataFrame | None) -> pd.DataFrame | None:
    """Today's ``prediction_quality``, or None when it is missing or lacks its columns."""
    needed = {"model", "model_version", "metric", "value", "status", "reason"}
    if quality is None or not needed <= set(quality.columns):
        return None
    return quality


def _value(quality: pd.DataFrame, model: str, metric: str) -> float | None:
    """The published value of ``model``'s ``metric`` (None if absent or not finite)."""
    rows = quality[(quality["model"] == model) & (quality["metric"] == metric)]
    return None if rows.empty else finite(rows["value"].iloc[0])


def _model_row(quality: pd.DataFrame, model: str) -> pd.Series | None:
    """The row that says ``model``'s status tonight (its first, the champion's AUC aside)."""
    rows = quality[(quality["model"] == model) & (quality["metric"] != "champion_roc_auc")]
    return None if rows.empty else rows.iloc[0]


def _churn_trained(quality: pd.DataFrame) -> bool:
    row = _model_row(quality, "churn")
    return row is not None and as_text(row["status"]) in TRAINED


# ------------------------------------------------------------------------------ by segment


def _segment_ids(data: ReportData) -> list[int]:
    """The segments shown: today's, without the suppressed ones (privacy.min_group_size)."""
    ids: set[int] = set()
    if data.profiles is not None and "segment_id" in data.profiles:
        ids |= {int(s) for s in data.profiles["segment_id"]}
    if data.risk is not None:
        ids |= {int(s) for s in data.risk.index}
    return sorted(ids - set(data.hidden))


def _risk_chart(data: ReportData, words: dict[str, str]) -> str:
    risk = data.risk
    if risk is None:
        return not_available(words, words["risk_na"])
    kinds = [*CHURN_RISKS, "none"]
    parts = [Part(words[f"risk_{k}"], *RISK_COLOURS[k]) for k in kinds]
    counted = zip(risk.index, risk[kinds].to_numpy(), strict=True)
    table = {int(s): [int(n) for n in row] for s, row in counted}
    rows = []
    for sid in _segment_ids(data):
        counts = table.get(sid, [0] * len(kinds))
        total = sum(counts)
        shares = [n / total if total else 0.0 for n in counts]
        rows.append((segment_label(sid, data.names), shares))
    return stacked_bars(rows, parts, words["risk_title"], lambda v: fmt_pct(v, words["na"]))


def _profile_column(data: ReportData, column: str) -> dict[int, object]:
    """A column of today's ``segment_profiles`` by segment id (empty when absent)."""
    profiles = data.profiles
    if profiles is None or not {"segment_id", column} <= set(profiles.columns):
        return {}
    return {int(s): v for s, v in zip(profiles["segment_id"], profiles[column], strict=True)}


def _profile_values(data: ReportData, column: str) -> dict[int, float]:
    """The finite values of a column of today's ``segment_profiles``, by segment id."""
    values = _profile_column(data, column).items()
    return {s: n for s, v in values if (n := finite(v)) is not None}


def _value_chart(data: ReportData, words: dict[str, str]) -> str:
    values = _profile_values(data, "mean_predicted_clv_365d")
    bars = [
        (segment_label(sid, data.names), values[sid], segment_colour(sid))
        for sid in _segment_ids(data)
        if sid in values
    ]
    chart = bar_chart(bars, words["mean_clv"], lambda v: fmt_money(v, words["na"]))
    return chart or not_available(words)


def _value_table(data: ReportData, words: dict[str, str]) -> str:
    na = words["na"]
    columns = (
        ("customers", "customers", lambda v: fmt_int(v, na)),
        ("high_risk", "high_churn_risk_share", lambda v: fmt_pct(v, na)),
        ("mean_clv", "mean_predicted_clv_365d", lambda v: fmt_money(v, na)),
        ("mean_p_alive", "mean_p_alive", lambda v: fmt_pct(v, na)),
        ("mean_churn", "mean_churn_probability", lambda v: fmt_pct(v, na)),
    )
    values = {column: _profile_column(data, column) for _, column, _ in columns}
    if data.risk is None:  # nobody scored: no one is at high risk, nor at low
        values["high_churn_risk_share"] = {}
    if not any(_profile_values(data, column) for _, column, _ in columns[1:]):
        return ""
    rows = [
        (
            segment_label(sid, data.names),
            [Cell(shown(values[column].get(sid))) for _, column, shown in columns],
        )
        for sid in _segment_ids(data)
    ]
    return heatmap_table([words["segment"], *(words[k] for k, _, _ in columns)], rows)


# ------------------------------------------------------------------------------ models


def _models_table(quality: pd.DataFrame | None, words: dict[str, str]) -> str:
    if quality is None:
        return not_available(words)
    na = words["na"]
    rows = []
    for model in MODELS:
        row = _model_row(quality, model)
        if row is None:
            continue
        status = as_text(row["status"])
        meaning = words.get(f"prediction_status_{status}", "")
        level = STATUS_LEVELS.get(status, "na")
        cells = [
            Cell(
                f"{status} — {meaning}" if meaning else status or na,
                LEVEL_BACKGROUNDS[level],
                wide=True,
            ),
            Cell(as_text(row["model_version"]) or "—"),
            Cell(as_text(row["reason"]) or "—", wide=True),
        ]
        rows.append((words[f"model_{model}"], cells))
    if not rows:
        return not_available(words)
    header = [words["model_name"], words["status"], words["version"], words["reason"]]
    return heatmap_table(header, rows)


def _churn_notes(quality: pd.DataFrame | None, words: dict[str, str]) -> str:
    """Who scores the customers tonight, and the champion's AUC the challenger was held to."""
    row = None if quality is None else _model_row(quality, "churn")
    if quality is None or row is None:
        return ""
    champion = quality[(quality["model"] == "churn") & (quality["metric"] == "champion_roc_auc")]
    notes = []
    scorer = as_text(row["model_version"])
    if not champion.empty:
        version = as_text(champion["model_version"].iloc[0])
        auc = fmt_score(champion["value"].iloc[0], words["na"])
        notes.append(words["champion_auc"].format(version=version, auc=auc))
        if as_text(row["status"]) == "rejected":
            scorer = version
    if scorer:
        notes.append(words["scored_by"].format(version=scorer))
    return "".join(f"<p>{esc(n)}</p>" for n in notes)


def _churn_quality(quality: pd.DataFrame, words: dict[str, str]) -> list[str]:
    """The headline figures, the figures table, the lift and the calibration charts."""
    return [
        _title(words["trust_title"]),
        how(words["figures_how"]),
        _figures(quality, words),
        _metrics_table(quality, words),
        '<div class="pair">',
        f"<figure>{_title(words['lift_title'])}{how(words['lift_how'])}",
        _lift_chart(quality, words) or not_available(words),
        "</figure>",
        f"<figure>{_title(words['calibration_title'])}{how(words['calibration_how'])}",
        _calibration_chart(quality, words) or not_available(words),
        "</figure>",
        "</div>",
    ]


def _figures(quality: pd.DataFrame, words: dict[str, str]) -> str:
    na = words["na"]
    items = []
    for metric in FIGURES:
        value = fmt_score(_value(quality, "churn", metric), na)
        baseline = fmt_score(_value(quality, "churn", f"baseline_{metric}"), na)
        items.append(
            f"<li>{esc(words['fig_' + metric])}<b>{esc(value)}</b>"
            f"<small>{esc(words['vs_baseline'].format(value=baseline))}</small></li>"
        )
    tested = fmt_int(_value(quality, "churn", "customers"), na)
    items.append(f"<li>{esc(words['fig_tested'])}<b>{esc(tested)}</b></li>")
    return f'<ul class="figures stats">{"".join(items)}</ul>'


def _metrics_table(quality: pd.DataFrame, words: dict[str, str]) -> str:
    na = words["na"]
    rows = []
    for metric in METRICS:
        ours = _value(quality, "churn", metric)
        theirs = _value(quality, "churn", f"baseline_{metric}")
        if ours is None and theirs is None:
            continue
        rows.append(
            (words[f"metric_{metric}"], [Cell(fmt_score(ours, na)), Cell(fmt_score(theirs, na))])
        )
    return heatmap_table([words["figure"], words["classifier"], words["baseline"]], rows)


def _series(quality: pd.DataFrame, metric: str) -> tuple[float, ...]:
    """``metric`` (with ``{k}``) for k = 1..10, NaN where absent."""
    return _numbers([_value(quality, "churn", metric.format(k=k)) for k in range(1, BINS + 1)])


def _lift_chart(quality: pd.DataFrame, words: dict[str, str]) -> str:
    series = [
        Bars(words["classifier"], CLASSIFIER, _series(quality, "lift_decile_{k}")),
        Bars(words["baseline"], BASELINE, _series(quality, "baseline_lift_decile_{k}")),
    ]
    return column_chart(
        [str(k) for k in range(1, BINS + 1)],
        series,
        words["lift_title"],
        lambda v: fmt_num(v, words["na"]),
        [Guide(1.0, words["average_line"], LEVEL_COLOURS["na"])],
        x_title=words["decile"],
    )


def _calibration_chart(quality: pd.DataFrame, words: dict[str, str]) -> str:
    lines = []
    for label, colour, prefix in (
        (words["classifier"], CLASSIFIER, ""),
        (words["baseline"], BASELINE, "baseline_"),
    ):
        predicted = _series(quality, prefix + "calibration_bin_{k}_predicted")
        observed = _series(quality, prefix + "calibration_bin_{k}_observed")
        lines.append(Points(label, colour, tuple(zip(predicted, observed, strict=True))))
    axes = (words["predicted_axis"], words["observed_axis"], words["diagonal"])
    return xy_chart(lines, words["calibration_title"], lambda v: f"{v * 100:.0f}%", axes)


# ------------------------------------------------------------------------------ holdout


def _holdout(quality: pd.DataFrame, churn_days: int | None, words: dict[str, str]) -> list[str]:
    na = words["na"]
    window = words["window_days"].format(days=churn_days) if churn_days else words["window_unknown"]
    labels = [words["seven_plus"] if g == "7plus" else g for g in HOLDOUT]
    figures = {
        part: [_value(quality, "bgnbd", f"holdout_repeat_{g}_{part}") for g in HOLDOUT]
        for part in ("customers", "predicted", "actual")
    }
    rows = [
        (
            label,
            [
                Cell(fmt_int(figures["customers"][i], na)),
                Cell(fmt_num(figures["predicted"][i], na)),
                Cell(fmt_num(figures["actual"][i], na)),
            ],
        )
        for i, label in enumerate(labels)
    ]
    header = [words["repeat_purchases"], words["customers"], words["expected_days"]]
    chart = column_chart(
        labels,
        [
            Bars(words["expected_days"], EXPECTED, _numbers(figures["predicted"])),
            Bars(words["actual_days"], ACTUAL, _numbers(figures["actual"])),
        ],
        words["holdout_title"],
        lambda v: fmt_num(v, na),
        x_title=words["repeat_purchases"],
    )
    return [
        _title(words["holdout_title"]),
        how(words["holdout_how"].format(window=window)),
        '<div class="pair">',
        heatmap_table([*header, words["actual_days"]], rows),
        f"<figure>{chart}</figure>",
        "</div>",
    ]


def _numbers(values: list[float | None]) -> tuple[float, ...]:
    return tuple(float("nan") if v is None else v for v in values)
