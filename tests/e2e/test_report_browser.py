"""The written report opened in real headless Chromium (Selenium), as a marketer would see it.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: ``apt-get install -y chromium
chromium-driver``). Without them the test is skipped, except on CI (``CI=true``), where it fails.
Screenshots are left in ``test-artifacts/`` for a person to look at: ``report.png`` and
``report_zh.png`` (whole pages), ``report[_zh]_segments.png``, ``report[_zh]_profiles.png`` and
``report[_zh]_predictions.png``.

The English report is of a night published in English, the Chinese one of the same night
published with ``personas.language: zh`` (names, descriptions and rules in Chinese). In both,
nothing sticks out of its box, features read as labels, counts as whole numbers, and the page
names no folder of the machine that wrote it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from segmentation import pipeline, report
from segmentation.config import load_config
from segmentation.layout import Home
from tests.conftest import write_config
from tests.e2e.readable import machine_names, overflowing, page_overflows
from tests.integration.test_report import DAY1, write_new_drift

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
)


def require_browser() -> None:
    """Skip (or on CI, fail) with the reason when the browser or its driver is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package (pip install -c constraints.txt -e '.[dev]')")
    if not missing:
        return
    reason = f"browser test needs {', '.join(missing)}"
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{reason}: install chromium and chromium-driver on the CI image "
            "(apt-get install -y chromium chromium-driver)",
            pytrace=False,
        )
    pytest.skip(f"{reason}; install with: apt-get install -y chromium chromium-driver")


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        browser.set_window_size(1280, 900)
        yield browser
    finally:
        browser.quit()


# boxes a person reads: nothing in them may be wider than they are
BOXES = (
    "header, nav, main, section, article.card, .card dd, .banner, .figures li, figure, "
    "figcaption, .scroll, th, td, p, li"
)
# the snake_case words the report may show: names of drift statistics, explained on the page
STATISTICS = (
    "psi_quantile",
    "psi_model",
    "wasserstein_model",
    "ks_statistic",
    "ks_pvalue",
    "wasserstein_normed",
    "share_change",
    "share_change_reference",
    "centroid_shift",
    # settings a skipped prediction model's reason names (predictions.churn_days, ...)
    "churn_days",
    "min_repeat_buyers",
    "min_class_customers",
)
DEMO_CATEGORIES = ("beauty", "electronics", "fashion", "grocery", "home", "sports")


@pytest.fixture
def written_report(tmp_path: Path, published_home: Path) -> Path:
    home = Home(tmp_path / "home")
    shutil.copytree(published_home / "home", home.root)
    write_new_drift(home)
    return report.write_report(home, DAY1)


@pytest.fixture(scope="module")
def chinese_report(
    tmp_path_factory: pytest.TempPathFactory, published_home: Path, landing: Path
) -> Path:
    """The night of ``published_home`` published again with ``personas.language: zh``."""
    folder = tmp_path_factory.mktemp("zh")
    shutil.copytree(published_home / "home", folder / "home")
    cfg = load_config(write_config(folder, landing, personas={"language": "zh"}))
    pipeline.run(cfg, DAY1)
    home = Home(cfg.home)
    write_new_drift(home)
    return report.write_report(home, DAY1, "zh")


def test_report_opens_in_chromium(driver: Any, written_report: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get(written_report.as_uri())
    words = report.STRINGS["en"]
    assert driver.title == f"{words['title']} {DAY1.isoformat()}"
    for section in report.SECTIONS:
        heading = driver.find_element(By.CSS_SELECTOR, f"section#{section} > h2")
        assert heading.is_displayed(), section
        assert heading.text == words[section]
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart"), "no chart drawn"
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == []

    ARTIFACTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, int(height) + 200)  # the whole page in one screenshot
    shot = ARTIFACTS / "report.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def screenshots(driver: Any, name: str) -> None:
    """The whole page as ``<name>.png``, its segments, profiles and predictions as
    ``<name>_<section>.png``."""
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, int(height) + 200)  # the whole page in one screenshot
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    for section in ("segments", "profiles", "predictions"):
        element = driver.find_element(By.CSS_SELECTOR, f"section#{section}")
        assert element.screenshot(str(ARTIFACTS / f"{name}_{section}.png"))


def read_report(driver: Any, path: Path) -> dict[str, Any]:
    """Open the report at 1280 px; what a person sees of it, measured in the browser."""
    from selenium.webdriver.common.by import By

    driver.set_window_size(1280, 900)
    driver.get(path.as_uri())
    cards = driver.find_elements(By.CSS_SELECTOR, "article.card")
    return {
        "text": driver.find_element(By.TAG_NAME, "body").text,
        "html": driver.page_source,
        "overflowing": overflowing(driver, BOXES),
        "page_overflows": page_overflows(driver),
        "cards": [
            dict(
                zip(
                    [t.text for t in card.find_elements(By.TAG_NAME, "dt")],
                    [d.text for d in card.find_elements(By.TAG_NAME, "dd")],
                    strict=True,
                )
            )
            for card in cards
        ],
        "profile_rows": [
            th.text.replace("\n", "")
            for th in driver.find_elements(By.CSS_SELECTOR, "section#profiles tbody th")
        ],
        "banner_customers": driver.find_element(
            By.CSS_SELECTOR, "section#decision .figures li:first-child b"
        ).text,
    }


def customers_published(report_file: Path) -> int:
    """Rows of the night's ``customer_segments``, read with pyarrow (not the report)."""
    home = report_file.parents[3]  # <home>/output/reports/run_date=D/report.html
    table = home / "output" / "customer_segments" / f"run_date={DAY1}" / "part-0.parquet"
    return int(pq.ParquetFile(table).metadata.num_rows)


def assert_reads_well(page: dict[str, Any], report_file: Path, customers_key: str) -> None:
    """Nothing overflows, no folder of the server, counts as whole numbers."""
    assert page["overflowing"] == [], page["overflowing"]
    assert not page["page_overflows"]
    home = str(report_file.parents[3])
    for where in ("text", "html"):
        for path in (home, "/tmp/", "/home/", "/root/"):
            assert path not in page[where], (where, path)
    assert machine_names(page["text"], STATISTICS) == []
    counts = [card[customers_key] for card in page["cards"]]
    assert counts and all(re.fullmatch(r"\d{1,3}(,\d{3})*", c) for c in counts), counts
    total = customers_published(report_file)
    assert sum(int(c.replace(",", "")) for c in counts) == total
    assert page["banner_customers"] == f"{total:,}"


def test_english_report_reads_well(driver: Any, written_report: Path) -> None:
    page = read_report(driver, written_report)
    assert_reads_well(page, written_report, "Customers")
    for label in ("days since last visit", "share of electronics", "number of orders"):
        assert label in page["profile_rows"], page["profile_rows"]
    assert "days_since_last_event" not in page["text"]
    assert "category_share_electronics" not in page["text"]
    rules = " ".join(card["Rules"] for card in page["cards"])
    assert " and " in rules or "all customers" in rules  # the rules read as English
    screenshots(driver, "report")


def test_chinese_report_reads_well(driver: Any, chinese_report: Path) -> None:
    page = read_report(driver, chinese_report)
    assert '<html lang="zh">' in page["html"]
    assert_reads_well(page, chinese_report, "客户数")
    for label in ("距上次访问天数", "电子产品占比", "订单数"):
        assert label in page["profile_rows"], page["profile_rows"]
    assert "days since last visit" not in page["text"]  # no English label in a Chinese page
    cards = " ".join(" ".join(card.values()) for card in page["cards"])
    for category in DEMO_CATEGORIES:  # descriptions and affinity name categories in Chinese
        assert category not in cards, category
    assert "描述" in page["text"] and "规则" in page["text"]
    screenshots(driver, "report_zh")


def test_missing_browser_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium-driver"):
        require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="install chromium and chromium-driver"):
        require_browser()
