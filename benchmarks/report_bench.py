"""How long `recagora report` takes to write a run's report, how big it is, and how long
headless Chromium takes to open it (until the page is built and the metric charts drawn).

The target (issue 15): a 10k-user run's report opens in under 3 s. Make such a run first:

    recagora run trirec --agents user=surrogate,item=surrogate --population 10000 --rounds 3
    .venv/bin/python benchmarks/report_bench.py RUN [--repeats 3]

Needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

from recagora.item_space.errors import RecAgoraError


def open_seconds(path: Path, repeats: int) -> list[float]:
    """Seconds from navigation to the page's ready flag and drawn metric lines, per load."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    times = []
    try:
        for _ in range(repeats):
            driver.get("about:blank")
            start = time.perf_counter()
            driver.get(path.as_uri())
            WebDriverWait(driver, 60).until(
                lambda d: (
                    d.execute_script("return document.body.dataset.ready") == "true"
                    and d.find_elements(By.CSS_SELECTOR, "#metrics svg .mark-line path")
                )
            )
            times.append(time.perf_counter() - start)
    finally:
        driver.quit()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="Run folder name, prefix or path.")
    parser.add_argument("--repeats", type=int, default=3, help="Browser loads to time.")
    parser.add_argument("--max-entities", type=int, default=500, help="As `recagora report`.")
    args = parser.parse_args()
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("error: chromium/chromedriver not found (apt-get install chromium chromium-driver)")
        return 2
    from recagora.experiments.report.build import report_run
    from recagora.experiments.runner.folder import RunFolder

    try:
        folder = RunFolder.open(args.run)
        start = time.perf_counter()
        data, path = report_run(folder, max_entities=args.max_entities)
    except RecAgoraError as error:
        print(f"error: {error}")
        return 2
    written = time.perf_counter() - start
    users = len({e["user"] for e in data.events if "user" in e})
    loads = open_seconds(path, args.repeats)
    print(f"run {folder.name}: {users} users, {len(data.events)} events")
    print(f"report written in {written:.1f} s: {path.stat().st_size / 1e6:.2f} MB")
    print(
        f"opened in {statistics.median(loads):.2f} s median of {len(loads)} "
        f"(min {min(loads):.2f}, max {max(loads):.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
