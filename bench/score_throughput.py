"""Throughput of `judgecal score` against the fake provider (tests/judges/fake_provider.py).

Three measurements, printed as a table (see bench/README.md):

1. Judgments per second at concurrency 1, 16, 64, 256 with 100 ms provider
   latency, as a ratio of the ideal (concurrency / latency), with one process
   and with ``workers=2`` (one helper process sending requests too); with the
   client's CPU per judgment (helpers included) and the fake server's.
2. With a requests-per-minute limit set (client and fake server both), the
   achieved request rate as a ratio of the limit, and the 429s seen, split into
   the first minute and after it.
3. A fully cached re-run of 10,000 judgments, in judgments per second.

The fake server runs in its own process so it does not compete with the client
for the GIL. Usage::

    python bench/score_throughput.py                 # all three, short
    python bench/score_throughput.py --rpm-seconds 75  # long enough to see "after the first minute"
    python bench/score_throughput.py --skip rpm,cached --levels 64 --workers 1,2 --seconds 10
    python bench/score_throughput.py --skip rpm,cached --levels 64 --seconds 10 --server lean  # lean fake server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("OPENAI_API_KEY", "sk-fake-bench")
ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests" / "judges" / "fake_provider.py"
# ``--server lean``: the happy-path stand-in with the same answer bytes and a
# minimal HTTP stack, so the sweep measures the client, not the fake server's CPU
# on the client's cores. The rate-limit and cached parts keep the full server.
SERVERS = {"full": FAKE, "lean": ROOT / "tests" / "judges" / "lean_provider.py"}


def start_server(latency: float, rpm: float | None = None, server: str = "full") -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, str(SERVERS[server]), "--latency", str(latency)]
    if rpm:
        cmd += ["--rpm", str(rpm)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise RuntimeError(f"fake provider did not start: {line!r}")
    return proc, line.split()[1]


def stats(url: str) -> dict:
    with urllib.request.urlopen(url + "/_fake/stats") as r:
        return json.loads(r.read())


def generations(n: int, tag: str):
    import pandas as pd

    return pd.DataFrame({
        "item_id": [f"{tag}-{i}" for i in range(n)],
        "language": "hi",
        "task": "qa",
        "prompt": "मैं रोजमर्रा के खर्चों पर पैसे कैसे बचा सकता हूं?",
        "response": [f"बजट बनाइए और हर खर्च लिखिए। उत्तर संख्या {tag}-{i}." for i in range(n)],
    })


async def run(gens, url: str, cache, metrics=("la",), **kw):
    from judgecal.judges import ascore_generations

    return await ascore_generations(gens, "openai/fake-judge", metrics, base_url=url + "/v1", cache=cache,
                                    progress=False, prices=(0.15, 0.60), **kw)


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of another process, from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)  # ended children: the helper processes
    return r.ru_utime + r.ru_stime


def reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url + "/_fake/reset", data=b"{}", method="POST")).read()


def steady_rate(url: str) -> float:
    """Answers per second between the 40th and the 90th percentile of answer
    times at the server: the rate once start-up (helper processes importing
    the SDK) is over and before the last calls drain."""
    times = sorted(t for t, _key, outcome in stats(url)["events"] if outcome == "200")
    lo, hi = int(len(times) * 0.4), int(len(times) * 0.9)
    return (hi - lo) / (times[hi] - times[lo]) if hi > lo and times[hi] > times[lo] else float("nan")


def concurrency_sweep(levels: list[int], latency: float, seconds: float, workers: list[int],
                      server: str = "full") -> list[dict]:
    proc, url = start_server(latency, server=server)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(generations(8, "warm"), url, Path(tmp) / "warm.sqlite"))  # imports, first client
            for c in levels:
                for w in workers:
                    if w > 1 and c // w < 8:  # a helper process is not worth starting for a few calls
                        continue
                    n = max(20, int(c / latency * seconds))
                    reset(url)
                    cpu, helpers, server_cpu = time.process_time(), children_cpu(), process_cpu(proc.pid)
                    res = asyncio.run(run(generations(n, f"c{c}w{w}"), url, Path(tmp) / f"c{c}w{w}.sqlite",
                                          concurrency=c, workers=w))
                    cpu = time.process_time() - cpu
                    helpers = children_cpu() - helpers
                    server_cpu = process_cpu(proc.pid) - server_cpu if server_cpu is not None else float("nan")
                    jps = res.summary.judgments / res.summary.elapsed_s
                    ideal = c / latency
                    steady = steady_rate(url)
                    # CPU per judgment is the stable figure on a shared machine: it
                    # says what free cores could reach, whatever else runs meanwhile.
                    # Helper CPU includes their start-up (imports, about 2 s each).
                    rows.append({"server": server, "concurrency": c, "workers": w, "judgments": n, "seconds": res.summary.elapsed_s,
                                 "judgments_per_s": round(jps, 1), "ideal_per_s": ideal,
                                 "ratio": round(jps / ideal, 3), "steady_ratio": round(steady / ideal, 3),
                                 "client_cpu_ms_per_judgment": round((cpu + helpers) / n * 1000, 2),
                                 "main_cpu_ms": round(cpu / n * 1000, 2), "helpers_cpu_ms": round(helpers / n * 1000, 2),
                                 "server_cpu_ms": round(server_cpu / n * 1000, 2),
                                 "answers_by_process": res.summary.answers_by_process,
                                 "load": load()})
                    print(json.dumps(rows[-1]), flush=True)
    finally:
        proc.kill()
    return rows


def rate_limited(rpm: float, seconds: float, concurrency: int) -> dict:
    proc, url = start_server(0.05, rpm=rpm)
    try:
        n = int(rpm / 60 * seconds)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.time()
            res = asyncio.run(run(generations(n, "rpm"), url, Path(tmp) / "rpm.sqlite", concurrency=concurrency, rpm=rpm))
        st = stats(url)
    finally:
        proc.kill()
    events = [e for e in st["events"]]
    times = sorted(e[0] for e in events if e[2] == "200")
    # Achieved rate over the steady part: from the first to the last answered request.
    achieved = (len(times) - 1) / (times[-1] - times[0]) * 60 if len(times) > 1 else float("nan")
    first_min = sum(1 for e in events if e[2] == "429" and e[0] - t0 < 60)
    after = sum(1 for e in events if e[2] == "429" and e[0] - t0 >= 60)
    out = {"rpm_limit": rpm, "seconds": round(res.summary.elapsed_s, 1), "requests": len(times),
           "achieved_rpm": round(achieved, 1), "ratio": round(achieved / rpm, 4),
           "429_first_minute": first_min, "429_after_first_minute": after}
    print(json.dumps(out), flush=True)
    return out


def cached_rerun(n_items: int, metrics: tuple[str, ...]) -> dict:
    proc, url = start_server(0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "cached.sqlite"
            gens = generations(n_items, "cache")
            fill = asyncio.run(run(gens, url, cache, metrics, concurrency=128))
            before = stats(url)["requests"]
            t = time.perf_counter()
            res = asyncio.run(run(gens, url, cache, metrics, concurrency=128))
            total = time.perf_counter() - t
            sent = stats(url)["requests"] - before
    finally:
        proc.kill()
    out = {"judgments": res.summary.judgments, "fill_seconds": fill.summary.elapsed_s,
           "rerun_seconds_total": round(total, 3), "judgments_per_s": round(res.summary.judgments / total, 1),
           "requests_sent_on_rerun": sent, "cache_hits": res.summary.cache_hits}
    print(json.dumps(out), flush=True)
    return out


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--levels", default="1,16,64,256")
    parser.add_argument("--seconds", type=float, default=3.0, help="ideal duration of each concurrency run")
    parser.add_argument("--workers", default="1,2,3", help="comma list of worker process counts to sweep")
    parser.add_argument("--rpm", type=float, default=1200.0)
    parser.add_argument("--rpm-seconds", type=float, default=20.0)
    parser.add_argument("--cached", type=int, default=10_000, help="judgments in the cached re-run")
    parser.add_argument("--server", choices=sorted(SERVERS), default="full",
                        help="fake server for the sweep: full (tests/judges/fake_provider.py) or lean "
                             "(tests/judges/lean_provider.py, happy path, minimal HTTP); rpm and cached use full")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: sweep,rpm,cached")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"# load average at start: {load()}")
    if "sweep" not in skip:
        print(f"# concurrency sweep, latency {args.latency * 1000:.0f} ms, {args.server} fake server")
        concurrency_sweep([int(x) for x in args.levels.split(",")], args.latency, args.seconds,
                          [int(x) for x in args.workers.split(",")], server=args.server)
    if "rpm" not in skip:
        print(f"# rate limit {args.rpm:.0f} rpm for {args.rpm_seconds:.0f} s")
        rate_limited(args.rpm, args.rpm_seconds, concurrency=64)
    if "cached" not in skip:
        metrics = ("la", "ocq", "tq", "h")
        print(f"# fully cached re-run of {args.cached} judgments ({len(metrics)} metrics per item)")
        cached_rerun(args.cached // len(metrics), metrics)
    print(f"# load average at end: {load()}")


if __name__ == "__main__":
    main()
