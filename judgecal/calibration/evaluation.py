"""Quality of calibrated scores: bias, MAE, log-loss, expected calibration error, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd

ECE_BINS = 10


def row_quality(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None = None,
                target_dist: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-row quantities the group summaries average, each shape (n,).

    y, pred : (n,) target and prediction. proba : (n, K) predicted level
    probabilities; target_dist : (n, K) the share of the item's target at each
    level (the fraction of raters per level, or one-hot of the majority).
    """
    out = {"error": pred - y}
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
    exist, log_loss, ece (from confidence/accuracy), coverage and mean set size."""
    rows = []
    for key, g in frame.groupby(by, sort=True, observed=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row["n_items"] = len(g)
        row["bias"] = float(g["error"].mean())
        row["mae"] = float(g["error"].abs().mean())
        if "log_loss" in g.columns and g["log_loss"].notna().any():
            row["log_loss"] = float(g["log_loss"].mean())
            row["ece"] = expected_calibration_error(g["confidence"].to_numpy(), g["accuracy"].to_numpy())
        if "covered" in g.columns and g["covered"].notna().any():
            row["coverage"] = float(g["covered"].mean())
            row["set_size"] = float(g["set_size"].mean())
        rows.append(row)
    return pd.DataFrame(rows)
