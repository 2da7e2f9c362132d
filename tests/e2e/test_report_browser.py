"""The written report opened in real headless Chromium (Selenium), as a marketer would see it.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: ``apt-get install -y chromium
chromium-driver``). Without them the test is skipped, except on CI (``CI=true``), where it fails.
A full-page screenshot is left in ``test-artifacts/report.png`` for a person to look at.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from segmentation import report
from segmentation.layout import Home
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


@pytest.fixture
def written_report(tmp_path: Path, published_home: Path) -> Path:
    home = Home(tmp_path / "home")
    shutil.copytree(published_home / "home", home.root)
    write_new_drift(home)
    return report.write_report(home, DAY1)


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
