"""Cost of calibrating one sample at a time, as the framework integrations do
(judgecal.integrations._common.calibrate_score: checks + a one-row cal.apply),
against one cal.apply over the same rows.

    python bench/integration_per_sample.py --samples 2000
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--release", default="../shared/data/pariksha")
    args = ap.parse_args()

    from judgecal.calibration import GroupedCalibrator
    from judgecal.datasets import load_pariksha
    from judgecal.integrations._common import calibrate_score

    ratings = load_pariksha(args.release)
    cal = GroupedCalibrator().fit(ratings)
    judged = ratings[(ratings["rater_kind"] == "judge") & (ratings["metric"] == "la")]
    rows = judged.sample(n=args.samples, replace=len(judged) < args.samples, random_state=0).reset_index(drop=True)
    texts = rows["prompt"].tolist()  # the script check reads the prompt, as the integrations do

    t0 = time.perf_counter()
    one = [calibrate_score(cal, s, metric="la", language=lang, text=text, judge_model=cal.judge_).calibrated
           for s, lang, text in zip(rows["score"], rows["language"], texts, strict=True)]
    per_sample = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch = cal.apply(rows[["item_id", "language", "script", "metric", "rater", "rater_kind", "score"]])
    batched = time.perf_counter() - t0
    assert np.array_equal(np.asarray(one), batch["score_calibrated"].to_numpy())
    print(f"{args.samples} samples of PARIKSHA 'la' (with the script check on each prompt)")
    print(f"one at a time (calibrate_score): {per_sample:.2f} s, {1000 * per_sample / args.samples:.2f} ms/sample")
    print(f"one cal.apply over all rows:      {batched:.3f} s")
    print("calibrated values identical: yes")


if __name__ == "__main__":
    main()
