"""The morning report: one self-contained HTML page per run, for the marketer who reads it.

The page needs no network: no scripts, fonts, images or style sheets from elsewhere; the
charts are inline SVG drawn here, the heatmaps are tables with coloured cells. The same
inputs always give the same bytes (no clock is read). Every value from the data is escaped.
Anything missing (a first run, a table not published, an older drift schema) shows as "not
available" instead of failing.

Modules: ``strings`` (the words, English and Chinese), ``formatting`` (values as shown),
``charts`` (the SVG chart kit and heatmap tables) and ``charts_xy`` (charts over categories
and plain numbers: stacked shares, grouped columns, calibration), ``data`` (what a report
reads), ``sections``, ``sections_drift``, ``sections_predictions``,
``sections_recommendations`` and ``sections_campaigns`` (the sections; the last two's words
in ``strings_recommendations`` and ``strings_campaigns``), ``page`` (the page, building and
writing it). Paths come from ``segmentation.layout.Home``.
"""

from segmentation.report.data import ReportData, load_data
from segmentation.report.page import build_report, current_report_day, write_report
from segmentation.report.sections import SECTIONS
from segmentation.report.strings import STRINGS

__all__ = [
    "SECTIONS",
    "STRINGS",
    "ReportData",
    "build_report",
    "current_report_day",
    "load_data",
    "write_report",
]
