"""The report's campaigns section and the Segments view's campaigns page, on a published night
(``published_home``) whose campaign and audience tables are written by hand with known
numbers, through the pipeline's own staging and publishing (``stage_table``, the Parquet
sink), so they have the catalog's schema.

Every figure a reader sees is pinned to the hand-made numbers here (uplift 0.018, interval
0.009 to 0.027 -> "+1.8 points, 95% CI +0.9 to +2.7: this campaign works"), never to what
the report code computes; the chart's whiskers are measured on the chart's own tick scale.
The night as published (no audience nor campaign configured: empty tables) says how to
define them; a night older than these tables renders, saying they are not available.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from segmentation import layout, pipeline, report
from segmentation.config import load_config
from segmentation.io.parquet import ParquetSink, segment_names, stage_table
from segmentation.layout import Home
from segmentation.report.strings_campaigns import CAMPAIGN_STRINGS
from tests.conftest import published_in, section_html, view_client, write_config
from tests.integration.test_report import DAY1, parse, section_ids

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("campaign_results", "audience_members", "audience_changes")
GREEN, RED, GREY = "#2da44e", "#cf222e", "#8c959f"

GROUPS = ("status", "treated", "control", "tx", "cx", "uplift", "low", "high", "mde")
FIELDS = (*GROUPS, "revenue", "incremental", "cost", "roi", "said", "colour")
# whole campaigns: status, treated and control customers, their converters, the conversion
# uplift with its 95% interval, the detectable uplift, revenue uplift (with its interval),
# incremental revenue, cost, ROI; and what a reader should read, the bar's colour
CAMPAIGNS: dict[str, dict[str, Any]] = {
    name: dict(zip(FIELDS, (*groups, *money, *read), strict=True))
    for name, groups, money, read in (
        (
            "spring",
            ("running", 12000, 1200, 816, 60, 0.018, 0.009, 0.027, 0.0123),
            ((1.25, 0.40, 2.10), 15000.0, 5000.0, 2.0),
            ("+1.8 points, 95% CI +0.9 to +2.7: this campaign works", GREEN),
        ),
        (
            "winback",
            ("final", 4000, 800, 160, 49, -0.0212, -0.0384, -0.0081, 0.0251),
            ((-0.80, -1.90, 0.30), -3200.0, None, None),
            ("-2.1 points, 95% CI -3.8 to -0.8: this campaign hurts", RED),
        ),
        (
            "summer",
            ("attributing", 3000, 300, 120, 11, 0.00333, -0.0189, 0.0173, 0.0331),
            ((0.10, -0.50, 0.70), 300.0, 1000.0, -0.7),
            ("+0.3 points, 95% CI -1.9 to +1.7: not proven yet — the interval includes 0", GREY),
        ),
        (
            "autumn",
            ("final", 2000, 2000, 100, 98, 0.001, -0.0127, 0.0146, 0.0196),
            ((0.02, -0.30, 0.34), 40.0, None, None),
            (
                "+0.1 points, 95% CI -1.3 to +1.5: no measurable effect — the interval includes 0",
                GREY,
            ),
        ),
    )
}
EMPTY_REASON = "audience 'lapsed' has no members on 2024-02-07, the night before the start"
NO_CONTROL = "no control group: nobody who would have been targeted was held out"
# hand-made audience members: audience -> (customer, is_control, exported) ...
MEMBERS = {
    "loyal": [
        *(("A1", False, True), ("A2", False, True), ("A3", False, True)),
        *(("A4", True, False), ("A5", True, False)),
    ],
    "vip": [("B1", False, True), ("B2", False, True), ("B3", False, True), ("B4", True, True)],
}
CHANGES = {
    "loyal": [("A1", "entered"), ("A2", "entered"), ("A9", "left")],
    "vip": [("B1", "entered")],
}


def _row(campaign: str, segment_id: int | None, c: dict[str, Any]) -> dict[str, Any]:
    """A ``campaign_results`` row of ``c``'s numbers (the catalog's columns, absent ones null)."""
    revenue, low, high = c["revenue"]
    treated, control = c["treated"], c["control"]
    return {
        "campaign": campaign,
        "segment_id": segment_id,
        "status": c["status"],
        "start": dt.date(2024, 2, 8),
        "end": dt.date(2024, 2, 20),
        "frozen_on": dt.date(2024, 2, 7),
        "measured_to": DAY1,
        "treated": treated,
        "control": control,
        "treated_converters": c["tx"],
        "control_converters": c["cx"],
        "treated_conversion": c["tx"] / treated if treated else None,
        "control_conversion": c["cx"] / control if control else None,
        "conversion_uplift": c["uplift"],
        "conversion_uplift_low": c["low"],
        "conversion_uplift_high": c["high"],
        "conversion_p_value": None if c["low"] is None else 0.61,
        "treated_revenue_per_customer": None if revenue is None else 6.0 + revenue,
        "control_revenue_per_customer": 6.0,
        "revenue_uplift": revenue,
        "revenue_uplift_low": low,
        "revenue_uplift_high": high,
        "incremental_conversions": None if c["uplift"] is None else c["uplift"] * treated,
        "incremental_revenue": c["incremental"],
        "cost": c["cost"] if segment_id is None else None,
        "roi": c["roi"] if segment_id is None else None,
        "mde": c["mde"],
        "reason": c.get("reason"),
    }


def publish(home: Home, table: str, frame: pd.DataFrame) -> None:
    """Publish ``frame`` as night DAY1's ``table``, as the pipeline does: staged in the
    catalog's schema, then the partition and ``current`` swapped in by the Parquet sink."""
    names = [c.name for c in layout.table(table).columns]
    staged = stage_table(frame.reindex(columns=names), table, DAY1, home.staged_table(table, DAY1))
    ParquetSink(home).write(DAY1, {table: staged})


def results_frame(ids: list[int]) -> pd.DataFrame:
    rows = [_row(name, None, c) for name, c in CAMPAIGNS.items()]
    spring = CAMPAIGNS["spring"]
    rows.append(
        _row("spring", ids[0], {**spring, "treated": 7000, "control": 700, "tx": 490, "cx": 35})
    )
    no_control = spring | {"treated": 25, "control": 0, "tx": 2, "cx": 0, "mde": None}
    no_control |= dict.fromkeys(("uplift", "low", "high", "incremental"))
    no_control |= {"revenue": (None, None, None)}
    rows.append(_row("spring", ids[1], no_control | {"reason": NO_CONTROL}))
    lapsed = no_control | {"treated": 0, "tx": 0, "status": "running", "reason": EMPTY_REASON}
    rows.append(_row("lapsed", None, lapsed | {"cost": None, "roi": None}))
    frame = pd.DataFrame(rows)
    frame["segment_id"] = frame["segment_id"].astype("Int64")
    return frame


def members_frame(ids: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    members = pd.DataFrame(
        [
            (audience, customer, control, exported, ids[0])
            for audience, rows in MEMBERS.items()
            for customer, control, exported in rows
        ],
        columns=["audience", "customer_id", "is_control", "exported", "segment_id"],
    )
    changes = pd.DataFrame(
        [(a, c, change) for a, rows in CHANGES.items() for c, change in rows],
        columns=["audience", "customer_id", "change"],
    )
    return members, changes


@pytest.fixture(scope="module")
def campaigns_config(tmp_path_factory: pytest.TempPathFactory, published_home: Path) -> Path:
    """A copy of ``published_home`` whose DAY1 has the hand-made campaigns and audiences."""
    folder = tmp_path_factory.mktemp("campaigns")
    shutil.copytree(published_home / "home", folder / "home")
    config = write_config(folder, folder / "landing")
    home = Home(folder / "home")
    ids = sorted(segment_names(home, DAY1))
    publish(home, "campaign_results", results_frame(ids))
    members, changes = members_frame(ids)
    publish(home, "audience_members", members)
    publish(home, "audience_changes", changes)
    return config


@pytest.fixture(scope="module")
def home(campaigns_config: Path) -> Home:
    return Home(campaigns_config.parent / "home")


@pytest.fixture(scope="module")
def page(home: Home) -> str:
    return report.build_report(home, DAY1)


def article(shown: str, campaign: str) -> str:
    """The part of the section about one campaign."""
    found = re.search(rf'<article class="campaign"[^>]*><h3>{campaign}</h3>.*?</article>', shown)
    assert found, campaign
    return found[0]


def chart_of(shown: str) -> str:
    start = shown.index('aria-label="Conversion uplift per campaign, with its 95% interval"')
    return shown[start : shown.index("</svg>", start)]


# ------------------------------------------------------------------------------ report


def test_the_section_follows_recommendations_and_is_in_the_navigation(page: str) -> None:
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    ids = section_ids(parsed)
    assert ids == list(report.SECTIONS)
    assert ids.index("campaigns") == ids.index("recommendations") + 1
    assert '<a href="#campaigns">Campaigns and audiences</a>' in page


def test_each_campaign_says_whether_it_works_from_its_interval(home: Home, page: str) -> None:
    published = published_in(home, "campaign_results", DAY1)
    assert len(published) == len(CAMPAIGNS) + 3  # the hand-made rows, as published
    shown = section_html(page, "campaigns")
    for name, c in CAMPAIGNS.items():
        mine = article(shown, name)
        assert f"<p><b>{html.escape(c['said'])}</b></p>" in mine, name
        assert f'style="border-left-color:{c["colour"]}"' in mine, name
        # sizes and conversion rates, from the hand-made counts
        rate_t, rate_c = c["tx"] / c["treated"] * 100, c["cx"] / c["control"] * 100
        assert (
            f"<li>Treated (targeted)<b>{c['treated']:,}</b>"
            f"<small>conversion {rate_t:.1f}% ({c['tx']} converted)</small></li>"
        ) in mine, name
        assert (
            f"<li>Control (held out)<b>{c['control']:,}</b>"
            f"<small>conversion {rate_c:.1f}% ({c['cx']} converted)</small></li>"
        ) in mine, name
        said = f"<li>Conversion uplift<b>{c['uplift'] * 100:+.1f} pts</b><small>95% CI "
        assert f"{said}{c['low'] * 100:+.1f} to {c['high'] * 100:+.1f}" in mine, name
        assert (
            f"At these sizes, an uplift under {c['mde'] * 100:.1f} points cannot be told from "
            "chance"
        ) in mine, name
        revenue, low, high = c["revenue"]
        assert (
            f"<li>Revenue uplift per customer<b>{revenue:+,.2f}</b>"
            f"<small>95% CI {low:+,.2f} to {high:+,.2f}; "
            f"treated {6 + revenue:,.2f}, control 6.00</small></li>"
        ) in mine, name
        assert f"<li>Incremental revenue<b>{c['incremental']:+,.2f}</b>" in mine, name
        if c["cost"] is None:
            assert "Return on cost" not in mine, name
        else:
            assert f"<li>Return on cost<b>{c['roi'] * 100:+,.0f}%</b>" in mine, name
    # the revenue uplift of spring is proven (its interval is above 0); summer's is not
    assert "<small>cost 5,000.00</small>" in article(shown, "spring")
    assert "cost 1,000.00; the revenue uplift is not proven" in article(shown, "summer")
    assert "+1.8 points" in shown and "+0.9 to +2.7" in shown and "works" in shown


def test_a_campaign_without_figures_gives_its_reason(page: str) -> None:
    mine = article(section_html(page, "campaigns"), "lapsed")
    assert "<p><b>No uplift can be measured yet.</b></p>" in mine
    assert f"<p>Why: {html.escape(EMPTY_REASON)}</p>" in mine
    assert "cannot be told from chance" not in mine  # no detectable uplift without groups
    assert "lapsed" not in chart_of(section_html(page, "campaigns"))  # nothing to draw


def test_the_whiskers_span_each_interval_on_the_charts_scale(page: str) -> None:
    chart = chart_of(section_html(page, "campaigns"))
    ticks = [
        (float(x), float(label) / 100)  # ticks are labelled in points, values are fractions
        for x, label in re.findall(r'<text class="tick" x="([\d.]+)"[^>]*>([^<]+)</text>', chart)
    ]
    assert len(ticks) >= 3
    (x0, v0), (x1, v1) = ticks[0], ticks[-1]

    def at(value: float) -> float:  # the chart's scale, from its own ticks
        return x0 + (value - v0) / (v1 - v0) * (x1 - x0)

    assert v0 <= min(c["low"] for c in CAMPAIGNS.values())
    assert v1 >= max(c["high"] for c in CAMPAIGNS.values())
    axis = re.search(r'<line class="axis" x1="([\d.]+)" x2="([\d.]+)"', chart)
    assert axis and abs(float(axis[1]) - at(0.0)) <= 0.1  # the zero line
    bars = re.findall(
        r'<text class="label"[^>]*>([^<]+)</text><rect class="estimate" x="([\d.]+)" '
        r'y="[\d.]+" width="([\d.]+)" height="16" fill="(#\w+)">.*?</rect>'
        r'<line class="whisker" x1="([\d.]+)" x2="([\d.]+)".*?/>'
        r'<line class="cap" x1="([\d.]+)".*?/><line class="cap" x1="([\d.]+)"',
        chart,
    )
    assert [b[0] for b in bars] == list(CAMPAIGNS)  # one row per measured campaign, in order
    for name, x, width, fill, low, high, cap_low, cap_high in bars:
        c = CAMPAIGNS[name]
        start, end = sorted((at(0.0), at(c["uplift"])))
        assert abs(float(x) - start) <= 0.1 and abs(float(x) + float(width) - end) <= 0.15, name
        assert abs(float(low) - at(c["low"])) <= 0.1, name
        assert abs(float(high) - at(c["high"])) <= 0.1, name
        assert (cap_low, cap_high) == (low, high), name
        assert fill == c["colour"], name
        # which side of zero the whiskers are on says the verdict
        assert (float(low) > at(0.0)) == (c["low"] > 0), name
        assert (float(high) < at(0.0)) == (c["high"] < 0), name


def test_the_segments_of_a_campaign_are_a_small_table(home: Home, page: str) -> None:
    names = segment_names(home, DAY1)
    ids = sorted(names)
    mine = article(section_html(page, "campaigns"), "spring")
    assert "<h4>By segment at the start</h4>" in mine
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', mine)
    assert [html.unescape(label) for label, _ in rows] == [
        f"{names[ids[0]]} ({ids[0]})",
        f"{names[ids[1]]} ({ids[1]})",
    ]
    first = re.findall(r"<td[^>]*>(.*?)</td>", rows[0][1])
    assert first == ["7,000", "700", "7.0% / 5.0%", "+1.8 (+0.9 to +2.7)", "works", ""]
    second = re.findall(r"<td[^>]*>(.*?)</td>", rows[1][1])
    assert second[:5] == ["25", "0", "8.0% / not available", "not available", "not available"]
    assert html.unescape(second[5]) == NO_CONTROL
    assert '<th scope="col">Why figures are missing</th>' in mine
    # winback has no rows per segment: no table
    assert "By segment" not in article(section_html(page, "campaigns"), "winback")


def test_each_audience_has_its_size_and_changes_tonight(home: Home, page: str) -> None:
    members = published_in(home, "audience_members", DAY1)
    changes = published_in(home, "audience_changes", DAY1)
    shown = section_html(page, "campaigns")
    assert "<h3>Audiences tonight</h3>" in shown
    for audience in MEMBERS:
        mine = members[members["audience"] == audience]
        moved = changes.loc[changes["audience"] == audience, "change"]
        control = int(mine["is_control"].sum())
        too = bool((mine["is_control"] & mine["exported"]).any())
        cells = "".join(
            f'<td class="num">{v}</td>'
            for v in (
                int(mine["exported"].sum()),
                f"{control} exported too" if too else f"{control} held out",
                int((moved == "entered").sum()),
                int((moved == "left").sum()),
            )
        )
        assert f'<tr><th scope="row">{audience}</th>{cells}</tr>' in shown, audience
    # the hand-made numbers, once more by hand
    assert (
        '<th scope="row">loyal</th><td class="num">3</td><td class="num">2 held out</td>' in shown
    )
    assert (
        '<td class="num">1 exported too</td><td class="num">1</td><td class="num">0</td>' in shown
    )


def test_the_section_in_chinese(home: Home) -> None:
    shown = section_html(report.build_report(home, DAY1, language="zh"), "campaigns")
    zh, en = report.STRINGS["zh"], report.STRINGS["en"]
    for key in ("campaigns", "campaigns_title", "audiences_title", "segments_title"):
        assert html.escape(zh[key]) in shown, key
        assert html.escape(en[key]) not in shown, key
    assert "<p><b>+1.8 个百分点，95% 置信区间 +0.9 至 +2.7：该活动有效</b></p>" in shown
    assert "-2.1 个百分点，95% 置信区间 -3.8 至 -0.8：该活动有害" in shown
    assert "尚未证实——区间包含 0" in shown and "没有可测量的效果——区间包含 0" in shown
    assert '<td class="num">2 位保留</td>' in shown and "1 位也导出" in shown
    assert "this campaign" not in shown and "points" not in shown


def without_audiences(published_home: Path, folder: Path) -> Home:
    """A copy of ``published_home`` whose config defines no audience and no campaign, and
    whose night DAY1 ran both steps again with it."""
    shutil.copytree(published_home / "home", folder / "home")
    cfg = load_config(write_config(folder, folder / "landing", audiences=None, campaigns=None))
    pipeline.export_audiences(cfg, DAY1)
    pipeline.measure_campaigns(cfg, DAY1)
    return Home(cfg.home)


def test_without_campaigns_or_audiences_the_section_says_how_to_define_them(
    published_home: Path, tmp_path: Path
) -> None:
    home = without_audiences(published_home, tmp_path)
    for table in TABLES:  # the night ran both steps, with nothing configured
        assert published_in(home, table, DAY1).empty, table
    shown = html.unescape(section_html(report.build_report(home, DAY1), "campaigns"))
    assert (
        "No audience or campaign is defined. Define audiences (who to export every night) and "
        "campaigns (what was sent to them, and when) in the config file: see the README's "
        "section “Audiences and campaigns”."
    ) in shown
    assert "not available" not in shown and "<svg" not in shown and "<table" not in shown


def test_a_night_older_than_the_tables_renders(tmp_path: Path, published_home: Path) -> None:
    home = Home(tmp_path / "home")
    shutil.copytree(published_home / "home", home.root)
    for table in TABLES:
        shutil.rmtree(home.partition(table, DAY1).parent)
    page = report.build_report(home, DAY1)
    parsed = parse(page)
    assert parsed.errors == [] and section_ids(parsed) == list(report.SECTIONS)
    shown = html.unescape(section_html(page, "campaigns"))
    assert (
        "not available: no audience or campaign tables for this run (the run is older than them)"
    ) in shown
    assert "Audiences and campaigns" in shown and "<svg" not in shown


def test_every_word_is_in_both_languages_with_the_same_placeholders() -> None:
    en, zh = CAMPAIGN_STRINGS["en"], CAMPAIGN_STRINGS["zh"]
    assert set(en) == set(zh)
    fields = string.Formatter()
    for key in en:
        for language in ("en", "zh"):
            assert report.STRINGS[language][key] == CAMPAIGN_STRINGS[language][key]
        placeholders = [{f for _, f, _, _ in fields.parse(w[key]) if f} for w in (en, zh)]
        assert placeholders[0] == placeholders[1], key
        assert en[key] != zh[key] or key == "p_value", key


def test_the_same_inputs_give_the_same_bytes(home: Home, page: str) -> None:
    assert report.build_report(home, DAY1) == page
    assert section_html(page, "campaigns").count("<svg") == 1


# ------------------------------------------------------------------------------ the view


@pytest.fixture
def view(campaigns_config: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Home]]:
    """The Segments view's routes under FastAPI's TestClient, on the home with campaigns,
    without Airflow's access check (tests/e2e/test_airflow_view.py checks it on every
    route); and that home."""
    monkeypatch.setenv("SEGMENTATION_CONFIG", str(campaigns_config))
    yield view_client(monkeypatch), Home(campaigns_config.parent / "home")
    for name in ("segmentation_view_app", "segmentation_view_campaigns"):
        sys.modules.pop(name, None)


def table_rows(page: str, kind: str) -> list[list[str]]:
    body = re.search(rf'<table class="{kind}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, page[-2000:]
    return [
        [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body[1])
    ]


def test_the_view_shows_each_campaign_its_segments_and_the_audiences(
    view: tuple[Any, Home],
) -> None:
    client, home = view
    page = client.get(f"/campaigns?run_date={DAY1}").text
    assert f"Published by run {DAY1}." in page
    rows = table_rows(page, "summary campaigns")
    assert [r[0] for r in rows] == [*CAMPAIGNS, "lapsed"]
    spring = rows[0]
    assert spring[1:5] == ["running", "2024-02-08 to 2024-02-20", "12,000", "1,200"]
    assert spring[5:8] == ["6.8% / 5.0%", "+1.8 (+0.9 to +2.7)", "works"]
    assert spring[8:] == ["+15,000.00", "+200%", "1.2"]  # incremental revenue, ROI, MDE
    assert [r[7] for r in rows] == [
        "works",
        "hurts",
        "not proven yet",
        "no measurable effect",
        "—",
    ]
    assert f'<p class="reason">lapsed: {html.escape(EMPTY_REASON)}</p>' in page
    parts = table_rows(page, "summary campaign-segments")
    names = segment_names(home, DAY1)
    ids = sorted(names)
    assert [(r[0], r[1]) for r in parts] == [
        ("spring", f"{names[ids[0]]} ({ids[0]})"),
        ("spring", f"{names[ids[1]]} ({ids[1]})"),
    ]
    assert parts[1][-1] == NO_CONTROL
    assert table_rows(page, "summary audiences") == [
        ["loyal", "3", "2 held out", "2", "1"],
        ["vip", "4", "1 exported too", "1", "0"],
    ]
    # every member, by audience and customer, with tonight's change
    members = table_rows(page, "members")
    assert [(r[0], r[1], r[-1]) for r in members] == [
        ("loyal", "A1", "entered"),
        ("loyal", "A2", "entered"),
        ("loyal", "A3", "—"),
        ("loyal", "A4", "—"),
        ("loyal", "A5", "—"),
        ("vip", "B1", "entered"),
        ("vip", "B2", "—"),
        ("vip", "B3", "—"),
        ("vip", "B4", "—"),
    ]
    assert "Members 1–9 of 9." in page


def test_the_view_filters_by_audience_links_from_the_runs_and_says_what_is_missing(
    view: tuple[Any, Home],
) -> None:
    client, home = view
    page = client.get(f"/campaigns?run_date={DAY1}&audience=vip").text
    assert [r[1] for r in table_rows(page, "members")] == ["B1", "B2", "B3", "B4"]
    assert '<option value="vip" selected>' in page and "Members 1–4 of 4." in page

    current = client.get("/campaigns").text  # current: the newest run
    assert "Current campaigns and audiences" in current
    assert f"Published by run {DAY1}." in current

    runs = client.get("/").text
    link = (
        f'<a href="/campaigns?run_date={DAY1}">5 campaigns: 1 works, 1 hurts, 1 not proven '
        "yet, 1 no measurable effect, 1 not measured</a>"
    )
    assert link in runs
    assert '<a href="/campaigns">Campaigns and audiences</a>' in runs  # the navigation

    for query, status in (
        ("audience=nope", 400),
        (f"run_date={DAY1 - dt.timedelta(days=3000)}", 404),
    ):
        response = client.get(f"/campaigns?{query}", headers={"Accept": "text/html"})
        assert response.status_code == status, query
        assert "/tmp/" not in response.text and str(home.root) not in response.text


def test_the_view_says_how_to_define_them_when_there_are_none(
    view: tuple[Any, Home], published_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = view
    without_audiences(published_home, tmp_path)
    monkeypatch.setenv("SEGMENTATION_CONFIG", str(tmp_path / "config.yaml"))
    page = client.get("/campaigns").text  # the config is read on every request
    assert f"Published by run {DAY1}." in page
    assert "No audience or campaign is defined." in page and "Audiences and campaigns" in page
    assert "<table" not in page
    runs = client.get("/").text
    assert f'<a href="/campaigns?run_date={DAY1}">none defined</a>' in runs
