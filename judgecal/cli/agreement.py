"""judgecal agreement RATINGS: agreement tables in the terminal."""

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

HELP = "agreement between judge and native speakers (alpha, kappa, rank correlations) with bootstrap intervals"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--by", type=columns, default=("language", "script", "metric"),
                        help="grouping columns, comma-separated (default language,script,metric; add task)")
    parser.add_argument("--statistics", type=columns, default=None,
                        help="only these statistics: alpha,kappa,spearman,kendall,percent_agreement,weighted_f1")
    parser.add_argument("--calibrated", action="store_true",
                        help="also show agreement after calibration (out-of-fold calibrated judge scores)")
    parser.add_argument("--confidence", type=fraction, default=0.95, help="interval level (default 0.95)")
    parser.add_argument("--resamples", type=positive_int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--out", metavar="FILE", help="also write the tidy table (.csv, .json or .parquet)")
    add_input_options(parser)


def run(args: argparse.Namespace) -> int:
    from judgecal.analysis import STATISTICS, agreement_table, before_after, out_of_fold_table
    from judgecal.data.render import table_text
    from judgecal.report.cells import ci

    if args.statistics:
        unknown = sorted(set(args.statistics) - set(STATISTICS))
        if unknown:
            raise ConfigError(f"unknown statistic(s) {unknown}; choose from {', '.join(STATISTICS)}")
    ratings, registry = load(args)
    calibrated = out_of_fold_table(ratings, random_state=args.seed, judge=args.judge,
                                   registry=registry) if args.calibrated else None
    table = before_after(agreement_table, ratings, calibrated, by=args.by, judge=args.judge, confidence=args.confidence,
                         n_resamples=args.resamples, random_state=args.seed, registry=registry)
    if args.statistics:
        table = table[table["statistic"].isin(args.statistics)]
    keys = [c for c in (*args.by, "metric") if c in table.columns]
    keys = list(dict.fromkeys(["stage", *keys, "judge", "comparison"]))
    shown = table.assign(value=[ci(r.estimate, r.ci_low, r.ci_high) for r in table.itertuples()])
    wide = shown.pivot_table(index=keys, columns="statistic", values="value", aggfunc="first", sort=False)
    extra = shown.groupby(keys, sort=False)[["n", "human_levels", "judge_levels"]].first()
    wide = wide.fillna("").join(extra).reset_index()
    order = [c for c in keys if c in wide.columns] + [s for s in STATISTICS if s in wide.columns] + ["n", "human_levels", "judge_levels"]
    print(f"Agreement with {100 * args.confidence:.0f} % cluster-bootstrap intervals over items ({args.resamples} resamples).")
    print(table_text(wide[order]))
    if args.out:
        write_table(table, args.out)
    return 0
