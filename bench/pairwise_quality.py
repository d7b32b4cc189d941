"""The per-language PARIKSHA pairwise table (issue 12): agreement, ties, position,
self-preference, and held-out calibration of the judge's verdicts.

Counts: pairs per language, with and without systems (pair metadata).
Agreement: the GPT judge's verdict vs the natives' majority (3-way over pairs
with a majority; and where both are decisive). Bias: first-position preference,
tie rates, self-preference (decisive verdicts for a GPT-family system, judge vs
natives, pairs with exactly one such system), length (grapheme clusters).
Calibration: nested 5-fold CV grouped by prompt (PairwiseCalibrator, each
model), every native vote of a held-out pair scored; beside it on the same
folds the fixed 80/10/10 reading and the per-language verdict x vote table
(0.5 per cell), and GroupedCalibrator (ordinal, pooling by expected-level
error) run on the battles as a ratings table. Targets: calibrated log-loss <=
the table in every language; predicted tie rate within +-0.03 of the natives';
ECE of P(first better) <= 0.05.

The log-loss target is judged against noise: per language, the calibrated
minus the table log-loss with a 90 % paired bootstrap interval clustered by
prompt (2,000 resamples of the prompts, both models scored on the same votes).

Usage: python bench/pairwise_quality.py [--pariksha DIR] [--models auto,ordinal,table] [--grouped]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd


def paired_difference(votes: pd.DataFrame, battles: pd.DataFrame, n_resamples: int = 2000,
                      seed: int = 0) -> pd.DataFrame:
    """Per language: mean log-loss difference (calibrated - table) per vote and
    its 90 % bootstrap interval, prompts resampled with replacement (a prompt's
    votes are correlated: same responses, often the same raters)."""
    import numpy as np

    prompt_of = battles.drop_duplicates("pair_id").set_index("pair_id")["prompt_id"]
    y = votes["outcome"].to_numpy()
    rows = np.arange(len(y))
    loss = {name: -np.log(np.clip(votes[[f"{name}_system_1", f"{name}_tie", f"{name}_system_2"]].to_numpy()[
        rows, y], 1e-12, 1)) for name in ("cal", "table")}
    frame = pd.DataFrame({"language": votes["language"], "prompt": prompt_of.loc[votes["pair_id"]].to_numpy(),
                          "diff": loss["cal"] - loss["table"]})
    rng = np.random.default_rng(seed)
    out = []
    for lang, g in frame.groupby("language"):
        per_prompt = g.groupby("prompt")["diff"].agg(["sum", "size"])
        sums, sizes = per_prompt["sum"].to_numpy(), per_prompt["size"].to_numpy()
        draw = rng.integers(0, len(sums), size=(n_resamples, len(sums)))
        boot = sums[draw].sum(axis=1) / sizes[draw].sum(axis=1)
        low, high = np.quantile(boot, [0.05, 0.95])
        out.append({"language": lang, "prompts": len(sums), "diff": sums.sum() / sizes.sum(),
                    "diff_low": low, "diff_high": high})
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pariksha", metavar="DIR")
    parser.add_argument("--models", default="auto,ordinal,table")
    parser.add_argument("--grouped", action="store_true", help="also run GroupedCalibrator on the battles")
    args = parser.parse_args()
    from judgecal.datasets import battle_counts, load_pariksha_battles
    from judgecal.pairwise.bias import bias_table
    from judgecal.pairwise.calibration import cross_validated_pairs, grouped_ratings_route
    from judgecal.pairwise.quality import agreement_table, calibration_table, vote_probabilities

    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    t = time.perf_counter()
    battles = load_pariksha_battles(args.pariksha)
    print(f"loaded {len(battles)} rows in {time.perf_counter() - t:.1f} s\n")
    print("## Pairs per language (with systems = pair metadata present)")
    print(battle_counts(battles).to_string(index=False), "\n")
    agree = agreement_table(battles)
    bias = bias_table(battles, judge_family="gpt")
    print("## Agreement and bias (judge = PARIKSHA's GPT judge; family = systems matching 'gpt')")
    cols = ["language", "script", "pairs", "agree_3way", "agree_decisive", "tie_native", "tie_judge",
            "first_native", "first_judge"]
    table = agree[cols].merge(bias[["language", "family_pairs", "family_win_judge", "family_win_native",
                                    "self_preference", "longer_wins_native", "longer_wins_judge"]], on="language")
    print(table.round(3).to_string(index=False), "\n")
    runs = {m: (lambda m=m: cross_validated_pairs(battles, model=m)) for m in args.models.split(",")}
    if args.grouped:
        runs["grouped_calibrator"] = lambda: grouped_ratings_route(battles)
    for name, run in runs.items():
        t = time.perf_counter()
        held_out = run()
        votes = vote_probabilities(held_out, battles)
        per_lang = calibration_table(votes)
        overall = calibration_table(votes, by=())
        secs = time.perf_counter() - t
        chosen = ", ".join(sorted(set(held_out["model"].dropna()))) if "model" in held_out else "-"
        print(f"## Calibration, {name} (nested 5-fold CV by prompt; node model chosen: {chosen}; {secs:.1f} s)")
        show = ["language", "votes", "log_loss_cal", "log_loss_table", "log_loss_fixed", "tie_native",
                "tie_predicted", "tie_gap", "ece_first_cal", "ece_first_table"]
        print(per_lang[show].round(3).to_string(index=False))
        print(overall.drop(columns=["group"]).round(4).to_string(index=False))
        beats = (per_lang["log_loss_cal"] <= per_lang["log_loss_table"] + 1e-12)
        ties_ok = per_lang["tie_gap"].abs() <= 0.03
        print(f"targets: log-loss <= table in {int(beats.sum())}/{len(per_lang)} languages "
              f"(worst excess {float((per_lang['log_loss_cal'] - per_lang['log_loss_table']).max()):+.4f}); "
              f"tie rate within 0.03 in {int(ties_ok.sum())}/{len(per_lang)}; "
              f"ECE(first) max {per_lang['ece_first_cal'].max():.3f}, overall {overall['ece_first_cal'].iloc[0]:.3f}")
        diff = paired_difference(votes, battles)
        print("calibrated - table log-loss per vote, 90 % interval by prompt bootstrap:")
        print(diff.to_string(index=False, float_format="{:+.4f}".format))
        print(f"excess significantly > 0 (interval above 0) in {int((diff['diff_low'] > 0).sum())}/{len(diff)}; "
              f"significantly < 0 in {int((diff['diff_high'] < 0).sum())}/{len(diff)}")
        if not beats.all():
            # Why: the natives' votes after each judge verdict, next to the model's mean prediction.
            by_verdict = votes.groupby(["language", "verdict"]).agg(
                votes=("outcome", "size"), native_tie=("outcome", lambda y: (y == 1).mean()),
                predicted_tie=("cal_tie", "mean"), table_tie=("table_tie", "mean"))
            print("where it misses: native tie share after each judge verdict (0 system_1, 1 tie, 2 system_2)")
            print(by_verdict.round(3).unstack("verdict").to_string())
        print()


if __name__ == "__main__":
    main()
