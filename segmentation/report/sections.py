"""The report's sections except drift (``sections_drift``), and the blocks all sections share.

Each section takes the ``ReportData`` and the words of the page's language and returns one
``<section>`` whose id is its key in ``SECTIONS``; what it cannot show reads "not available".
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from segmentation.catalog import PREDICTION_PROFILE_COLUMNS
from segmentation.features.labels import feature_label, readable_rule
from segmentation.layout import RUN_KEY
from segmentation.monitoring import drift
from segmentation.report.charts import (
    LEVEL_COLOURS,
    Cell,
    Series,
    bar_chart,
    diverging,
    heatmap_table,
    line_chart,
    segment_colour,
    sequential,
)
from segmentation.report.data import ReportData, migration_counts
from segmentation.report.formatting import (
    as_date,
    as_text,
    esc,
    finite,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_score,
    hidden_text,
    is_suppressed,
    segment_label,
)

# the sections of the page, in order (each one's id, and its title's key in the words)
SECTIONS = (
    "decision",
    "segments",
    "sizes",
    "profiles",
    "migrations",
    "predictions",
    "recommendations",
    "campaigns",
    "drift",
    "model",
    "validation",
)
CHAMPIONS = ("champion", "retired")  # statuses of models that assigned segments at some point
# segment_profiles' means of predictions, not of features: the predictions section shows them


def section(sid: str, words: dict[str, str], *parts: str, css: str = "", style: str = "") -> str:
    """The ``<section>`` ``sid`` with its title and the non-empty ``parts``, one a line."""
    cls = f' class="{css}"' if css else ""
    attr = f' style="{style}"' if style else ""
    return (
        f'<section id="{sid}"{cls}{attr}>\n<h2>{esc(words[sid])}</h2>\n'
        + "\n".join(p for p in parts if p)
        + "\n</section>\n"
    )


def how(text: str) -> str:
    """A sentence that tells the reader how to read what follows."""
    return f'<p class="how">{esc(text)}</p>'


def not_available(words: dict[str, str], detail: str = "") -> str:
    """The "not available" line that stands in for what cannot be shown."""
    return f'<p class="na">{esc(words["na"])}{esc(": " + detail) if detail else ""}</p>'


# ------------------------------------------------------------------------------ segments


def segments_section(data: ReportData, words: dict[str, str]) -> str:
    profiles = data.profiles
    if profiles is None or not {"segment_id", "customers"} <= set(profiles.columns):
        return section("segments", words, not_available(words))
    profiles = profiles.sort_values("segment_id", kind="stable")
    na = words["na"]
    bars = [
        (
            segment_label(int(r["segment_id"]), data.names),
            float(r["customers"]),
            segment_colour(int(r["segment_id"])),
        )
        for _, r in profiles.iterrows()
        if not is_suppressed(r)
    ]
    chart = bar_chart(bars, words["segments"], lambda v: fmt_int(v, na))
    cards = "".join(_card(row, words) for _, row in profiles.iterrows())
    return section(
        "segments", words, how(words["segments_how"]), chart, f'<div class="cards">{cards}</div>'
    )


def _card(row: pd.Series, words: dict[str, str]) -> str:
    sid = int(row["segment_id"])
    fields: tuple[tuple[str, str], ...] = (
        ("segment_id", str(sid)),
        ("customers", hidden_text(row.get("suppression_reason"), words)),
    )
    if not is_suppressed(row):
        fields = _card_fields(row, words)
    items = "".join(f"<dt>{esc(words[k])}</dt><dd>{esc(v)}</dd>" for k, v in fields)
    name = as_text(row.get("segment_name")) or str(sid)
    return (
        f'<article class="card" style="border-top-color:{segment_colour(sid)}">'
        f"<h3>{esc(name)}</h3><dl>{items}</dl></article>"
    )


def _card_fields(row: pd.Series, words: dict[str, str]) -> tuple[tuple[str, str], ...]:
    na = words["na"]
    sid = int(row["segment_id"])
    return (
        ("segment_id", str(sid)),
        ("customers", fmt_int(row.get("customers"), na)),
        ("share", fmt_pct(row.get("share"), na)),
        ("description", as_text(row.get("description")) or na),
        ("rules", readable_rule(as_text(row.get("rules")), words["language"]) or na),
        ("affinity", as_text(row.get("affinity")) or na),
        ("control", fmt_int(row.get("control_customers"), na)),
    )


# ------------------------------------------------------------------------------ sizes


def sizes_section(data: ReportData, words: dict[str, str]) -> str:
    sizes = data.sizes
    if sizes is None:
        return section("sizes", words, not_available(words))
    names = data.names
    series = []
    for sid in sorted({int(v) for v in sizes["segment_id"]}):
        group = sizes[sizes["segment_id"] == sid]
        points = tuple(
            (d, float(v))
            for d, v in group[[RUN_KEY, "customers"]].to_numpy()
            if finite(v) is not None
        )
        if points:  # none when the segment was suppressed on every run
            series.append(Series(segment_label(sid, names), segment_colour(sid), points))
    na = words["na"]
    chart = line_chart(series, words["sizes"], lambda v: fmt_int(v, na))
    return section("sizes", words, how(words["sizes_how"]), chart or not_available(words))


# ------------------------------------------------------------------------------ profiles


def zscores(values: pd.Series) -> pd.Series:
    """Each value's distance from the mean across segments, in standard deviations (0 if flat)."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    spread = float(numbers.std(ddof=0)) if numbers.notna().sum() > 1 else 0.0
    if not math.isfinite(spread) or spread == 0:
        return numbers.where(numbers.isna(), 0.0)
    return (numbers - numbers.mean()) / spread


def profiles_section(data: ReportData, words: dict[str, str]) -> str:
    profiles = data.profiles
    if profiles is None or "segment_id" not in profiles:
        return section("profiles", words, not_available(words))
    profiles = profiles.sort_values("segment_id", kind="stable").reset_index(drop=True)
    na = words["na"]
    header = [words["segment"]]
    header += [
        f"{as_text(n) or s} ({int(s)})"
        for s, n in zip(profiles["segment_id"], _column(profiles, "segment_name"), strict=True)
    ]
    rows: list[tuple[str, list[Cell]]] = [
        (words["customers"], [Cell(fmt_int(v, na)) for v in _column(profiles, "customers")]),
        (words["share"], [Cell(fmt_pct(v, na)) for v in _column(profiles, "share")]),
    ]
    means = [c for c in profiles.columns if str(c).startswith("mean_")]
    for col in (c for c in means if c not in PREDICTION_PROFILE_COLUMNS):
        z = zscores(profiles[col])
        cells = [_z_cell(v, float(zv), na) for v, zv in zip(profiles[col], z, strict=True)]
        rows.append((feature_label(str(col).removeprefix("mean_"), words["language"]), cells))
    hidden = [
        hidden_text(r, words) if is_suppressed({"suppressed": s}) else ""
        for s, r in zip(
            _column(profiles, "suppressed"), _column(profiles, "suppression_reason"), strict=True
        )
    ]
    for col in ("description", "rules", "affinity"):
        texts = [
            Cell(h or _shown(col, v, words) or na, wide=True)
            for v, h in zip(_column(profiles, col), hidden, strict=True)
        ]
        rows.append((words[col], texts))
    return section(
        "profiles", words, how(words["profiles_how"]), _scale(words), heatmap_table(header, rows)
    )


def _shown(column: str, value: object, words: dict[str, str]) -> str:
    """A profile's text as shown: its rules with feature labels, other texts as they are."""
    text = as_text(value)
    return readable_rule(text, words["language"]) if column == "rules" else text


def _column(frame: pd.DataFrame, column: str) -> list[object]:
    """A column's values, or missing values when the column is absent."""
    return list(frame[column]) if column in frame else [None] * len(frame)


def _z_cell(value: object, z: float, na: str) -> Cell:
    if finite(value) is None or not math.isfinite(z):
        return Cell(na)
    background, colour = diverging(z)
    return Cell(fmt_num(value, na), background, colour, f"z = {z:+.2f}")


def _scale(words: dict[str, str]) -> str:
    steps = (-2.0, -1.0, 0.0, 1.0, 2.0)
    spans = []
    for z in steps:
        background, colour = diverging(z)
        text = words["below"] if z < 0 else words["above"] if z > 0 else words["average"]
        spans.append(
            f'<span style="background:{background};color:{colour}">{z:+.0f}: {esc(text)}</span>'
        )
    return f'<p class="scale">{"".join(spans)}</p>'


# ------------------------------------------------------------------------------ migrations


def migrations_section(data: ReportData, words: dict[str, str]) -> str:
    moves = data.migrations
    if moves is None or not {"from_segment_id", "to_segment_id", "customers"} <= set(moves):
        return section("migrations", words, not_available(words))
    counts = migration_counts(moves)
    na = words["na"]
    gone = _suppressed(moves)
    if counts is not None and gone.any():  # the counts shown would leave the hidden out
        rate = esc(words["migration_rate_only"].format(rate=fmt_pct(data.migration_rate, na)))
    elif counts is None:
        rate = esc(words["migration_na"])
    else:
        changed, both = counts
        shown = fmt_pct(data.migration_rate, na)  # as compute_drift published it
        rate = esc(
            words["migration_rate"].format(
                rate=shown, changed=fmt_int(changed, na), both=fmt_int(both, na)
            )
        )
    fresh = moves["from_segment_id"].isna()
    new = int(moves.loc[fresh, "customers"].sum())
    told = "" if gone[fresh].any() else esc(words["new_customers"].format(n=fmt_int(new, na)))
    summary = f"<p><b>{rate}</b> {told}</p>"
    return section(
        "migrations", words, how(words["migrations_how"]), summary, _migration_matrix(data, words)
    )


def _migration_matrix(data: ReportData, words: dict[str, str]) -> str:
    assert data.migrations is not None
    moves = data.migrations
    names = data.names
    na = words["na"]
    origin = moves["from_segment_id"].map(lambda v: None if pd.isna(v) else int(v))
    targets = sorted({int(v) for v in moves["to_segment_id"]})
    sources: list[int | None] = [None] if origin.isna().any() else []
    sources += sorted({int(v) for v in origin.dropna()})
    table: dict[tuple[int | None, int], int | None] = {}
    counts = moves["customers"].astype("Float64").mask(_suppressed(moves))
    for src, dst, n in zip(origin, moves["to_segment_id"], counts, strict=True):
        key = (None if src is None or pd.isna(src) else int(src), int(dst))
        table[key] = None if pd.isna(n) else (table.get(key) or 0) + int(n)
    header = [words["from_to"]] + [segment_label(t, names) for t in targets]
    rows = []
    for src in sources:
        row = [table.get((src, t), 0) for t in targets]
        # a row with a suppressed cell has no total: its cells show counts only
        total = None if None in row else (sum(v for v in row if v is not None) or 1)
        cells = []
        for count in row:
            if count is None:
                cells.append(Cell(words["suppressed_short"]))
                continue
            background, colour = sequential(count / total if total else 0.0)
            share = f" ({fmt_pct(count / total, na)})" if total else ""
            cells.append(Cell(f"{fmt_int(count, na)}{share}", background, colour))
        rows.append((words["new"] if src is None else segment_label(src, names), cells))
    return heatmap_table(header, rows)


def _suppressed(frame: pd.DataFrame) -> pd.Series:
    """Which rows of a published aggregate are suppressed (none in an older table)."""
    if "suppressed" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["suppressed"].fillna(False).astype(bool)


# ------------------------------------------------------------------------------ model


def model_section(data: ReportData, words: dict[str, str]) -> str:
    registry = data.registry
    if registry is None or "trained_run_date" not in registry:
        return section("model", words, how(words["model_how"]), not_available(words))
    trained = registry["trained_run_date"].map(as_date)
    return section(
        "model",
        words,
        how(words["model_how"]),
        _challenger(registry[trained == data.day], words),
        f"<h3>{esc(words['model_chart'])}</h3>",
        how(words["model_chart_how"]),
        _champion_chart(registry, trained, data.day, words),
    )


def _challenger(rows: pd.DataFrame, words: dict[str, str]) -> str:
    if rows.empty:
        return not_available(words)
    row = rows.iloc[0]
    na = words["na"]
    status = as_text(row.get("status"))
    shown = words.get(f"status_{status}", "")
    fields = (
        ("status", f"{status} — {shown}" if shown else status or na),
        ("reason", as_text(row.get("reason")) or na),
        ("algorithm", as_text(row.get("algorithm")) or na),
        ("n_segments", fmt_int(row.get("n_segments"), na)),
        ("silhouette", fmt_score(row.get("silhouette"), na)),
        ("champion_silhouette", fmt_score(row.get("champion_silhouette"), na)),
    )
    cells = "".join(
        f'<tr><th scope="row">{esc(words[k])}</th><td>{esc(v)}</td></tr>' for k, v in fields
    )
    version = as_text(row.get("model_version"))
    caption = f"<caption>{esc(words['version'])} {esc(version)}</caption>" if version else ""
    return f"<table>{caption}<tbody>{cells}</tbody></table>"


def _champion_chart(
    registry: pd.DataFrame, trained: pd.Series, day: dt.date, words: dict[str, str]
) -> str:
    if not {"status", "silhouette"} <= set(registry.columns):
        return not_available(words)
    keep = registry["status"].isin(CHAMPIONS) & trained.map(lambda d: d is not None and d <= day)
    points = tuple(
        sorted(
            (d, float(s))
            for d, s in zip(trained[keep], registry.loc[keep, "silhouette"], strict=True)
            if finite(s) is not None
        )
    )
    chart = line_chart(
        [Series(words["model_chart"], "#0969da", points)],
        words["model_chart"],
        lambda v: fmt_num(v, words["na"]),
        legend=False,
    )
    return chart or not_available(words)


# ------------------------------------------------------------------------------ validation


def validation_section(data: ReportData, words: dict[str, str]) -> str:
    record = data.validation
    if record is None or "success" not in record:
        return section("validation", words, how(words["validation_how"]), not_available(words))
    na = words["na"]
    evaluated = record.get("evaluated_expectations", record.get("evaluated"))
    failures = [str(f) for f in record.get("failures") or []]
    suite = as_text(record.get("suite")) or na
    # a failed day's counts are its whole batch, which the verdict already says
    counts = drift.row_counts(record) if record["success"] else None
    held = counts["bad_rows"] if counts else 0
    if held:  # promoted without a few bad rows: their reasons, not "failed checks"
        verdict = words["validation_held"].format(
            m=fmt_int(held, na), r=fmt_int(record.get("rows_read"), na)
        )
        key = "warn"
        reasons = record.get("bad_row_reasons") or {}
        failures = [f"{reason}: {fmt_int(n, na)}" for reason, n in reasons.items()]
    elif record["success"]:
        verdict = words["validation_passed"].format(n=fmt_int(evaluated, na), suite=suite)
        key = "ok"
    else:
        verdict = words["validation_failed"].format(
            k=fmt_int(len(failures), na), n=fmt_int(evaluated, na), suite=suite
        )
        key = "alert"
    parts = [
        how(words["validation_how"]),
        f'<p style="color:{LEVEL_COLOURS[key]}"><b>{esc(verdict)}</b></p>',
    ]
    if counts and any(counts.values()):  # a clean night needs no line of zeros
        shown = {m: fmt_int(n, na) for m, n in counts.items()}
        parts.append(f"<p>{esc(words['validation_counts'].format(**shown))}</p>")
    if failures:
        items = "".join(f"<li>{esc(f)}</li>" for f in failures)
        title = words["held_reasons"] if held else words["failures"]
        parts.append(f"<h3>{esc(title)}</h3><ul>{items}</ul>")
    return section("validation", words, *parts)
