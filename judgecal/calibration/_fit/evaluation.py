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
    gb = frame.groupby(by, sort=True, observed=True, dropna=False)
    keys = [k if isinstance(k, tuple) else (k,) for k in gb.size().index]
    cols = {c: frame[c].to_numpy(dtype=float) for c in QUALITY_COLUMNS if c in frame.columns}
    return pd.DataFrame(group_rows(by, keys, gb.ngroup().to_numpy(), cols))


QUALITY_COLUMNS = ("error", "log_loss", "confidence", "accuracy", "covered", "set_size")


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
