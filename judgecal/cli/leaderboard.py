"""judgecal leaderboard BATTLES: per-language Bradley-Terry (Davidson) leaderboards from pairwise battles."""

from __future__ import annotations

import argparse

from judgecal.cli._analysis_args import columns, fraction, positive_int

HELP = "per-language leaderboards (Bradley-Terry with ties) from native votes, judge verdicts, or both"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("battles", help="battles file (csv, tsv, jsonl, json, parquet; docs/pairwise.md) "
                                        "or a PARIKSHA release folder")
    parser.add_argument("--sources", type=columns, default=("human", "judge"),
                        help="comma-separated: human, judge, calibrated, anchored (default human,judge)")
    parser.add_argument("--calibrator", metavar="FILE",
                        help="pairwise calibrator file: enables 'calibrated' and feeds 'anchored' its probabilities")
    parser.add_argument("--judge", help="the judge's rater id when the file holds several judges")
    parser.add_argument("--resamples", type=positive_int, default=1000,
                        help="bootstrap resamples, clustered by prompt (default 1000)")
    parser.add_argument("--confidence", type=fraction, default=0.9, help="interval level (default 0.9)")
    parser.add_argument("--alpha", type=float, default=0.0,
                        help="ridge penalty on log-strengths; needed when a system never wins or never loses")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap (default 0)")
    parser.add_argument("--length-control", action="store_true",
                        help="compare systems at equal response length (log length ratio in grapheme clusters "
                             "as a covariate; not for 'anchored')")
    parser.add_argument("--out", metavar="FILE", action="append", default=[],
                        help="write the leaderboards: .csv (one row per language, source, system) or .json "
                             "(leaderboards, Kendall taus and settings); repeat for both")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import pandas as pd

    from judgecal.data.render import table_text
    from judgecal.errors import ConfigError
    from judgecal.pairwise.standings import language_leaderboards

    for out in args.out:
        if Path(out).suffix.lower() not in (".csv", ".json"):
            raise ConfigError(f"cannot write {out}: use .csv or .json")
    if args.alpha < 0:
        raise ConfigError(f"--alpha must be >= 0, got {args.alpha}")
    battles = _read(args.battles)
    calibrated = None
    if args.calibrator:
        from judgecal.pairwise.calibration import PairwiseCalibrator

        calibrated = PairwiseCalibrator.load(args.calibrator, expect_judge=args.judge).apply(battles)
    boards, taus = language_leaderboards(battles, tuple(args.sources), judge=args.judge, calibrated=calibrated,
                                         n_resamples=args.resamples, confidence=args.confidence,
                                         alpha=args.alpha, random_state=args.seed,
                                         length_control=args.length_control)
    level = f"{100 * args.confidence:.0f} %"
    for (language, source), part in boards.groupby(["language", "source"], sort=False):
        coef = part["length_coef"].iloc[0] if "length_coef" in part.columns else None
        length = f"; length coefficient {coef:.2f} per e-fold longer answer" if pd.notna(coef) else ""
        print(f"\n{language}, {source}: {level} intervals, {part['interval'].iloc[0]}{length}")
        shown = part[["rank", "system", "strength", "ci_low", "ci_high", "rank_best", "rank_worst", "battles"]]
        print(table_text(shown, floatfmt="{:.2f}"))
    if not taus.empty:
        print("\nKendall tau between leaderboards")
        print(table_text(taus, floatfmt="{:.2f}"))
    for out in args.out:
        _write(Path(out), boards, taus, args)
    return 0


def _read(path: str):
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        from judgecal.datasets import load_pariksha_battles

        return load_pariksha_battles(p)
    from judgecal.pairwise.io import read_battles

    return read_battles(p)


def _write(path, boards, taus, args) -> None:
    """CSV or JSON, written atomically (judgecal._atomic)."""
    import json

    from judgecal._atomic import atomic_write_text

    if path.suffix.lower() == ".csv":
        text = boards.to_csv(index=False)
    else:
        body = {"leaderboards": json.loads(boards.to_json(orient="records", force_ascii=False)),
                "kendall_tau": json.loads(taus.to_json(orient="records", force_ascii=False)),
                "settings": {"sources": list(args.sources), "confidence": args.confidence,
                             "resamples": args.resamples, "alpha": args.alpha, "seed": args.seed,
                             "length_control": args.length_control,
                             "model": "Davidson Bradley-Terry with ties, centred log-strengths"}}
        text = json.dumps(body, ensure_ascii=False, indent=1)
    atomic_write_text(path, text)
    print(f"wrote {path}")
