"""Throughput of `judgecal score --pairwise` against the fake provider (tests/judges/fake_provider.py).

Prints (see bench/README.md):

1. Building pairs from generations: ``all`` pairs over P prompts x S systems, and
   ``random`` with 2 opponents, in pairs per second (checks included).
2. A live run of N pairs in both orders (2N requests) at concurrency C with
   100 ms provider latency: battle orders per second and the ratio to the
   ideal (C / latency), beside a pointwise run of 2N single-metric judgments
   on the same server, so the pairwise bookkeeping's cost shows as the gap.
3. A fully cached re-run of both: orders (judgments) per second.

The fake server runs in its own process. Usage::

    python bench/pairwise_throughput.py
    python bench/pairwise_throughput.py --pairs 5000 --concurrency 64 --prompts 2000 --systems 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENAI_API_KEY", "sk-fake-bench")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_throughput import start_server  # noqa: E402 (the bench folder is not a package)

LONG = "बजट बनाइए, हर खर्च लिखिए और महीने के अंत में देखिए कि पैसा कहाँ गया।"


def pairs_table(n: int):
    import pandas as pd

    return pd.DataFrame({"pair_id": [f"p{i}" for i in range(n)], "language": "hi", "task": "qa",
                         "prompt": [f"पैसे कैसे बचाएँ? ({i})" for i in range(n)], "response_1": LONG,
                         "response_2": [f"बजट बनाइए। उत्तर {i}" for i in range(n)], "system_1": "a", "system_2": "b"})


def generations(prompts: int, systems: int):
    import pandas as pd

    return pd.DataFrame([{"item_id": f"{p}-{s}", "language": "hi", "task": "qa", "prompt_id": f"q{p}",
                          "prompt": f"पैसे कैसे बचाएँ? ({p})", "response": f"बजट बनाइए। उत्तर {p}-{s}", "system": f"s{s}"}
                         for p in range(prompts) for s in range(systems)])


def bench_pairing(prompts: int, systems: int) -> None:
    from judgecal.judges.generations import read_generations
    from judgecal.judges.options import PairingPlan
    from judgecal.judges.pairing import pair_generations

    gens = read_generations(generations(prompts, systems))
    for plan in (PairingPlan("all"), PairingPlan("random", opponents=2, seed=1)):
        t0 = time.perf_counter()
        pairs, _ = pair_generations(gens, plan)
        dt = time.perf_counter() - t0
        print(f"pairing {plan.kind:<7} {prompts} prompts x {systems} systems: {len(pairs):,} pairs in {dt:.2f} s "
              f"({len(pairs) / dt:,.0f} pairs/s)")


async def timed(coro) -> tuple[object, float]:
    t0 = time.perf_counter()
    out = await coro
    return out, time.perf_counter() - t0


async def bench_runs(url: str, n: int, concurrency: int, latency: float, cache: Path) -> None:
    from judgecal.judges import ascore_battles, ascore_generations

    pairs = pairs_table(n)
    gens = pairs.rename(columns={"pair_id": "item_id", "response_1": "response"})[["item_id", "language", "task",
                                                                                     "prompt", "response"]]
    gens = gens.loc[gens.index.repeat(2)].reset_index(drop=True)
    gens["item_id"] = [f"g{i}" for i in range(len(gens))]
    gens["response"] = [f"{r} ({i})" for i, r in enumerate(gens["response"])]
    common = {"base_url": url + "/v1", "progress": False, "concurrency": concurrency, "prices": (0.15, 0.60)}
    ideal = concurrency / latency
    for label, make in (("pairwise, both orders", lambda: ascore_battles(pairs, "openai/fake-judge",
                                                                         cache=cache / "pw.sqlite", **common)),
                        ("pointwise, 1 metric", lambda: ascore_generations(gens, "openai/fake-judge", ["la"],
                                                                           cache=cache / "pt.sqlite", **common))):
        res, live = await timed(make())
        _, cached = await timed(make())
        k = res.summary.judgments
        print(f"{label:<22} {k:,} judgments: live {k / live:,.1f}/s (ratio to ideal {k / live / ideal:.2f}), "
              f"cached re-run {k / cached:,.0f}/s ({cached:.2f} s); failures {res.summary.failures}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--prompts", type=int, default=1000)
    ap.add_argument("--systems", type=int, default=8)
    args = ap.parse_args()
    bench_pairing(args.prompts, args.systems)
    proc, url = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(bench_runs(url, args.pairs, args.concurrency, args.latency, Path(tmp)))
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
