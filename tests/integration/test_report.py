"""The morning HTML report, built from a published night plus drift metrics in the new schema."""

from __future__ import annotations

import datetime as dt
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from segmentation import report
from segmentation.errors import ConfigError
from segmentation.io import lake
from segmentation.layout import Home
from segmentation.report.data import ReportData
from segmentation.report.sections import migrations_section
from segmentation.report.sections_drift import decision_section
from tests.conftest import LAST

pytestmark = pytest.mark.integration

DAY1 = LAST - dt.timedelta(days=1)  # the night published in ``published_home``
DAY0 = DAY1 - dt.timedelta(days=1)  # an earlier night: drift metrics only
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}
FEATURES = ("category_share_beauty", "days_since_last_event", "frequency", "monetary")
# today's deciding PSI per feature: one alert, one warn, the rest ok
PSI = {DAY0: (0.02, 0.01, 0.03, 0.05), DAY1: (0.31, 0.02, 0.04, 0.12)}
WARN, ALERT = 0.1, 0.25


def drift_frame(day: dt.date, segment_ids: list[int]) -> pd.DataFrame:
    """``drift_metrics`` of one run in the new schema: feature, segment and run rows."""
    rows = []
    for feature, value in zip(FEATURES, PSI[day], strict=True):
        level = "alert" if value >= ALERT else "warn" if value >= WARN else "ok"
        for metric, v in (("psi_quantile", value), ("psi_model", value * 0.9)):
            rows.append(("feature", feature, metric, v, ALERT, level == "alert", level))
        for metric, v, threshold in (
            ("psi", value * 1.1, 0.1),
            ("jensenshannon", value / 3, 0.1),
            ("ks_statistic", value / 2, float("nan")),
            ("ks_pvalue", 0.5 - value, 0.05),
            ("wasserstein_normed", value / 4, 0.1),
        ):
            rows.append(("feature", feature, metric, v, threshold, False, "info"))
    if day == DAY1:  # the first run has no previous run to compare segments with
        for sid in segment_ids:
            rows.append(("segment", str(sid), "share_change", 0.01 * sid, 0.05, False, "ok"))
            rows.append(("segment", str(sid), "centroid_shift", 0.2, float("nan"), False, "info"))
        rows.append(("segment", "7", "vanished", 1.0, float("nan"), True, "warn"))
    level = "alert" if day == DAY1 else "ok"
    drifted = [f for f, v in zip(FEATURES, PSI[day], strict=True) if v >= ALERT]
    rows += [
        ("run", "all", "decision", float(("ok", "warn", "alert").index(level)), 2.0, False, level),
        ("run", "all", "drifted_features", float(len(drifted)), float("nan"), False, "info"),
        ("run", "all", "migration_rate", 0.016, float("nan"), False, "info"),
    ]
    frame = pd.DataFrame(
        rows, columns=["scope", "name", "metric", "value", "threshold", "drifted", "level"]
    )
    frame.insert(0, "run_date", pd.Series([day] * len(frame), dtype="object"))
    return frame


def write_new_drift(home: Home) -> None:
    """Replace ``drift_metrics`` of DAY1 and add DAY0's, in the new schema."""
    profiles = lake.read_file(home.partition("segment_profiles", DAY1))
    ids = sorted(int(s) for s in profiles["segment_id"])
    root = home.table_root("drift_metrics")
    for day in (DAY0, DAY1):
        lake.write_partition(drift_frame(day, ids), root, "run_date", day)


@pytest.fixture
def home(tmp_path: Path, published_home: Path) -> Home:
    """A private copy of the published night, with drift metrics of two runs."""
    target = Home(tmp_path / "home")
    shutil.copytree(published_home / "home", target.root)
    write_new_drift(target)
    return target


class Structure(HTMLParser):
    """Checks that tags nest and close, and collects every URL-like attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.links: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.links += [v or "" for k, v in attrs if k in ("href", "src", "xlink:href")]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.links += [v or "" for k, v in attrs if k in ("href", "src", "xlink:href")]

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def parse(page: str) -> Structure:
    parser = Structure()
    parser.feed(page)
    parser.close()
    return parser


def section_ids(parsed: Structure) -> list[str]:
    return [a["id"] or "" for t, a in parsed.tags if t == "section" and "id" in a]


def test_report_shows_every_section_in_order_with_the_data(home: Home) -> None:
    page = report.build_report(home, DAY1)
    parsed = parse(page)
    assert section_ids(parsed) == list(report.SECTIONS)
    for title in ("Today&#x27;s decision", "Segments", "Segment profiles", "Data checks"):
        assert f">{title}</h2>" in page
    # one card per segment of the fixture's night (seed 3), headed by its name; the shop is
    # 40 days old, so nobody is loyal or hibernating by the names' conditions
    for name in ("Window shoppers", "Occasional", "Promising", "New", "Bargain hunters"):
        assert f"<h3>{name}</h3>" in page
    # the decision banner: alert, with the drifted feature and the one to watch
    banner = page[page.index('<section id="decision"') : page.index('<section id="segments"')]
    assert "level-alert" in banner and "ALERT" in banner
    assert "share of beauty" in banner and "net spend" in banner  # features by their labels
    assert "category_share_beauty" not in banner
    # drift charts per feature with both thresholds, the full table, the model decision
    assert page.count('stroke-dasharray="6 4"') == 2 * len(FEATURES)
    plain = page.replace("<wbr>", "")  # table headers may break after an underscore
    for metric in ("psi_quantile", "psi_model", "jensenshannon", "ks_pvalue", "centroid_shift"):
        assert metric in plain
    # tonight's model is the first one: promoted, for that reason
    assert '<th scope="row">Reason</th><td>first model</td>' in page
    assert "Passed: all" in page


def test_report_is_self_contained_and_well_formed(home: Home) -> None:
    page = report.build_report(home, DAY1)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "@import" not in page and "url(" not in page
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    assert all(link.startswith(("#", "data:")) for link in parsed.links), parsed.links
    assert page.startswith("<!DOCTYPE html>") and "<title>" in page


def test_same_inputs_give_the_same_bytes(home: Home) -> None:
    first = report.write_report(home, DAY1).read_bytes()
    assert report.build_report(home, DAY1).encode() == first
    assert report.write_report(home, DAY1).read_bytes() == first
    assert home.current_report.read_bytes() == first


def test_current_report_never_moves_backwards(home: Home) -> None:
    newest = report.write_report(home, DAY1)
    assert newest == home.root / "output" / "reports" / f"run_date={DAY1}" / "report.html"
    current = home.root / "output" / "current" / "report.html"
    assert report.current_report_day(home) == DAY1

    older = report.write_report(home, DAY0)  # a backfill of an earlier night
    assert older.is_file() and older != newest
    assert current.read_bytes() == newest.read_bytes()
    assert report.current_report_day(home) == DAY1
    # the older night's report only knows runs up to its own day
    assert DAY1.isoformat() not in older.read_text(encoding="utf-8")
    assert not list(current.parent.glob(".tmp-*"))


def test_missing_inputs_show_not_available(tmp_path: Path) -> None:
    page = report.build_report(Home(tmp_path / "nothing"), DAY1)
    parsed = parse(page)
    assert section_ids(parsed) == list(report.SECTIONS)
    assert parsed.errors == [] and parsed.stack == []
    assert page.count("not available") >= len(report.SECTIONS)


def test_older_drift_schema_still_gives_a_report(tmp_path: Path, published_home: Path) -> None:
    home = Home(published_home / "home")
    page = report.build_report(home, DAY1)
    assert section_ids(parse(page)) == list(report.SECTIONS)
    first = report.build_report(home, DAY0)  # before the first night
    assert "not available" in first


def test_chinese_titles_and_sentences(home: Home) -> None:
    page = report.build_report(home, DAY1, language="zh")
    assert '<html lang="zh">' in page
    for key in report.SECTIONS:
        assert report.STRINGS["zh"][key] in page
    assert "警报" in page
    with pytest.raises(ConfigError, match="fr"):
        report.build_report(home, DAY1, language="fr")


def test_failed_validation_is_shown_and_data_is_escaped(home: Home) -> None:
    record = {
        "run_date": DAY1.isoformat(),
        "suite": "events",
        "success": False,
        "evaluated_expectations": 13,
        "failures": ["expect_column_values_to_be_between on amount: 2 unexpected row(s)", "<b>x"],
    }
    lake.write_json(record, home.root / "validation" / "events" / f"run_date={DAY1}.json")
    page = report.build_report(home, DAY1)
    assert "Failed: 2 of 13 checks of suite events" in page
    assert "&lt;b&gt;x" in page and "<b>x" not in page
    assert section_ids(parse(page)) == list(report.SECTIONS)


def test_a_day_promoted_without_a_few_rows_says_so_with_the_reasons(home: Home) -> None:
    """Passed, but 2 of 500 rows held back: not "all checks passed", and not a failure."""
    record = {
        "run_date": DAY1.isoformat(),
        "suite": "events",
        "success": True,
        "evaluated_expectations": 13,
        "failures": ["expect_column_values_to_not_be_null on customer_id: 2 unexpected row(s)"],
        "rows_read": 500,
        "rows_valid": 498,
        "rows_quarantined": 2,
        "bad_row_reasons": {"expect_column_values_to_not_be_null on customer_id": 2},
    }
    lake.write_json(record, home.root / "validation" / "events" / f"run_date={DAY1}.json")
    page = report.build_report(home, DAY1)
    assert "Passed without 2 of its 500 rows" in page
    assert "Rows held back, by check" in page
    assert "expect_column_values_to_not_be_null on customer_id: 2</li>" in page
    assert "Passed: all" not in page and "Failed checks" not in page
    # a record from before the late and duplicate counts: they read as 0
    assert (
        "<p>Rows this night: bad, held back: 2; late (arrived after their day), kept: 0; "
        "duplicates (re-sent), dropped: 0.</p>"
    ) in page
    zh = report.build_report(home, DAY1, language="zh")
    assert "500 行中有 2 行未通过单行检查" in zh
    assert "本次：2 行坏数据（已隔离），0 条迟到事件" in zh


def passed_record(**counts: int) -> dict[str, object]:
    return {
        "run_date": DAY1.isoformat(),
        "suite": "events",
        "success": True,
        "evaluated_expectations": 13,
        "failures": [],
        "bad_row_reasons": {},
        **counts,
    }


def test_late_and_duplicate_events_are_counted_and_a_clean_night_adds_no_line(
    home: Home,
) -> None:
    path = home.validation_record(DAY1)
    # 510 read = 500 valid + 0 quarantined + 10 duplicates; 7 of the valid rows came in late
    counts = {"rows_read": 510, "rows_valid": 500, "rows_quarantined": 0}
    lake.write_json(passed_record(**counts, rows_duplicate=10, rows_late=7), path)
    page = report.build_report(home, DAY1)
    assert "Passed: all 13 checks of suite events." in page  # late or re-sent rows are no fault
    assert (
        "<p>Rows this night: bad, held back: 0; late (arrived after their day), kept: 7; "
        "duplicates (re-sent), dropped: 10.</p>"
    ) in page
    assert "Rows held back, by check" not in page
    zh = report.build_report(home, DAY1, language="zh")
    assert "7 条迟到事件（晚于所属日期到达，已保留），10 条重复事件（重复发送，已丢弃）" in zh

    clean = {"rows_read": 500, "rows_valid": 500, "rows_quarantined": 0}
    lake.write_json(passed_record(**clean, rows_duplicate=0, rows_late=0), path)
    assert "Rows this night" not in report.build_report(home, DAY1)
    assert "本次：" not in report.build_report(home, DAY1, language="zh")


def migration_data(drift: pd.DataFrame | None) -> ReportData:
    """A night where 200 customers were in the previous run (10 moved) and 5 are new."""
    moves = pd.DataFrame(
        {
            "from_segment_id": pd.array([None, 0, 0, 1], dtype="Int64"),
            "to_segment_id": [0, 0, 1, 1],
            "customers": [5, 90, 10, 100],
        }
    )
    return ReportData(DAY1, None, None, moves, drift, None, None, {})


def test_migration_rate_is_the_figure_the_drift_step_published() -> None:
    # drift_metrics says 1.6% (its run row); the counts alone would give 10 / 200 = 5%
    data = migration_data(drift_frame(DAY1, [0, 1]))
    words = report.STRINGS["en"]
    assert (
        "<p><b>Migration rate: 1.6% (10 of the 200 customers present in both runs changed "
        "segment).</b> New customers in this run: 5.</p>"
    ) in migrations_section(data, words)
    assert "<li>Changed segment<b>1.6%</b></li>" in decision_section(data, words)

    unpublished = migration_data(None)  # no drift_metrics for the night: no rate to show
    assert "Migration rate: not available (10 of the 200 customers" in migrations_section(
        unpublished, words
    )
    assert "<li>Changed segment<b>not available</b></li>" in decision_section(unpublished, words)
