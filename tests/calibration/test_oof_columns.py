"""Out-of-fold predictions fit each fold on the columns a calibrator reads (free text
left out, for speed on 1M ratings): the numbers are those of fitting on the whole table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgecal.calibration import GroupedCalibrator, out_of_fold_predictions
from judgecal.calibration.cv import fit_columns, outer_folds
from judgecal.datasets import make_judge_ratings


def _whole_table_oof(ratings, features):
    """The earlier way: every fold's calibrator fitted on all columns of the other folds."""
    fold = outer_folds(ratings, "prompt_id", 5, 0)
    is_judge = (ratings["rater_kind"] == "judge").to_numpy()
    parts = []
    for f in range(5):
        cal = GroupedCalibrator(method="auto", groups="prompt_id", n_splits=5, random_state=0, features=features)
        cal.fit(ratings[fold != f], check_input=False)
        parts.append(cal.apply(ratings[(fold == f) & is_judge]).assign(fold=f))
    return pd.concat(parts).sort_index()


@pytest.mark.parametrize("features", [("score",), ("score", "length")])
def test_fast_path_gives_the_same_out_of_fold_numbers(features):
    ratings = make_judge_ratings(400, n_systems=2, languages=("hi", "ta", "bn"), random_state=1)
    assert {"prompt", "response", "justification"} <= set(ratings.columns)
    fast = out_of_fold_predictions(ratings, method="auto", features=features)
    slow = _whole_table_oof(ratings, features)
    assert fast.index.equals(slow.index) and list(fast.columns) == list(slow.columns)
    numeric = [c for c in fast.columns if c == "score_calibrated" or c.startswith("prob_")
               or c in ("calibration_weight", "score_set_low", "score_set_high")]
    assert "score_calibrated" in numeric and any(c.startswith("prob_") for c in numeric)
    for c in numeric:
        a, b = fast[c].to_numpy(dtype=float), slow[c].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.nanmax(np.abs(a - b)) <= 1e-12, c
    for c in ("calibration_group", "calibration_level", "score_set", "response", "prompt"):
        assert fast[c].astype(str).tolist() == slow[c].astype(str).tolist(), c


def test_fit_columns_keep_what_a_fit_reads():
    cols = ["item_id", "language", "script", "metric", "rater", "rater_kind", "score", "prompt_id",
            "prompt", "response", "justification", "reference", "reasoning", "score_probs", "judge_prompt_hash"]
    kept = fit_columns(cols, ("score",))
    assert kept == ["item_id", "language", "script", "metric", "rater", "rater_kind", "score", "prompt_id",
                    "score_probs", "judge_prompt_hash"]
    assert "response" in fit_columns(cols, ("score", "length"))


def test_report_path_skips_the_second_check_with_the_same_numbers():
    from judgecal.analysis import out_of_fold_table
    from judgecal.data.schema import normalize_ratings

    ratings = normalize_ratings(make_judge_ratings(300, n_systems=2, languages=("hi", "ta"), random_state=2)).table
    checked = out_of_fold_table(ratings)
    unchecked = out_of_fold_table(ratings, check_input=False)
    pd.testing.assert_frame_equal(checked, unchecked, check_exact=False, rtol=0, atol=1e-12)
