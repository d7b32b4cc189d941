"""Serving a fitted GroupedCalibrator: apply(df), predict, predict_proba, transform.

Every row is served by the deepest group that has a calibrator: its language
(and script), else its script, else the metric. The output says which
(``calibration_level``, ``calibration_group``) and how much that group's own
calibrator weighed (``calibration_weight``; the rest came from its parents).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.calibration import conformal as cf
from judgecal.calibration.design import check_on_scale, design_matrix
from judgecal.calibration.examples import log_text_length, parse_score_probs
from judgecal.calibration.hierarchy import Components, combine, node_predict
from judgecal.errors import CalibratorError, CalibratorMismatchError, InputError, Problem

OUT_COLUMNS = ("score_calibrated", "calibration_level", "calibration_group", "calibration_weight",
               "score_set", "score_set_low", "score_set_high")


def _w(n: int, k) -> float:
    k = float("inf") if k is None else float(k)
    return 0.0 if np.isinf(k) else n / (n + k)


class ServingMixin:
    """Prediction methods shared by fitted and loaded GroupedCalibrators."""

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "nodes_")

    def _require_fitted(self) -> None:
        if not hasattr(self, "nodes_"):
            raise CalibratorError("this calibrator is not fitted: call fit(ratings) or load one with load_calibrator(path)")

    def _build_serving(self) -> None:
        """Per metric: conformal scores as arrays, and an empty cache of chains."""
        self._serve = {}
        for metric in self.metric_info_:
            if f"{metric}|*|*" not in self.nodes_:
                raise CalibratorError(f"calibrator has no metric-level node for {metric!r}")
            conformal = {}
            for key, c in self.conformal_.items():
                if key.split("|", 1)[0] == metric:
                    conformal[key] = [np.repeat(np.asarray(f["values"], float), np.asarray(f["counts"], int))
                                      for f in c["folds"]]
            self._serve[metric] = {"conformal": conformal, "chains": {}}

    def _served(self, nodes: dict, metric: str, lang: str, script: str, x_iso, X, levels):
        """Expected scores (r,), probabilities (r, K) or None, serving level and its own weight
        for rows of (lang, script) with distinct features x_iso (r,), X (r, p).

        Same combination as in the cross-validation that chose the pseudo-counts
        (hierarchy.combine): a missing node weighs 0 and carries no offset.
        """
        k = self.metric_info_[metric]["shrinkage"]
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
        if lnode:
            return e, p, "language", w_l
        return e, p, ("script" if snode else "metric"), (w_s if snode else 1.0)

    # -------------------------------------------------------------- serving
    def apply(self, df: pd.DataFrame, *, allow_mismatch: bool = False, randomize: bool = True) -> pd.DataFrame:
        """Copy of df with calibrated columns added to the judge rows.

        Adds score_calibrated, calibration_level ('language'|'script'|'metric'),
        calibration_group, calibration_weight, score_set (levels like "1,2"),
        score_set_low/high and, for ordinal metrics, prob_<level>. Rows of human
        raters (rater_kind == 'human') are passed through with these empty.
        Scores from another judge or judge prompt raise CalibratorMismatchError
        unless ``allow_mismatch``.
        """
        self._require_fitted()
        if not isinstance(df, pd.DataFrame):
            raise InputError(Problem(f"apply needs a DataFrame of judge rows, got {type(df).__name__}"))
        missing = [c for c in ("item_id", "language", "metric", "score") if c not in df.columns]
        if missing:
            raise InputError([Problem("required column is missing", column=c) for c in missing],
                             summary="cannot apply the calibrator")
        use = (df["rater_kind"] == "judge").to_numpy() if "rater_kind" in df.columns else np.ones(len(df), bool)
        self._check_judge(df, use, allow_mismatch)
        out = df.copy()
        n = len(df)
        res = {"score_calibrated": np.full(n, np.nan), "calibration_level": np.full(n, None, object),
               "calibration_group": np.full(n, None, object), "calibration_weight": np.full(n, np.nan),
               "score_set": np.full(n, None, object), "score_set_low": np.full(n, np.nan),
               "score_set_high": np.full(n, np.nan)}
        prob_cols: dict[str, np.ndarray] = {}
        idx = np.flatnonzero(use)
        if len(idx):
            sub = df.iloc[idx]
            metric = self._resolve_metrics(sub["metric"])
            language, script = _languages(sub)
            u = cf.tie_breaks(sub["item_id"], metric) if randomize else np.ones(len(sub))
            m_codes, m_names = pd.factorize(metric)
            for j, m in enumerate(m_names):
                rows = np.flatnonzero(m_codes == j)
                self._serve_metric(m, sub.iloc[rows], language[rows], script[rows], u[rows],
                                   idx[rows], res, prob_cols, n, df)
        for col, values in res.items():
            out[col] = values
        for col in sorted(prob_cols):
            out[col] = prob_cols[col]
        return out

    def _check_judge(self, df: pd.DataFrame, use: np.ndarray, allow: bool) -> None:
        if allow:
            return
        if "rater" in df.columns:
            judges = pd.unique(df.loc[use, "rater"].astype(str))
            other = [j for j in judges if j != self.judge_]
            if other:
                raise CalibratorMismatchError(
                    f"this calibrator was fitted for judge {self.judge_!r} but the table has scores from "
                    f"{other[:5]}; a calibrator does not transfer between judges. Fit one for that judge, "
                    "or pass allow_mismatch=True (--allow-mismatch) to apply it anyway.")
        if self.judge_prompt_hash_ and "judge_prompt_hash" in df.columns:
            hashes = pd.unique(df.loc[use, "judge_prompt_hash"].dropna().astype(str))
            other = [h for h in hashes if h != self.judge_prompt_hash_]
            if other:
                raise CalibratorMismatchError(
                    f"this calibrator was fitted for judge prompt {self.judge_prompt_hash_} but the table "
                    f"has scores from prompt(s) {other[:3]}; pass allow_mismatch=True to apply it anyway.")

    def _resolve_metrics(self, metric: pd.Series) -> pd.Series:
        known = {}
        for mid, scale in self.scales_.items():
            for name in (mid, *scale.aliases):
                known[name.lower()] = mid
        uniq = pd.unique(metric.astype(str))
        mapping = {v: known.get(v.strip().lower()) for v in uniq}
        bad = [v for v, m in mapping.items() if m is None]
        if bad:
            raise CalibratorMismatchError(
                f"metric(s) {bad} are not in this calibrator (it covers {sorted(self.scales_)})")
        return metric.astype(str).map(mapping)

    def _serve_metric(self, metric, sub, language, script, u, out_rows, res, prob_cols, n, full) -> None:
        info, serve, scale = self.metric_info_[metric], self._serve[metric], self.scales_[metric]
        levels = np.asarray(scale.levels)
        design = info["design"]
        feats = _apply_features(sub, full, design, scale)
        x_iso = feats[design["iso_feature"]].to_numpy(dtype=float)
        X = design_matrix(feats, design) if info["method"] == "ordinal" else None
        # Predictions depend on the features only: compute them once per distinct
        # feature row within each group and broadcast (judge scores are discrete).
        feat_rows = x_iso[:, None] if X is None else np.column_stack([x_iso, X])
        pair_codes, pairs = pd.factorize(pd.Series(language + "\x1f" + script))
        E = np.empty(len(sub))
        P = np.empty((len(sub), len(levels))) if X is not None else None
        greater = np.empty((len(sub), len(levels)))
        equal = np.empty((len(sub), len(levels)))
        n_cal = np.empty(len(sub))
        alpha = 1 - self.coverage
        for j, pair in enumerate(pairs):
            lang, scr = pair.split("\x1f")
            rows = np.flatnonzero(pair_codes == j)
            uniq, inv = np.unique(feat_rows[rows], axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            ux, uX = uniq[:, 0], (uniq[:, 1:] if X is not None else None)
            e, p, level, own = self._served(self.nodes_, metric, lang, scr, ux, uX, levels)
            E[rows] = e[inv]
            if P is not None:
                P[rows] = p[inv]
            ckey = next(k for k in (f"{metric}|{lang}|{scr}", f"{metric}|*|{scr}", f"{metric}|*|*")
                        if k in serve["conformal"])
            g = np.zeros((len(ux), len(levels)))
            q = np.zeros((len(ux), len(levels)))
            for f, cal in enumerate(serve["conformal"][ckey]):
                fe, fp, _, _ = self._served(self.fold_nodes_[metric][f], metric, lang, scr, ux, uX, levels)
                cand = cf.candidate_scores(levels, fe, fp)
                right = np.searchsorted(cal, cand, side="right")
                g += len(cal) - right
                q += right - np.searchsorted(cal, cand, side="left")
            greater[rows], equal[rows] = g[inv], q[inv]
            n_cal[rows] = sum(len(c) for c in serve["conformal"][ckey])
            res["calibration_level"][out_rows[rows]] = level
            res["calibration_group"][out_rows[rows]] = f"{metric}|{lang}|{scr}" if level == "language" else (
                f"{metric}|*|{scr}" if level == "script" else f"{metric}|*|*")
            res["calibration_weight"][out_rows[rows]] = own
        sets = (greater + u[:, None] * (equal + 1)) / (n_cal[:, None] + 1) > alpha
        res["score_calibrated"][out_rows] = E
        text, low, high = cf.format_sets(sets, levels)
        res["score_set"][out_rows], res["score_set_low"][out_rows], res["score_set_high"][out_rows] = text, low, high
        if P is not None:
            for j, lv in enumerate(levels):
                col = prob_cols.setdefault(f"prob_{lv:g}", np.full(n, np.nan))
                col[out_rows] = P[:, j]

    # ------------------------------------------------- sklearn-style access
    def predict(self, X, language=None, metric=None, script=None) -> np.ndarray:
        """Calibrated expected human score, shape (n,).

        X is either a ratings/judged DataFrame (NaN on human rows) or an array of
        judge scores with ``language`` and ``metric`` (a value or one per row).
        """
        return self._frame_result(X, language, metric, script)["score_calibrated"].to_numpy(dtype=float)

    def predict_proba(self, X, language=None, metric=None, script=None) -> np.ndarray:
        """Probability of each human level, shape (n, K); ordinal calibrators of one metric only."""
        out = self._frame_result(X, language, metric, script)
        cols = sorted((c for c in out.columns if c.startswith("prob_")), key=lambda c: float(c[5:]))
        metrics = pd.unique(out["metric"].astype(str))
        if not cols or len(metrics) != 1 or self.metric_info_[self._resolve_metrics(pd.Series(metrics)).iloc[0]]["method"] != "ordinal":
            raise CalibratorError("predict_proba needs rows of one metric calibrated by the ordinal method "
                                  f"(methods here: { {m: i['method'] for m, i in self.metric_info_.items()} })")
        scale = self.scales_[self._resolve_metrics(pd.Series(metrics)).iloc[0]]
        return out[[f"prob_{lv:g}" for lv in scale.levels]].to_numpy(dtype=float)

    def transform(self, X) -> pd.DataFrame:
        """Same as apply(X): lets the calibrator be a Pipeline step."""
        return self.apply(X)

    def _frame_result(self, X, language, metric, script) -> pd.DataFrame:
        self._require_fitted()
        if isinstance(X, pd.DataFrame):
            return self.apply(X)
        scores = np.asarray(X, dtype=float).reshape(-1)
        if language is None or metric is None:
            raise InputError(Problem("predict on bare scores needs language= and metric="))
        frame = pd.DataFrame({"item_id": np.arange(len(scores)).astype(str), "language": language,
                              "metric": metric, "score": scores})
        if script is not None:
            frame["script"] = script
        return self.apply(frame, randomize=False)


def _languages(sub: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Normalised language tags and scripts of the rows, each (n,) str."""
    from judgecal.data.languages import UnknownLanguage, default_script, normalize_language

    codes, uniq = pd.factorize(sub["language"].astype(str))
    tags = []
    problems = []
    for value in uniq:
        try:
            tags.append(normalize_language(value))
        except UnknownLanguage:
            tags.append(None)
            problems.append(Problem("not a BCP-47 tag or a known language name", column="language", value=value))
    if problems:
        raise InputError(problems, summary="unknown languages")
    language = np.asarray(tags, dtype=object)[codes].astype(str)
    implied = np.asarray([default_script(t) for t in tags], dtype=object)[codes]
    if "script" in sub.columns:
        given = sub["script"].astype("string").str.strip().str.title()
        script = given.where(given.notna() & (given != ""), pd.Series(implied, index=sub.index))
        script = script.to_numpy(dtype=object).astype(str)
    else:
        script = implied.astype(str)
    return language, script


def _apply_features(sub: pd.DataFrame, full: pd.DataFrame, design: dict, scale) -> pd.DataFrame:
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
