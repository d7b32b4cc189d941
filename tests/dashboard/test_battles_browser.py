"""The Battles page in a real browser (Debian's Chromium driven by Playwright) on PARIKSHA.

``judgecal dashboard --battles PARIKSHA --battle-calibrator FILE`` on a free port
of 127.0.0.1; the page is opened through the app's navigation, waited on until
Streamlit reports the script finished and the leaderboard chart is drawn, then
saved as test-artifacts/dashboard/battles.png. Skipped without /usr/bin/chromium.
"""

from __future__ import annotations

import pytest

from judgecal.pairwise.calibration import PairwiseCalibrator
from tests.dashboard.test_dashboard_browser import (
    ARTIFACTS,
    CHROMIUM,
    LAUNCH_ARGS,
    check_clean,
    go,
    serve,
    settled_text,
    shoot,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium not installed: apt-get install -y --no-install-recommends chromium",
)


@pytest.fixture(scope="module")
def battles_server(pariksha_path, tmp_path_factory):
    from judgecal.datasets import load_pariksha_battles

    folder = tmp_path_factory.mktemp("battles_dashboard")
    cal = PairwiseCalibrator().fit(load_pariksha_battles(pariksha_path)).save(folder / "battle_calibrator.json")
    with serve([str(pariksha_path), "--repair", "--battles", str(pariksha_path), "--battle-calibrator", str(cal)],
               folder / "server.log", "battles_server.log") as url:
        yield url


def test_battles_page_in_chromium(battles_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(300_000)  # the first render fits 40 leaderboards with bootstraps
            page.goto(battles_server + "/")
            settled_text(page, "Overview", '[data-testid="stMetric"]')
            go(page, "Battles")
            text = settled_text(page, "Battles", '[data-testid="stVegaLiteChart"]')
            page.wait_for_selector('[data-testid="stDataFrame"]')
            shoot(page, "battles")
            check_clean(page, text)
            assert "Per language: raw and calibrated judge against native speakers" in text
            assert "Leaderboards, bn" in text and "Kendall tau between leaderboards" in text
            assert page.locator('[data-testid="stDataFrame"]').count() == 3
            assert (ARTIFACTS / "battles.png").stat().st_size > 20_000
        finally:
            browser.close()
