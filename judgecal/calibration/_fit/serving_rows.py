"""Row bookkeeping for serving (``serving.GroupServer.apply``): which rows share a
(language, script) pair and which share features, the feature columns a
calibrator needs, and the output columns collected per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.calibration._fit.design import check_on_scale
from judgecal.calibration._fit.examples import log_text_length, parse_score_probs
from judgecal.data.languages import UnknownLanguage, default_script, normalize_language, with_script
from judgecal.errors import InputError, Problem


class Result:
    """Calibrated outputs of the judge rows, filled group by group, then attached as columns."""

    LEVELS = ("language", "script", "metric")

    def __init__(self, r: int):
        self.score = np.full(r, np.nan)
        self.weight = np.full(r, np.nan)
        self.level = np.full(r, -1, dtype=np.int8)
        self.group = np.full(r, -1, dtype=np.int32)
        self.groups: list[str] = []
        self.set_code = np.full(r, -1, dtype=np.int64)
        self.set_names: dict[int, tuple[str, float, float]] = {}
        self.low = np.full(r, np.nan)
        self.high = np.full(r, np.nan)
        self.probs: dict[str, np.ndarray] = {}
        self.r = r

    def put(self, rows, score, proba, levels, sets, level, group, weight) -> None:
        self.score[rows] = score
        self.weight[rows] = weight
        self.level[rows] = self.LEVELS.index(level)
        if group not in self.groups:  # several (language, script) pairs can share a serving group
            self.groups.append(group)
        self.group[rows] = self.groups.index(group)
        codes = np.zeros(len(sets), dtype=np.int64)
        for j in range(sets.shape[1]):
            codes |= sets[:, j].astype(np.int64) << j
        names = [f"{lv:g}" for lv in levels]
        table_low = np.full(1 << len(levels), np.nan)
        table_high = np.full(1 << len(levels), np.nan)
        for c in np.flatnonzero(np.bincount(codes, minlength=1 << len(levels))):
            chosen = [i for i in range(len(levels)) if (c >> i) & 1]
            # Set codes are shared across metrics: key them by their text.
            text = ",".join(names[i] for i in chosen)
            self.set_names.setdefault(int(c) + (len(levels) << 20), (text, 0, 0))
            if chosen:
                table_low[c], table_high[c] = levels[chosen[0]], levels[chosen[-1]]
        self.set_code[rows] = codes + (len(levels) << 20)
        self.low[rows] = table_low[codes]
        self.high[rows] = table_high[codes]
        if proba is not None:
            for j, lv in enumerate(levels):
                self.probs.setdefault(f"prob_{lv:g}", np.full(self.r, np.nan))[rows] = proba[:, j]

    def attach(self, df: pd.DataFrame, idx: np.ndarray) -> pd.DataFrame:
        n = len(df)

        def spread(values, fill):
            if len(idx) == n:
                return values
            out = np.full(n, fill, dtype=values.dtype)
            out[idx] = values
            return out

        out = df.copy()
        out["score_calibrated"] = spread(self.score, np.nan)
        out["calibration_level"] = pd.Categorical.from_codes(spread(self.level, -1), categories=list(self.LEVELS))
        out["calibration_group"] = pd.Categorical.from_codes(spread(self.group, -1), categories=self.groups or [""]) \
            if self.groups else pd.Categorical.from_codes(np.full(n, -1), categories=["none"])
        out["calibration_weight"] = spread(self.weight, np.nan)
        keys = sorted(self.set_names)
        texts = [self.set_names[k][0] for k in keys]
        # Set codes are sparse (offset by the number of levels << 20): find them among
        # the few used keys rather than through a table as large as the largest code.
        codes = np.where(self.set_code >= 0,
                         np.searchsorted(np.asarray(keys, dtype=np.int64), np.maximum(self.set_code, 0)), -1)
        # Distinct texts can repeat across metrics of different sizes: merge them.
        uniq = list(dict.fromkeys(texts))
        remap = np.array([uniq.index(t) for t in texts] + [-1], dtype=np.int64)
        out["score_set"] = pd.Categorical.from_codes(spread(remap[codes], -1), categories=uniq or ["none"])
        out["score_set_low"] = spread(self.low, np.nan)
        out["score_set_high"] = spread(self.high, np.nan)
        for col in sorted(self.probs, key=lambda c: float(c[5:])):
            out[col] = spread(self.probs[col], np.nan)
        return out


def distinct_rows(x: np.ndarray, X: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Code of each row's distinct feature values (n,) and the first row of each code (k,)."""
    codes, _ = pd.factorize(x)
    if X is not None and X.shape[1]:
        for j in range(X.shape[1]):
            cj, uj = pd.factorize(X[:, j])
            codes, _ = pd.factorize(codes.astype(np.int64) * (len(uj) + 1) + cj)
    k = int(codes.max()) + 1 if len(codes) else 0
    first = np.full(k, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return codes, first


def pair_codes(sub: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Code of each row's normalised (language, script) pair (n,), and the pairs."""
    l_codes, l_uniq = pd.factorize(sub["language"], sort=False)
    problems, tags = [], []
    for value in l_uniq:
        try:
            tags.append(normalize_language(str(value)))
        except UnknownLanguage:
            tags.append(None)
            problems.append(Problem("not a BCP-47 tag or a known language name", column="language", value=value))
    if (l_codes < 0).any():
        problems.append(Problem(f"{int((l_codes < 0).sum())} judge row(s) have no language", column="language"))
    if problems:
        raise InputError(problems, summary="unknown languages")
    if "script" in sub.columns:
        s_codes, s_uniq = pd.factorize(sub["script"], sort=False)
        scripts = [str(v).strip().title() if str(v).strip() else None for v in s_uniq]
    else:
        s_codes, scripts = np.full(len(sub), -1), []
    combo, combos = pd.factorize(l_codes.astype(np.int64) * (len(scripts) + 1) + (s_codes + 1))
    pairs = []
    for c in combos:
        lc, sc = divmod(int(c), len(scripts) + 1)
        tag = tags[lc]
        script = scripts[sc - 1] if sc > 0 and scripts[sc - 1] else default_script(tag)
        pairs.append((with_script(tag, script), script))  # pa + Arab is pa-Arab, as the ratings table says
    # Different raw spellings can normalise to the same pair: merge them.
    uniq = list(dict.fromkeys(pairs))
    remap = np.array([uniq.index(p) for p in pairs], dtype=np.int64)
    return remap[combo], uniq


def apply_features(sub: pd.DataFrame, full: pd.DataFrame, design: dict, scale) -> pd.DataFrame:
    """The feature columns ``design`` needs, for the rows of one metric."""
    feats = pd.DataFrame({"judge_score": sub["score"].to_numpy(dtype=float)})
    if design["iso_feature"] == "judge_score" or design["onehot"]:
        check_on_scale(feats["judge_score"].to_numpy(), scale)
    needs = set(design["numeric"]) | {design["iso_feature"]}
    if needs & {"judge_expected"} or any(c.startswith("judge_p") for c in needs):
        if "score_probs" not in sub.columns:
            raise InputError(Problem("this calibrator uses the judge's score_probs; the column is missing",
                                     column="score_probs"))
        p = parse_score_probs(sub["score_probs"].reset_index(drop=True), scale)
        feats["judge_expected"] = p @ np.asarray(scale.levels)
        for j in range(1, p.shape[1]):
            feats[f"judge_p{j}"] = p[:, j]
    others = [c for c in design["numeric"] if c.startswith("judge_") and c not in feats.columns
              and not c.startswith("judge_p") and c != "judge_expected"]
    if others:
        judge_rows = full[full["rater_kind"] == "judge"] if "rater_kind" in full.columns else full
        wide = judge_rows.pivot_table(index="item_id", columns="metric", values="score", aggfunc="first")
        for col in others:
            m = col[len("judge_"):]
            values = sub["item_id"].map(wide[m]) if m in wide.columns else pd.Series(np.nan, index=sub.index)
            feats[col] = values.to_numpy(dtype=float)
    if "response_length" in design["numeric"]:
        if "response" not in sub.columns:
            raise InputError(Problem("this calibrator uses the response length; the response column is missing",
                                     column="response"))
        feats["response_length"] = log_text_length(sub["response"])
    return feats
