"""Feature columns -> the arrays the node calibrators see (fit and apply use the same code)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.data.metrics import MetricScale
from judgecal.errors import InputError, Problem


def make_design_spec(items: pd.DataFrame, metric: str, scale: MetricScale, features: tuple[str, ...]) -> dict:
    """JSON-able description of one metric's features, learned from training items."""
    numeric: list[str] = []
    if "expected" in features:
        numeric.append("judge_expected")
    if "probs" in features:
        numeric += [f"judge_p{j}" for j in range(1, len(scale.levels))]
    if "other_metrics" in features:
        numeric += sorted(c for c in items.columns if c.startswith("judge_") and c[6:] not in ("score", "expected")
                          and not c.startswith("judge_p") and c != f"judge_{metric}")
    if "length" in features:
        numeric.append("response_length")
    fill = [float(np.nanmean(items[c].to_numpy(dtype=float))) if items[c].notna().any() else 0.0 for c in numeric]
    return {
        "iso_feature": "judge_expected" if "expected" in features else "judge_score",
        "onehot": list(scale.levels[1:]) if "score" in features else [],
        "numeric": numeric,
        "fill": fill,
    }


def design_matrix(items: pd.DataFrame, spec: dict) -> np.ndarray:
    """Ordinal design matrix, shape (n, p): one-hot judge level (lowest level
    dropped), then numeric columns with missing values set to their training mean."""
    parts = []
    if spec["onehot"]:
        s = items["judge_score"].to_numpy(dtype=float)
        parts.append((s[:, None] == np.asarray(spec["onehot"])[None, :]).astype(float))
    for col, fill in zip(spec["numeric"], spec["fill"], strict=True):
        if col not in items.columns:
            v = np.full(len(items), fill)
        else:
            v = items[col].to_numpy(dtype=float)
            v = np.where(np.isnan(v), fill, v)
        parts.append(v[:, None])
    if not parts:
        return np.zeros((len(items), 0))
    return np.hstack(parts)


def check_on_scale(scores: np.ndarray, scale: MetricScale, *, rows: np.ndarray | None = None) -> None:
    """InputError listing judge scores that are not levels of the scale."""
    bad = ~scale.on_scale(scores)
    if bad.any():
        idx = np.flatnonzero(bad)
        where = idx if rows is None else rows[idx]
        problems = [Problem(f"judge score is not on the {scale.id} scale {tuple(f'{v:g}' for v in scale.levels)}",
                            row=int(r) + 1, column="score", value=float(scores[i]))
                    for i, r in zip(idx[:200], where[:200], strict=True)]
        raise InputError(problems, summary=f"{len(idx)} judge score(s) off the {scale.id} scale")
