"""Krippendorff's alpha with a 1,000-resample cluster bootstrap on 100k items x 3 raters.

Prints (see bench/README.md, section "Agreement, estimates and the report"):

1. the point estimate through the ``krippendorff`` package;
2. 1,000 bootstrap resamples by judgecal's vectorised pattern bootstrap;
3. a few resamples the plain way (one ``krippendorff.alpha`` call per resample
   on the resampled items), extrapolated to 1,000, for comparison;
4. the whole ``agreement_table`` (3 comparisons, 6 statistics, 1,000 resamples)
   on the same items plus a judge.

Usage::

    python bench/alpha_bootstrap.py [--items 100000] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import time

import krippendorff
import numpy as np
import pandas as pd

from judgecal.analysis import agreement_table
from judgecal.analysis import stats as st
from judgecal.analysis.resample import bootstrap_distribution, compress, percentile_interval


def make_ratings(n_items: int, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    q = rng.normal(1.0, 0.8, n_items)
    humans = np.clip(np.rint(q[:, None] + rng.normal(0, 0.6, (n_items, 3))), 0, 2)
    judge = np.clip(np.rint(q + 0.4 + rng.normal(0, 0.6, n_items)), 0, 2)
    ids = np.char.add("item-", np.arange(n_items).astype(str))
    frames = [pd.DataFrame({"item_id": ids, "rater": f"w{r}", "rater_kind": "human", "score": humans[:, r]}) for r in range(3)]
    frames.append(pd.DataFrame({"item_id": ids, "rater": "judge", "rater_kind": "judge", "score": judge}))
    table = pd.concat(frames, ignore_index=True).assign(language="hi", script="Deva", metric="tq")
    return humans, table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--plain", type=int, default=10, help="resamples timed the plain way")
    args = ap.parse_args()
    humans, table = make_ratings(args.items)
    levels = np.array([0.0, 1.0, 2.0])

    t0 = time.perf_counter()
    point = krippendorff.alpha(reliability_data=humans.T, value_domain=levels, level_of_measurement="ordinal")
    t_point = time.perf_counter() - t0

    t0 = time.perf_counter()
    counts = (humans[:, :, None] == levels[None, None, :]).sum(axis=1)
    pat = compress(counts)
    coinc = st.unit_coincidences(pat.rows)
    dist = bootstrap_distribution(lambda w: st.alpha_w(coinc, w, levels, "ordinal"), pat.counts,
                                  n_resamples=args.resamples, random_state=0)
    low, high = percentile_interval(dist, 0.95)
    t_boot = time.perf_counter() - t0

    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for _ in range(args.plain):
        idx = rng.integers(0, args.items, args.items)
        krippendorff.alpha(reliability_data=humans[idx].T, value_domain=levels, level_of_measurement="ordinal")
    t_plain = (time.perf_counter() - t0) / args.plain * args.resamples

    t0 = time.perf_counter()
    full = agreement_table(table, n_resamples=args.resamples)
    t_table = time.perf_counter() - t0

    print(f"items {args.items:,} x 3 raters, {args.resamples} resamples, {len(pat.counts)} distinct item patterns")
    print(f"alpha (krippendorff package)           {point:.4f}   {t_point:8.3f} s")
    print(f"bootstrap 95% interval (vectorised)    [{low:.4f}, {high:.4f}]   {t_boot:8.3f} s")
    print(f"plain bootstrap, extrapolated          {t_plain:8.1f} s  ({args.plain} resamples timed)")
    print(f"agreement_table (+judge, 8 statistics)  {len(full)} rows   {t_table:8.3f} s")


if __name__ == "__main__":
    main()
