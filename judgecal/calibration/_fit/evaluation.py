"""Quality of calibrated scores: bias, MAE, Brier score, log-loss, expected calibration error, coverage.

Which loss judges a metric (:func:`metric_loss`): for a two-level metric the
calibrated value is the probability of the upper level, so it is judged by the
Brier score, a proper scoring rule (MAE against a 0/1 consensus rewards pushing
probabilities to 0 or 1, and ranks a calibrated probability below the raw 0/1
judge); a nominal metric of more levels is judged by log-loss, which needs a
predicted distribution; ordinal metrics by MAE against the consensus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ECE_BINS = 10


LOSS_LABELS = {"mae": "MAE", "brier": "Brier score", "log_loss": "log-loss"}


def metric_loss(levels, measurement: str) -> str:
    """The loss a metric's calibrated values are judged by (and ``method="auto"`` chooses
    by): 'brier' for two levels, 'log_loss' for a nominal metric of more, else 'mae'."""
    if len(levels) == 2:
        return "brier"
    return "log_loss" if measurement == "nominal" else "mae"


def brier_terms(pred: np.ndarray, target_dist: np.ndarray, levels) -> np.ndarray:
    """Squared error (n,) of the predicted probability of the upper of two levels,
    ``(pred - low) / (high - low)`` from the expected value pred (n,), against the
    target's share at that level (target_dist (n, 2)). Its mean is the Brier score."""
    low, high = float(levels[0]), float(levels[-1])
    return ((pred - low) / (high - low) - target_dist[:, -1]) ** 2


def one_hot(values: np.ndarray, levels) -> np.ndarray:
    """(n, K) indicator of the level nearest each value (n,): a raw judge's distribution."""
    lv = np.asarray(levels, dtype=float)
    nearest = np.abs(np.asarray(values, dtype=float)[:, None] - lv[None, :]).argmin(axis=1)
    return (nearest[:, None] == np.arange(len(lv))[None, :]).astype(float)


def judging_loss(loss: str, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None,
                 target_dist: np.ndarray, levels) -> float:
    """Mean of ``loss`` (a name from :func:`metric_loss`) over n rows: y, pred (n,),
    proba (n, K) or None, target_dist (n, K). nan for log-loss without a distribution."""
    if loss == "mae":
        return float(np.mean(np.abs(pred - y)))
    if loss == "brier":
        return float(np.mean(brier_terms(pred, target_dist, levels)))
    if proba is None:
        return float("nan")
    return float(np.mean(-(target_dist * np.log(np.clip(proba, 1e-12, 1.0))).sum(axis=1)))


def row_quality(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None = None,
                target_dist: np.ndarray | None = None, levels=None) -> dict[str, np.ndarray]:
    """Per-row quantities the group summaries average, each shape (n,).

    y, pred : (n,) target and prediction. proba : (n, K) predicted level
    probabilities; target_dist : (n, K) the share of the item's target at each
    level (the fraction of raters per level, or one-hot of the majority).
    levels : the metric's levels; with two levels and target_dist, the Brier terms too.
    """
    out = {"error": pred - y}
    if levels is not None and len(levels) == 2 and target_dist is not None:
        out["brier"] = brier_terms(pred, target_dist, levels)
    if proba is not None and target_dist is not None:
        p = np.clip(proba, 1e-12, 1.0)
        out["log_loss"] = -(target_dist * np.log(p)).sum(axis=1)
        top = proba.argmax(axis=1)
        out["confidence"] = proba[np.arange(len(top)), top]
        out["accuracy"] = target_dist[np.arange(len(top)), top]
    return out


def expected_calibration_error(confidence: np.ndarray, accuracy: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE from confidence (n,) and accuracy (n,) in equal-width bins."""
    if len(confidence) == 0:
        return float("nan")
    b = np.minimum((confidence * bins).astype(int), bins - 1)
    n = np.bincount(b, minlength=bins)
    gap = np.bincount(b, weights=accuracy - confidence, minlength=bins)
    return float(np.abs(gap).sum() / n.sum())


def summarize(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per group of ``by`` with n_items, bias, mae and, when the columns
    exist, brier, log_loss, ece (from confidence/accuracy), coverage and mean set size."""
    gb = frame.groupby(by, sort=True, observed=True, dropna=False)
    keys = [k if isinstance(k, tuple) else (k,) for k in gb.size().index]
    cols = {c: frame[c].to_numpy(dtype=float) for c in QUALITY_COLUMNS if c in frame.columns}
    return pd.DataFrame(group_rows(by, keys, gb.ngroup().to_numpy(), cols))


QUALITY_COLUMNS = ("error", "brier", "log_loss", "confidence", "accuracy", "covered", "set_size")


def group_rows(by: list[str], keys: list[tuple], codes: np.ndarray, cols: dict[str, np.ndarray]) -> list[dict]:
    """The rows of ``summarize`` from arrays: group g (codes (n,) == g) is named keys[g].

    cols : per-row arrays (n,) named as in ``QUALITY_COLUMNS`` (at least 'error').
    Every code 0..len(keys)-1 must occur. The groups are sliced out of one sort
    of the rows (no per-group DataFrames); means skip missing values, as pandas' do.
    """
    small = codes.astype(np.int16) if len(keys) < 2**15 else codes  # 16-bit codes sort by radix
    order = np.argsort(small, kind="stable")  # rows of each group, in table order
    bounds = np.searchsorted(codes[order], np.arange(len(keys) + 1))
    cols = {c: v[order] for c, v in cols.items()}
    rows = []
    for g, key in enumerate(keys):
        part = {c: v[bounds[g]:bounds[g + 1]] for c, v in cols.items()}
        row = dict(zip(by, key, strict=True))
        row["n_items"] = len(part["error"])
        row["bias"] = _nanmean(part["error"])
        row["mae"] = _nanmean(np.abs(part["error"]))
        if "brier" in part and not np.isnan(part["brier"]).all():
            row["brier"] = _nanmean(part["brier"])
        if "log_loss" in part and not np.isnan(part["log_loss"]).all():
            row["log_loss"] = _nanmean(part["log_loss"])
            row["ece"] = expected_calibration_error(part["confidence"], part["accuracy"])
        if "covered" in part and not np.isnan(part["covered"]).all():
            row["coverage"] = _nanmean(part["covered"])
            row["set_size"] = _nanmean(part["set_size"])
        rows.append(row)
    return rows


def _nanmean(values: np.ndarray) -> float:
    """Mean of the non-missing entries of values (n,), summed like pandas' Series.mean (nan if none)."""
    missing = np.isnan(values)
    if not missing.any():
        return float(values.sum() / len(values)) if len(values) else float("nan")
    kept = (~missing).sum()
    return float(np.where(missing, 0.0, values).sum() / kept) if kept else float("nan")


def loss_view(quality: pd.DataFrame) -> pd.DataFrame:
    """Held-out quality per group (a calibrator's ``cv_quality_``) as the loss each
    metric is judged by: language, script, metric, method, n_items, raw_bias, bias,
    loss (its name: MAE, Brier score or log-loss), raw and calibrated (its values).
    Files written before the loss was recorded are judged by MAE, as they were."""
    names = quality["loss"] if "loss" in quality.columns else pd.Series("mae", index=quality.index)
    names = names.fillna("mae")
    raw = np.full(len(quality), np.nan)
    cal = np.full(len(quality), np.nan)
    for name in names.unique():
        rows = (names == name).to_numpy()
        if f"raw_{name}" in quality.columns:
            raw[rows] = quality.loc[rows, f"raw_{name}"].to_numpy(dtype=float)
        if name in quality.columns:
            cal[rows] = quality.loc[rows, name].to_numpy(dtype=float)
    keep = [c for c in ("language", "script", "metric", "method", "n_items", "raw_bias", "bias") if c in quality]
    out = quality[keep].copy()
    out["loss"] = names.map(LOSS_LABELS).to_numpy()
    out["raw"] = raw
    out["calibrated"] = cal
    return out.reset_index(drop=True)
