"""Learning curve: how many labelled items does a language need?

For each language L and budget n: L's prompts are split into folds; for every
fold, n items are drawn from L's other folds as L's labelled set, while every
other language keeps all its labels. Two calibrators are fitted and scored on
L's held-out fold:

* ``pooled``       GroupedCalibrator(pooling="partial"): L's n items plus all
  other languages, L shrunk toward its script and the metric;
* ``per_language`` GroupedCalibrator(pooling="none") on L's n items alone.

Error is the MAE, the mean squared error and the mean signed error of the
calibrated score against the human consensus of the held-out items. On PARIKSHA:
``python bench/learning_curve.py`` (see bench/README.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.calibration._fit.examples import build_examples
from judgecal.calibration._fit.folds import assign_folds
from judgecal.calibration.grouped import GroupedCalibrator

SIZES = (25, 50, 100, 200)


def learning_curve(
    ratings: pd.DataFrame,
    *,
    sizes=SIZES,
    languages=None,
    method: str = "isotonic",
    n_splits: int = 5,
    repeats: int = 1,
    random_state: int = 0,
    groups: str | None = None,
    progress=None,
) -> pd.DataFrame:
    """One row per (language, metric, n, fold, draw, variant) with n_labelled
    (items actually available, at most n), n_test, mae, mse and bias.

    ``repeats`` draws of the n labelled items per fold: the draw is the noisiest
    part of the comparison at 25 items, and both variants see the same draws."""
    ex = build_examples(ratings, groups=groups)
    ids = {"item_id": str, "metric": str, "language": str, "cv_group": str}
    items = ex.items.drop_duplicates("item_id")[["item_id", "language", "cv_group"]].astype(
        {k: v for k, v in ids.items() if k != "metric"})
    truth = ex.items[["item_id", "metric", "y"]].astype({"item_id": str, "metric": str})
    is_judge = (ratings["rater_kind"] == "judge") & (ratings["rater"] == ex.judge)
    rng = np.random.default_rng(random_state)
    rows = []
    for lang in languages or sorted(items["language"].unique()):
        mine = items[items["language"] == lang]
        fold = assign_folds(mine["cv_group"], n_splits, random_state)
        others = ratings["language"] != lang
        for f in range(n_splits):
            test_ids = set(mine.loc[fold == f, "item_id"])
            pool = mine.loc[fold != f, "item_id"].to_numpy()
            test = ratings[is_judge & ratings["item_id"].isin(test_ids)]
            for n, draw in ((n, d) for n in sizes for d in range(repeats)):
                chosen = rng.choice(pool, size=min(n, len(pool)), replace=False)
                labelled = ratings["item_id"].isin(set(chosen))
                fits = {
                    "pooled": (ratings[others | labelled], "partial"),
                    "per_language": (ratings[labelled], "none"),
                }
                for variant, (train, pooling) in fits.items():
                    cal = GroupedCalibrator(method=method, pooling=pooling, n_splits=n_splits,
                                            random_state=random_state, groups=groups, judge=ex.judge)
                    out = cal.fit(train, check_input=False).apply(test, check_drift=False)
                    scored = out.merge(truth, on=["item_id", "metric"])
                    for metric, g in scored.groupby("metric"):
                        err = g["score_calibrated"].to_numpy() - g["y"].to_numpy()
                        rows.append({"language": lang, "metric": metric, "n": n, "n_labelled": len(chosen),
                                     "fold": f, "draw": draw, "variant": variant, "n_test": len(g),
                                     "mae": float(np.abs(err).mean()), "mse": float((err**2).mean()),
                                     "bias": float(err.mean())})
                if progress:
                    progress(f"{lang} fold {f} n={n} draw {draw}")
    return pd.DataFrame(rows)


def summarize_curve(curve: pd.DataFrame) -> pd.DataFrame:
    """Per (n, metric): mean error of each variant over languages (held-out items
    weighted equally within a language) as MAE and as mean squared error (the loss
    an expected-score calibrator minimises; for a 0/1 metric it is the Brier score),
    and in how many languages pooled <= per-language."""
    w = curve.assign(w_abs=curve["mae"] * curve["n_test"], w_sq=curve["mse"] * curve["n_test"],
                     w_err=curve["bias"] * curve["n_test"])
    per_lang = w.groupby(["n", "metric", "language", "variant"])[["w_abs", "w_sq", "w_err", "n_test"]].sum()
    per_lang["mae"] = per_lang["w_abs"] / per_lang["n_test"]
    per_lang["mse"] = per_lang["w_sq"] / per_lang["n_test"]
    per_lang["bias"] = per_lang["w_err"] / per_lang["n_test"]
    parts = []
    for err in ("mae", "mse"):
        wide = per_lang[err].unstack("variant")
        part = wide.groupby(["n", "metric"]).mean().add_suffix(f"_{err}")
        part[f"pooled_wins_{err}"] = (wide["pooled"] <= wide["per_language"]).groupby(["n", "metric"]).sum()
        parts.append(part)
    out = pd.concat(parts, axis=1)
    out["languages"] = per_lang["mae"].unstack("variant").groupby(["n", "metric"]).size()
    absbias = per_lang["bias"].abs().unstack("variant").groupby(["n", "metric"]).max()
    out["max_abs_bias_pooled"] = absbias["pooled"]
    out["max_abs_bias_per_language"] = absbias["per_language"]
    return out.reset_index()
