"""The report's charts over categories and plain numbers (``report/charts_xy.py``), on values
chosen by hand: what is drawn, what is left out, and nothing for nothing."""

from __future__ import annotations

import re

import pytest

from segmentation.report.charts import Guide
from segmentation.report.charts_xy import Bars, Part, Points, column_chart, stacked_bars, xy_chart

pytestmark = pytest.mark.unit

PARTS = (Part("low", "#00ff00"), Part("high", "#ff0000", "#000000"))


def pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def test_stacked_bars_split_each_row_by_its_shares() -> None:
    svg = stacked_bars([("A", [0.25, 0.75]), ("B", [1.0, 0.0])], PARTS, "risk", pct, width=528)
    # 300 px of bar between the 220 px of labels and the 8 px margin: 25% is 75 px, 75% 225
    assert '<rect x="220.0" y="7" width="75.0" height="22" fill="#00ff00">' in svg
    assert '<rect x="295.0" y="7" width="225.0" height="22" fill="#ff0000">' in svg
    assert "<title>A, high: 75%</title>" in svg
    assert "<title>B, high" not in svg  # a share of 0 draws nothing
    assert 'style="fill:#000000;font-size:11px">75%</text>' in svg  # the part's own ink
    assert svg.count('<li><span class="swatch"') == len(PARTS)  # the legend, one per part
    assert stacked_bars([], PARTS, "risk", pct) == ""


def test_column_chart_groups_bars_and_leaves_out_missing_values() -> None:
    series = [
        Bars("model", "#111111", (0.5, 2.0)),
        Bars("baseline", "#222222", (1.0, float("nan"))),
    ]
    svg = column_chart(["1", "2"], series, "lift", str, [Guide(1.0, "average", "#999999")])
    assert svg.count("<rect") == 3  # the missing baseline bar is not drawn
    assert "<title>model, 2: 2.0</title>" in svg and "<title>baseline, 2" not in svg
    assert re.search(r'stroke="#999999"[^>]*stroke-dasharray="6 4"[^>]*><title>average<', svg)
    assert column_chart(["1"], [Bars("x", "#000000", (float("nan"),))], "t", str) == ""


def test_xy_chart_draws_finite_points_and_the_diagonal() -> None:
    points = Points("model", "#111111", ((0.2, 0.1), (float("nan"), float("nan")), (0.8, 0.9)))
    svg = xy_chart([points], "calibration", pct, ("predicted", "observed", "perfect"))
    assert svg.count("<circle") == 2
    assert "<title>model: 20% → 10%</title>" in svg
    assert re.search(r'stroke-dasharray="6 4"><title>perfect</title>', svg)
    assert ">predicted</text>" in svg and ">observed</text>" in svg
    empty = Points("none", "#000000", ((float("nan"), 0.5),))
    assert xy_chart([empty], "t", pct, ("x", "y", "d")) == ""
