"""The page: its style sheet and frame, and building, writing and dating the report.

``build_report`` reads the published tables of one run date (and of earlier runs for the
charts over time, never later ones) and returns the page; ``write_report`` writes it to
``Home.report(day)`` and, unless a newer run is already shown, to ``Home.current_report``,
each by an atomic rename.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from segmentation.config import DriftConfig
from segmentation.io import lake
from segmentation.layout import Home
from segmentation.report.data import load_data
from segmentation.report.formatting import esc
from segmentation.report.sections import (
    SECTIONS,
    migrations_section,
    model_section,
    profiles_section,
    segments_section,
    sizes_section,
    validation_section,
)
from segmentation.report.sections_campaigns import campaigns_section
from segmentation.report.sections_drift import decision_section, drift_section
from segmentation.report.sections_predictions import predictions_section
from segmentation.report.sections_recommendations import recommendations_section
from segmentation.report.strings import words_for

# the run date a page shows, read back to keep ``current`` from moving backwards
RUN_DATE_META = re.compile(r'<meta name="segmentation-run-date" content="(\d{4}-\d{2}-\d{2})">')


def build_report(
    home: Home, day: dt.date, language: str = "en", *, psi_warn: float | None = None
) -> str:
    """The report of run ``day`` as one HTML page, from runs up to ``day`` only.

    ``psi_warn`` is the warn threshold drawn on the drift charts (``drift.psi_warn`` of the
    config; the alert threshold is in the drift table itself); default: the config's default.
    """
    words = words_for(language)
    data = load_data(home, day)
    warn = DriftConfig().psi_warn if psi_warn is None else psi_warn
    body = "".join(
        (
            decision_section(data, words),
            segments_section(data, words),
            sizes_section(data, words),
            profiles_section(data, words),
            migrations_section(data, words),
            predictions_section(data, words),
            recommendations_section(data, words),
            campaigns_section(data, words),
            drift_section(data, words, warn),
            model_section(data, words),
            validation_section(data, words),
        )
    )
    return _page(day, language, words, body)


def write_report(
    home: Home, day: dt.date, language: str = "en", *, psi_warn: float | None = None
) -> Path:
    """Write the report of run ``day``; also as the current report unless a newer one is.

    Returns the run's report file. Both files are replaced by an atomic rename.
    """
    page = build_report(home, day, language, psi_warn=psi_warn)
    path = home.report(day)
    lake.write_text(page, path)
    shown = current_report_day(home)
    if shown is None or shown <= day:
        lake.write_text(page, home.current_report)
    return path


def current_report_day(home: Home) -> dt.date | None:
    """The run date of the current report, or None when there is none (or it is unreadable)."""
    path = home.current_report
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", errors="replace") as f:
        match = RUN_DATE_META.search(f.read(4096))
    return dt.date.fromisoformat(match.group(1)) if match else None


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
.figures.stats li{background:#f6f8fa;min-width:8em}.figures small{color:#57606a}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;
align-items:start}
.pair figure{margin:0;min-width:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.card{border:1px solid #d0d7de;border-top:6px solid;border-radius:8px;padding:10px 14px;
min-width:0;overflow-wrap:anywhere}
.card h3{margin:0 0 .3em}
.card dl{margin:0;display:grid;grid-template-columns:9em minmax(0,1fr);gap:3px 10px;
font-size:.92em}
.card dt{color:#57606a}.card dd{margin:0}
.card ol{margin:0;padding-left:1.4em;font-size:.92em}.card ol li{margin:.25em 0}
.card small{color:#57606a;white-space:nowrap}
.scroll{overflow-x:auto}
.campaign{border-left:6px solid;padding:2px 0 6px 14px;margin:14px 0}
.campaign h3{margin-top:0}.campaign h4{margin:.8em 0 .2em}
table{border-collapse:collapse;font-size:.88em;margin:.3em 0}
th,td{border:1px solid #d0d7de;padding:4px 6px;vertical-align:top}
thead th{background:#f6f8fa;min-width:5em}
tbody th{text-align:left;max-width:14em}
td.num{text-align:right;white-space:nowrap}
td.text{min-width:12em;font-size:.95em;overflow-wrap:break-word}
th,p,li,figcaption{overflow-wrap:break-word}
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
    nav = "".join(f'<li><a href="#{s}">{esc(words[s])}</a></li>' for s in SECTIONS)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="segmentation-run-date" content="{day.isoformat()}">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1>"
        f'<p class="how">{esc(words["subtitle"].format(day=day.isoformat()))}</p>'
        f'<nav aria-label="{esc(words["nav"])}"><ul>{nav}</ul></nav></header>\n'
        f"<main>\n{body}</main>\n"
        f"<footer><p>{esc(words['footer'].format(day=day.isoformat()))}</p></footer>\n"
        "</body>\n</html>\n"
    )
