"""The report's recommendations section and the Segments view's recommendations page, on
nights whose recommendation tables were really published (``predicted_nights``: 1,500
generated customers, ALS retrained on the first night and serving on the second).

Every figure shown is pinned to the published tables, read here with pandas
(``recommendation_quality``, ``customer_recommendations`` joined to ``customer_segments``),
never to what the report code computes. That home's baskets are too thin for any rule, so the
rules are hand-made partitions written into a copy of it (``with_rules``), with the published
file's schema; what no real night gives (a skipped model, segment best sellers served) is the
published table changed by hand, as the pipeline would have written it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import shutil
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation import report
from segmentation.config import Config
from segmentation.io import lake
from segmentation.io.parquet import segment_names
from segmentation.layout import Home
from segmentation.report.data import load_data
from segmentation.report.sections_recommendations import recommendations_section
from segmentation.report.strings_recommendations import RECOMMENDATION_STRINGS
from tests.conftest import (
    LAST,
    PREDICTED_NIGHTS,
    figure,
    published_in,
    section_html,
    view_client,
    write_config,
)
from tests.integration.test_report import parse, section_ids

pytestmark = pytest.mark.integration

NIGHT1, NIGHT2 = PREDICTED_NIGHTS
ROOT = Path(__file__).resolve().parents[2]
MODELS = {
    "als": "ALS model (similar customers)",
    "popular": "Best sellers (all customers)",
    "segment_popular": "Segment best sellers",
}
FIGURES = {
    "ndcg_at_10": "NDCG@10",
    "precision_at_10": "Precision@10",
    "recall_at_10": "Recall@10",
    "map_at_10": "MAP@10",
    "coverage": "Coverage",
}
SOURCES = {
    "collaborative": "model (similar customers)",
    "rule": "bought together (rules)",
    "segment_popular": "segment best sellers",
    "popular": "everyone's best sellers",
}


@pytest.fixture(scope="module")
def nights(predicted_nights: Config) -> Config:
    return predicted_nights


# hand-made rules of NIGHT2: (segment position among the night's segments, or None: all
# customers; antecedent, consequent, confidence, lift, baskets, rank)
RULES = (
    (None, ["P00012"], ["P00013"], 0.41, 4.1, 31, 1),
    (None, ["P00100", "P00101"], ["A&B"], 0.35, 2.5, 22, 2),
    (0, ["P00200"], ["P00201"], 0.62, 6.3, 40, 1),
    (0, ["P00300"], ["P00301", "P00302"], 0.30, 3.0, 25, 2),
    (0, ["P00400"], ["P00401"], 0.25, 2.0, 21, 3),
    (0, ["P00500"], ["P00501"], 0.22, 1.8, 20, 4),  # a fourth: not shown
    (1, ["P00600"], ["P00601"], 0.50, 5.5, 28, 1),
)


MIXED = 20  # customers whose first three items come from rules (``with_rules``)


@pytest.fixture(scope="module")
def with_rules(tmp_path_factory: pytest.TempPathFactory, nights: Config) -> Path:
    """A config (and copy of the home) whose NIGHT2 has ``RULES``, written with the schema of
    the published (empty) partition; segments by their position among NIGHT2's ids."""
    folder = tmp_path_factory.mktemp("rules")
    shutil.copytree(nights.home, folder / "home")
    config = write_config(folder, folder / "landing")
    home = Home(folder / "home")
    path = home.partition("association_rules", NIGHT2)
    schema = pq.read_schema(path)
    assert pq.read_metadata(path).num_rows == 0  # the generated shop's baskets give no rule
    ids = sorted(segment_names(home, NIGHT2))
    rows = [
        (None if s is None else ids[s], a, c, 0.01, conf, lift, 0.005, baskets, rank, False, None)
        for s, a, c, conf, lift, baskets, rank in RULES
    ]
    frame = pd.DataFrame(rows, columns=schema.names)
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)
    # as the rules would serve them: the first items of some light customers' lists come from
    # rules, the rest from their segment's best sellers (lists that mix sources)
    path = home.partition("customer_recommendations", NIGHT2)
    schema = pq.read_schema(path)
    lists = pq.read_table(path).to_pandas()
    light = lists.loc[(lists["rank"] == 1) & (lists["source"] == "segment_popular"), "customer_id"]
    assert len(light) > MIXED
    ruled = lists["customer_id"].isin(light.iloc[:MIXED]) & (lists["rank"] <= 3)
    lists.loc[ruled, ["source", "score"]] = ["rule", 0.5]
    pq.write_table(pa.Table.from_pandas(lists, schema=schema, preserve_index=False), path)
    return config


def rules_home(config: Path) -> Home:
    return Home(config.parent / "home")


# ------------------------------------------------------------------------------ report


def test_the_section_follows_predictions_and_says_what_is_served_and_why(nights: Config) -> None:
    home = Home(nights.home)
    quality = published_in(home, "recommendation_quality", NIGHT2)
    page = report.build_report(home, NIGHT2)
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    ids = section_ids(parsed)
    assert ids == list(report.SECTIONS)
    assert ids.index("recommendations") == ids.index("predictions") + 1
    assert '<a href="#recommendations">Recommendations: what to offer each customer</a>' in page
    shown = section_html(page, "recommendations")

    served = quality.loc[quality["status"] == "served", "model"].unique()
    assert list(served) == ["als"]  # the model beat segment popularity at its retrain
    reason = quality["reason"].iloc[0]
    assert set(quality["reason"]) == {reason} and "beats segment popularity" in reason
    assert f"<p>Why: {html.escape(reason)}</p>" in shown
    ndcg = figure(quality, "als", "ndcg_at_10")["value"]
    baseline = figure(quality, "segment_popular", "ndcg_at_10")["value"]
    customers = figure(quality, "als", "customers")["value"]
    version = figure(quality, "als", "ndcg_at_10")["model_version"]
    assert version == f"r{NIGHT1:%Y%m%d}"  # retrained on the first night, serving the second
    assert "<li>Served tonight<b>ALS model (similar customers)</b></li>" in shown
    assert (
        f"<li>NDCG@10 of what is served<b>{ndcg:.3f}</b>"
        f"<small>Segment best sellers {baseline:.3f}</small></li>"
    ) in shown
    assert f"<li>Customers evaluated<b>{round(customers):,}</b></li>" in shown
    assert f"<li>Model version<b>{version}</b></li>" in shown
    assert "Customers with enough history get the model&#x27;s picks" in shown


def test_the_three_models_held_out_figures_are_the_published_ones(nights: Config) -> None:
    home = Home(nights.home)
    quality = published_in(home, "recommendation_quality", NIGHT2)
    shown = section_html(report.build_report(home, NIGHT2), "recommendations")
    chart = shown[shown.index('aria-label="Held-out figures per model"') :]
    chart = chart[: chart.index("</svg>")]
    assert chart.count("<rect") == len(MODELS) * len(FIGURES)
    for model, label in MODELS.items():
        for metric, name in FIGURES.items():
            value = figure(quality, model, metric)["value"]
            assert f"<title>{html.escape(label)}, {name}: {value:.3f}</title>" in chart
    # the table: a row per figure, a column per model (the served one marked)
    header = (
        '<th scope="col">Figure</th>'
        '<th scope="col">ALS model (similar customers): served tonight</th>'
        '<th scope="col">Best sellers (all customers)</th>'
        '<th scope="col">Segment best sellers</th>'
    )
    assert header in shown
    for metric, label in (
        ("ndcg_at_10", "NDCG@10: hits, the higher in the list the more they count"),
        ("precision_at_10", "Precision@10: of the ten items, share then bought"),
        ("recall_at_10", "Recall@10: of what was bought, share among the ten"),
        ("map_at_10", "MAP@10: precision averaged over the hits"),
    ):
        cells = "".join(
            f'<td class="num">{figure(quality, m, metric)["value"]:.3f}</td>' for m in MODELS
        )
        assert f'<tr><th scope="row">{label}</th>{cells}</tr>' in shown, metric
    coverage = "".join(
        f'<td class="num">{figure(quality, m, "coverage")["value"] * 100:.1f}%</td>' for m in MODELS
    )
    assert coverage in shown
    customers = "".join(
        f'<td class="num">{round(figure(quality, m, "customers")["value"]):,}</td>' for m in MODELS
    )
    assert f'<tr><th scope="row">Customers evaluated</th>{customers}</tr>' in shown
    assert f"Figures of the model r{NIGHT1:%Y%m%d}, from its last retrain." in shown


def test_where_the_lists_come_from_is_counted_from_the_published_tables(
    with_rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = rules_home(with_rules)
    lists = published_in(home, "customer_recommendations", NIGHT2)
    segments = published_in(home, "customer_segments", NIGHT2)[["customer_id", "segment_id"]]
    joined = lists.merge(segments, on="customer_id", how="left")
    assert joined["segment_id"].notna().all()
    names = segment_names(home, NIGHT2)

    # the big table is counted by DuckDB, never read into pandas by the report
    read: list[Path] = []
    original = lake.read_file

    def recording(path: Path, columns: Any = None) -> pd.DataFrame:
        read.append(Path(path))
        return original(path, columns)

    monkeypatch.setattr(lake, "read_file", recording)
    shown = section_html(report.build_report(home, NIGHT2), "recommendations")
    assert read and home.partition("customer_recommendations", NIGHT2) not in read

    customers = lists["customer_id"].nunique()
    assert f"<b>{customers:,} customers get {len(lists):,} recommended items.</b>" in shown
    groups = [("All customers", joined)] + [
        (f"{names[int(s)]} ({int(s)})", g) for s, g in joined.groupby("segment_id")
    ]
    for label, group in groups:
        shares = group["source"].value_counts(normalize=True)
        for source, share in shares.items():
            title = f"<title>{html.escape(label)}, {html.escape(SOURCES[str(source)])}: "
            assert f"{title}{share * 100:.1f}%</title>" in shown, (label, source)
    assert set(lists["source"]) <= set(SOURCES)
    mixed = lists.groupby("customer_id")["source"].nunique()
    assert (mixed == 2).sum() == MIXED  # customers whose list mixes rules and best sellers
    for source, rows in lists.groupby("source"):
        leading = (rows["rank"] == 1).sum()
        cells = (
            f'<tr><th scope="row">{html.escape(SOURCES[str(source)])}</th>'
            f'<td class="num">{rows["customer_id"].nunique():,}</td>'
            f'<td class="num">{leading:,}</td>'
            f'<td class="num">{len(rows):,} ({len(rows) / len(lists) * 100:.1f}%)</td></tr>'
        )
        assert cells in shown, source


def test_a_night_without_rules_says_so_plainly(nights: Config) -> None:
    home = Home(nights.home)
    assert published_in(home, "association_rules", NIGHT2).empty
    shown = section_html(report.build_report(home, NIGHT2), "recommendations")
    assert (
        "<p><b>No rule tonight: no items were bought together often enough, and clearly more "
        "often than by chance, to meet the thresholds.</b></p>"
    ) in shown
    assert 'class="card rules"' not in shown


def test_rules_read_as_sentences_with_the_segment_name(with_rules: Path) -> None:
    home = rules_home(with_rules)
    names = segment_names(home, NIGHT2)
    ids = sorted(names)
    page = report.build_report(home, NIGHT2)
    assert parse(page).errors == []
    shown = section_html(page, "recommendations")
    cards = re.findall(r'<article class="card rules"[^>]*><h3>(.*?)</h3>(.*?)</article>', shown)
    # all customers first, then every segment of the night in id order
    titles = [html.unescape(t) for t, _ in cards]
    assert titles == ["All customers"] + [f"{names[s]} ({s})" for s in ids]
    by_title = dict(zip(titles, (body for _, body in cards), strict=True))

    everyone = by_title["All customers"]
    assert (
        "<li>Customers who buy P00012 also buy P00013: 4.1× the usual rate "
        "<small>(confidence 41.0%, 31 baskets)</small></li>"
    ) in everyone
    assert "Customers who buy P00100 + P00101 also buy A&amp;B: 2.5×" in everyone  # escaped

    first = by_title[f"{names[ids[0]]} ({ids[0]})"]
    name = html.escape(names[ids[0]])
    lines = re.findall(r"<li>(.*?)</li>", first)
    assert lines == [
        f"Customers in {name} who buy P00200 also buy P00201: 6.3× the usual rate "
        "<small>(confidence 62.0%, 40 baskets)</small>",
        f"Customers in {name} who buy P00300 also buy P00301 + P00302: 3.0× the usual rate "
        "<small>(confidence 30.0%, 25 baskets)</small>",
        f"Customers in {name} who buy P00400 also buy P00401: 2.0× the usual rate "
        "<small>(confidence 25.0%, 21 baskets)</small>",
    ]  # the three strongest, by rank; the fourth is not shown
    assert "P00500" not in shown
    second = by_title[f"{names[ids[1]]} ({ids[1]})"]
    assert f"Customers in {html.escape(names[ids[1]])} who buy P00600 also buy P00601" in second
    for sid in ids[2:]:  # segments without a rule say so
        assert "No rule met the thresholds in this group." in by_title[f"{names[sid]} ({sid})"]
    assert "No rule tonight" not in shown


def test_segment_best_sellers_served_when_the_model_does_not_beat_them(nights: Config) -> None:
    """Tonight's table as ``recommend_items`` writes it when ALS loses: segment_popular's rows
    served, the model's evaluated, the reason saying so."""
    home = Home(nights.home)
    data = load_data(home, NIGHT2)
    assert data.recommendation_quality is not None
    quality = data.recommendation_quality.copy()
    quality["status"] = np.where(quality["model"] == "segment_popular", "served", "evaluated")
    reason = (
        "ALS NDCG@10 0.0400 does not beat segment popularity's 0.0560: segment popularity is served"
    )
    quality["reason"] = reason
    shown = recommendations_section(
        dataclasses.replace(data, recommendation_quality=quality), report.STRINGS["en"]
    )
    ndcg = figure(quality, "segment_popular", "ndcg_at_10")["value"]
    als = figure(quality, "als", "ndcg_at_10")["value"]
    assert "<li>Served tonight<b>Segment best sellers</b></li>" in shown
    assert f"<b>{ndcg:.3f}</b><small>ALS model (similar customers) {als:.3f}</small>" in shown
    assert f"<p>Why: {html.escape(reason)}</p>" in shown
    assert "The model did not beat the segments&#x27; best sellers" in shown
    assert '<th scope="col">Segment best sellers: served tonight</th>' in shown


def test_a_skipped_model_shows_the_reason_instead_of_figures(nights: Config) -> None:
    """No collaborative model could be trained: one ``skipped`` row, as the pipeline writes it."""
    home = Home(nights.home)
    data = load_data(home, NIGHT2)
    reason = "nobody bought in the 14 holdout days"
    quality = pd.DataFrame(
        {
            "model": ["als"],
            "model_version": pd.Series([None], dtype="object"),
            "metric": ["skipped"],
            "value": [float("nan")],
            "status": ["skipped"],
            "reason": [reason],
        }
    )
    skipped = dataclasses.replace(data, recommendation_quality=quality)
    shown = recommendations_section(skipped, report.STRINGS["en"])
    assert (
        "<p><b>No collaborative model is served tonight: it could not be trained.</b></p>"
    ) in shown
    assert f"<p>Why: {reason}</p>" in shown
    assert "Every customer gets items that go with what they bought" in shown
    # no figures nor their chart: what was served tonight is still counted
    assert "How the model did" not in shown and "NDCG@10" not in shown
    assert "Held-out figures per model" not in shown
    assert shown.count("<svg") == 1 and 'aria-label="Recommended items by source"' in shown

    zh = recommendations_section(skipped, report.STRINGS["zh"])
    assert "今晚没有使用协同过滤模型：模型无法训练。" in zh
    assert f"原因：{reason}" in zh


def test_without_the_tables_the_section_reads_not_available(tmp_path: Path) -> None:
    page = report.build_report(Home(tmp_path / "nothing"), NIGHT2)
    assert section_ids(parse(page)) == list(report.SECTIONS)
    shown = html.unescape(section_html(page, "recommendations"))
    assert (
        "not available: no recommendation tables for this run (recommendations are switched "
        "off, or the run is older than them)"
    ) in shown
    assert "<svg" not in shown


def test_the_section_in_chinese(with_rules: Path) -> None:
    home = rules_home(with_rules)
    names = segment_names(home, NIGHT2)
    sid = min(names)
    quality = published_in(home, "recommendation_quality", NIGHT2)
    page = report.build_report(home, NIGHT2, language="zh")
    shown = section_html(page, "recommendations")
    zh, en = report.STRINGS["zh"], report.STRINGS["en"]
    for key in ("recommendations", "served_title", "comparison_title", "rules_title"):
        assert zh[key] in shown, key
        assert en[key] not in shown, key
    for key in ("sources_title", "rec_model_als", "source_collaborative", "fig_coverage"):
        assert html.escape(zh[key]) in shown, key
        assert html.escape(en[key]) not in shown, key
    ndcg = figure(quality, "als", "ndcg_at_10")["value"]
    assert f"<li>所用推荐的 NDCG@10<b>{ndcg:.3f}</b>" in shown
    assert (
        f"<li>{html.escape(names[sid])} 分群中买 P00200 的客户也买 P00201：是平常的 6.3 倍 "
        "<small>(置信度 62.0%，40 个购物篮)</small></li>"
    ) in shown
    assert "买 P00012 的客户也买 P00013：是平常的 4.1 倍" in shown
    assert "Customers who buy" not in shown


def test_every_word_is_in_both_languages_with_the_same_placeholders() -> None:
    en, zh = RECOMMENDATION_STRINGS["en"], RECOMMENDATION_STRINGS["zh"]
    assert set(en) == set(zh)
    fields = string.Formatter()
    for key in en:
        for language in ("en", "zh"):
            assert report.STRINGS[language][key] == RECOMMENDATION_STRINGS[language][key]
        placeholders = [{f for _, f, _, _ in fields.parse(w[key]) if f} for w in (en, zh)]
        assert placeholders[0] == placeholders[1], key
        assert en[key] != zh[key] or key.startswith("fig_") or key == "vs_other", key


def test_the_same_inputs_give_the_same_bytes(with_rules: Path) -> None:
    home = rules_home(with_rules)
    first = report.build_report(home, NIGHT2)
    assert report.build_report(home, NIGHT2) == first
    assert section_html(first, "recommendations").count("<svg") == 2  # the comparison, the sources


# ------------------------------------------------------------------------------ the view


@pytest.fixture
def view(with_rules: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Home]]:
    """The Segments view's routes under FastAPI's TestClient, on the home with rules, without
    Airflow's access check (tests/e2e/test_airflow_view.py checks it on every route); and
    that home."""
    monkeypatch.setenv("SEGMENTATION_CONFIG", str(with_rules))
    yield view_client(monkeypatch), rules_home(with_rules)
    for name in ("segmentation_view_app", "segmentation_view_recommendations"):
        sys.modules.pop(name, None)


def view_rows(page: str) -> list[list[str]]:
    body = re.search(r'<table class="recommendations">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, page[-2000:]
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body[1])
    ]


def test_the_view_shows_the_models_rules_and_each_customers_list(
    view: tuple[Any, Home],
) -> None:
    client, home = view
    quality = published_in(home, "recommendation_quality", NIGHT2)
    lists = published_in(home, "customer_recommendations", NIGHT2)
    names = segment_names(home, NIGHT2)
    page = client.get(f"/recommendations?run_date={NIGHT2}").text
    assert f"Published by run {NIGHT2}." in page

    # the models: status, version and held-out figures; why, once
    text = re.sub(r"<[^>]+>", " ", page[page.index('class="summary models"') :])
    for model, label in MODELS.items():
        status = figure(quality, model, "ndcg_at_10")["status"]
        ndcg = figure(quality, model, "ndcg_at_10")["value"]
        precision = figure(quality, model, "precision_at_10")["value"]
        assert re.search(
            rf"{re.escape(label)}\s+{status}\s+r{NIGHT1:%Y%m%d}\s+{ndcg:.3f}\s+{precision:.3f}",
            text,
        ), model
    assert page.count('<p class="reason">Why: ') == 1
    assert html.escape(quality["reason"].iloc[0]) in page

    # the rules: the three strongest of each segment, by the segment's name
    sid = min(names)
    rule = (
        f"<tr><td>{html.escape(names[sid])} ({sid})</td><td>P00200</td><td>P00201</td>"
        "<td>62.0%</td><td>6.3×</td><td>40</td></tr>"
    )
    assert rule in page
    assert "<tr><td>All customers</td><td>P00100 + P00101</td><td>A&amp;B</td>" in page
    assert "P00500" not in page  # a fourth rule

    # the lists, in the file's order: each customer's items best first, the source in words
    rows = view_rows(page)
    assert [(r[0], int(r[1]), r[2]) for r in rows] == [
        (c, int(k), i) for c, k, i in lists[["customer_id", "rank", "item"]].to_numpy()[:100]
    ]
    assert {html.unescape(r[4]) for r in rows} <= set(SOURCES.values())
    assert f"Recommendations 1–100 of {len(lists):,}." in page
    heads = re.findall(r'<th title="([^"]*)">([^<]*)</th>', page)
    assert heads == [
        ("customer_id", "Customer"),
        ("rank", "Rank (1 = best)"),
        ("item", "Item offered"),
        ("score", "Score"),
        ("source", "Where it comes from"),
    ]  # the run and the model version are shown above, not on every row


def test_the_view_finds_a_customer_and_filters_by_source(view: tuple[Any, Home]) -> None:
    client, home = view
    lists = published_in(home, "customer_recommendations", NIGHT2)
    customer = lists["customer_id"].iloc[-1]
    mine = lists[lists["customer_id"] == customer].sort_values("rank")
    page = client.get(f"/recommendations?run_date={NIGHT2}&customer_id={customer}").text
    assert [(r[0], r[2]) for r in view_rows(page)] == [(customer, item) for item in mine["item"]]
    assert f"Recommendations 1–{len(mine)} of {len(mine)}." in page

    for source, rows in lists.groupby("source"):
        shown = client.get(f"/recommendations?run_date={NIGHT2}&source={source}").text
        assert f"of {len(rows):,}." in shown, source
        assert {html.unescape(r[4]) for r in view_rows(shown)} == {SOURCES[str(source)]}
        assert f'<option value="{source}" selected>' in shown

    current = client.get("/recommendations").text  # current: the newest run
    assert "Current recommendations" in current and f"Published by run {NIGHT2}." in current

    runs = client.get("/").text  # the run list links each run's recommendations
    quality = published_in(home, "recommendation_quality", NIGHT2)
    ndcg = figure(quality, "als", "ndcg_at_10")["value"]
    link = f'<a href="/recommendations?run_date={NIGHT2}">ALS model served, NDCG@10 {ndcg:.3f}</a>'
    assert link in runs
    assert '<a href="/recommendations">Current recommendations</a>' in runs

    for query, status in (
        ("source=nope", 400),
        (f"run_date={LAST - dt.timedelta(days=3000)}", 404),
    ):
        response = client.get(f"/recommendations?{query}", headers={"Accept": "text/html"})
        assert response.status_code == status, query
        assert "/tmp/" not in response.text and str(home.root) not in response.text
