"""The report's predictions section, on nights whose prediction tables were really published.

Every figure the section shows is pinned to the published tables, read here with pandas
(``prediction_quality``, ``segment_profiles``, ``customer_segments`` joined to
``customer_predictions``), never to what the report code computes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from segmentation import report
from segmentation.config import Config
from segmentation.layout import Home
from segmentation.report.data import load_data
from segmentation.report.sections_predictions import predictions_section
from tests.conftest import LAST, PREDICTED_NIGHTS, figure, published_in, section_html
from tests.integration.test_report import parse, section_ids

pytestmark = pytest.mark.integration

NIGHT1, NIGHT2 = PREDICTED_NIGHTS
SKIPPED_NIGHT = LAST - dt.timedelta(days=1)  # the night of ``published_home``: 39 days of lake
HOLDOUT = ("0", "1", "2", "3", "4", "5", "6", "7plus")


@pytest.fixture(scope="module")
def nights(predicted_nights: Config) -> Config:
    return predicted_nights


def measurement(value: float) -> str:
    """How the report writes a measurement between 0.01 and 100 (holdout days, lift)."""
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def test_the_section_shows_the_published_figures(nights: Config) -> None:
    home = Home(nights.home)
    quality = published_in(home, "prediction_quality", NIGHT2)
    page = report.build_report(home, NIGHT2)
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    assert section_ids(parsed) == list(report.SECTIONS)
    shown = section_html(page, "predictions")

    # the headline figures, each beside BG/NBD's baseline on the same customers
    for metric, label in (
        ("roc_auc", "ROC AUC"),
        ("pr_auc", "PR AUC"),
        ("calibration_error", "Calibration error"),
    ):
        ours = figure(quality, "churn", metric)["value"]
        theirs = figure(quality, "churn", f"baseline_{metric}")["value"]
        assert f"<li>{label}<b>{ours:.3f}</b><small>baseline {theirs:.3f}</small></li>" in shown, (
            metric
        )
    tested = figure(quality, "churn", "customers")["value"]
    assert f"<li>Customers tested<b>{round(tested):,}</b></li>" in shown

    # the decision about tonight's challenger, and the champion it was held to
    decided = figure(quality, "churn", "roc_auc")
    status, version = decided["status"], decided["model_version"]
    assert status in ("champion", "rejected")
    meaning = report.STRINGS["en"][f"prediction_status_{status}"]
    assert f"{status} — {meaning}" in shown
    assert f">{html.escape(decided['reason'])}</td>" in shown
    champion = figure(quality, "churn", "champion_roc_auc")
    assert champion["model_version"] == f"c{NIGHT1:%Y%m%d}"
    assert (
        f"The champion {champion['model_version']} on the same customers: ROC AUC "
        f"{champion['value']:.3f}."
    ) in shown
    scorer = version if status == "champion" else champion["model_version"]
    assert set(published_in(home, "customer_predictions", NIGHT2)["model_version"].dropna()) == {
        scorer
    }
    assert f"Customers are scored by the classifier {scorer}." in shown


def test_lift_and_calibration_charts_draw_the_published_tables(nights: Config) -> None:
    home = Home(nights.home)
    quality = published_in(home, "prediction_quality", NIGHT2)
    shown = section_html(report.build_report(home, NIGHT2), "predictions")
    assert shown.count("<svg") == 5  # risk, value, lift, calibration, holdout
    for k in range(1, 11):
        for label, prefix in (("Churn classifier", ""), ("BG/NBD baseline", "baseline_")):
            lift = figure(quality, "churn", f"{prefix}lift_decile_{k}")["value"]
            assert f"<title>{label}, {k}: {measurement(lift)}</title>" in shown, (prefix, k)
    points = 0
    for label, prefix in (("Churn classifier", ""), ("BG/NBD baseline", "baseline_")):
        for k in range(1, 11):
            predicted = figure(quality, "churn", f"{prefix}calibration_bin_{k}_predicted")["value"]
            observed = figure(quality, "churn", f"{prefix}calibration_bin_{k}_observed")["value"]
            if pd.isna(predicted):  # fewer bins: the rest are NaN, and not drawn
                continue
            points += 1
            point = f"<title>{label}: {predicted * 100:.0f}% → {observed * 100:.0f}%</title>"
            assert point in shown, (prefix, k)
    calibration = shown[shown.index('aria-label="Calibration"') :]
    assert calibration[: calibration.index("</svg>")].count("<circle") == points
    assert "perfectly calibrated" in shown  # the diagonal's legend


def test_the_holdout_table_is_the_published_one(nights: Config) -> None:
    home = Home(nights.home)
    quality = published_in(home, "prediction_quality", NIGHT2)
    shown = section_html(report.build_report(home, NIGHT2), "predictions")
    days = nights.predictions.churn_days
    assert f"BG/NBD fitted {days} days ago, against what its customers did since" in shown
    for group in HOLDOUT:
        customers = figure(quality, "bgnbd", f"holdout_repeat_{group}_customers")["value"]
        predicted = figure(quality, "bgnbd", f"holdout_repeat_{group}_predicted")["value"]
        actual = figure(quality, "bgnbd", f"holdout_repeat_{group}_actual")["value"]
        label = "7 or more" if group == "7plus" else group
        row = (
            f'<tr><th scope="row">{label}</th><td class="num">{round(customers):,}</td>'
            f'<td class="num">{measurement(predicted)}</td>'
            f'<td class="num">{measurement(actual)}</td></tr>'
        )
        assert row in shown, group


def test_risk_and_value_per_segment_are_the_published_ones(nights: Config) -> None:
    home = Home(nights.home)
    segments = published_in(home, "customer_segments", NIGHT2)[["customer_id", "segment_id"]]
    risks = published_in(home, "customer_predictions", NIGHT2)[["customer_id", "churn_risk"]]
    joined = segments.merge(risks, on="customer_id", how="left")
    profiles = published_in(home, "segment_profiles", NIGHT2).set_index("segment_id")
    page = report.build_report(home, NIGHT2)
    shown = section_html(page, "predictions")
    for sid, group in joined.groupby("segment_id"):
        scored = group["churn_risk"].notna()
        label = html.escape(f"{profiles.loc[sid, 'segment_name']} ({sid})")
        for risk in ("low", "medium", "high"):
            share = (scored & (group["churn_risk"] == risk)).mean()
            if share > 0:
                title = f"<title>{label}, {risk} risk: {share * 100:.1f}%</title>"
                assert title in shown, (sid, risk)
        unscored = (~scored).mean()
        if unscored > 0:
            assert f"<title>{label}, not scored: {unscored * 100:.1f}%</title>" in shown
        # the table: the segment's published prediction means
        row = profiles.loc[sid]
        cells = (
            f'<tr><th scope="row">{label}</th>'
            f'<td class="num">{row["customers"]:,}</td>'
            f'<td class="num">{row["high_churn_risk_share"] * 100:.1f}%</td>'
            f'<td class="num">{row["mean_predicted_clv_365d"]:,.2f}</td>'
            f'<td class="num">{row["mean_p_alive"] * 100:.1f}%</td>'
            f'<td class="num">{row["mean_churn_probability"] * 100:.1f}%</td></tr>'
        )
        assert cells in shown, sid
        # the published high-risk share is the share of the segment's customers at high risk
        assert row["high_churn_risk_share"] == pytest.approx(
            (scored & (group["churn_risk"] == "high")).mean()
        )
    # the prediction means are shown here, not again as rows of the profiles' heatmap
    start = page.index('<section id="profiles"')
    profiles_section = page[start : page.index("</section>", start)]
    for raw in ("p alive", "churn probability", "predicted clv"):
        assert raw not in profiles_section


def test_skipped_models_say_why_instead_of_charts(tmp_path: Path, published_home: Path) -> None:
    """39 days of lake: BG/NBD, Gamma-Gamma and the classifier are all skipped."""
    home = Home(published_home / "home")
    quality = published_in(home, "prediction_quality", SKIPPED_NIGHT)
    assert set(quality["status"]) == {"skipped"}
    shown = section_html(report.build_report(home, SKIPPED_NIGHT), "predictions")
    assert "No customer has a prediction in this run" in shown
    for model, label in (
        ("bgnbd", "BG/NBD"),
        ("gamma_gamma", "Gamma-Gamma"),
        ("churn", "Churn classifier"),
    ):
        reason = figure(quality, model, "skipped")["reason"]
        assert reason  # e.g. "39 days of history, fewer than 3 x predictions.churn_days (270)"
        row = re.search(rf'<tr><th scope="row">{re.escape(label)} \(.*?</tr>', shown)
        assert row, model
        assert "skipped — not computed tonight" in row[0]
        assert f">{html.escape(reason)}</td>" in row[0]
    assert "<svg" not in shown and "ROC AUC" not in shown  # no charts, no figures

    # a run of before the predictions (or with them off): no tables, "not available"
    bare = Home(tmp_path / "home")
    shutil.copytree(home.root, bare.root)
    for table in ("prediction_quality", "customer_predictions"):
        home_table = bare.table_root(table)
        shutil.rmtree(home_table)
    shown = section_html(report.build_report(bare, SKIPPED_NIGHT), "predictions")
    assert (
        "not available: no prediction tables for this run (predictions are switched off, or "
        "the run is older than them)"
    ) in html.unescape(shown)


def test_a_rejected_challenger_leaves_the_champion_scoring(nights: Config) -> None:
    """Tonight's table as it reads when the champion is kept (status rejected, its AUC row
    status champion): the decision and the scorer say so."""
    home = Home(nights.home)
    data = load_data(home, NIGHT2)
    assert data.quality is not None
    quality = data.quality.copy()
    churn = quality["model"] == "churn"
    champion = churn & (quality["metric"] == "champion_roc_auc")
    reason = "champion kept: challenger ROC AUC 0.800 is worse than the champion's 0.900"
    quality.loc[churn & ~champion, ["status", "reason"]] = ["rejected", reason]
    quality.loc[champion, "status"] = "champion"
    kept = dataclasses.replace(data, quality=quality)
    shown = predictions_section(kept, report.STRINGS["en"])
    assert "rejected — not promoted: the champion keeps scoring" in shown
    assert f">{html.escape(reason)}</td>" in shown
    assert f"Customers are scored by the classifier c{NIGHT1:%Y%m%d}." in shown


def test_the_section_in_chinese(nights: Config) -> None:
    home = Home(nights.home)
    quality = published_in(home, "prediction_quality", NIGHT2)
    page = report.build_report(home, NIGHT2, language="zh")
    shown = section_html(page, "predictions")
    zh, en = report.STRINGS["zh"], report.STRINGS["en"]
    for key in ("predictions", "risk_title", "value_title", "trust_title", "models_title"):
        assert zh[key] in shown, key
    for key in ("lift_title", "calibration_title", "holdout_title", "risk_high", "diagonal"):
        assert zh[key] in shown, key
        assert en[key] not in shown, key
    roc = figure(quality, "churn", "roc_auc")["value"]
    baseline = figure(quality, "churn", "baseline_roc_auc")["value"]
    assert f"<li>ROC AUC<b>{roc:.3f}</b><small>基线 {baseline:.3f}</small></li>" in shown
    days = nights.predictions.churn_days
    assert f"{days} 天前拟合的 BG/NBD 与客户此后实际行为的对比" in shown
    assert "7 次及以上" in shown


def test_the_skipped_section_in_chinese(published_home: Path) -> None:
    home = Home(published_home / "home")
    quality = published_in(home, "prediction_quality", SKIPPED_NIGHT)
    shown = section_html(report.build_report(home, SKIPPED_NIGHT, language="zh"), "predictions")
    assert "本次运行没有客户获得预测" in shown
    assert "skipped — 今晚未计算" in shown
    reason = figure(quality, "churn", "skipped")["reason"]
    assert html.escape(reason) in shown  # the pipeline's reason, as published
