"""PPI++ check on PARIKSHA: hide human labels except n per language, estimate each
system's mean human score, repeat, and measure coverage and width of the 90 %
intervals against the full-data human mean (see bench/README.md).

Usage::

    python bench/ppi_pariksha.py [--repeats 200] [--path ../shared/data/pariksha]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from judgecal.analysis import ppi_simulation, simulation_summary
from judgecal.datasets import load_pariksha


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--path", default=None)
    ap.add_argument("--no-repair", action="store_true")
    ap.add_argument("--prior-df", default="8", help="variance moderation (default 8); 'none' = pooled variance")
    args = ap.parse_args()
    prior_df = None if args.prior_df.lower() == "none" else float(args.prior_df)
    ratings = load_pariksha(args.path, repair=not args.no_repair)
    t0 = time.perf_counter()
    sim = ppi_simulation(ratings, n_labels=(50, 100, 200), n_repeats=args.repeats, confidence=0.9, random_state=0,
                         prior_df=prior_df)
    seconds = time.perf_counter() - t0
    pd.set_option("display.width", 200)
    cols = ["language", "metric", "n", "n_items", "n_systems", "n_used", "coverage_ppi", "coverage_human",
            "width_ppi", "width_human", "width_ratio", "ess_gain", "lam", "estimable"]
    print(sim[cols].round(3).to_string(index=False))
    print()
    print(simulation_summary(sim).round(3).to_string(index=False))
    ess = sim[sim["n_used"] < sim["n_items"]].groupby("language")["ess_gain"].mean().round(3)
    print("\nmean effective sample size gain per language:", ess.to_dict())
    print(f"\n{args.repeats} repeats, repair={not args.no_repair}, prior_df={prior_df}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
