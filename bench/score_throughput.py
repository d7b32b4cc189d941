"""Throughput of `judgecal score` against the fake provider (tests/judges/fake_provider.py).

Three measurements, printed as a table (see bench/README.md):

1. Judgments per second at concurrency 1, 16, 64, 256 with 100 ms provider
   latency, as a ratio of the ideal (concurrency / latency).
2. With a requests-per-minute limit set (client and fake server both), the
   achieved request rate as a ratio of the limit, and the 429s seen, split into
   the first minute and after it.
3. A fully cached re-run of 10,000 judgments, in judgments per second.

The fake server runs in its own process so it does not compete with the client
for the GIL. Usage::

    python bench/score_throughput.py                 # all three, short
    python bench/score_throughput.py --rpm-seconds 75  # long enough to see "after the first minute"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("OPENAI_API_KEY", "sk-fake-bench")
ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests" / "judges" / "fake_provider.py"


def start_server(latency: float, rpm: float | None = None) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, str(FAKE), "--latency", str(latency)]
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


def concurrency_sweep(levels: list[int], latency: float, seconds: float) -> list[dict]:
    proc, url = start_server(latency)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(generations(8, "warm"), url, Path(tmp) / "warm.sqlite"))  # imports, first client
            for c in levels:
                n = max(20, int(c / latency * seconds))
                cpu = time.process_time()
                res = asyncio.run(run(generations(n, f"c{c}"), url, Path(tmp) / f"c{c}.sqlite", concurrency=c))
                cpu = time.process_time() - cpu
                jps = res.summary["judgments"] / res.summary["elapsed_s"]
                ideal = c / latency
                # Client CPU per judgment says what one free core could reach,
                # whatever else the machine is doing at the time.
                rows.append({"concurrency": c, "judgments": n, "seconds": res.summary["elapsed_s"],
                             "judgments_per_s": round(jps, 1), "ideal_per_s": ideal, "ratio": round(jps / ideal, 3),
                             "client_cpu_ms_per_judgment": round(cpu / n * 1000, 2),
                             "one_core_ceiling_per_s": round(n / cpu, 1)})
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
    out = {"rpm_limit": rpm, "seconds": round(res.summary["elapsed_s"], 1), "requests": len(times),
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
    out = {"judgments": res.summary["judgments"], "fill_seconds": fill.summary["elapsed_s"],
           "rerun_seconds_total": round(total, 3), "judgments_per_s": round(res.summary["judgments"] / total, 1),
           "requests_sent_on_rerun": sent, "cache_hits": res.summary["cache_hits"]}
    print(json.dumps(out), flush=True)
    return out


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--levels", default="1,16,64,256")
    parser.add_argument("--seconds", type=float, default=3.0, help="ideal duration of each concurrency run")
    parser.add_argument("--rpm", type=float, default=1200.0)
    parser.add_argument("--rpm-seconds", type=float, default=20.0)
    parser.add_argument("--cached", type=int, default=10_000, help="judgments in the cached re-run")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: sweep,rpm,cached")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"# load average at start: {load()}")
    if "sweep" not in skip:
        print(f"# concurrency sweep, latency {args.latency * 1000:.0f} ms")
        concurrency_sweep([int(x) for x in args.levels.split(",")], args.latency, args.seconds)
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
