"""judgecal calibrate RATINGS --out calibrator.json: fit a calibrator per language, script and metric."""

from __future__ import annotations

import argparse

from judgecal.cli._common import add_input_options, load_table, registry_from_args

HELP = "fit judge-score calibrators per language/script/metric from human + judge ratings and save them as JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ratings", help="ratings file with human and judge rows (or a PARIKSHA release folder)")
    parser.add_argument("--out", required=True, metavar="FILE", help="where to write the calibrator (JSON)")
    parser.add_argument("--method", choices=["auto", "isotonic", "ordinal"], default="auto",
                        help="calibrator family; auto picks per metric by cross-validated MAE (default)")
    parser.add_argument("--pooling", choices=["partial", "none", "complete"], default="partial",
                        help="partial: shrink small groups toward script/metric (default); none: each language "
                             "alone; complete: one calibrator per metric")
    parser.add_argument("--features", default="score",
                        help="judge features, comma-separated from score, expected, probs, other_metrics, length "
                             "(default: score)")
    parser.add_argument("--target", choices=["consensus", "per_rater"], default="consensus",
                        help="fit the per-item human consensus (default) or every human rating")
    parser.add_argument("--groups", metavar="COLUMN",
                        help="keep items sharing this column in one fold (default: prompt_id if present, else item_id)")
    parser.add_argument("--n-splits", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--coverage", type=float, default=0.9, help="conformal set coverage (default 0.9)")
    parser.add_argument("--min-group-size", type=int, default=5,
                        help="items a group needs for a calibrator of its own (default 5)")
    parser.add_argument("--judge", help="the judge (rater id) to calibrate when the file holds several")
    parser.add_argument("--seed", type=int, default=0, help="fold assignment seed (default 0)")
    parser.add_argument("--compare", action="store_true",
                        help="also run nested cross-validation comparing raw, per-language isotonic, pooled "
                             "isotonic, partially pooled isotonic and ordinal on the same folds (slower)")
    parser.add_argument("--cv-out", metavar="FILE", help="write the cross-validated table (CSV)")
    parser.add_argument("--repair", action="store_true",
                        help="PARIKSHA folders: reassign rows whose prompt ids belong to another language")
    add_input_options(parser)


def run(args: argparse.Namespace) -> int:
    import math

    from judgecal.calibration import GroupedCalibrator
    from judgecal.data.render import table_text

    registry = registry_from_args(args)
    ratings = load_table(args, args.ratings)
    features = tuple(f.strip() for f in args.features.split(",") if f.strip())
    params = dict(method=args.method, pooling=args.pooling, features=features, target=args.target,
                  groups=args.groups, n_splits=args.n_splits, coverage=args.coverage,
                  min_group_size=args.min_group_size, judge=args.judge, random_state=args.seed, metrics=registry)
    cal = GroupedCalibrator(**params).fit(ratings, check_input=False)
    path = cal.save(args.out)
    t = cal.training_
    print(f"calibrated judge {cal.judge_!r} on {t['n_items']} (item, metric) pairs with {t['n_human_ratings']} "
          f"human ratings ({t['judge_items_without_humans']} judge-scored pairs had no human rating and "
          f"{t.get('human_items_without_judge', 0)} human-rated pairs had no judge score; neither was used)")
    if t.get("items_with_human_language_differing"):
        print(f"note: {t['items_with_human_language_differing']} (item, metric) pairs have human ratings labelled "
              "with another language than the judge's row; they were calibrated under the judge row's language "
              "(run `judgecal validate` on the ratings to see which)")
    for metric, info in cal.metric_info_.items():
        k = info["shrinkage"]
        ks = ", ".join(f"{lv} {'inf' if math.isinf(v) else f'{v:g}'}" for lv, v in k.items())
        print(f"  {metric}: {info['selection']}; shrinkage pseudo-counts: {ks}")
    table = cal.cv_quality_.copy()
    print("\nHeld-out quality per language/script/metric (raw judge vs calibrated, same folds; bias against "
          "the human consensus, and the loss each metric is judged by: MAE, or the Brier score for two-level "
          "metrics, whose calibrated value is a probability):")
    print(table_text(cal.quality_table()))
    if args.compare:
        from judgecal.calibration import cross_validate

        kw = {k: v for k, v in params.items() if k not in ("method", "pooling")}
        result = cross_validate(ratings, check_input=False, **kw)
        print("\nNested cross-validation, all variants on the same folds (per metric):")
        print(table_text(result.by_metric))
        judged = result.table.assign(value=[row[row["loss"]] for _, row in result.table.iterrows()])
        wide = judged.pivot_table(index=["language", "script", "metric", "loss"], columns="variant",
                                  values="value").reset_index()
        print("\nHeld-out loss per language/script/metric and variant (the loss named in the loss column):")
        print(table_text(wide))
        table = result.table
    if args.cv_out:
        from judgecal.data.delimited import write_delimited

        write_delimited(table, args.cv_out)
    print(f"\nwrote {path}")
    return 0
