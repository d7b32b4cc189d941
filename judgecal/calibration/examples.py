"""Training examples for calibration: the judge's score beside the humans' ratings.

From a ratings table (human and judge rows) this builds one row per
(item, metric) that has both a judge score and at least one human rating, with
the human consensus as the target, and one row per human rating for per-rater
fitting. Judge features (score, expected score from ``score_probs``, the judge's
scores on the item's other metrics, response length) are columns of that table.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, MetricScale
from judgecal.errors import ConfigError, InputError, Problem

FEATURES = ("score", "expected", "probs", "other_metrics", "length")
TARGETS = ("consensus", "per_rater")


@dataclass
class Examples:
    """Paired judge/human data.

    items : DataFrame, one row per (item_id, metric): item_id, metric, language,
        script, cv_group, judge_score, feature columns, y (consensus target),
        y_level (consensus as a level), n_raters
    rater_item : ndarray (m,) row of ``items`` each human rating belongs to
    rater_level : ndarray (m,) the rating
    rater_weight : ndarray (m,) 1 / n_raters of its item, so every item weighs 1
    """

    items: pd.DataFrame
    rater_item: np.ndarray
    rater_level: np.ndarray
    rater_weight: np.ndarray
    judge: str
    judge_prompt_hash: str | None
    counts: dict = field(default_factory=dict)


def pick_judge(ratings: pd.DataFrame, judge: str | None) -> tuple[str, pd.DataFrame]:
    """The judge rows of one judge; error if the table holds several and none was named."""
    rows = ratings[ratings["rater_kind"] == "judge"]
    names = sorted(pd.unique(rows["rater"]).tolist())
    if not names:
        raise InputError(Problem("the table has no judge rows (rater_kind == 'judge')", column="rater_kind"),
                         summary="nothing to calibrate")
    if judge is None:
        if len(names) > 1:
            raise ConfigError(f"the table holds several judges {names}; say which one to calibrate (judge=...)")
        judge = names[0]
    elif judge not in names:
        raise ConfigError(f"judge {judge!r} is not in the table; judges found: {names}")
    return judge, rows[rows["rater"] == judge]


def prompt_hash_of(judge_rows: pd.DataFrame) -> str | None:
    """The single judge prompt hash of these rows, None if the column is absent/empty."""
    if "judge_prompt_hash" not in judge_rows.columns:
        return None
    hashes = pd.unique(judge_rows["judge_prompt_hash"].dropna().astype(str))
    if len(hashes) > 1:
        raise InputError(
            Problem(f"judge rows carry {len(hashes)} different judge_prompt_hash values "
                    f"({', '.join(hashes[:4])}); calibrate one judge prompt at a time",
                    column="judge_prompt_hash"),
            summary="mixed judge prompts",
        )
    return str(hashes[0]) if len(hashes) else None


def build_examples(
    ratings: pd.DataFrame,
    *,
    judge: str | None = None,
    features: tuple[str, ...] = ("score",),
    groups: str | None = None,
    metrics: MetricRegistry = DEFAULT_REGISTRY,
) -> Examples:
    """Pair the judge's scores with the human ratings of the same items.

    groups : column whose values keep items together in cross-validation
        (``prompt_id`` when present if None, else ``item_id``).
    """
    unknown = [f for f in features if f not in FEATURES]
    if unknown or "score" not in features and "expected" not in features:
        raise ConfigError(f"features must include 'score' or 'expected' and come from {FEATURES}; got {features}")
    groups = groups or ("prompt_id" if "prompt_id" in ratings.columns else "item_id")
    if groups not in ratings.columns:
        raise ConfigError(f"cannot group folds by {groups!r}: no such column")
    judge, jrows = pick_judge(ratings, judge)
    humans = ratings[ratings["rater_kind"] == "human"]
    if humans.empty:
        raise InputError(Problem("the table has no human ratings; calibration needs native-speaker ratings"),
                         summary="nothing to calibrate against")

    keep = ["item_id", "metric", "language", "script", "score"]
    extra = [c for c in ("response", "score_probs") if c in jrows.columns]
    judge_tab = jrows[keep + extra + ([groups] if groups not in keep else [])].rename(columns={"score": "judge_score"})
    if groups != "item_id" and judge_tab[groups].isna().any():
        n_missing = int(judge_tab[groups].isna().sum())
        raise InputError(Problem(f"{n_missing} judge row(s) have no {groups}; folds are grouped by it", column=groups),
                         summary="cannot build cross-validation folds")
    judge_tab = judge_tab.rename(columns={groups: "cv_group"}) if groups != "item_id" else judge_tab.assign(cv_group=judge_tab["item_id"])

    hum = humans[["item_id", "metric", "score"]]
    agg = hum.groupby(["item_id", "metric"], sort=False, observed=True)["score"].agg(["mean", "size"])
    agg = agg.rename(columns={"mean": "y_mean", "size": "n_raters"}).reset_index()
    items = judge_tab.merge(agg, on=["item_id", "metric"], how="inner")
    counts = {
        "judge_rows": len(judge_tab),
        "human_rows": len(humans),
        "judge_items_without_humans": len(judge_tab) - len(items),
        "human_items_without_judge": len(agg) - len(items),
    }
    if items.empty:
        raise InputError(Problem("no item has both a judge score and a human rating for the same metric"),
                         summary="nothing to calibrate")
    items = items.reset_index(drop=True)

    # Majority level per item (ties: the lower level, a conservative choice).
    cnt = hum.groupby(["item_id", "metric", "score"], sort=False, observed=True).size().rename("k").reset_index()
    cnt = cnt.sort_values(["item_id", "metric", "k", "score"], ascending=[True, True, False, True], kind="mergesort")
    majority = cnt.drop_duplicates(["item_id", "metric"])[["item_id", "metric", "score"]].rename(columns={"score": "y_major"})
    items = items.merge(majority, on=["item_id", "metric"], how="left")

    y = np.empty(len(items))
    y_level = np.empty(len(items))
    for mid in pd.unique(items["metric"]):
        scale = metrics.get(mid)
        rows = (items["metric"] == mid).to_numpy()
        if scale.measurement == "nominal":
            y[rows] = items.loc[rows, "y_major"].to_numpy()
            y_level[rows] = y[rows]
        else:
            y[rows] = items.loc[rows, "y_mean"].to_numpy()
            y_level[rows] = nearest_level(y[rows], scale)
    items["y"] = y
    items["y_level"] = y_level

    if "expected" in features or "probs" in features:
        _add_probability_features(items, metrics)
    if "other_metrics" in features:
        _add_other_metric_features(items, judge_tab)
    if "length" in features:
        if "response" not in items.columns or items["response"].isna().any():
            raise InputError(Problem("feature 'length' needs the response text on every judge row", column="response"),
                             summary="missing response text")
        items["response_length"] = log_text_length(items["response"])

    # Per-rater rows, each item's ratings sharing a total weight of 1.
    pos = pd.Series(np.arange(len(items)), index=pd.MultiIndex.from_frame(items[["item_id", "metric"]]))
    idx = pos.reindex(pd.MultiIndex.from_frame(hum[["item_id", "metric"]])).to_numpy()
    ok = ~np.isnan(idx)
    rater_item = idx[ok].astype(np.int64)
    rater_level = hum["score"].to_numpy(dtype=float)[ok]
    rater_weight = 1.0 / items["n_raters"].to_numpy(dtype=float)[rater_item]
    return Examples(items, rater_item, rater_level, rater_weight, judge, prompt_hash_of(jrows), counts)


def nearest_level(values: np.ndarray, scale: MetricScale) -> np.ndarray:
    """The scale level nearest each value, shape (n,); exact halves go to the lower level."""
    levels = np.asarray(scale.levels)
    return levels[np.argmin(np.abs(values[:, None] - levels[None, :]), axis=1)]


def parse_score_probs(texts: pd.Series, scale: MetricScale) -> np.ndarray:
    """Judge distributions, shape (n, K) on the scale's levels, from JSON text.

    Raises InputError listing rows whose text is missing or not a distribution.
    """
    out = np.zeros((len(texts), len(scale.levels)))
    problems = []
    lookup = {f"{lv:g}": j for j, lv in enumerate(scale.levels)}
    for i, text in enumerate(texts.tolist()):
        try:
            probs = json.loads(text) if isinstance(text, str) else text
            for key, p in dict(probs).items():
                out[i, lookup[f"{float(key):g}"]] = float(p)
            total = out[i].sum()
            if not 0.98 <= total <= 1.02 or (out[i] < 0).any():
                raise ValueError(f"probabilities sum to {total:.3f}")
            out[i] /= total
        except (TypeError, ValueError, KeyError, json.JSONDecodeError) as exc:
            problems.append(Problem(f"score_probs is not a distribution over {scale.id} levels ({exc})",
                                    row=i + 1, column="score_probs", value=text))
    if problems:
        raise InputError(problems, summary=f"{len(problems)} judge row(s) with unusable score_probs")
    return out


def _add_probability_features(items: pd.DataFrame, metrics: MetricRegistry) -> None:
    if "score_probs" not in items.columns:
        raise InputError(Problem("features 'expected'/'probs' need the judge's score_probs column", column="score_probs"),
                         summary="missing score_probs")
    kmax = max(len(metrics.get(m).levels) for m in pd.unique(items["metric"]))
    probs = np.full((len(items), kmax), np.nan)
    expected = np.empty(len(items))
    for mid in pd.unique(items["metric"]):
        scale = metrics.get(mid)
        rows = np.flatnonzero((items["metric"] == mid).to_numpy())
        p = parse_score_probs(items["score_probs"].iloc[rows], scale)
        probs[rows, : p.shape[1]] = p
        expected[rows] = p @ np.asarray(scale.levels)
    items["judge_expected"] = expected
    for j in range(1, kmax):  # the first level's probability is implied by the rest
        items[f"judge_p{j}"] = probs[:, j]


def _add_other_metric_features(items: pd.DataFrame, judge_tab: pd.DataFrame) -> None:
    wide = judge_tab.pivot_table(index="item_id", columns="metric", values="judge_score", aggfunc="first")
    for mid in wide.columns:
        items[f"judge_{mid}"] = items["item_id"].map(wide[mid]).to_numpy(dtype=float)


def log_text_length(texts: pd.Series) -> np.ndarray:
    """log(1 + number of base characters), shape (n,).

    Base characters leave out combining marks (Unicode category M: Indic vowel
    signs and viramas, diacritics), format characters (zero-width joiners) and
    whitespace, so an aksara or a CJK character counts about once and lengths
    compare across scripts better than raw code points or whitespace words.
    """
    cache: dict[str, float] = {}
    out = np.empty(len(texts))
    for i, text in enumerate(texts.astype(str).tolist()):
        if text not in cache:
            cache[text] = float(sum(
                1 for ch in text
                if not ch.isspace() and unicodedata.category(ch)[0] != "M" and unicodedata.category(ch) != "Cf"
            ))
        out[i] = np.log1p(cache[text])
    return out
