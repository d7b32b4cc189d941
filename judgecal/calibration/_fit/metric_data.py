"""One metric's training examples as arrays (MetricData), the input of every node fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from judgecal.calibration._fit.design import design_matrix
from judgecal.calibration._fit.examples import Examples
from judgecal.data.metrics import MetricScale


@dataclass
class MetricData:
    """One metric's training examples as arrays.

    x_iso : (n,) the isotonic feature; X : (n, p) the ordinal design matrix
    y : (n,) consensus target; target_dist : (n, K) share of target mass per level
    lang : (n,) code into ``lang_keys`` ((language, script) pairs); script : (n,) code into ``script_keys``
    r_item, r_level, r_weight : (m,) per-rater rows (item position, level, weight)
    iso_rows, ord_rows : 'per_rater' or 'consensus': which rows the isotonic / ordinal model fits
    """

    scale: MetricScale
    x_iso: np.ndarray
    X: np.ndarray
    y: np.ndarray
    target_dist: np.ndarray
    lang: np.ndarray
    script: np.ndarray
    lang_keys: list
    script_keys: list
    r_item: np.ndarray
    r_level: np.ndarray
    r_weight: np.ndarray
    iso_rows: str
    ord_rows: str


def metric_data(ex: Examples, mask: np.ndarray, items: pd.DataFrame, scale, spec: dict, target: str) -> MetricData:
    """Arrays of one metric's examples (mask selects its rows of ex.items)."""
    levels = np.asarray(scale.levels)
    local = np.full(len(mask), -1, dtype=np.int64)
    local[mask] = np.arange(mask.sum())
    keep = local[ex.rater_item] >= 0
    r_item = local[ex.rater_item[keep]]
    r_level, r_weight = ex.rater_level[keep], ex.rater_weight[keep]
    nominal_consensus = scale.measurement == "nominal" and target == "consensus"
    if nominal_consensus:
        target_dist = (items["y_level"].to_numpy()[:, None] == levels[None, :]).astype(float)
    else:
        K = len(levels)
        target_dist = np.bincount(r_item * K + np.searchsorted(levels, r_level), r_weight,
                                  minlength=len(items) * K).reshape(len(items), K)
    lang, script, lang_keys, script_keys = codes_for(items)
    X = design_matrix(items, spec)
    return MetricData(
        scale=scale, x_iso=items[spec["iso_feature"]].to_numpy(dtype=float), X=X,
        y=items["y"].to_numpy(dtype=float), target_dist=target_dist, lang=lang, script=script,
        lang_keys=lang_keys, script_keys=script_keys, r_item=r_item, r_level=r_level, r_weight=r_weight,
        iso_rows="per_rater" if target == "per_rater" else "consensus",
        ord_rows="consensus" if nominal_consensus else "per_rater",
    )


def codes_for(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Factorise (language, script) and script of a frame: codes (n,), (n,) and their keys."""
    l_code, l_names = pd.factorize(frame["language"], sort=True)
    script, script_keys = pd.factorize(frame["script"], sort=True)
    pair, pair_codes = pd.factorize(l_code.astype(np.int64) * max(len(script_keys), 1) + script, sort=True)
    lang_keys = [(str(l_names[c // max(len(script_keys), 1)]), str(script_keys[c % max(len(script_keys), 1)]))
                 for c in pair_codes]
    return pair.astype(np.int64), script.astype(np.int64), lang_keys, [str(k) for k in script_keys]
