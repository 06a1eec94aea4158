"""The report in a real browser: headless Chromium from Debian's packages, driven by
Selenium through Debian's matching chromedriver (`apt-get install chromium
chromium-driver`; `make test` installs them when root). Skipped, with the reason, when
either is absent. The screenshot goes to $RECAGORA_TEST_ARTEFACTS (default tmp/artefacts)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from recagora.experiments.report.build import report_run
from recagora.experiments.runner.folder import RunFolder

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTEFACTS = Path(
    os.environ.get("RECAGORA_TEST_ARTEFACTS", Path(__file__).parents[3] / "tmp" / "artefacts")
)
LOAD_S = 30  # generous: two cores shared with the rest of the suite

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no chromium/chromedriver: apt-get install chromium chromium-driver (make test does it as root)",
)


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium not installed: pip install -e '.[dev]'"
    )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_report_loads_without_errors_renders_charts_and_finds_a_user(small_run, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _, path = report_run(RunFolder(small_run), tmp_path / "report.html")
    browser.get(path.as_uri())
    wait = WebDriverWait(browser, LOAD_S)
    wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
    _tab(browser, "metrics")
    marks = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#metrics svg .mark-line path"))
    assert len(marks) >= 10  # one line per metric panel
    _tab(browser, "exposure")
    assert wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#exposure svg .mark-rect path"))

    _tab(browser, "users")
    users = browser.find_elements(By.CSS_SELECTOR, "#users li[data-key]")
    wanted = users[-1].get_attribute("data-key")
    search = browser.find_element(By.CSS_SELECTOR, "#users input.search")
    search.send_keys(wanted)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#users li[data-key]")) == 1)
    found = browser.find_element(By.CSS_SELECTOR, "#users li[data-key]")
    assert found.get_attribute("data-key") == wanted
    found.click()
    detail = browser.find_element(By.CSS_SELECTOR, "#users .detail")
    assert wanted in detail.text and "item agent's promotion" in detail.text
    assert len(detail.find_elements(By.CSS_SELECTOR, "table tr")) > 10  # header + candidates

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(ARTEFACTS / "report_journey.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors


def _tab(browser, section_id: str) -> None:
    browser.find_element("css selector", f'nav button[data-id="{section_id}"]').click()
