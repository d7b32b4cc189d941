"""Time to the first complete render of the dashboard's overview page, 100k and 1M ratings.

    python bench/dashboard_render.py                    # 100k and 1M rows
    python bench/dashboard_render.py --rows 100000      # one size
    python bench/dashboard_render.py --no-browser       # AppTest only

Data: ``make_judge_ratings`` (10 languages, 3 metrics, 3 human raters + 1
judge per item: 12 rows per item), written once to bench/out/ as Parquet.

Two measurements per size, each from a cold start (empty caches):

* browser: ``judgecal dashboard FILE`` is started, Chromium (Playwright) opens
  the overview; time from navigation until Streamlit reports the script
  finished and the page shows its metrics and table (what a user waits for).
  Needs /usr/bin/chromium.
* AppTest: the app run headless in this process (no server, no browser), the
  server-side work of a render: the first run of the process (imports of
  judgecal, altair and the analysis modules, reading the file, agreement and
  bias; Streamlit's own one-time start-up excluded), then a render with empty
  caches in the warmed process (what a running server does for data it has not
  seen), a rerun (everything cached), and a filter change (one language:
  filtering plus new agreement and bias computations).

Also the parts of a cold overview render, timed alone: reading the file,
agreement_table and bias_table on all rows (500 bootstrap resamples, the app's
default).

Every line gives wall seconds and CPU seconds (this process's threads; for the
browser, the dashboard server's processes). On a machine shared with other
work, wall time stretches while CPU time stays what the render costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
ROWS_PER_ITEM = 12  # 3 metrics x (3 humans + 1 judge)
CHROMIUM = Path("/usr/bin/chromium")


def data_file(rows: int) -> Path:
    """Parquet file with about ``rows`` ratings rows (made once, then reused)."""
    path = OUT / f"dashboard_{rows}.parquet"
    if path.exists():
        return path
    from judgecal.data.io import write_ratings
    from judgecal.datasets import make_judge_ratings

    OUT.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    table = make_judge_ratings(n_items=max(rows // ROWS_PER_ITEM, 10), n_systems=6, random_state=1)
    write_ratings(table, path)
    print(f"  made {len(table):,} rows in {time.perf_counter() - t:.1f} s -> {path}", flush=True)
    return path


def parts(path: Path) -> dict[str, float]:
    from judgecal.analysis.agreement import agreement_table
    from judgecal.analysis.bias import bias_table
    from judgecal.dashboard.sources import analysis_columns, compact, read_ratings_source

    out = {}
    with Clock(out, "read + check file"):
        table = compact(read_ratings_source(path))
    view = analysis_columns(table)
    with Clock(out, "agreement_table"):
        agreement_table(view, n_resamples=500)
    with Clock(out, "bias_table"):
        bias_table(view, n_resamples=500)
    out["rows"] = (len(table), None)
    return out


def apptest(path: Path) -> dict[str, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from judgecal.dashboard.launch import ENV_RATINGS, app_path

    os.environ[ENV_RATINGS] = str(path)
    # Streamlit's one-time start-up work (scanning installed packages for
    # components, ~4 s of CPU here) happens in the first AppTest run of a
    # process, and at server start for `streamlit run`: do it outside the clock.
    AppTest.from_string("import streamlit as st\nst.write('warm-up')").run()
    out = {}
    st.cache_data.clear()
    st.cache_resource.clear()
    with Clock(out, "AppTest first run (imports + data)"):
        AppTest.from_file(str(app_path()), default_timeout=3600).run()
    # What a running server does for data it has not seen: modules imported, caches empty.
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(app_path()), default_timeout=3600)
    with Clock(out, "AppTest render, data not cached"):
        at.run()
    assert not at.exception and at.metric and at.dataframe, "overview did not render"
    with Clock(out, "AppTest rerun (cached)"):
        at.run()
    language = at.multiselect(key="judgecal_filter_language").options[0]
    with Clock(out, "AppTest filter change (1 language)"):
        at.multiselect(key="judgecal_filter_language").set_value([language]).run()
    assert not at.exception
    return out


class Clock:
    """Wall seconds and this process's CPU seconds (all threads) of a block: out[name] = (wall, cpu).

    On a machine shared with other work the wall time stretches; the CPU time
    is what the work itself costs.
    """

    def __init__(self, out: dict, name: str, pid: int | None = None):
        self.out, self.name, self.pid = out, name, pid

    def cpu(self) -> float:
        return process_tree_cpu(self.pid) if self.pid else time.process_time()

    def __enter__(self):
        self.t, self.c = time.perf_counter(), self.cpu()
        return self

    def __exit__(self, *exc):
        self.out[self.name] = (time.perf_counter() - self.t, self.cpu() - self.c)


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and its descendants (Linux /proc; NaN elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    try:
        while todo:
            p = todo.pop()
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    except (OSError, ValueError):
        return float("nan")
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(path: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    judgecal = Path(sys.executable).parent / "judgecal"
    cmd = [str(judgecal)] if judgecal.exists() else [sys.executable, "-m", "judgecal"]
    proc = subprocess.Popen([*cmd, "dashboard", str(path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("dashboard server did not start") from None
                time.sleep(0.2)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                  args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking"])
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(3_600_000)
            out = {}
            with Clock(out, "browser first render (cold server)", pid=proc.pid):
                page.goto(url + "/")
                page.wait_for_selector('[data-testid="stMetric"]')
                page.wait_for_selector('[data-testid="stDataFrame"]')
                page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
            with Clock(out, "browser reload (cached)", pid=proc.pid):
                page.reload()
                page.wait_for_selector('[data-testid="stDataFrame"]')
                page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
            b.close()
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, action="append", help="ratings rows (repeat; default 100000 and 1000000)")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = ap.parse_args(argv)
    sizes = args.rows or [100_000, 1_000_000]
    use_browser = not args.no_browser and CHROMIUM.exists() and shutil.which("true")
    print(f"cpus: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}", flush=True)
    for rows in sizes:
        path = data_file(rows)
        print(f"\n{rows:,} rows target ({path.name})", flush=True)
        results = {}
        results.update(parts(path))
        n = int(results.pop("rows")[0])
        if use_browser:
            results.update(browser(path))
        results.update(apptest(path))
        print(f"  actual rows: {n:,}")
        print(f"  {'':<38} {'wall s':>8} {'cpu s':>8}")
        for name, (wall, cpu) in results.items():
            print(f"  {name:<38} {wall:8.2f} {cpu:8.2f}", flush=True)
        print(f"  load average now: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
