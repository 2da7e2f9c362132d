"""The chart kit of the report: inline SVG line and bar charts, heatmap tables, colours.

Nothing here reads data or words: a chart gets its values, labels and a formatter, and returns
markup (empty when there is nothing to draw). Coordinates have one decimal, so the same values
always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from segmentation.report.formatting import esc

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
LEVEL_COLOURS = {"ok": "#2da44e", "warn": "#d4a72c", "alert": "#cf222e", "na": "#8c959f"}
LEVEL_BACKGROUNDS = {"ok": "#dafbe1", "warn": "#fff8c5", "alert": "#ffebe9", "na": "#f6f8fa"}


def segment_colour(segment_id: int) -> str:
    return PALETTE[segment_id % len(PALETTE)]


def _mix(low: str, high: str, t: float) -> str:
    """The colour ``t`` (0..1) of the way from ``low`` to ``high`` (both ``#rrggbb``)."""
    a = [int(low[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def diverging(z: float) -> tuple[str, str]:
    """Background and text colour of a z-score: blue below, white about 0, red above."""
    t = max(-1.0, min(1.0, z / 2.5))
    background = _mix("#ffffff", "#b2182b" if t > 0 else "#2166ac", abs(t))
    return background, "#ffffff" if abs(t) > 0.6 else "#1f2328"


def sequential(fraction: float) -> tuple[str, str]:
    """Background and text colour of a share from 0 (white) to 1 (dark blue)."""
    t = max(0.0, min(1.0, fraction))
    return _mix("#ffffff", "#08519c", t), "#ffffff" if t > 0.55 else "#1f2328"


Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One line of a line chart: dated values (values that are not finite are left out)."""

    label: str
    colour: str
    points: tuple[tuple[dt.date, float], ...]


@dataclass(frozen=True)
class Guide:
    """A horizontal dashed line across a chart, such as a threshold."""

    value: float
    label: str
    colour: str


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    first: int  # date ordinals shown at the left and right edges
    last: int
    low: float
    high: float

    def x(self, day: dt.date) -> float:
        span = self.last - self.first
        if span == 0:
            return (self.left + self.width - self.right) / 2
        return self.left + (day.toordinal() - self.first) / span * self.plot_width

    def y(self, value: float) -> float:
        return self.top + (self.high - value) / (self.high - self.low) * self.plot_height

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom


def _f(value: float) -> str:
    """An SVG coordinate: one decimal, so output is stable and small."""
    return f"{value:.1f}"


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering ``low``..``high`` (steps of 1, 2 or 5 times a power of 10)."""
    span = high - low if high > low else abs(high) or 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def _date_ticks(days: list[dt.date], count: int = 5) -> list[dt.date]:
    if len(days) <= count:
        return days
    picks = {round(i * (len(days) - 1) / (count - 1)) for i in range(count)}
    return [days[i] for i in sorted(picks)]


def _frame(
    series: Sequence[Series], guides: Sequence[Guide], width: int, height: int
) -> tuple[_Frame, list[float], list[dt.date]]:
    days = sorted({d for s in series for d, _ in s.points})
    values = [v for s in series for _, v in s.points] + [g.value for g in guides]
    values = [v for v in values if math.isfinite(v)]
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]))
    frame = _Frame(
        width=width,
        height=height,
        left=52,
        right=12,
        top=10,
        bottom=26,
        first=days[0].toordinal(),
        last=days[-1].toordinal(),
        low=ticks[0],
        high=ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1,
    )
    return frame, ticks, _date_ticks(days)


def _axes(frame: _Frame, ticks: list[float], days: list[dt.date], fmt: Formatter) -> str:
    parts = []
    for tick in ticks:
        y = _f(frame.y(tick))
        parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{y}" y2="{y}"/>'
            f'<text class="tick" x="{frame.left - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{esc(fmt(tick))}</text>'
        )
    base = frame.height - frame.bottom
    for i, day in enumerate(days):
        anchor = "middle"
        if len(days) > 1 and i in (0, len(days) - 1):
            anchor = "start" if i == 0 else "end"
        parts.append(
            f'<text class="tick" x="{_f(frame.x(day))}" y="{base + 16}" '
            f'text-anchor="{anchor}">{esc(day.isoformat())}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{frame.left}" x2="{frame.width - frame.right}" '
        f'y1="{base}" y2="{base}"/>'
    )
    return "".join(parts)


def _line(series: Series, frame: _Frame, fmt: Formatter) -> str:
    points = sorted((d, v) for d, v in series.points if math.isfinite(v))
    if not points:
        return ""
    coords = " ".join(f"{_f(frame.x(d))},{_f(frame.y(v))}" for d, v in points)
    out = [f'<polyline fill="none" stroke="{series.colour}" stroke-width="2" points="{coords}"/>']
    if len(points) <= 60:
        for d, v in points:
            out.append(
                f'<circle cx="{_f(frame.x(d))}" cy="{_f(frame.y(v))}" r="3" '
                f'fill="{series.colour}"><title>{esc(series.label)}, {d.isoformat()}: '
                f"{esc(fmt(v))}</title></circle>"
            )
    return "".join(out)


def _guide(guide: Guide, frame: _Frame) -> str:
    y = _f(frame.y(guide.value))
    return (
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y}" y2="{y}" '
        f'stroke="{guide.colour}" stroke-width="1.5" stroke-dasharray="6 4">'
        f"<title>{esc(guide.label)}</title></line>"
    )


def legend_list(items: Sequence[tuple[str, str, bool]]) -> str:
    """Legend entries (label, colour, dashed) as an HTML list under a chart."""
    entries = "".join(
        f'<li><span class="swatch{" dashed" if dashed else ""}" '
        f'style="border-color:{colour};background:{"transparent" if dashed else colour}">'
        f"</span>{esc(label)}</li>"
        for label, colour, dashed in items
    )
    return f'<ul class="legend">{entries}</ul>'


def line_chart(
    series: Sequence[Series],
    title: str,
    fmt: Formatter,
    guides: Sequence[Guide] = (),
    width: int = 720,
    height: int = 240,
    legend: bool = True,
) -> str:
    """An inline SVG line chart over dates, one line per series, with optional guides."""
    if not any(math.isfinite(v) for s in series for _, v in s.points):
        return ""
    frame, ticks, days = _frame(series, guides, width, height)
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>'
        f"{_axes(frame, ticks, days, fmt)}"
        f"{''.join(_guide(g, frame) for g in guides)}"
        f"{''.join(_line(s, frame, fmt) for s in series)}</svg>"
    )
    if not legend:
        return svg
    items = [(s.label, s.colour, False) for s in series] + [
        (g.label, g.colour, True) for g in guides
    ]
    return svg + legend_list(items)


def bar_chart(
    bars: Sequence[tuple[str, float, str]], title: str, fmt: Formatter, width: int = 720
) -> str:
    """An inline SVG horizontal bar chart: (label, value, colour) per bar, longest = full."""
    if not bars:
        return ""
    row, label_width, value_width = 26, 220, 90
    height = row * len(bars) + 8
    top = max([v for _, v, _ in bars if math.isfinite(v)] + [0.0]) or 1.0
    room = width - label_width - value_width
    parts = []
    for i, (label, value, colour) in enumerate(bars):
        y = 4 + i * row
        length = max(0.0, value) / top * room if math.isfinite(value) else 0.0
        parts.append(
            f'<text class="label" x="{label_width - 8}" y="{y + row / 2:.1f}" text-anchor="end" '
            f'dominant-baseline="middle">{esc(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{_f(length)}" height="{row - 6}" '
            f'fill="{colour}"><title>{esc(label)}: {esc(fmt(value))}</title></rect>'
            f'<text class="value" x="{_f(label_width + length + 6)}" y="{y + row / 2:.1f}" '
            f'dominant-baseline="middle">{esc(fmt(value))}</text>'
        )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>{"".join(parts)}</svg>'
    )


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and for a heatmap its colours and a hover note."""

    text: str
    background: str | None = None
    colour: str | None = None
    note: str | None = None
    wide: bool = False  # a long text column


def heatmap_table(header: Sequence[str], rows: Sequence[tuple[str, Sequence[Cell]]]) -> str:
    """An HTML table whose cells may be coloured (a heatmap); row labels in the first column."""
    head = "".join(f'<th scope="col">{esc(h).replace("_", "_<wbr>")}</th>' for h in header)
    body = "".join(
        f'<tr><th scope="row">{esc(label).replace("_", "_<wbr>")}</th>'
        f"{''.join(_cell(c) for c in cells)}</tr>"
        for label, cells in rows
    )
    return (
        f'<div class="scroll"><table class="heat"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _cell(cell: Cell) -> str:
    style = ""
    if cell.background:
        style = f' style="background:{cell.background};color:{cell.colour or "#1f2328"}"'
    note = f' title="{esc(cell.note)}"' if cell.note else ""
    cls = ' class="text"' if cell.wide else ' class="num"'
    return f"<td{cls}{style}{note}>{esc(cell.text)}</td>"
