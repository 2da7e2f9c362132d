"""Charts whose axes are categories or plain numbers, not dates (``charts`` has those).

``stacked_bars``: one horizontal bar of shares per row (churn risk by segment);
``column_chart``: grouped vertical bars per category (lift per decile);
``xy_chart``: lines through points on a square from 0 to 1, with the diagonal (calibration);
``interval_chart``: a bar per row from 0 to an estimate, with whiskers for its interval (uplift).
Like ``charts``, nothing here reads data or words, the same values give the same bytes, and
an empty chart is an empty string.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from segmentation.report.charts import Formatter, Guide, legend_list, nice_ticks
from segmentation.report.formatting import esc


@dataclass(frozen=True)
class Part:
    """One kind of share in a stacked bar: its label, colour and the colour of its text."""

    label: str
    colour: str
    ink: str = "#ffffff"


@dataclass(frozen=True)
class Bars:
    """One series of a column chart: a value per category (NaN: no bar)."""

    label: str
    colour: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Points:
    """One line of an xy chart: (x, y) points, both from 0 to 1 (not finite: left out)."""

    label: str
    colour: str
    points: tuple[tuple[float, float], ...]


def _f(value: float) -> str:
    """An SVG coordinate: one decimal, so output is stable and small."""
    return f"{value:.1f}"


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>{body}</svg>'
    )


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    parts: Sequence[Part],
    title: str,
    fmt: Formatter,
    width: int = 720,
) -> str:
    """One horizontal bar per row, split into ``parts`` by its shares (summing to 1), each
    share written inside its piece when there is room, with a legend of the parts."""
    if not rows:
        return ""
    row, label_width, right = 28, 220, 8
    room = width - label_width - right
    height = row * len(rows) + 8
    out = []
    for i, (label, shares) in enumerate(rows):
        y = 4 + i * row
        out.append(
            f'<text class="label" x="{label_width - 8}" y="{y + row / 2:.1f}" '
            f'text-anchor="end" dominant-baseline="middle">{esc(label)}</text>'
        )
        x = float(label_width)
        for part, share in zip(parts, shares, strict=True):
            if not math.isfinite(share) or share <= 0:
                continue
            length = share * room
            out.append(
                f'<rect x="{_f(x)}" y="{y + 3}" width="{_f(length)}" height="{row - 6}" '
                f'fill="{part.colour}"><title>{esc(label)}, {esc(part.label)}: '
                f"{esc(fmt(share))}</title></rect>"
            )
            if length >= 40:
                out.append(
                    f'<text x="{_f(x + length / 2)}" y="{y + row / 2:.1f}" text-anchor="middle" '
                    f'dominant-baseline="middle" style="fill:{part.ink};font-size:11px">'
                    f"{esc(fmt(share))}</text>"
                )
            x += length
    legend = legend_list([(p.label, p.colour, False) for p in parts])
    return _svg(width, height, title, "".join(out)) + legend


def _across(x1: float, x2: float, y: float, attributes: str, note: str = "") -> str:
    """A horizontal line at ``y`` from ``x1`` to ``x2``, with a hover ``note`` if given."""
    line = f'<line {attributes} x1="{_f(x1)}" x2="{_f(x2)}" y1="{_f(y)}" y2="{_f(y)}"'
    return f"{line}><title>{esc(note)}</title></line>" if note else f"{line}/>"


def _tick(left: int, y: float, label: str) -> str:
    """A value axis's label at height ``y``, right-aligned just left of ``left``."""
    return (
        f'<text x="{left - 6}" y="{_f(y)}" text-anchor="end" '
        f'dominant-baseline="middle">{esc(label)}</text>'
    )


def column_chart(
    categories: Sequence[str],
    series: Sequence[Bars],
    title: str,
    fmt: Formatter,
    guides: Sequence[Guide] = (),
    x_title: str = "",
    width: int = 520,
    height: int = 280,
) -> str:
    """Grouped vertical bars: for each category one bar per series, side by side, over a
    value axis from 0; dashed ``guides`` across (such as a lift of 1); ``x_title`` under the
    categories."""
    values = [v for s in series for v in s.values if math.isfinite(v)]
    if not categories or not values:
        return ""
    ticks = nice_ticks(0.0, max([*values, *(g.value for g in guides)]))
    low, high = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1
    left, right, top, bottom = 44, 8, 10, 42 if x_title else 26
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(v: float) -> float:
        return top + (high - v) / (high - low) * plot_h

    out = [
        _across(left, width - right, y(t), 'class="grid"') + _tick(left, y(t), fmt(t))
        for t in ticks
    ]
    slot = plot_w / len(categories)
    bar = slot * 0.8 / max(1, len(series))
    for i, category in enumerate(categories):
        x0 = left + i * slot + slot * 0.1
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else math.nan
            if not math.isfinite(value):
                continue
            out.append(
                f'<rect x="{_f(x0 + j * bar)}" y="{_f(y(max(value, 0.0)))}" width="{_f(bar)}" '
                f'height="{_f(abs(y(0.0) - y(max(value, 0.0))))}" fill="{s.colour}">'
                f"<title>{esc(s.label)}, {esc(category)}: {esc(fmt(value))}</title></rect>"
            )
        out.append(
            f'<text x="{_f(left + (i + 0.5) * slot)}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{esc(category)}</text>'
        )
    if x_title:
        out.append(
            f'<text x="{_f(left + plot_w / 2)}" y="{height - 4}" text-anchor="middle">'
            f"{esc(x_title)}</text>"
        )
    out.append(_across(left, width - right, y(0.0), 'class="axis"'))
    dashed = 'stroke-width="1.5" stroke-dasharray="6 4"'
    out += [
        _across(left, width - right, y(g.value), f'stroke="{g.colour}" {dashed}', g.label)
        for g in guides
    ]
    items = [(s.label, s.colour, False) for s in series] + [
        (g.label, g.colour, True) for g in guides
    ]
    return _svg(width, height, title, "".join(out)) + legend_list(items)


def xy_chart(
    series: Sequence[Points],
    title: str,
    fmt: Formatter,
    axes: tuple[str, str, str],
    size: int = 360,
) -> str:
    """Lines through (x, y) points on the square [0, 1] x [0, 1], with the diagonal y = x
    dashed; ``axes`` are the x axis's title, the y axis's and the diagonal's legend."""
    kept = [
        (s, sorted((x, y) for x, y in s.points if math.isfinite(x) and math.isfinite(y)))
        for s in series
    ]
    if not any(points for _, points in kept):
        return ""
    x_title, y_title, diagonal = axes
    left, top, bottom = 56, 10, 42
    plot = size - left - 12
    height = plot + top + bottom

    def px(v: float) -> float:
        return left + v * plot

    def py(v: float) -> float:
        return top + (1 - v) * plot

    out = [_xy_grid(px, py, fmt, left, top)]
    out.append(
        f'<text x="{_f(px(0.5))}" y="{height - 4}" text-anchor="middle">{esc(x_title)}</text>'
        f'<text x="12" y="{_f(py(0.5))}" text-anchor="middle" '
        f'transform="rotate(-90 12 {_f(py(0.5))})">{esc(y_title)}</text>'
        f'<line x1="{_f(px(0))}" y1="{_f(py(0))}" x2="{_f(px(1))}" y2="{_f(py(1))}" '
        f'stroke="#8c959f" stroke-width="1.5" stroke-dasharray="6 4"><title>{esc(diagonal)}'
        "</title></line>"
    )
    for s, points in kept:
        if not points:
            continue
        coords = " ".join(f"{_f(px(x))},{_f(py(y))}" for x, y in points)
        out.append(
            f'<polyline fill="none" stroke="{s.colour}" stroke-width="2" points="{coords}"/>'
        )
        out.extend(
            f'<circle cx="{_f(px(x))}" cy="{_f(py(y))}" r="3.5" fill="{s.colour}">'
            f"<title>{esc(s.label)}: {esc(fmt(x))} → {esc(fmt(y))}</title></circle>"
            for x, y in points
        )
    items = [(s.label, s.colour, False) for s, _ in kept] + [(diagonal, "#8c959f", True)]
    return _svg(size, height, title, "".join(out)) + legend_list(items)


def _xy_grid(
    px: Callable[[float], float], py: Callable[[float], float], fmt: Formatter, left: int, top: int
) -> str:
    out = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f'<line class="grid" x1="{left}" x2="{_f(px(1))}" y1="{_f(py(t))}" y2="{_f(py(t))}"/>'
            f'<line class="grid" x1="{_f(px(t))}" x2="{_f(px(t))}" y1="{top}" y2="{_f(py(0))}"/>'
            f"{_tick(left, py(t), fmt(t))}"
            f'<text x="{_f(px(t))}" y="{_f(py(0) + 16)}" text-anchor="middle">{esc(fmt(t))}</text>'
        )
    return "".join(out)


@dataclass(frozen=True)
class Interval:
    """One row of an interval chart: an estimate and its interval (low, high), all finite."""

    label: str
    value: float
    low: float
    high: float
    colour: str


def interval_chart(
    rows: Sequence[Interval], title: str, fmt: Formatter, x_title: str = "", width: int = 720
) -> str:
    """One horizontal bar per row from 0 to its value, with whiskers (capped) from its low to
    its high, over a value axis that includes 0 (drawn solid); ticks under the rows."""
    kept = [r for r in rows if all(math.isfinite(v) for v in (r.value, r.low, r.high))]
    if not kept:
        return ""
    ticks = nice_ticks(min(0.0, *(r.low for r in kept)), max(0.0, *(r.high for r in kept)))
    low, high = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1
    row, left, right, top = 32, 160, 24, 6
    bottom = 42 if x_title else 24
    height = top + row * len(kept) + bottom
    base = top + row * len(kept)

    def x(v: float) -> float:
        return left + (v - low) / (high - low) * (width - left - right)

    out = [
        f'<line class="grid" x1="{_f(x(t))}" x2="{_f(x(t))}" y1="{top}" y2="{base}"/>'
        f'<text class="tick" x="{_f(x(t))}" y="{base + 16}" text-anchor="middle">'
        f"{esc(fmt(t))}</text>"
        for t in ticks
    ]
    for i, r in enumerate(kept):
        mid = top + (i + 0.5) * row
        start, end = sorted((x(0.0), x(r.value)))
        note = f"{r.label}: {fmt(r.value)} ({fmt(r.low)} … {fmt(r.high)})"
        out.append(
            f'<text class="label" x="{left - 8}" y="{_f(mid)}" text-anchor="end" '
            f'dominant-baseline="middle">{esc(r.label)}</text>'
            f'<rect class="estimate" x="{_f(start)}" y="{_f(mid - 8)}" width="{_f(end - start)}" '
            f'height="16" fill="{r.colour}"><title>{esc(note)}</title></rect>'
            f'<line class="whisker" x1="{_f(x(r.low))}" x2="{_f(x(r.high))}" y1="{_f(mid)}" '
            f'y2="{_f(mid)}" stroke="#1f2328" stroke-width="1.5"/>'
        )
        out += [
            f'<line class="cap" x1="{_f(x(v))}" x2="{_f(x(v))}" y1="{_f(mid - 6)}" '
            f'y2="{_f(mid + 6)}" stroke="#1f2328" stroke-width="1.5"/>'
            for v in (r.low, r.high)
        ]
    out.append(f'<line class="axis" x1="{_f(x(0.0))}" x2="{_f(x(0.0))}" y1="{top}" y2="{base}"/>')
    if x_title:
        out.append(
            f'<text x="{_f(x((low + high) / 2))}" y="{height - 4}" text-anchor="middle">'
            f"{esc(x_title)}</text>"
        )
    return _svg(width, height, title, "".join(out))
