"""What a fitted GroupedCalibrator learned, in one object: the content of a calibrator file.

``fit`` builds a :class:`FittedGroups`, ``persist`` writes and reads one, and the
serving code (``serving.GroupServer``) predicts from one. The calibrator's
``*_`` attributes (``nodes_``, ``metric_info_``, ...) are views of its fields.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from judgecal.calibration._fit.metric_data import MetricData
from judgecal.data.metrics import MetricScale


@dataclass
class FittedGroups:
    """Fitted state of a GroupedCalibrator.

    judge : the judge (rater id) it was fitted for
    judge_prompt_hash : metric -> hash of the judge prompt its scores came from ({} if unknown)
    scales : metric -> the metric's scale
    metric_info : metric -> {"method", "selection", "loss" (the name of the loss the method was
        chosen by: 'mae', 'brier' or 'log_loss'), "cv_loss", "raw_loss", "cv_mae", "raw_mae",
        "shrinkage": {"script", "language", "offset"} pseudo-counts (inf: group ignored), "design"}
    nodes : node key ('la|hi|Deva', 'la|*|Deva', 'la|*|*', see :func:`node_key`) ->
        {"metric", "level", "language", "script", "n_items", "offset", "model"}
    fold_nodes : metric -> one such dict of nodes per cross-validation fold (for conformal sets)
    conformal : node key -> {"n": held-out items, "folds": [{"values", "counts"} per fold]}
    training : sha256 and counts of the training data
    cv_quality : held-out quality per (language, script, metric), one row each
    judge_profile : the judge's level counts per (metric, language) on the fitting data and
        its fingerprint (``_fit/profile.py``); None for files written before it was recorded
    """

    judge: str
    judge_prompt_hash: dict
    scales: dict[str, MetricScale]
    metric_info: dict[str, dict]
    nodes: dict[str, dict]
    fold_nodes: dict[str, list[dict]]
    conformal: dict[str, dict]
    training: dict
    cv_quality: pd.DataFrame
    judge_profile: dict | None = None


@dataclass
class MetricFit:
    """What fitting one metric gives; ``fit`` gathers them into one FittedGroups."""

    metric: str
    scale: MetricScale
    info: dict
    nodes: dict
    fold_nodes: list
    conformal: dict
    quality: pd.DataFrame


def node_key(metric: str, language: str | None, script: str | None) -> str:
    """'la|hi|Deva' for a language node, 'la|*|Deva' for a script node, 'la|*|*' for the metric."""
    return f"{metric}|{language or '*'}|{script or '*'}"


def keyed_nodes(md: MetricData, metric: str, nodes: dict, d_lang: np.ndarray, d_script: np.ndarray) -> dict:
    """Nodes by key ('la|hi|Deva', ...) with level, names, size, offset toward the parent and state."""
    out = {}
    for level, table in nodes.items():
        for code, (state, n) in table.items():
            lang, script = _node_names(md, level, code)
            offset = {"language": d_lang, "script": d_script}.get(level)
            out[node_key(metric, lang, script)] = {
                "metric": metric, "level": level, "language": lang, "script": script,
                "n_items": int(n), "offset": 0.0 if offset is None else float(offset[code]), "model": state}
    return out


def _node_names(md: MetricData, level: str, code: int) -> tuple[str | None, str | None]:
    if level == "language":
        lang, script = md.lang_keys[code]
        return lang, script
    if level == "script":
        return None, md.script_keys[code]
    return None, None


def training_hash(items: pd.DataFrame) -> str:
    """sha256 of the paired training data (item, metric, judge score, target, raters), order-free."""
    cols = ["item_id", "metric", "language", "script", "judge_score", "y", "n_raters"]
    # Sort by the ids' text: categorical columns would sort by their category order,
    # which the input decides, and the hash must not depend on it.
    order = np.lexsort((_text_rank(items["metric"]), _text_rank(items["item_id"])))
    frame = items[cols].iloc[order].reset_index(drop=True)
    h = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(h.tobytes()).hexdigest()


def _text_rank(col: pd.Series) -> np.ndarray:
    """Integer rank (n,) of each value's text among the column's distinct values
    (sorting 250k category codes is ~20x faster than sorting their strings)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        names = col.cat.categories.astype(str)
        rank = np.empty(len(names), dtype=np.int64)
        rank[np.argsort(names.to_numpy(), kind="stable")] = np.arange(len(names))
        return rank[col.cat.codes.to_numpy()]
    codes, _ = pd.factorize(col.astype(str), sort=True)
    return codes
