"""judgecal import-inspect LOG... --metric la --out judged.parquet: inspect logs -> judge rows."""

from __future__ import annotations

import argparse

HELP = "turn judged inspect_ai logs into judge rows of a ratings table (language from sample metadata)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", metavar="LOG", help="inspect_ai log files (.eval or .json)")
    parser.add_argument("--out", required=True, metavar="FILE", help="ratings file to write; format from the extension")
    parser.add_argument("--metric", required=True, help="the judgecal metric the judge's score is on (la, tq, h, ...)")
    parser.add_argument("--score", metavar="NAME",
                        help="the log's score holding the judge score (default: the log's only score)")
    parser.add_argument("--value-key", metavar="KEY",
                        help="read the judge score from the score's metadata[KEY] instead of its value")
    parser.add_argument("--judge", metavar="MODEL",
                        help="the judge's model id (default: the log's 'grader' model role)")
    parser.add_argument("--prompt-hash", metavar="HASH", help="the judge prompt's hash, recorded on every row")
    parser.add_argument("--language-key", default="language", help="sample metadata key of the language")
    parser.add_argument("--script-key", default="script", help="sample metadata key of the script (optional)")
    parser.add_argument("--metrics", metavar="FILE", help="declarations of extra metric scales (TOML or JSON)")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from judgecal.data.io import write_ratings
    from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, load_metric_file
    from judgecal.data.schema import normalize_ratings
    from judgecal.errors import InputError, Problem
    from judgecal.integrations.inspect_ai import judged_rows

    frames, problems = [], []
    for log in args.logs:
        try:
            frames.append(judged_rows(log, metric=args.metric, score_name=args.score, value_key=args.value_key,
                                      judge_model=args.judge, prompt_hash=args.prompt_hash,
                                      language_key=args.language_key, script_key=args.script_key))
        except InputError as exc:  # every log's problems, not only the first log's
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems, summary=f"{len(problems)} problem(s) in the inspect log(s)")
    table = pd.concat(frames, ignore_index=True)
    dup = table.duplicated(["item_id", "metric", "rater"], keep=False)
    if dup.any():
        raise InputError(Problem(f"{int(dup.sum())} rows share an item id across the logs; import logs of "
                                 "distinct samples", column="item_id", value=table.loc[dup, "item_id"].iloc[0]),
                         summary="duplicate samples")
    registry = MetricRegistry(load_metric_file(args.metrics)) if args.metrics else DEFAULT_REGISTRY
    checked = normalize_ratings(table, metrics=registry, source=", ".join(args.logs))
    write_ratings(checked.table, args.out)
    counts = checked.table.groupby(["language", "script"]).size()
    print(f"imported {len(checked.table)} judge row(s) of metric {args.metric!r} by judge "
          f"{checked.table['rater'].iloc[0]!r} from {len(args.logs)} log(s): "
          + ", ".join(f"{lang}/{scr} {n}" for (lang, scr), n in counts.items()))
    print(f"wrote {args.out}")
    return 0
