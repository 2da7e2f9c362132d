"""The morning report: one self-contained HTML page per run, for the marketer who reads it.

``build_report`` reads the published tables of one run date (and of earlier runs for the
charts over time, never later ones) and returns the page; ``write_report`` writes it to
``<home>/output/reports/run_date=D/report.html`` and, unless a newer run is already shown,
to ``<home>/output/current/report.html``, each by an atomic rename.

The page needs no network: no scripts, fonts, images or style sheets from elsewhere; the
charts are inline SVG drawn here, the heatmaps are tables with coloured cells. The same
inputs always give the same bytes (no clock is read). Every value from the data is escaped.
Anything missing (a first run, a table not published, an older drift schema) shows as "not
available" instead of failing.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation.config import DriftConfig
from segmentation.errors import ConfigError
from segmentation.io import lake
from segmentation.layout import Home

KEY = "run_date"
REPORT = "report.html"
# the run date a page shows, read back to keep ``current`` from moving backwards
RUN_DATE_META = re.compile(r'<meta name="segmentation-run-date" content="(\d{4}-\d{2}-\d{2})">')

SECTIONS = (
    "decision",
    "segments",
    "sizes",
    "profiles",
    "migrations",
    "drift",
    "model",
    "validation",
)
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
LEVELS = ("ok", "warn", "alert")
CHAMPIONS = ("champion", "retired")  # statuses of models that assigned segments at some point

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

# ------------------------------------------------------------------------------ words

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Customer segments report",
        "subtitle": "Run of {day}: what the segments look like this morning and what changed.",
        "na": "not available",
        "none": "none",
        "nav": "Sections",
        "decision": "Today's decision",
        "segments": "Segments",
        "sizes": "Segment sizes over time",
        "profiles": "Segment profiles",
        "migrations": "Movements between segments",
        "drift": "Drift: are today's customers like the model's?",
        "model": "Model",
        "validation": "Data checks",
        "decision_ok": "OK: today's customers look like the ones the model was trained on. "
        "No action needed.",
        "decision_warn": "Watch: some customer behaviour is shifting. The segments are still "
        "usable; keep an eye on the features below.",
        "decision_alert": "Alert: customer behaviour has changed noticeably and the model is "
        "retrained on an alert. Check the segment sizes and descriptions before relying on "
        "them in campaigns.",
        "decision_na": "No drift decision was recorded for this run (first run, or drift not "
        "computed yet).",
        "level_ok": "OK",
        "level_warn": "WARN",
        "level_alert": "ALERT",
        "level_na": "not available",
        "drifted": "Drifted features (alert)",
        "watched": "Features to watch (warn)",
        "fig_customers": "Customers",
        "fig_segments": "Segments",
        "fig_migration": "Changed segment",
        "fig_checks": "Data checks",
        "passed": "passed",
        "failed": "failed",
        "segments_how": "Each card is one segment: who they are, how many customers, the rules "
        "that recognise them and the product categories they prefer. The bars compare "
        "today's number of customers per segment.",
        "segment_id": "Segment id",
        "customers": "Customers",
        "share": "Share",
        "description": "Description",
        "rules": "Rules",
        "affinity": "Category affinity",
        "control": "Control group (kept out of campaigns)",
        "segment": "Segment",
        "sizes_how": "One line per segment: its number of customers on each night. A steep "
        "rise or fall means customers are moving between segments.",
        "profiles_how": "One row per segment; each number is the segment's average. The colour "
        "compares it with the other segments: red is above their average, blue below, "
        "white about average (the z-score, in standard deviations).",
        "below": "below average",
        "average": "about average",
        "pp": "pts",
        "version": "Model version",
        "above": "above average",
        "migrations_how": "Rows are where customers were at the previous run (new: first seen "
        "in this run), columns where they are now. Each cell shows customers and the share "
        "of its row; the darker, the larger the share. The diagonal is customers who stayed.",
        "new": "new",
        "from_to": "from \\ to",
        "migration_rate": "Migration rate: {rate} ({changed} of the {both} customers present "
        "in both runs changed segment).",
        "new_customers": "New customers in this run: {n}.",
        "migration_na": "Migration rate: not available (no previous run to compare with).",
        "drift_how": "One chart per feature: its PSI (population stability index) against the "
        "customers the model was trained on, night by night. Above the yellow dashed line: "
        "watch; above the red dashed line: alert.",
        "warn_line": "warn",
        "alert_line": "alert",
        "drift_table": "Today's drift metrics per feature",
        "drift_table_how": "Coloured metrics decide (green ok, yellow watch, red alert); the "
        "others are standard statistics shown for comparison (hover a value for its "
        "threshold).",
        "feature": "Feature",
        "level": "Level",
        "segment_drift": "Today's changes per segment",
        "segment_drift_how": "share_change: change of the segment's share of customers since "
        "the previous run; share_change_reference: since the model's training data; "
        "centroid_shift: how far its average customer moved; appeared / vanished: 1 when the "
        "segment is new or gone.",
        "model_how": "Each night a new candidate model (the challenger) is trained. It replaces "
        "the current model (the champion) only when its segments are about as well "
        "separated; otherwise the champion keeps assigning customers.",
        "status": "Decision",
        "reason": "Reason",
        "algorithm": "Algorithm",
        "n_segments": "Number of segments",
        "silhouette": "Silhouette of the challenger",
        "champion_silhouette": "Silhouette of the champion (same sample)",
        "status_champion": "promoted: it assigns the segments now",
        "status_rejected": "not promoted: the champion stays",
        "status_retired": "retired: replaced by a later model",
        "model_chart": "Silhouette of each champion",
        "model_chart_how": "Silhouette of each champion by the night it was trained: from -1 to "
        "1, higher means more clearly separated segments.",
        "validation_how": "Before anything is computed, the day's events are checked: columns, "
        "dates, amounts, duplicates and that the day is not empty.",
        "validation_passed": "Passed: all {n} checks of suite {suite}.",
        "validation_failed": "Failed: {k} of {n} checks of suite {suite}. The day's data was "
        "quarantined and yesterday's segments stay published.",
        "failures": "Failed checks",
        "footer": "Generated by the segmentation pipeline for run date {day}.",
    },
    "zh": {
        "title": "客户分群日报",
        "subtitle": "{day} 的运行结果：今天的分群情况和变化。",
        "na": "暂无数据",
        "none": "无",
        "nav": "目录",
        "decision": "今日结论",
        "segments": "客户分群",
        "sizes": "各分群人数变化",
        "profiles": "分群画像",
        "migrations": "分群间的流动",
        "drift": "数据漂移：今天的客户和模型训练时相比",
        "model": "模型",
        "validation": "数据检查",
        "decision_ok": "正常：今天的客户与模型训练时的客户相似，无需处理。",
        "decision_warn": "注意：部分客户行为正在变化。分群仍可使用，请关注下列特征。",
        "decision_alert": "警报：客户行为发生明显变化，模型会因警报而重新训练。"
        "在营销活动中使用分群前，请检查分群人数和描述。",
        "decision_na": "本次运行没有漂移结论（首次运行，或尚未计算漂移）。",
        "level_ok": "正常",
        "level_warn": "注意",
        "level_alert": "警报",
        "level_na": "暂无数据",
        "drifted": "发生漂移的特征（警报）",
        "watched": "需关注的特征（注意）",
        "fig_customers": "客户数",
        "fig_segments": "分群数",
        "fig_migration": "更换分群",
        "fig_checks": "数据检查",
        "passed": "通过",
        "failed": "未通过",
        "segments_how": "每张卡片是一个分群：他们是谁、有多少客户、识别他们的规则以及偏好的品类。"
        "条形图比较今天各分群的客户数。",
        "segment_id": "分群编号",
        "customers": "客户数",
        "share": "占比",
        "description": "描述",
        "rules": "规则",
        "affinity": "品类偏好",
        "control": "对照组（不参与营销活动）",
        "segment": "分群",
        "sizes_how": "每条线是一个分群每晚的客户数。急剧上升或下降说明客户在分群之间流动。",
        "profiles_how": "每行是一个分群，数字是该分群的平均值。颜色与其他分群比较："
        "红色高于平均，蓝色低于平均，白色接近平均（z 分数，单位为标准差）。",
        "below": "低于平均",
        "average": "接近平均",
        "pp": "个百分点",
        "version": "模型版本",
        "above": "高于平均",
        "migrations_how": "行是客户在上次运行时所在的分群（新客户：本次首次出现），"
        "列是现在所在的分群。"
        "每格显示客户数及其占该行的比例，颜色越深比例越大。对角线是留在原分群的客户。",
        "new": "新客户",
        "from_to": "从 \\ 到",
        "migration_rate": "流动率：{rate}（两次运行都在的 {both} 位客户中"
        "有 {changed} 位更换了分群）。",
        "new_customers": "本次新客户：{n} 位。",
        "migration_na": "流动率：暂无数据（没有可比较的上次运行）。",
        "drift_how": "每个特征一张图：每晚该特征相对于模型训练客户的 PSI（群体稳定性指数）。"
        "高于黄色虚线：注意；高于红色虚线：警报。",
        "warn_line": "注意",
        "alert_line": "警报",
        "drift_table": "今日各特征的漂移指标",
        "drift_table_how": "有颜色的指标用于判断（绿色正常、黄色注意、红色警报）；"
        "其他为对比用的标准统计量（鼠标悬停可查看阈值）。",
        "feature": "特征",
        "level": "级别",
        "segment_drift": "今日各分群的变化",
        "segment_drift_how": "share_change：自上次运行以来该分群客户占比的变化；"
        "share_change_reference：相对于模型训练数据的变化；centroid_shift：平均客户移动的距离；"
        "appeared / vanished：分群新出现或消失时为 1。",
        "model_how": "每晚训练一个新的候选模型（挑战者）。"
        "只有当它的分群区分度相当时才会替换当前模型（冠军）；否则继续由冠军模型分配客户。",
        "status": "结论",
        "reason": "原因",
        "algorithm": "算法",
        "n_segments": "分群数",
        "silhouette": "挑战者的轮廓系数",
        "champion_silhouette": "冠军的轮廓系数（同一样本）",
        "status_champion": "已替换：现在由它分配分群",
        "status_rejected": "未替换：保留冠军模型",
        "status_retired": "已退役：被后来的模型替换",
        "model_chart": "各冠军模型的轮廓系数",
        "model_chart_how": "每个冠军模型按训练日期的轮廓系数："
        "取值 -1 到 1，越高表示分群区分越清晰。",
        "validation_how": "在计算之前，会检查当天的事件数据："
        "列、日期、金额、重复以及当天是否为空。",
        "validation_passed": "通过：规则集 {suite} 的全部 {n} 项检查。",
        "validation_failed": "未通过：规则集 {suite} 的 {n} 项检查中有 {k} 项失败。"
        "当天数据已隔离，昨天的分群保持发布。",
        "failures": "未通过的检查",
        "footer": "由分群流水线为运行日期 {day} 生成。",
    },
}

# ------------------------------------------------------------------------------ API


def report_path(home: Path, day: dt.date) -> Path:
    """Where the report of run ``day`` is kept."""
    return Home(home).report(day)


def current_report_path(home: Path) -> Path:
    """The report of the newest run, beside the current tables."""
    return Home(home).current_report


def build_report(
    home: Path, day: dt.date, language: str = "en", *, psi_warn: float | None = None
) -> str:
    """The report of run ``day`` as one HTML page, from runs up to ``day`` only.

    ``psi_warn`` is the warn threshold drawn on the drift charts (``drift.psi_warn`` of the
    config; the alert threshold is in the drift table itself); default: the config's default.
    """
    words = _words(language)
    data = load_data(home, day)
    warn = DriftConfig().psi_warn if psi_warn is None else psi_warn
    body = "".join(
        (
            _decision_section(data, words),
            _segments_section(data, words),
            _sizes_section(data, words),
            _profiles_section(data, words),
            _migrations_section(data, words),
            _drift_section(data, words, warn),
            _model_section(data, words),
            _validation_section(data, words),
        )
    )
    return _page(day, language, words, body)


def write_report(
    home: Path, day: dt.date, language: str = "en", *, psi_warn: float | None = None
) -> Path:
    """Write the report of run ``day``; also as the current report unless a newer one is.

    Returns the run's report file. Both files are replaced by an atomic rename.
    """
    page = build_report(home, day, language, psi_warn=psi_warn)
    path = report_path(home, day)
    _write_text(page, path)
    shown = current_report_day(home)
    if shown is None or shown <= day:
        _write_text(page, current_report_path(home))
    return path


def current_report_day(home: Path) -> dt.date | None:
    """The run date of the current report, or None when there is none (or it is unreadable)."""
    path = current_report_path(home)
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", errors="replace") as f:
        match = RUN_DATE_META.search(f.read(4096))
    return dt.date.fromisoformat(match.group(1)) if match else None


def _write_text(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` atomically: a temporary sibling, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}-{uuid.uuid4().hex}")
    try:
        tmp.write_bytes(text.encode("utf-8"))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _words(language: str) -> dict[str, str]:
    if language not in STRINGS:
        raise ConfigError(
            f"report language {language!r} is not supported; use one of {', '.join(STRINGS)}"
        )
    return STRINGS[language]


# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows; None where a table or file is missing."""

    day: dt.date
    profiles: pd.DataFrame | None  # today's segment_profiles
    sizes: pd.DataFrame | None  # run_date, segment_id, segment_name, customers for runs <= day
    migrations: pd.DataFrame | None  # today's segment_migrations
    drift: pd.DataFrame | None  # drift_metrics of runs <= day
    registry: pd.DataFrame | None  # today's model_registry
    validation: dict[str, Any] | None
    names: dict[int, str]  # each segment id's newest name up to the day, gone ones included

    @property
    def drift_today(self) -> pd.DataFrame | None:
        if self.drift is None:
            return None
        today = self.drift[self.drift[KEY] == self.day]
        return today if len(today) else None


def load_data(home: Path, day: dt.date) -> ReportData:
    """Read the run ``day`` and, for the charts over time, the runs before it (never after)."""
    sizes = _history(home, "segment_profiles", day)
    if sizes is not None and not {"segment_id", "customers"} <= set(sizes.columns):
        sizes = None
    return ReportData(
        day=day,
        profiles=_partition(home, "segment_profiles", day),
        sizes=sizes,
        migrations=_partition(home, "segment_migrations", day),
        drift=_history(home, "drift_metrics", day),
        registry=_partition(home, "model_registry", day),
        validation=_validation(home, day),
        names=_names(sizes),
    )


def _names(sizes: pd.DataFrame | None) -> dict[int, str]:
    if sizes is None or "segment_name" not in sizes:
        return {}
    ordered = sizes.sort_values([KEY, "segment_id"], kind="stable")
    return {int(s): _text(n) for s, n in ordered[["segment_id", "segment_name"]].to_numpy()}


def _partition(home: Path, table: str, day: dt.date) -> pd.DataFrame | None:
    root = Home(home).table_root(table)
    if not (lake.partition_dir(root, KEY, day) / lake.PART).is_file():
        return None
    frame = lake.read_partition(root, KEY, day)
    return frame if len(frame) else None


def _history(home: Path, table: str, day: dt.date) -> pd.DataFrame | None:
    root = Home(home).table_root(table)
    frames = []
    for d in lake.partition_days(root, KEY):
        if d <= day:
            frame = lake.read_partition(root, KEY, d)
            if len(frame):
                frames.append(frame.assign(**{KEY: d}))
    return pd.concat(frames, ignore_index=True) if frames else None


def _validation(home: Path, day: dt.date) -> dict[str, Any] | None:
    path = home / "validation" / "events" / f"{KEY}={day.isoformat()}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


# ------------------------------------------------------------------------------ formatting


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _text(value: object) -> str:
    """A cell as text; empty for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return "" if value is pd.NA or value is pd.NaT else str(value)


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: object, na: str) -> str:
    number = _finite(value)
    return na if number is None else f"{round(number):,}"


def _pct(value: object, na: str) -> str:
    number = _finite(value)
    return na if number is None else f"{number * 100:.1f}%"


def _num(value: object, na: str) -> str:
    """A measurement with about three significant digits: 1,234 / 12.3 / 0.12 / 0.00014."""
    number = _finite(value)
    if number is None:
        return na
    size = abs(number)
    if size >= 1000:
        return f"{number:,.0f}"
    if size >= 100:
        return f"{number:.0f}"
    if size >= 10:
        return f"{number:.1f}"
    if size >= 0.01 or size == 0:
        return f"{number:.2f}"
    return f"{number:.2g}"


def _score(value: object, na: str) -> str:
    """A quality score such as a silhouette, to three decimals so close ones can be told apart."""
    number = _finite(value)
    return na if number is None else f"{number:.3f}"


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _colour(segment_id: int) -> str:
    return PALETTE[segment_id % len(PALETTE)]


def _segment_label(segment_id: int, names: dict[int, str]) -> str:
    name = names.get(segment_id, "")
    return f"{name} ({segment_id})" if name else str(segment_id)


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


# ------------------------------------------------------------------------------ charts

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
            f'dominant-baseline="middle">{_e(fmt(tick))}</text>'
        )
    base = frame.height - frame.bottom
    for i, day in enumerate(days):
        anchor = "middle"
        if len(days) > 1 and i in (0, len(days) - 1):
            anchor = "start" if i == 0 else "end"
        parts.append(
            f'<text class="tick" x="{_f(frame.x(day))}" y="{base + 16}" '
            f'text-anchor="{anchor}">{_e(day.isoformat())}</text>'
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
                f'fill="{series.colour}"><title>{_e(series.label)}, {d.isoformat()}: '
                f"{_e(fmt(v))}</title></circle>"
            )
    return "".join(out)


def _guide(guide: Guide, frame: _Frame) -> str:
    y = _f(frame.y(guide.value))
    return (
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y}" y2="{y}" '
        f'stroke="{guide.colour}" stroke-width="1.5" stroke-dasharray="6 4">'
        f"<title>{_e(guide.label)}</title></line>"
    )


def _legend(items: Sequence[tuple[str, str, bool]]) -> str:
    """Legend entries (label, colour, dashed) as an HTML list under a chart."""
    entries = "".join(
        f'<li><span class="swatch{" dashed" if dashed else ""}" '
        f'style="border-color:{colour};background:{"transparent" if dashed else colour}">'
        f"</span>{_e(label)}</li>"
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
        f'role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>'
        f"{_axes(frame, ticks, days, fmt)}"
        f"{''.join(_guide(g, frame) for g in guides)}"
        f"{''.join(_line(s, frame, fmt) for s in series)}</svg>"
    )
    if not legend:
        return svg
    items = [(s.label, s.colour, False) for s in series] + [
        (g.label, g.colour, True) for g in guides
    ]
    return svg + _legend(items)


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
            f'dominant-baseline="middle">{_e(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{_f(length)}" height="{row - 6}" '
            f'fill="{colour}"><title>{_e(label)}: {_e(fmt(value))}</title></rect>'
            f'<text class="value" x="{_f(label_width + length + 6)}" y="{y + row / 2:.1f}" '
            f'dominant-baseline="middle">{_e(fmt(value))}</text>'
        )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>{"".join(parts)}</svg>'
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
    head = "".join(f'<th scope="col">{_e(h).replace("_", "_<wbr>")}</th>' for h in header)
    body = "".join(
        f'<tr><th scope="row">{_e(label).replace("_", "_<wbr>")}</th>'
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
    note = f' title="{_e(cell.note)}"' if cell.note else ""
    cls = ' class="text"' if cell.wide else ' class="num"'
    return f"<td{cls}{style}{note}>{_e(cell.text)}</td>"


# ------------------------------------------------------------------------------ page


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",
Arial,"PingFang SC","Microsoft YaHei",sans-serif;color:#1f2328;background:#ffffff;
margin:0 auto;max-width:1100px;padding:16px 24px;line-height:1.45}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;margin:0 0 .4em}
h3{font-size:1.05em;margin:.8em 0 .3em}
section{border-top:1px solid #d0d7de;padding:14px 0}
nav ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:4px 14px}
nav a{color:#0969da;text-decoration:none}
p.how{color:#57606a;font-size:.92em;margin:.3em 0 .8em}
p.na{color:#57606a;font-style:italic}
.banner{border-radius:8px;padding:12px 16px;border-left:8px solid}
.banner .verdict{font-size:1.25em;font-weight:600;text-transform:uppercase}
.figures{display:flex;flex-wrap:wrap;gap:10px;margin:.6em 0 0;padding:0;list-style:none}
.figures li{background:#ffffffb0;border-radius:6px;padding:4px 10px}
.figures b{display:block;font-size:1.2em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.card{border:1px solid #d0d7de;border-top:6px solid;border-radius:8px;padding:10px 14px}
.card h3{margin:0 0 .3em}
.card dl{margin:0;display:grid;grid-template-columns:9em minmax(0,1fr);gap:3px 10px;
font-size:.92em}
.card dt{color:#57606a}.card dd{margin:0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.88em;margin:.3em 0}
th,td{border:1px solid #d0d7de;padding:4px 6px;vertical-align:top}
thead th{background:#f6f8fa;min-width:5em}
tbody th{text-align:left;max-width:14em}
td.num{text-align:right;white-space:nowrap}
td.text{min-width:12em;font-size:.95em}
.chart{max-width:100%;height:auto;display:block}
.chart .grid{stroke:#eaeef2}.chart .axis{stroke:#8c959f}
.chart text{font-size:11px;fill:#57606a}
.chart text.label,.chart text.value{font-size:12px;fill:#1f2328}
.legend{list-style:none;padding:0;margin:.2em 0;display:flex;flex-wrap:wrap;gap:2px 14px;
font-size:.88em}
.swatch{display:inline-block;width:14px;height:0;border-top:3px solid;margin-right:5px;
vertical-align:middle}
.swatch.dashed{border-top-style:dashed}
.multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:8px}
.multiples figure{margin:0}.multiples figcaption{font-size:.9em;font-weight:600}
.scale span{display:inline-block;padding:2px 8px;font-size:.85em}
footer{color:#57606a;font-size:.85em;border-top:1px solid #d0d7de;padding-top:8px}
"""


def _page(day: dt.date, language: str, words: dict[str, str], body: str) -> str:
    title = f"{words['title']} {day.isoformat()}"
    nav = "".join(f'<li><a href="#{s}">{_e(words[s])}</a></li>' for s in SECTIONS)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="segmentation-run-date" content="{day.isoformat()}">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="how">{_e(words["subtitle"].format(day=day.isoformat()))}</p>'
        f'<nav aria-label="{_e(words["nav"])}"><ul>{nav}</ul></nav></header>\n'
        f"<main>\n{body}</main>\n"
        f"<footer><p>{_e(words['footer'].format(day=day.isoformat()))}</p></footer>\n"
        "</body>\n</html>\n"
    )


def _section(sid: str, words: dict[str, str], *parts: str, css: str = "", style: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    attr = f' style="{style}"' if style else ""
    return (
        f'<section id="{sid}"{cls}{attr}>\n<h2>{_e(words[sid])}</h2>\n'
        + "\n".join(p for p in parts if p)
        + "\n</section>\n"
    )


def _how(text: str) -> str:
    return f'<p class="how">{_e(text)}</p>'


def _na(words: dict[str, str], detail: str = "") -> str:
    return f'<p class="na">{_e(words["na"])}{_e(": " + detail) if detail else ""}</p>'


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
    level = _text(row["level"]) if "level" in rows else ""
    if level in LEVELS:
        return level
    value = _finite(row["value"])
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


def migration_counts(moves: pd.DataFrame | None) -> tuple[int, int] | None:
    """Customers who changed segment and customers present in both runs, or None when no
    customer was in an earlier run (the migration rate is the first over the second)."""
    if moves is None or not {"from_segment_id", "to_segment_id", "customers"} <= set(moves):
        return None
    known = moves[moves["from_segment_id"].notna()]
    both = int(known["customers"].sum())
    if both == 0:
        return None
    moved = known["from_segment_id"].astype("int64") != known["to_segment_id"].astype("int64")
    return int(known.loc[moved, "customers"].sum()), both


def _decision_section(data: ReportData, words: dict[str, str]) -> str:
    level = decision_level(data.drift_today)
    key = level or "na"
    verdict = words[f"level_{key}"]
    lists = []
    for label, lvl in (("drifted", "alert"), ("watched", "warn")):
        names = drifted_features(data.drift_today, lvl)
        shown = ", ".join(names) if names else words["none"]
        lists.append(f"<p><b>{_e(words[label])}:</b> {_e(shown)}</p>")
    style = f"background:{LEVEL_BACKGROUNDS[key]};border-left-color:{LEVEL_COLOURS[key]}"
    return _section(
        "decision",
        words,
        f'<p class="verdict" style="color:{LEVEL_COLOURS[key]}">{_e(verdict)}</p>',
        f"<p>{_e(words['decision_' + key])}</p>",
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
        customers = _int(profiles["customers"].sum(), na)
        segments = _int(len(profiles), na)
    counts = migration_counts(data.migrations)
    moved = na if counts is None else _pct(counts[0] / counts[1], na)
    checks = na
    if data.validation is not None and "success" in data.validation:
        checks = words["passed"] if data.validation["success"] else words["failed"]
    items = (
        ("fig_customers", customers),
        ("fig_segments", segments),
        ("fig_migration", moved),
        ("fig_checks", checks),
    )
    cells = "".join(f"<li>{_e(words[k])}<b>{_e(v)}</b></li>" for k, v in items)
    return f'<ul class="figures">{cells}</ul>'


# ------------------------------------------------------------------------------ segments


def _segments_section(data: ReportData, words: dict[str, str]) -> str:
    profiles = data.profiles
    if profiles is None or not {"segment_id", "customers"} <= set(profiles.columns):
        return _section("segments", words, _na(words))
    profiles = profiles.sort_values("segment_id", kind="stable")
    na = words["na"]
    bars = [
        (
            _segment_label(int(r["segment_id"]), data.names),
            float(r["customers"]),
            _colour(int(r["segment_id"])),
        )
        for _, r in profiles.iterrows()
    ]
    chart = bar_chart(bars, words["segments"], lambda v: _int(v, na))
    cards = "".join(_card(row, words) for _, row in profiles.iterrows())
    return _section(
        "segments", words, _how(words["segments_how"]), chart, f'<div class="cards">{cards}</div>'
    )


def _card(row: pd.Series, words: dict[str, str]) -> str:
    na = words["na"]
    sid = int(row["segment_id"])
    fields = (
        ("segment_id", str(sid)),
        ("customers", _int(row.get("customers"), na)),
        ("share", _pct(row.get("share"), na)),
        ("description", _text(row.get("description")) or na),
        ("rules", _text(row.get("rules")) or na),
        ("affinity", _text(row.get("affinity")) or na),
        ("control", _int(row.get("control_customers"), na)),
    )
    items = "".join(f"<dt>{_e(words[k])}</dt><dd>{_e(v)}</dd>" for k, v in fields)
    name = _text(row.get("segment_name")) or str(sid)
    return (
        f'<article class="card" style="border-top-color:{_colour(sid)}">'
        f"<h3>{_e(name)}</h3><dl>{items}</dl></article>"
    )


# ------------------------------------------------------------------------------ sizes


def _sizes_section(data: ReportData, words: dict[str, str]) -> str:
    sizes = data.sizes
    if sizes is None:
        return _section("sizes", words, _na(words))
    names = data.names
    series = []
    for sid in sorted({int(v) for v in sizes["segment_id"]}):
        group = sizes[sizes["segment_id"] == sid]
        points = tuple(
            (d, float(v)) for d, v in group[[KEY, "customers"]].to_numpy() if _finite(v) is not None
        )
        series.append(Series(_segment_label(sid, names), _colour(sid), points))
    na = words["na"]
    chart = line_chart(series, words["sizes"], lambda v: _int(v, na))
    return _section("sizes", words, _how(words["sizes_how"]), chart or _na(words))


# ------------------------------------------------------------------------------ profiles


def zscores(values: pd.Series) -> pd.Series:
    """Each value's distance from the mean across segments, in standard deviations (0 if flat)."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    spread = float(numbers.std(ddof=0)) if numbers.notna().sum() > 1 else 0.0
    if not math.isfinite(spread) or spread == 0:
        return numbers.where(numbers.isna(), 0.0)
    return (numbers - numbers.mean()) / spread


def _profiles_section(data: ReportData, words: dict[str, str]) -> str:
    profiles = data.profiles
    if profiles is None or "segment_id" not in profiles:
        return _section("profiles", words, _na(words))
    profiles = profiles.sort_values("segment_id", kind="stable").reset_index(drop=True)
    na = words["na"]
    header = [words["segment"]]
    header += [
        f"{_text(n) or s} ({int(s)})"
        for s, n in zip(profiles["segment_id"], _column(profiles, "segment_name"), strict=True)
    ]
    rows: list[tuple[str, list[Cell]]] = [
        (words["customers"], [Cell(_int(v, na)) for v in _column(profiles, "customers")]),
        (words["share"], [Cell(_pct(v, na)) for v in _column(profiles, "share")]),
    ]
    for col in (c for c in profiles.columns if str(c).startswith("mean_")):
        z = zscores(profiles[col])
        cells = [_z_cell(v, float(zv), na) for v, zv in zip(profiles[col], z, strict=True)]
        rows.append((str(col).removeprefix("mean_"), cells))
    for col in ("description", "rules", "affinity"):
        texts = [Cell(_text(v) or na, wide=True) for v in _column(profiles, col)]
        rows.append((words[col], texts))
    return _section(
        "profiles", words, _how(words["profiles_how"]), _scale(words), heatmap_table(header, rows)
    )


def _column(frame: pd.DataFrame, column: str) -> list[object]:
    """A column's values, or missing values when the column is absent."""
    return list(frame[column]) if column in frame else [None] * len(frame)


def _z_cell(value: object, z: float, na: str) -> Cell:
    if _finite(value) is None or not math.isfinite(z):
        return Cell(na)
    background, colour = diverging(z)
    return Cell(_num(value, na), background, colour, f"z = {z:+.2f}")


def _scale(words: dict[str, str]) -> str:
    steps = (-2.0, -1.0, 0.0, 1.0, 2.0)
    spans = []
    for z in steps:
        background, colour = diverging(z)
        text = words["below"] if z < 0 else words["above"] if z > 0 else words["average"]
        spans.append(
            f'<span style="background:{background};color:{colour}">{z:+.0f}: {_e(text)}</span>'
        )
    return f'<p class="scale">{"".join(spans)}</p>'


# ------------------------------------------------------------------------------ migrations


def _migrations_section(data: ReportData, words: dict[str, str]) -> str:
    moves = data.migrations
    if moves is None or not {"from_segment_id", "to_segment_id", "customers"} <= set(moves):
        return _section("migrations", words, _na(words))
    counts = migration_counts(moves)
    na = words["na"]
    if counts is None:
        rate = _e(words["migration_na"])
    else:
        changed, both = counts
        rate = _e(
            words["migration_rate"].format(
                rate=_pct(changed / both, na), changed=_int(changed, na), both=_int(both, na)
            )
        )
    new = int(moves.loc[moves["from_segment_id"].isna(), "customers"].sum())
    summary = f"<p><b>{rate}</b> {_e(words['new_customers'].format(n=_int(new, na)))}</p>"
    return _section(
        "migrations", words, _how(words["migrations_how"]), summary, _migration_matrix(data, words)
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
    table: dict[tuple[int | None, int], int] = {}
    for src, dst, n in zip(origin, moves["to_segment_id"], moves["customers"], strict=True):
        key = (None if src is None or pd.isna(src) else int(src), int(dst))
        table[key] = table.get(key, 0) + int(n)
    header = [words["from_to"]] + [_segment_label(t, names) for t in targets]
    rows = []
    for src in sources:
        total = sum(table.get((src, t), 0) for t in targets) or 1
        cells = []
        for t in targets:
            n = table.get((src, t), 0)
            background, colour = sequential(n / total)
            cells.append(Cell(f"{_int(n, na)} ({_pct(n / total, na)})", background, colour))
        rows.append((words["new"] if src is None else _segment_label(src, names), cells))
    return heatmap_table(header, rows)


# ------------------------------------------------------------------------------ drift


def _drift_section(data: ReportData, words: dict[str, str], warn: float) -> str:
    today = data.drift_today
    parts = [
        _how(words["drift_how"]),
        _drift_multiples(data, words, warn),
        f"<h3>{_e(words['drift_table'])}</h3>",
        _how(words["drift_table_how"]),
        _feature_table(today, words),
        f"<h3>{_e(words['segment_drift'])}</h3>",
        _how(words["segment_drift_how"]),
        _segment_table(today, data.names, words),
    ]
    return _section("drift", words, *parts)


def _alert_threshold(today: pd.DataFrame | None) -> float | None:
    rows = _deciding(today)
    if rows is None or "threshold" not in rows:
        return None
    values = [v for v in (_finite(t) for t in rows["threshold"]) if v is not None]
    return max(values) if values else None


def _drift_multiples(data: ReportData, words: dict[str, str], warn: float) -> str:
    history = data.drift
    if history is None or not {"scope", "name", "metric", "value"} <= set(history.columns):
        return _na(words)
    psi = history[(history["scope"] == "feature") & (history["metric"] == "psi_quantile")]
    if psi.empty:
        return _na(words, "psi_quantile")
    guides = [Guide(warn, f"{words['warn_line']} {_num(warn, '')}", LEVEL_COLOURS["warn"])]
    alert = _alert_threshold(data.drift_today)
    if alert is not None:
        guides.append(
            Guide(alert, f"{words['alert_line']} {_num(alert, '')}", LEVEL_COLOURS["alert"])
        )
    today = psi[psi[KEY] == data.day].drop_duplicates("name")
    latest = dict(zip(today["name"], today["value"], strict=True))
    order = sorted(set(psi["name"]), key=lambda n: (-_sort_value(latest.get(n)), str(n)))
    figures = []
    for name in order:
        rows = psi[psi["name"] == name]
        points = tuple((d, float(v)) for d, v in rows[[KEY, "value"]].to_numpy())
        chart = line_chart(
            [Series("psi_quantile", "#0969da", points)],
            f"{name}: psi_quantile",
            lambda v: _num(v, words["na"]),
            guides,
            width=330,
            height=150,
            legend=False,
        )
        figures.append(f"<figure><figcaption>{_e(name)}</figcaption>{chart or _na(words)}</figure>")
    legend = _legend([(g.label, g.colour, True) for g in guides])
    return f'{legend}<div class="multiples">{"".join(figures)}</div>'


def _sort_value(value: object) -> float:
    number = _finite(value)
    return -math.inf if number is None else number


def _feature_table(today: pd.DataFrame | None, words: dict[str, str]) -> str:
    if today is None or not {"scope", "name", "metric", "value"} <= set(today.columns):
        return _na(words)
    rows = today[today["scope"] == "feature"]
    if rows.empty:
        return _na(words)
    present = set(rows["metric"])
    metrics = [m for m in METRIC_ORDER if m in present] + sorted(present - set(METRIC_ORDER))
    header = [words["feature"], words["level"], *metrics]
    out = []
    for name in sorted(set(rows["name"])):
        mine = rows[rows["name"] == name]
        cells = [_level_cell(mine, words)]
        cells += [_metric_cell(mine[mine["metric"] == m], words["na"]) for m in metrics]
        out.append((str(name), cells))
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
    level = _text(row["level"]) if "level" in rows else ""
    threshold = _finite(row["threshold"]) if "threshold" in rows else None
    note = None if threshold is None else f"threshold {_num(threshold, na)}"
    if level in LEVELS:
        return Cell(_num(row["value"], na), LEVEL_BACKGROUNDS[level], None, note)
    return Cell(_num(row["value"], na), note=note)


def _segment_table(today: pd.DataFrame | None, names: dict[int, str], words: dict[str, str]) -> str:
    if today is None or not {"scope", "name", "metric", "value"} <= set(today.columns):
        return _na(words)
    rows = today[today["scope"] == "segment"]
    if rows.empty:
        return _na(words)
    present = set(rows["metric"])
    metrics = [m for m in SEGMENT_METRICS if m in present] + sorted(present - set(SEGMENT_METRICS))
    out = []
    for name in sorted(set(rows["name"]), key=_segment_key):
        mine = rows[rows["name"] == name]
        cells = [_segment_metric(mine[mine["metric"] == m], m, words) for m in metrics]
        label = _segment_label(int(name), names) if _segment_key(name)[0] == 0 else str(name)
        out.append((label, cells))
    return heatmap_table([words["segment"], *metrics], out)


def _segment_key(name: object) -> tuple[int, int, str]:
    text = str(name)
    return (0, int(text), "") if re.fullmatch(r"-?\d+", text) else (1, 0, text)


def _segment_metric(rows: pd.DataFrame, metric: str, words: dict[str, str]) -> Cell:
    if rows.empty:  # e.g. "vanished" for a segment still there
        return Cell("—")
    row = rows.iloc[0]
    value = _finite(row["value"])
    if value is not None and metric.startswith("share"):
        text = f"{value * 100:+.1f} {words['pp']}"
    else:
        text = _num(value, words["na"])
    level = _text(row["level"]) if "level" in rows else ""
    if level in ("warn", "alert"):
        return Cell(text, LEVEL_BACKGROUNDS[level])
    return Cell(text)


# ------------------------------------------------------------------------------ model


def _model_section(data: ReportData, words: dict[str, str]) -> str:
    registry = data.registry
    if registry is None or "trained_run_date" not in registry:
        return _section("model", words, _how(words["model_how"]), _na(words))
    trained = registry["trained_run_date"].map(_as_date)
    return _section(
        "model",
        words,
        _how(words["model_how"]),
        _challenger(registry[trained == data.day], words),
        f"<h3>{_e(words['model_chart'])}</h3>",
        _how(words["model_chart_how"]),
        _champion_chart(registry, trained, data.day, words),
    )


def _challenger(rows: pd.DataFrame, words: dict[str, str]) -> str:
    if rows.empty:
        return _na(words)
    row = rows.iloc[0]
    na = words["na"]
    status = _text(row.get("status"))
    shown = words.get(f"status_{status}", "")
    fields = (
        ("status", f"{status} — {shown}" if shown else status or na),
        ("reason", _text(row.get("reason")) or na),
        ("algorithm", _text(row.get("algorithm")) or na),
        ("n_segments", _int(row.get("n_segments"), na)),
        ("silhouette", _score(row.get("silhouette"), na)),
        ("champion_silhouette", _score(row.get("champion_silhouette"), na)),
    )
    cells = "".join(
        f'<tr><th scope="row">{_e(words[k])}</th><td>{_e(v)}</td></tr>' for k, v in fields
    )
    version = _text(row.get("model_version"))
    caption = f"<caption>{_e(words['version'])} {_e(version)}</caption>" if version else ""
    return f"<table>{caption}<tbody>{cells}</tbody></table>"


def _champion_chart(
    registry: pd.DataFrame, trained: pd.Series, day: dt.date, words: dict[str, str]
) -> str:
    if not {"status", "silhouette"} <= set(registry.columns):
        return _na(words)
    keep = registry["status"].isin(CHAMPIONS) & trained.map(lambda d: d is not None and d <= day)
    points = tuple(
        sorted(
            (d, float(s))
            for d, s in zip(trained[keep], registry.loc[keep, "silhouette"], strict=True)
            if _finite(s) is not None
        )
    )
    chart = line_chart(
        [Series(words["model_chart"], "#0969da", points)],
        words["model_chart"],
        lambda v: _num(v, words["na"]),
        legend=False,
    )
    return chart or _na(words)


# ------------------------------------------------------------------------------ validation


def _validation_section(data: ReportData, words: dict[str, str]) -> str:
    record = data.validation
    if record is None or "success" not in record:
        return _section("validation", words, _how(words["validation_how"]), _na(words))
    na = words["na"]
    evaluated = record.get("evaluated_expectations", record.get("evaluated"))
    failures = [str(f) for f in record.get("failures") or []]
    suite = _text(record.get("suite")) or na
    if record["success"]:
        verdict = words["validation_passed"].format(n=_int(evaluated, na), suite=suite)
        key = "ok"
    else:
        verdict = words["validation_failed"].format(
            k=_int(len(failures), na), n=_int(evaluated, na), suite=suite
        )
        key = "alert"
    parts = [
        _how(words["validation_how"]),
        f'<p style="color:{LEVEL_COLOURS[key]}"><b>{_e(verdict)}</b></p>',
    ]
    if failures:
        items = "".join(f"<li>{_e(f)}</li>" for f in failures)
        parts.append(f"<h3>{_e(words['failures'])}</h3><ul>{items}</ul>")
    return _section("validation", words, *parts)
