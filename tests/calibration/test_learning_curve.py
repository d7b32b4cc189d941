"""Learning curve of pooled vs per-language calibrators (judgecal.calibration.learning_curve)."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from judgecal.calibration.learning_curve import learning_curve, summarize_curve
from judgecal.datasets import make_judge_ratings

LANGS = ("hi", "bn", "ta", "te")


@pytest.fixture(scope="module")
def shared_inflation():
    # Every language inflated alike: the situation pooling is for.
    return make_judge_ratings(n_items=1600, languages=LANGS, metrics=("la",), n_systems=4,
                              inflation={lang: 0.8 for lang in LANGS}, prompts_per_language=100, random_state=3)


@pytest.fixture(scope="module")
def curve(shared_inflation):
    return learning_curve(shared_inflation, sizes=(8, 40), languages=["hi", "ta"], n_splits=4, repeats=2)


def test_rows_cover_every_language_fold_size_draw_and_variant(curve):
    assert len(curve) == 2 * 4 * 2 * 2 * 2  # languages x folds x sizes x draws x variants
    assert set(curve["variant"]) == {"pooled", "per_language"}
    assert sorted(curve["n_labelled"].unique()) == [8, 40]
    # both variants are scored on the same held-out items
    wide = curve.pivot_table(index=["language", "fold", "n", "draw"], columns="variant", values="n_test")
    assert (wide["pooled"] == wide["per_language"]).all()


def test_pooling_helps_small_budgets_when_languages_share_the_judge_curve(curve):
    summary = summarize_curve(curve).set_index("n")
    # With 8 labelled items a language alone is far noisier than one shrunk toward the others.
    assert summary.loc[8, "pooled_mse"] < summary.loc[8, "per_language_mse"]
    assert summary.loc[8, "pooled_wins_mse"] == 2
    # more labels bring the per-language fit closer
    gap = summary["per_language_mse"] - summary["pooled_mse"]
    assert gap.loc[40] < gap.loc[8]


def test_summary_counts_languages_and_wins(curve):
    summary = summarize_curve(curve)
    assert (summary["languages"] == 2).all()
    assert summary["pooled_wins_mae"].between(0, 2).all()
    assert np.isfinite(summary[["pooled_mae", "per_language_mae", "pooled_mse", "per_language_mse"]]).all(axis=None)


def test_command_line_writes_every_row(shared_inflation, tmp_path, capsys):
    # The command line is the bench script (it knows PARIKSHA, which calibration may not import).
    main = runpy.run_path(str(Path(__file__).parents[2] / "bench" / "learning_curve.py"))["main"]
    src = tmp_path / "ratings.parquet"
    shared_inflation.to_parquet(src)
    out = tmp_path / "curve.csv"
    assert main(["--ratings", str(src), "--sizes", "10", "--languages", "hi", "--repeats", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pooled_wins_mae" in printed and "per_language_mse" in printed
    import pandas as pd

    rows = pd.read_csv(out)
    assert set(rows["language"]) == {"hi"} and set(rows["n"]) == {10}
