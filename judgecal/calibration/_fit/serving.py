"""Serving a fitted GroupedCalibrator's state: apply(df), and predictions on bare scores.

Every row is served by the deepest group whose calibrator moves its prediction
(a calibrator and a weight or offset above 0): its language (and script), else its
script, else the metric. The output says which
(``calibration_level``, ``calibration_group``) and how much that group's own
calibrator weighed (``calibration_weight``; the rest came from its parents).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.calibration._fit import conformal as cf
from judgecal.calibration._fit.design import design_matrix
from judgecal.calibration._fit.hierarchy import Components, combine, node_predict
from judgecal.calibration._fit.serving_rows import Result, apply_features, distinct_rows, pair_codes
from judgecal.calibration._fit.state import FittedGroups
from judgecal.errors import CalibratorError, CalibratorMismatchError, InputError, Problem

OUT_COLUMNS = ("score_calibrated", "calibration_level", "calibration_group", "calibration_weight",
               "score_set", "score_set_low", "score_set_high")


def _w(n: int, k) -> float:
    k = float("inf") if k is None else float(k)
    return 0.0 if np.isinf(k) else n / (n + k)


class GroupServer:
    """Calibrates judge rows with a fitted state (:class:`FittedGroups`), for fitted and loaded
    GroupedCalibrators alike. Built once per state: the conformal scores become arrays here."""

    def __init__(self, state: FittedGroups):
        self.state = state
        self._serve = {}
        for metric in state.metric_info:
            if f"{metric}|*|*" not in state.nodes:
                raise CalibratorError(f"calibrator has no metric-level node for {metric!r}")
            conformal = {}
            for key, c in state.conformal.items():
                if key.split("|", 1)[0] == metric:
                    conformal[key] = [np.repeat(np.asarray(f["values"], float), np.asarray(f["counts"], int))
                                      for f in c["folds"]]
            self._serve[metric] = {"conformal": conformal, "chains": {}}

    def _served_language(self, metric: str, lang: str, script: str) -> str:
        """The language whose group serves rows tagged ``lang``: a regional or
        variant tag with no group of its own (bn-IN, pt-BR) is served by its
        language's group in the same script (bn, pt) before the script's."""
        if f"{metric}|{lang}|{script}" in self.state.nodes or "-" not in lang:
            return lang
        base = lang.split("-", 1)[0]
        return base if f"{metric}|{base}|{script}" in self.state.nodes else lang

    def _served(self, nodes: dict, metric: str, lang: str, script: str, x_iso, X, levels):
        """Expected scores (r,), probabilities (r, K) or None, serving level and its own weight
        for rows of (lang, script) with distinct features x_iso (r,), X (r, p).

        Same combination as in the cross-validation that chose the pseudo-counts
        (hierarchy.combine): a missing node weighs 0 and carries no offset.
        """
        k = self.state.metric_info[metric]["shrinkage"]
        found = [nodes.get(f"{metric}|{lang}|{script}"), nodes.get(f"{metric}|*|{script}"), nodes[f"{metric}|*|*"]]
        r = len(x_iso)
        E = np.zeros((r, 3))
        P = None if X is None else np.zeros((r, 3, len(levels)))
        for j, node in enumerate(found):
            if node is not None:
                e, p = node_predict(node["model"], x_iso, X, levels)
                E[:, j] = e
                if P is not None:
                    P[:, j] = p
        lnode, snode = found[0], found[1]
        w_l = _w(lnode["n_items"], k["language"]) if lnode else 0.0
        w_s = _w(snode["n_items"], k["script"]) if snode else 0.0
        d_l = lnode["offset"] if lnode else 0.0
        d_s = snode["offset"] if snode else 0.0
        full = lambda v: np.full(r, v)  # noqa: E731
        e, p = combine(Components(E, P, np.zeros((r, 3))), levels, full(w_l), full(d_l), full(w_s), full(d_s))
        # The level named is the most specific one that moves the prediction: a node
        # whose weight and offset are both 0 (pseudo-count inf) is present but unused.
        if lnode and (w_l > 0 or d_l != 0):
            return e, p, "language", w_l
        if snode and (w_s > 0 or d_s != 0):
            return e, p, "script", w_s
        return e, p, "metric", 1.0

    # -------------------------------------------------------------- serving
    def apply(self, df: pd.DataFrame, *, coverage: float, allow_mismatch: bool = False,
              randomize: bool = True) -> pd.DataFrame:
        """Copy of df with calibrated columns added to the judge rows.

        Adds score_calibrated, calibration_level ('language'|'script'|'metric'),
        calibration_group, calibration_weight, score_set (levels like "1,2"),
        score_set_low/high and, for ordinal metrics, prob_<level>. Rows of human
        raters (rater_kind == 'human') are passed through with these empty.
        Scores from another judge or judge prompt raise CalibratorMismatchError
        unless ``allow_mismatch``. ``coverage``: of the prediction sets.
        """
        if not isinstance(df, pd.DataFrame):
            raise InputError(Problem(f"apply needs a DataFrame of judge rows, got {type(df).__name__}"))
        missing = [c for c in ("item_id", "language", "metric", "score") if c not in df.columns]
        if missing:
            raise InputError([Problem("required column is missing", column=c) for c in missing],
                             summary="cannot apply the calibrator")
        if pd.api.types.is_bool_dtype(df["score"]):  # True/False would pass as 1.0/0.0
            raise InputError(Problem("scores are True/False; judge scores must be numbers on the metric's scale",
                                     column="score"), summary="cannot apply the calibrator")
        use = (df["rater_kind"] == "judge").to_numpy() if "rater_kind" in df.columns else np.ones(len(df), bool)
        self._check_judge(df, use, allow_mismatch)
        n = len(df)
        idx = np.flatnonzero(use)
        sub = df if len(idx) == n else df.iloc[idx]
        r = len(sub)
        res = Result(r)
        if r:
            m_codes, m_names = pd.factorize(sub["metric"], sort=False)
            m_names = self.resolve_metrics(pd.Series(np.asarray(m_names, dtype=object))).tolist()
            p_codes, pairs = pair_codes(sub)
            u = cf.tie_breaks(sub["item_id"], m_codes, m_names) if randomize else np.ones(r)
            # One stable sort groups the rows by (metric, language, script); every
            # group is then a contiguous slice.
            key = m_codes.astype(np.int64) * len(pairs) + p_codes
            # Few distinct keys: a 16-bit key lets numpy use its O(n) radix sort.
            order = np.argsort(key.astype(np.int16) if key.max() < 2**15 else key, kind="stable")
            cuts = np.flatnonzero(np.diff(key[order])) + 1
            starts = np.concatenate([[0], cuts])
            ends = np.concatenate([cuts, [r]])
            by_metric: dict[int, list] = {}
            for a0, b0 in zip(starts, ends, strict=True):
                k = int(key[order[a0]])
                by_metric.setdefault(k // len(pairs), []).append((a0, b0, k % len(pairs)))
            for mj, blocks in by_metric.items():
                rows = order[blocks[0][0]:blocks[-1][1]]
                self._serve_metric(m_names[mj], sub, rows, blocks, pairs, u, res, df, coverage)
        return res.attach(df, idx)

    def _check_judge(self, df: pd.DataFrame, use: np.ndarray, allow: bool) -> None:
        if allow:
            return
        if "rater" in df.columns:
            judges = pd.unique(df.loc[use, "rater"].astype(str))
            other = [j for j in judges if j != self.state.judge]
            if other:
                raise CalibratorMismatchError(
                    f"this calibrator was fitted for judge {self.state.judge!r} but the table has scores from "
                    f"{other[:5]}; a calibrator does not transfer between judges. Fit one for that judge, "
                    "or pass allow_mismatch=True (judgecal apply --allow-mismatch) to apply it anyway.")
        if self.state.judge_prompt_hash and "judge_prompt_hash" in df.columns and "metric" in df.columns:
            rows = df.loc[use & df["judge_prompt_hash"].notna().to_numpy(), ["metric", "judge_prompt_hash"]].astype(str)
            seen = rows.drop_duplicates()
            other = [(m, h) for m, h in seen.itertuples(index=False)
                     if self.state.judge_prompt_hash.get(m) not in (None, h)]
            if other:
                m, h = other[0]
                raise CalibratorMismatchError(
                    f"this calibrator was fitted for judge prompt {self.state.judge_prompt_hash[m]} on metric {m!r} "
                    f"but the table has scores from prompt {h}"
                    + (f" (and {len(other) - 1} more metric/prompt pairs)" if len(other) > 1 else "")
                    + "; pass allow_mismatch=True (judgecal apply --allow-mismatch) to apply it anyway.")

    def resolve_metrics(self, metric: pd.Series) -> pd.Series:
        known = {}
        for mid, scale in self.state.scales.items():
            for name in (mid, *scale.aliases):
                known[name.lower()] = mid
        uniq = pd.unique(metric.astype(str))
        mapping = {v: known.get(v.strip().lower()) for v in uniq}
        bad = [v for v, m in mapping.items() if m is None]
        if bad:
            raise CalibratorMismatchError(
                f"metric(s) {bad} are not in this calibrator (it covers {sorted(self.state.scales)})")
        return metric.astype(str).map(mapping)

    def _serve_metric(self, metric, sub, rows, blocks, pairs, u, res, full, coverage) -> None:
        """Calibrate ``rows`` (positions in sub, grouped in ``blocks`` of one (language, script) each)."""
        info, serve, scale = self.state.metric_info[metric], self._serve[metric], self.state.scales[metric]
        levels = np.asarray(scale.levels)
        design = info["design"]
        needed = ["score"]
        if {"judge_expected"} & ({design["iso_feature"]} | set(design["numeric"])) or any(
                c.startswith("judge_p") for c in design["numeric"]):
            needed.append("score_probs")
        if any(c.startswith("judge_") for c in design["numeric"]):
            needed.append("item_id")
        if "response_length" in design["numeric"]:
            needed.append("response")
        # Only the columns the features need: copying every text column of a large table is slow.
        part = sub[[c for c in dict.fromkeys(needed) if c in sub.columns]].iloc[rows]
        feats = apply_features(part, full, design, scale)
        x_iso = feats[design["iso_feature"]].to_numpy(dtype=float)
        X = design_matrix(feats, design) if info["method"] == "ordinal" else None
        base = blocks[0][0]
        alpha = 1 - coverage
        for a0, b0, pj in blocks:
            lang, scr = pairs[pj]
            lang = self._served_language(metric, lang, scr)
            sl = slice(a0 - base, b0 - base)
            out_rows = rows[sl]
            # Predictions depend on the features only: compute them once per
            # distinct feature row (judge scores are discrete) and broadcast.
            inv, first = distinct_rows(x_iso[sl], None if X is None else X[sl])
            ux = x_iso[sl][first]
            uX = None if X is None else X[sl][first]
            e, p, level, own = self._served(self.state.nodes, metric, lang, scr, ux, uX, levels)
            ckey = next(k for k in (f"{metric}|{lang}|{scr}", f"{metric}|*|{scr}", f"{metric}|*|*")
                        if k in serve["conformal"])
            greater = np.zeros((len(ux), len(levels)))
            equal = np.zeros((len(ux), len(levels)))
            n_cal = 0
            for f, cal in enumerate(serve["conformal"][ckey]):
                fe, fp, _, _ = self._served(self.state.fold_nodes[metric][f], metric, lang, scr, ux, uX, levels)
                g, q = cf.count_scores(cal, cf.candidate_scores(levels, fe, fp))
                greater += g
                equal += q
                n_cal += len(cal)
            sets = cf.sets_from_counts(greater[inv], equal[inv], n_cal, u[out_rows], alpha)
            group = f"{metric}|{lang}|{scr}" if level == "language" else (
                f"{metric}|*|{scr}" if level == "script" else f"{metric}|*|*")
            res.put(out_rows, e[inv], None if p is None else p[inv], levels, sets, level, group, own)


def bare_scores_frame(X, language, metric, script) -> pd.DataFrame:
    """A judged table for bare judge scores X (n,): one row each, with ``language``, ``metric``
    (and ``script``) given once for every row or one per row."""
    scores = np.asarray(X, dtype=float).reshape(-1)
    if language is None or metric is None:
        raise InputError(Problem("predict on bare scores needs language= and metric="))
    n = len(scores)

    def column(value):
        # One value for every row: a one-category column, not n copies of a string.
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value]) \
            if isinstance(value, str) else value

    # The item ids only key the tie-break draws, which randomize=False skips: integers suffice.
    frame = pd.DataFrame({"item_id": np.arange(n), "language": column(language),
                          "metric": column(metric), "score": scores})
    if script is not None:
        frame["script"] = column(script)
    return frame
