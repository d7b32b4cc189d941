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

from judgecal.data.consensus import majority_level, nearest_level
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, MetricScale
from judgecal.data.schema import judge_mask
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
    judge_prompt_hash: dict[str, str]  # metric -> hash of the rubric prompt
    counts: dict = field(default_factory=dict)
    group_column: str = "item_id"


def pick_judge(ratings: pd.DataFrame, judge: str | None,
               columns: list[str] | None = None) -> tuple[str, pd.DataFrame]:
    """The judge rows of one judge (only ``columns`` of them if given); error if
    the table holds several judges and none was named."""
    judge, mask = judge_mask(ratings, judge)
    return judge, (ratings.loc[mask, columns] if columns is not None else ratings[mask])


def prompt_hash_of(judge_rows: pd.DataFrame) -> dict[str, str]:
    """metric -> the judge prompt hash of that metric's rows ({} without the column).

    ``judgecal score`` renders one rubric per metric (or one compound prompt for
    all), so metrics may carry different hashes; within a metric the judge
    must have seen one prompt, or the calibrator would mix two judges' habits.
    """
    if "judge_prompt_hash" not in judge_rows.columns:
        return {}
    rows = judge_rows.loc[judge_rows["judge_prompt_hash"].notna(), ["metric", "judge_prompt_hash"]]
    per_metric = rows.astype(str).groupby("metric")["judge_prompt_hash"].unique()
    mixed = {m: list(h) for m, h in per_metric.items() if len(h) > 1}
    if mixed:
        raise InputError(
            [Problem(f"judge rows of metric {m!r} carry {len(h)} different judge_prompt_hash values "
                     f"({', '.join(h[:4])}); calibrate one judge prompt per metric at a time",
                     column="judge_prompt_hash") for m, h in mixed.items()],
            summary="mixed judge prompts",
        )
    return {str(m): str(h[0]) for m, h in per_metric.items()}


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
    judge, is_judge = judge_mask(ratings, judge)
    is_human = (ratings["rater_kind"] == "human").to_numpy(dtype=bool, na_value=False)
    if not is_human.any():
        raise InputError(Problem("the table has no human ratings; calibration needs native-speaker ratings"),
                         summary="nothing to calibrate against")

    # Only the columns used here are taken from the judge rows.
    keep = ["item_id", "metric", "language", "script", "score"]
    extra = [c for c in ("response", "score_probs") if c in ratings.columns]
    hash_col = ["judge_prompt_hash"] if "judge_prompt_hash" in ratings.columns else []
    jrows = ratings.loc[is_judge, keep + extra + ([groups] if groups not in keep else []) + hash_col]
    judge_tab = jrows.drop(columns=hash_col).rename(columns={"score": "judge_score"})
    if groups != "item_id" and judge_tab[groups].isna().any():
        n_missing = int(judge_tab[groups].isna().sum())
        raise InputError(Problem(f"{n_missing} judge row(s) have no {groups}; folds are grouped by it", column=groups),
                         summary="cannot build cross-validation folds")
    judge_tab = judge_tab.rename(columns={groups: "cv_group"}) if groups != "item_id" else judge_tab.assign(cv_group=judge_tab["item_id"])

    # Integer keys for (item, metric): one factorisation of the id columns, then
    # counting with bincount instead of grouping and joining on strings.
    item_code, item_names = pd.factorize(ratings["item_id"], sort=False)
    metric_code, metric_names = pd.factorize(ratings["metric"], sort=False)
    n_m = max(len(metric_names), 1)
    key = item_code.astype(np.int64) * n_m + metric_code
    n_keys = int(key.max()) + 1
    h_key = key[is_human]
    h_score = ratings["score"].to_numpy(dtype=float)[is_human]
    n_raters = np.bincount(h_key, minlength=n_keys)
    y_sum = np.bincount(h_key, weights=h_score, minlength=n_keys)
    j_key = key[is_judge]
    dup = np.bincount(j_key, minlength=n_keys) > 1
    if dup.any():
        bad = judge_tab.iloc[np.flatnonzero(dup[j_key])[:20]]
        raise InputError([Problem("the judge scored this item and metric more than once", column="item_id",
                                  value=f"{r.item_id} / {r.metric}") for r in bad.itertuples()],
                         summary=f"{int(dup.sum())} (item, metric) pair(s) with several judge scores")
    has = n_raters[j_key] > 0
    items = judge_tab[has].reset_index(drop=True)
    i_key = j_key[has]
    items["y_mean"] = y_sum[i_key] / n_raters[i_key]
    items["n_raters"] = n_raters[i_key]
    # The fit takes an item's language from the judge's row. Say so when its human
    # ratings carry another one (a mislabelled file), instead of choosing without a word.
    lang_code = pd.factorize(ratings["language"], sort=False)[0]
    judge_lang = np.full(n_keys, -1, dtype=np.int64)
    judge_lang[j_key] = lang_code[is_judge]
    h_judge_lang = judge_lang[h_key]
    differs = (h_judge_lang >= 0) & (lang_code[is_human] != h_judge_lang)
    counts = {
        "judge_rows": len(judge_tab),
        "human_rows": int(is_human.sum()),
        "judge_items_without_humans": int((~has).sum()),
        "human_items_without_judge": int((n_raters > 0).sum() - has.sum()),
        "items_with_human_language_differing": int(len(np.unique(h_key[differs]))),
    }
    if items.empty:
        raise InputError(Problem("no item has both a judge score and a human rating for the same metric"),
                         summary="nothing to calibrate")
    # Categorical ids: the table is split by metric and fold many times, and taking
    # rows of a categorical is much cheaper than of a string column. Item and
    # metric reuse the codes found above instead of hashing the strings again.
    for col, codes, names in (("item_id", item_code, item_names), ("metric", metric_code, metric_names)):
        items[col] = _as_category(items[col], codes[is_judge][has], names)
    for col in ("language", "script", "cv_group"):
        items[col] = items[col].astype("category")

    # Majority level per item: most frequent rating, ties to the lower level (the one rule, data.consensus).
    levels_all = np.unique(h_score)
    lvl = np.searchsorted(levels_all, h_score)
    pos = np.full(n_keys, -1, dtype=np.int64)
    pos[i_key] = np.arange(len(items))
    hp = pos[h_key]
    ok = hp >= 0
    n_lv = len(levels_all)
    tally = np.bincount(hp[ok] * n_lv + lvl[ok], minlength=len(items) * n_lv).reshape(len(items), n_lv).astype(float)
    items["y_major"] = majority_level(tally, levels_all)

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
            y_level[rows] = np.asarray(scale.levels)[nearest_level(y[rows], scale.levels)]
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
    rater_item = hp[ok]
    rater_level = h_score[ok]
    rater_weight = 1.0 / items["n_raters"].to_numpy(dtype=float)[rater_item]
    return Examples(items, rater_item, rater_level, rater_weight, judge, prompt_hash_of(jrows), counts, groups)


def _as_category(values: pd.Series, codes: np.ndarray, uniques) -> pd.Series:
    """``values.astype("category")`` (categories: the values used, sorted), built from
    their codes (n,) into ``uniques`` (from pd.factorize) without hashing the values again."""
    if not isinstance(values.dtype, pd.StringDtype) or len(codes) == 0 or codes.min() < 0:
        return values.astype("category")  # other dtypes infer their categories' dtype differently
    used = np.flatnonzero(np.bincount(codes, minlength=len(uniques)))
    names = pd.Index(uniques.take(used))
    order = names.argsort()
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[used[order]] = np.arange(len(used))
    return pd.Series(pd.Categorical.from_codes(rank[codes], categories=names[order]), index=values.index, name=values.name)


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
