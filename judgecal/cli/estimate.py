"""judgecal estimate RATINGS: each system's mean native-speaker score (PPI++), and annotation planning."""

from __future__ import annotations

import argparse

from judgecal.cli._analysis_args import (
    add_common,
    columns,
    fraction,
    load,
    positive_int,
    write_table,
)
from judgecal.cli._common import add_input_options
from judgecal.errors import ConfigError
from judgecal.sanitize import terminal_text

HELP = "system-level mean human scores by PPI++ next to human-only and raw-judge estimates; labels needed; next batch"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--by", type=columns, default=("language", "metric"),
                        help="grouping columns, comma-separated (default language,metric)")
    parser.add_argument("--confidence", type=fraction, default=0.9, help="interval level (default 0.9)")
    parser.add_argument("--target-width", type=float, metavar="W",
                        help="also print how many labels each language needs for intervals at most W wide")
    parser.add_argument("--next-batch", type=positive_int, metavar="N",
                        help="choose the next N unlabelled items for annotators (needs --batch-out)")
    parser.add_argument("--batch-metric", help="metric whose missing labels choose the batch (default: first metric)")
    parser.add_argument("--batch-out", metavar="FILE", help="annotation sheet for the batch (.csv or .jsonl)")
    parser.add_argument("--simulate", action="store_true",
                        help="check PPI++ by hiding labels except n per language (needs fully labelled data)")
    parser.add_argument("--n-labels", default="50,100,200", help="label counts for --simulate (default 50,100,200)")
    parser.add_argument("--repeats", type=positive_int, default=200, help="repetitions for --simulate (default 200)")
    parser.add_argument("--out", metavar="FILE", help="also write the tidy estimates (.csv, .json or .parquet)")
    add_input_options(parser)


def run(args: argparse.Namespace) -> int:
    from judgecal import analysis as an
    from judgecal.data.render import table_text
    from judgecal.report.cells import ci

    if args.next_batch and not args.batch_out:
        raise ConfigError("--next-batch needs --batch-out FILE (where to write the annotation sheet)")
    ratings, registry = load(args)
    est = an.system_estimates(ratings, by=args.by, judge=args.judge, confidence=args.confidence, registry=registry)
    ranks = an.rank_systems(est, confidence=args.confidence, random_state=args.seed)
    group = [c for c in (*args.by, "metric") if c in est.columns]
    group = list(dict.fromkeys([*group, "judge"]))
    print(f"Mean human score per system, {100 * args.confidence:.0f} % intervals. ppi = PPI++ (human labels + judge), "
          "human = labels only, judge = raw judge mean.")
    for values, g in est.groupby(group, sort=True):
        label = terminal_text(", ".join(f"{k}={v}" for k, v in zip(group, values, strict=True)))
        ppi = g[g["estimator"] == "ppi"]
        gain = ppi["ess_gain"].iloc[0] if len(ppi) else float("nan")
        print(f"\n{label}  (lambda {ppi['lam'].iloc[0]:.2f}, effective sample size gain x{gain:.2f})")
        wide = g.assign(value=[ci(r.estimate, r.ci_low, r.ci_high) for r in g.itertuples()]).pivot_table(
            index="system", columns="estimator", values="value", aggfunc="first")
        counts = g[g["estimator"] == "ppi"].set_index("system")[["n", "N"]]
        r = ranks
        for k, v in zip(group, values, strict=True):
            if k in r.columns:
                r = r[r[k] == v]
        r = r.set_index("system")
        wide = wide.join(counts).join(r[["rank", "rank_low", "rank_high", "p_best"]])
        wide["rank range"] = [f"{lo:.0f}-{hi:.0f}" if lo == lo else "" for lo, hi in zip(wide["rank_low"], wide["rank_high"], strict=True)]
        wide = wide.sort_values("rank").reset_index()
        cols = [c for c in ("system", "ppi", "human", "judge", "n", "N", "rank", "rank range", "p_best") if c in wide.columns]
        print(table_text(wide[cols]))
    if args.target_width:
        need = an.labels_needed(ratings, target_width=args.target_width, confidence=args.confidence,
                                judge=args.judge, registry=registry)
        print(f"\nLabels needed for intervals at most {args.target_width:g} wide on every system:")
        print(table_text(need))
    if args.simulate:
        n_labels = [int(x) for x in args.n_labels.split(",") if x.strip()]
        sim = an.ppi_simulation(ratings, n_labels=n_labels, n_repeats=args.repeats, confidence=args.confidence,
                                judge=args.judge, random_state=args.seed, registry=registry)
        print("\nPPI++ check by hiding labels (per language and metric):")
        print(table_text(sim))
        print("\nSummary:")
        print(table_text(an.simulation_summary(sim)))
    if args.next_batch:
        from judgecal.analysis.annotation_kit import key_path, write_annotation_sheet

        batch = an.next_batch(ratings, args.next_batch, metric=args.batch_metric, judge=args.judge,
                              random_state=args.seed, registry=registry)
        from importlib.resources import files

        path = write_annotation_sheet(batch, ratings, args.batch_out)
        guidelines = files("judgecal.annotations") / "guidelines"  # a folder a user can open, checkout or install
        print(f"\nwrote {len(batch)} items to annotate: {path} (guidelines: {guidelines})")
        if key_path(path).exists():
            print(f"the key back to the real item ids and systems: {key_path(path)} (keep it; do not send it)")
    if args.out:
        write_table(est, args.out)
    return 0
