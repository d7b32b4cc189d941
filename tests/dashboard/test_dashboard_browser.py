"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

The test starts ``judgecal dashboard`` on PARIKSHA itself (a free port on
127.0.0.1), waits for the server's health check, then opens pages through the
app's own navigation. After every page change it waits until Streamlit
reports the script finished (``data-test-script-state="notRunning"``) and the
page's own content is drawn, never a fixed delay. Screenshots go to
``test-artifacts/dashboard/``.

Chromium: ``apt-get install -y --no-install-recommends chromium`` (CI does
this); without /usr/bin/chromium the test is skipped with that hint.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
LAUNCH_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium not installed: apt-get install -y --no-install-recommends chromium",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def judgecal_command() -> list[str]:
    script = Path(sys.executable).parent / "judgecal"
    if script.exists():
        return [str(script)]
    found = shutil.which("judgecal")
    return [found] if found else [sys.executable, "-m", "judgecal"]


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 120) -> None:
    """Poll the server's health endpoint until it answers ok (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"judgecal dashboard exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling interval, not a wait for the app
    raise AssertionError(f"the dashboard did not answer on {url} within {timeout} s")


@contextlib.contextmanager
def serve(args: list[str], log: Path, log_name: str):
    """``judgecal dashboard *args`` on a free port of 127.0.0.1 until the block ends; yields its URL.
    The server's output is copied to ARTIFACTS/log_name afterwards."""
    port = free_port()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*judgecal_command(), "dashboard", *args, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}/_stcore/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTIFACTS / log_name)


@pytest.fixture(scope="module")
def server(pariksha_path, tmp_path_factory):
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    with serve([str(pariksha_path), "--repair"], log, "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.set_default_timeout(240_000)  # first renders compute bootstrap intervals on a shared CPU
            yield pg
        finally:
            browser.close()


def settled_text(pg, heading: str, must_show: str) -> str:
    """Wait for the page titled ``heading`` to finish running and show ``must_show``; its body text."""
    pg.get_by_role("heading", name=heading, exact=True).first.wait_for()
    pg.wait_for_selector(IDLE)
    pg.wait_for_selector(must_show)
    pg.wait_for_selector(IDLE)
    return pg.inner_text("body")


def go(pg, link: str) -> None:
    """Open a page through the app's sidebar navigation (same session: filters are kept)."""
    pg.locator('[data-testid="stSidebarNav"]').get_by_text(link, exact=True).click()


def shoot(pg, name: str) -> None:
    """Screenshot of the whole page: Streamlit scrolls inside its own container, so the
    viewport is made as tall as that container's content for the shot."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = pg.viewport_size
    height = pg.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], section.main')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)")
    pg.set_viewport_size({"width": size["width"], "height": int(min(max(height, size["height"]), 8000))})
    pg.wait_for_selector(IDLE)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    pg.set_viewport_size(size)


def check_clean(pg, text: str) -> None:
    assert "Traceback" not in text
    assert pg.locator('[data-testid="stException"]').count() == 0
    assert pg.locator('[data-testid="stAlertContentError"]').count() == 0, text[:2000]


def test_dashboard_in_chromium(server, page, pariksha):
    page.goto(server + "/")
    text = settled_text(page, "Overview", '[data-testid="stMetric"]')
    shoot(page, "overview")
    check_clean(page, text)
    assert "Where the judge can be trusted, worst first" in text
    assert f"{len(pariksha):,}" in text and "Languages" in text
    page.wait_for_selector('[data-testid="stDataFrame"]')

    go(page, "Agreement")
    text = settled_text(page, "Agreement", '[data-testid="stDataFrame"]')
    shoot(page, "agreement")
    check_clean(page, text)
    assert "Metric la" in text and "Metric tq" in text and "Metric h" in text

    go(page, "Bias")
    text = settled_text(page, "Bias", '[data-testid="stDataFrame"]')
    shoot(page, "bias")
    check_clean(page, text)
    assert "Inflation by script" in text and "Levels given, per language" in text

    go(page, "System estimates")
    text = settled_text(page, "System estimates", '[data-testid="stMetric"]')
    shoot(page, "estimates")
    check_clean(page, text)
    assert "Effective sample size gain (PPI++)" in text and "Ranking" in text

    go(page, "Disagreements")
    text = settled_text(page, "Disagreements", '[data-testid="stExpander"]')
    shoot(page, "disagreements")
    check_clean(page, text)
    assert "largest disagreement first" in text and "judge 2 vs humans" in text

    go(page, "Data and uploads")
    text = settled_text(page, "Data and uploads", '[data-testid="stFileUploader"]')
    shoot(page, "data")
    check_clean(page, text)
    assert "Upload a ratings file" in text and "27,495 ratings rows" in text
