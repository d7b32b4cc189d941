"""Calibrated pairwise verdicts: P(a native says system_1 better / tie / system_2 better).

The judge's combined verdict per pair (:func:`judgecal.data.battle_verdicts.judged_pairs`:
both orders where judged, ``verdict_probs`` where given) is the feature, the
natives' votes the target. The model is the project's ordinal
(proportional-odds) :class:`~judgecal.calibration.OrdinalCalibrator`, one per
language, script and all languages, partially pooled (language -> script ->
all) with pseudo-counts chosen by cross-validation grouped by prompt on the
held-out log-loss of the native votes (``_machinery/pooling.py``). The outcome
is ordered (system_1 better < tie < system_2 better), as the ordinal model
needs. Probabilities are for a native who sees response_1 first (as PARIKSHA's
natives did); a native shown the swapped order votes on the same canonical outcome.

Why not GroupedCalibrator itself: its pooling is chosen by the held-out error
of the expected level, which barely sees ties. On PARIKSHA it pooled every
language into its script (k_language = inf), so Hindi (natives tie 6 %) and
Marathi (42 %) got the same tie rate; ``grouped_ratings_route`` keeps that
route for comparison (bench/pairwise_quality.py prints both).

Files: versioned JSON with a SHA-256 of its content (no pickle), as calibrators.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from judgecal.calibration import out_of_fold_predictions
from judgecal.data.battle_verdicts import human_votes, judged_pairs
from judgecal.data.battles import OUTCOME_LABELS, outcomes
from judgecal.data.metrics import MetricRegistry, MetricScale
from judgecal.errors import ConfigError, InputError, Problem
from judgecal.pairwise._machinery import persist as ps
from judgecal.pairwise._machinery import pooling as pl

METRIC = "pairwise"
SCALE = MetricScale(METRIC, "pairwise verdict", (0, 1, 2), OUTCOME_LABELS,
                    description="Which of two responses is better, in the pair's canonical order.")
REGISTRY = MetricRegistry([SCALE], builtins=False)
PROB_COLUMNS = ("prob_system_1", "prob_tie", "prob_system_2")


def battles_as_ratings(battles: pd.DataFrame, judge: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The battles as a ratings table of metric ``pairwise`` (levels 0/1/2).

    Judge rows: one per pair, score = combined outcome, score_probs = combined
    distribution. Human rows: one per vote, score = canonical outcome; a native
    who judged both orders of a pair counts as two raters (``<rater>#21``).
    Returns (ratings, judged pairs).
    """
    pairs = judged_pairs(battles, judge)
    probs = pairs[["p_system_1", "p_tie", "p_system_2"]].to_numpy()
    jrows = pd.DataFrame({
        "item_id": pairs["pair_id"], "language": pairs["language"], "script": pairs["script"],
        "metric": METRIC, "rater": pairs["rater"], "rater_kind": "judge",
        "score": pairs["outcome"].astype(float), "prompt_id": pairs["prompt_id"],
        "score_probs": [json.dumps({"0": a, "1": b, "2": c}) for a, b, c in probs],
    })
    votes = battles[battles["rater_kind"] == "human"]
    hrows = pd.DataFrame({
        "item_id": votes["pair_id"], "language": votes["language"], "script": votes["script"],
        "metric": METRIC, "rater": np.where(votes["shown"] == "21", votes["rater"] + "#21", votes["rater"]),
        "rater_kind": "human", "score": outcomes(votes["verdict"], votes["shown"]).astype(float),
        "prompt_id": votes["prompt_id"], "score_probs": None,
    })
    return pd.concat([jrows, hrows], ignore_index=True), pairs


FEATURES = ("score", "probs")
POOLING = ("partial", "none", "complete")


def _features(pairs: pd.DataFrame, features) -> tuple[str, ...]:
    if features == "auto":
        # The distribution adds information only where both orders or the judge's
        # own probabilities were seen; otherwise it repeats the verdict.
        return ("score", "probs") if (pairs["n_orders"] > 1).any() or pairs["has_probs"].any() else ("score",)
    features = tuple(features)
    if not features or set(features) - set(FEATURES):
        raise ConfigError(f"features must be 'auto' or a non-empty tuple from {FEATURES}, not {features!r}")
    return features


def design(pairs: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    """Pair features, shape (p, f): one-hot combined verdict (tie, system_2; the
    system_1 level is the baseline) and/or the combined distribution (tie, system_2)."""
    parts = []
    if "score" in features:
        o = pairs["outcome"].to_numpy()
        parts.append(np.column_stack([o == 1, o == 2]).astype(float))
    if "probs" in features:
        parts.append(pairs[["p_tie", "p_system_2"]].to_numpy(dtype=float))
    return np.hstack(parts)


def _prepared(battles: pd.DataFrame, judge):
    """Judged pairs, their native votes as (vote_pair (v,), vote_y (v,)), and
    how many votes fall on pairs the judge did not see."""
    pairs = judged_pairs(battles, judge)
    votes = human_votes(battles)
    index = pd.Series(np.arange(len(pairs)), index=pd.Index(pairs["pair_id"]))
    vote_pair = votes["pair_id"].map(index)
    seen = vote_pair.notna().to_numpy()
    return pairs, vote_pair[seen].to_numpy(dtype=np.int64), votes["outcome"].to_numpy()[seen], int((~seen).sum())


class PairwiseCalibrator(BaseEstimator):
    """Judge verdicts -> P(native says system_1 better / tie / system_2 better).

    Parameters
    ----------
    judge : the judge to calibrate when the table holds several
    features : 'auto' (the verdict; plus the combined distribution when both
        orders or verdict_probs are present) or a tuple from ('score', 'probs')
    model : 'ordinal' (OrdinalCalibrator nodes), 'table' (verdict x vote
        counts per node; reaches what a location-shift model cannot, such as
        natives tying far more often after a judge's tie than after its other
        verdicts, see bench/README.md), or 'auto' (the one with the lower
        held-out log-loss in the inner cross-validation)
    pooling : 'partial' (language -> script -> all, pseudo-counts by CV),
        'none' (each language alone), 'complete' (one model for all languages)
    min_group_size : a language or script with fewer pairs gets no node of its own
    n_splits, random_state : the inner cross-validation (grouped by prompt_id)
    alpha, prior_weight : OrdinalCalibrator regularisation

    Attributes
    ----------
    judge_, model_ (the node model used), features_, nodes_ ({(language,
    script): node}), k_script_, k_language_, cv_log_loss_ ({model: inner-CV
    held-out log-loss per vote at its chosen pseudo-counts}), n_pairs_,
    n_votes_, votes_without_verdict_
    """

    def __init__(self, judge=None, *, model="auto", features="auto", pooling="partial", min_group_size=30,
                 n_splits=5, random_state=0, alpha=1e-3, prior_weight=1.0):
        self.judge = judge
        self.model = model
        self.features = features
        self.pooling = pooling
        self.min_group_size = min_group_size
        self.n_splits = n_splits
        self.random_state = random_state
        self.alpha = alpha
        self.prior_weight = prior_weight

    def fit(self, battles: pd.DataFrame, y=None):
        """Fit on a normalised battles table with native votes and judge verdicts."""
        if self.pooling not in POOLING:
            raise ConfigError(f"pooling must be one of {POOLING}, not {self.pooling!r}")
        if self.model not in (*pl.MODELS, "auto"):
            raise ConfigError(f"model must be one of {(*pl.MODELS, 'auto')}, not {self.model!r}")
        pairs, vote_pair, vote_y, unseen = _prepared(battles, self.judge)
        if not len(vote_y):
            raise InputError(Problem("no native vote falls on a pair the judge saw; calibration needs both",
                                     column="rater_kind"), summary="nothing to calibrate against")
        self.judge_ = str(pairs["rater"].iloc[0])
        self.features_ = _features(pairs, self.features)
        X = design(pairs, self.features_)
        lang, script = pairs["language"].to_numpy(dtype=object), pairs["script"].to_numpy(dtype=object)
        verdict = pairs["outcome"].to_numpy()
        kw = dict(alpha=float(self.alpha), prior_weight=float(self.prior_weight), min_group_size=int(self.min_group_size),
                  verdict=verdict)
        folds = pl.assign_folds(pairs["prompt_id"], pairs["language"], int(self.n_splits), self.random_state)
        # Inner CV grouped by prompt: the pseudo-counts and, for "auto", the node model.
        self.cv_log_loss_ = {}
        chosen = {}
        for model in (pl.MODELS if self.model == "auto" else (self.model,)):
            per_fold = []
            for f in range(int(self.n_splits)):
                test = np.flatnonzero(folds == f)
                nodes = pl.fit_nodes(X, lang, script, vote_pair, vote_y, folds != f, model=model, **kw)
                P, n = pl.components(nodes, X[test], verdict[test], lang[test], script[test])
                per_fold.append((test, P, n))
            k_s, k_l, loss = pl.choose_pseudo_counts(per_fold, vote_pair, vote_y, self.pooling)
            self.cv_log_loss_[model] = loss / len(vote_y)
            chosen[model] = (k_s, k_l)
        self.model_ = min(self.cv_log_loss_, key=self.cv_log_loss_.get)
        self.k_script_, self.k_language_ = chosen[self.model_]
        self.nodes_ = pl.fit_nodes(X, lang, script, vote_pair, vote_y, np.ones(len(pairs), bool), model=self.model_, **kw)
        self.n_pairs_, self.n_votes_, self.votes_without_verdict_ = len(pairs), int(len(vote_y)), unseen
        return self

    def predict_proba_pairs(self, pairs: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities (p, 3) for judged pairs (from judged_pairs)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "nodes_")
        X = design(pairs, self.features_)
        lang, script = pairs["language"].to_numpy(dtype=object), pairs["script"].to_numpy(dtype=object)
        P, n = pl.components(self.nodes_, X, pairs["outcome"].to_numpy(), lang, script)
        return pl.mix(P, n, self.k_script_, self.k_language_)

    def apply(self, battles: pd.DataFrame) -> pd.DataFrame:
        """Judged pairs (see judged_pairs) with prob_system_1, prob_tie,
        prob_system_2 (rows sum to 1) and calibration_group (the most specific
        node serving the pair: language, script or all)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "nodes_")
        pairs = judged_pairs(battles, self.judge_)
        probs = self.predict_proba_pairs(pairs)
        out = pairs.copy()
        for j, col in enumerate(PROB_COLUMNS):
            out[col] = probs[:, j]
        has_lang = {(lg, sc) for lg, sc in self.nodes_ if lg != pl.ALL}
        has_script = {sc for lg, sc in self.nodes_ if lg == pl.ALL and sc != pl.ALL}
        out["calibration_group"] = [
            f"{lg}/{sc}" if (lg, sc) in has_lang and self.k_language_ != np.inf
            else sc if sc in has_script and self.k_script_ != np.inf else "all"
            for lg, sc in zip(out["language"], out["script"], strict=True)]
        return out

    def save(self, path) -> Path:
        """Write as versioned, checksummed JSON (no pickle); returns the path."""
        return ps.save(self, path)

    @classmethod
    def load(cls, path, *, expect_judge: str | None = None) -> PairwiseCalibrator:
        """Read a file written by :meth:`save` (CalibratorFileError if damaged,
        edited or not one; CalibratorMismatchError for another judge)."""
        return ps.load(cls, path, expect_judge=expect_judge)


def cross_validated_pairs(battles: pd.DataFrame, *, n_splits: int = 5, random_state: int = 0,
                          **params) -> pd.DataFrame:
    """Held-out calibrated probabilities for every judged pair (nested CV).

    Outer folds keep a prompt's pairs together and spread each language over the
    folds; every fold's PairwiseCalibrator is fitted on the other folds only and
    chooses its pooling by its own inner CV, grouped by prompt too. Returns
    judged pairs with the PROB_COLUMNS, ``fold`` and ``model`` (the node model
    the fold's calibrator chose). ``params`` go to PairwiseCalibrator.
    """
    pairs = judged_pairs(battles, params.get("judge"))
    folds = pl.assign_folds(pairs["prompt_id"], pairs["language"], n_splits, random_state + 1)
    fold_of = dict(zip(pairs["pair_id"], folds, strict=True))
    in_fold = battles["pair_id"].map(fold_of).to_numpy()
    probs = np.full((len(pairs), 3), np.nan)
    model = np.full(len(pairs), None, dtype=object)
    for f in range(n_splits):
        train = battles[(in_fold != f)]
        cal = PairwiseCalibrator(n_splits=n_splits, random_state=random_state, **params).fit(train)
        test = folds == f
        probs[test] = cal.predict_proba_pairs(pairs[test])
        model[test] = cal.model_
    out = pairs.assign(fold=folds, model=model)
    for j, col in enumerate(PROB_COLUMNS):
        out[col] = probs[:, j]
    return out


def grouped_ratings_route(battles: pd.DataFrame, *, n_splits: int = 5, random_state: int = 0,
                          judge: str | None = None) -> pd.DataFrame:
    """For comparison: held-out probabilities from GroupedCalibrator (ordinal,
    partial pooling chosen by the expected level's error) on the battles turned
    into a ratings table of metric ``pairwise``. Same columns as cross_validated_pairs."""
    ratings, pairs = battles_as_ratings(battles, judge)
    oof = out_of_fold_predictions(ratings, method="ordinal", target="per_rater", groups="prompt_id",
                                  n_splits=n_splits, random_state=random_state, metrics=REGISTRY,
                                  judge=str(pairs["rater"].iloc[0]), features=("score",))
    oof = oof.set_index("item_id").loc[pairs["pair_id"]]
    out = pairs.assign(fold=oof["fold"].to_numpy())
    for col, level in zip(PROB_COLUMNS, ("prob_0", "prob_1", "prob_2"), strict=True):
        out[col] = oof[level].to_numpy(dtype=float)
    return out
