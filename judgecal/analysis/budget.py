"""Planning native-speaker annotation: how many labels, and which items next.

* :func:`learning_curves`: for growing numbers of labelled items per language
  (drawn from the current labels, stratified by system), the held-out
  calibration error of an isotonic calibrator fitted on them and the mean
  width of the systems' PPI++ intervals;
* :func:`labels_needed`: from the current labels' residual variance, how many
  labels each language needs for a target interval width, with the judge
  (PPI++) and without it (human-only);
* :func:`next_batch`: which unlabelled items to send to annotators next,
  spread over systems and judge levels, most uncertain first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from judgecal.analysis.estimates import stratified_estimates
from judgecal.analysis.items import item_table, judges_in, scales_for
from judgecal.analysis.simulate import allocate, sample_labels
from judgecal.calibration.isotonic import fit_isotonic_table
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry
from judgecal.errors import ConfigError


def _language_groups(ratings, judge, judge_column, registry):
    for metric, scale in scales_for(ratings, registry).items():
        judge_ids = judges_in(ratings, judge, metric=metric)
        if len(judge_ids) != 1:
            raise ConfigError(f"metric {metric!r}: choose one judge with judge=... (--judge on the command line; found {judge_ids})")
        items = item_table(ratings, scale, judge=judge_ids[0], judge_column=judge_column)
        items = items[items["judge_score"].notna()].copy()
        if "system" not in items.columns:
            items["system"] = "all"
        items["system"] = items["system"].fillna("all")
        for language, frame in items.groupby("language", sort=True):
            yield metric, scale, judge_ids[0], language, frame


def _isotonic_map(f: np.ndarray, y: np.ndarray, y_min: float, y_max: float):
    """Monotone map judge score -> mean human score, fitted on pairs (f, y) of shape (n,).

    The calibration package's isotonic fit (:func:`judgecal.calibration.isotonic.fit_isotonic_table`,
    the model of :class:`judgecal.calibration.IsotonicCalibrator`: weighted
    pool-adjacent-violators on the distinct judge scores, linear between knots,
    flat beyond them) without the estimator's checks: learning curves refit it thousands of times.
    """
    f = np.asarray(f, dtype=float)
    knots, fitted = fit_isotonic_table(f, np.asarray(y, dtype=float), np.ones(len(f)), y_min=y_min, y_max=y_max)
    return lambda x: np.interp(np.asarray(x, dtype=float), knots, fitted)


def calibration_error(calibrated: np.ndarray, human: np.ndarray, judge: np.ndarray) -> float:
    """Expected calibration error: mean over judge levels (weighted by items) of
    |mean calibrated score - mean human score|; shapes (n,)."""
    codes, _ = pd.factorize(np.asarray(judge))
    n = np.bincount(codes).astype(float)
    gap = np.abs(np.bincount(codes, weights=calibrated) - np.bincount(codes, weights=human)) / n
    return float((gap * n).sum() / n.sum())


def learning_curves(
    ratings: pd.DataFrame,
    *,
    sizes: Sequence[int] = (25, 50, 100, 200, 400),
    n_repeats: int = 30,
    confidence: float = 0.9,
    judge: str | None = None,
    judge_column: str = "score",
    random_state: int = 0,
    min_held_out: int = 50,
    registry: MetricRegistry = DEFAULT_REGISTRY,
) -> pd.DataFrame:
    """Calibration error and interval width against the number of labelled items.

    For each language and metric and each size ``n`` below the labelled items
    available: draw ``n`` labelled items (stratified by system), fit an
    isotonic calibrator (judge score -> human mean) on them, measure its
    calibration error on the remaining labelled items, and compute the mean
    width of the systems' PPI++ and human-only intervals, where the population
    is every labelled item (so widths shrink to zero as n reaches it).

    Parameters
    ----------
    ratings : DataFrame
    sizes : sequence of int
        Numbers of labelled items to try.
    n_repeats : int
        Draws per size.
    confidence : float
    judge, judge_column : see :func:`judgecal.analysis.bias_table`
    random_state : int
    min_held_out : int
        Fewest held-out labelled items the calibration error is measured on.
    registry : MetricRegistry

    Returns
    -------
    DataFrame
        One row per (language, metric, n): ``calibration_error`` (mean and
        ``calibration_error_sd`` over repeats; NaN when fewer than ``min_held_out``
        labelled items are left to test on), ``calibration_shift`` (mean absolute
        change of the calibrated scores of all judged items of the language if all
        current labels were used instead of n: how much more labels still move the
        calibration), ``width_ppi``, ``width_human``, ``n_labelled`` (labels available).
    """
    rng = np.random.default_rng(random_state)
    rows = []
    for metric, scale, _judge, language, frame in _language_groups(ratings, judge, judge_column, registry):
        lab = frame[frame["n_humans"] > 0]
        codes, _systems = pd.factorize(lab["system"], sort=True)
        y = lab["human_mean"].to_numpy(float)
        f = lab["judge_score"].to_numpy(float)
        sizes_s = np.bincount(codes)
        f_all = frame["judge_score"].to_numpy(float)
        full_map = _isotonic_map(f, y, scale.min, scale.max)(f_all)
        for n in sizes:
            if n >= len(lab) or n < 4:
                continue
            errs, shifts, w_ppi, w_h = [], [], [], []
            for _ in range(n_repeats):
                mask = sample_labels(codes, allocate(n, sizes_s, rng), rng)
                cal = _isotonic_map(f[mask], y[mask], scale.min, scale.max)
                held = ~mask
                # A small held-out set makes the binned error noisy and biased upward: skip it.
                if held.sum() >= min_held_out:
                    errs.append(calibration_error(cal(f[held]), y[held], f[held]))
                shifts.append(float(np.mean(np.abs(cal(f_all) - full_map))))
                res = stratified_estimates(y, f, codes, mask, confidence=confidence)
                ok = res["n"] > 0
                w_ppi.append(float(np.mean(2 * res["t_ppi"][ok] * res["ppi_se"][ok])))
                w_h.append(float(np.mean(2 * res["t_human"][ok] * res["human_se"][ok])))
            rows.append({"language": language, "metric": metric, "n": int(n), "n_labelled": len(lab),
                         "calibration_error": float(np.mean(errs)) if errs else np.nan,
                         "calibration_error_sd": float(np.std(errs)) if errs else np.nan,
                         "calibration_shift": float(np.mean(shifts)),
                         "width_ppi": float(np.nanmean(w_ppi)), "width_human": float(np.nanmean(w_h))})
    return pd.DataFrame(rows, columns=["language", "metric", "n", "n_labelled", "calibration_error",
                                       "calibration_error_sd", "calibration_shift", "width_ppi", "width_human"])


def labels_for_width(s2: float, population: np.ndarray, width: float, t: float) -> np.ndarray:
    """Labels per stratum so each interval ``2 t sqrt((1/n - 1/N) s2)`` is at most ``width``.

    population : shape (S,), items per stratum. Returns shape (S,), at least 2
    (an interval needs a spread) and at most the stratum's items.
    """
    population = np.asarray(population, dtype=float)
    if not np.isfinite(s2):
        return np.full(len(population), np.nan)
    if s2 <= 0:
        return np.minimum(2, population)
    half = width / (2 * t)
    n = 1.0 / (half**2 / s2 + 1.0 / population)
    return np.clip(np.ceil(n - 1e-9), np.minimum(2, population), population)


def labels_needed(
    ratings: pd.DataFrame,
    *,
    target_width: float = 0.2,
    confidence: float = 0.9,
    judge: str | None = None,
    judge_column: str = "score",
    registry: MetricRegistry = DEFAULT_REGISTRY,
) -> pd.DataFrame:
    """Labels each language needs so every system's interval is at most ``target_width`` wide.

    Uses the current labels' pooled residual variance (PPI++) and pooled human
    variance (human-only), and the systems' item counts (the judge-scored items).

    Parameters
    ----------
    ratings : DataFrame
        Ratings table; items with judge scores but no human rating are the unlabelled pool.
    target_width : float
        Full interval width wanted for every system, on the metric's scale.
    confidence : float
    judge : str, optional
        Analyse this judge only (default: every judge in the table, one block each).
    judge_column : str
        Judge score column (``score`` raw; a calibrated column for "after").
    registry : MetricRegistry
        Metric scales (built-ins by default).

    Returns
    -------
    DataFrame
        One row per (language, metric) with ``labels_now``, ``width_now`` (mean
        PPI++ width), ``needed_ppi``, ``needed_human`` (total labels), ``more_ppi``
        and ``more_human`` (still to collect).

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> odd = ratings["prompt_id"].str[-1].isin(list("13579"))          # hide the humans of these
    >>> partly = ratings[~(odd & (ratings["rater_kind"] == "human"))]
    >>> labels_needed(partly, target_width=0.2)[["language", "labels_now", "needed_ppi", "needed_human"]]
      language  labels_now  needed_ppi  needed_human
    0       hi          52        72.0          88.0
    1       ta          52        72.0          84.0
    """
    if target_width <= 0:
        raise ConfigError(f"target_width must be positive, got {target_width}")
    rows = []
    for metric, _scale, _judge, language, frame in _language_groups(ratings, judge, judge_column, registry):
        codes, _ = pd.factorize(frame["system"], sort=True)
        labelled = frame["n_humans"].to_numpy() > 0
        res = stratified_estimates(frame["human_mean"].to_numpy(float), frame["judge_score"].to_numpy(float),
                                   codes, labelled, confidence=confidence)
        tail = 0.5 + confidence / 2
        z = float(sps.norm.ppf(tail))
        t_ppi = res["t_ppi_pooled"] if np.isfinite(res["t_ppi_pooled"]) else z
        t_h = res["t_human_pooled"] if np.isfinite(res["t_human_pooled"]) else z
        need_ppi = labels_for_width(res["s2_resid"], res["N"], target_width, t_ppi)
        need_h = labels_for_width(res["s2_human"], res["N"], target_width, t_h)
        ok = res["n"] > 0
        now = int(labelled.sum())
        rows.append({
            "language": language, "metric": metric, "items": len(frame), "labels_now": now,
            "width_now": float(np.mean(2 * res["t_ppi"][ok] * res["ppi_se"][ok])) if ok.any() else np.nan,
            "target_width": target_width,
            "needed_ppi": float(need_ppi.sum()), "needed_human": float(need_h.sum()),
            "more_ppi": float(np.maximum(need_ppi - res["n"], 0).sum()),
            "more_human": float(np.maximum(need_h - res["n"], 0).sum()),
        })
    return pd.DataFrame(rows)


def next_batch(
    ratings: pd.DataFrame,
    size: int,
    *,
    metric: str | None = None,
    judge: str | None = None,
    judge_column: str = "score",
    random_state: int = 0,
    registry: MetricRegistry = DEFAULT_REGISTRY,
) -> pd.DataFrame:
    """The next ``size`` items to send to native speakers.

    Candidates are items the judge scored that no human rated yet (for
    ``metric``, default the first metric). The batch is split over languages in
    proportion to their candidates, then over (system, judge level) cells so
    every system and every judge level gets labels (what calibration and
    PPI++ both need); within a cell the judge's least certain items go first
    (entropy of ``score_probs`` when present), the rest at random.

    Parameters
    ----------
    ratings : DataFrame
    size : int
        Items in the batch.
    metric : str, optional
    judge : str, optional
        Analyse this judge only (default: every judge in the table, one block each).
    judge_column : str
        Judge score column (``score`` raw; a calibrated column for "after").
    random_state : int
    registry : MetricRegistry
        Metric scales (built-ins by default).

    Returns
    -------
    DataFrame
        One row per item: ``item_id``, ``language``, ``script`` and the carried
        columns, ``judge_score``, ``uncertainty`` and ``stratum``.
        :func:`judgecal.analysis.annotation_kit.write_annotation_sheet` turns it
        into a blinded annotation sheet.

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> odd = ratings["prompt_id"].str[-1].isin(list("13579"))          # hide the humans of these
    >>> partly = ratings[~(odd & (ratings["rater_kind"] == "human"))]
    >>> batch = next_batch(partly, 20)
    >>> batch["language"].value_counts().sort_index().to_dict()
    {'hi': 10, 'ta': 10}
    >>> batch[["item_id", "judge_score", "stratum"]].head(3)
                item_id  judge_score             stratum
    0  hi-p001/system-0          0.0  system-0 | judge 0
    1  hi-p009/system-0          1.0  system-0 | judge 1
    2  hi-p013/system-0          2.0  system-0 | judge 2
    """
    if size < 1:
        raise ConfigError(f"batch size must be at least 1, got {size}")
    metric = metric or sorted(ratings["metric"].astype(str).unique())[0]
    scale = registry.get(metric)
    judge_ids = judges_in(ratings, judge, metric=scale.id)
    if len(judge_ids) != 1:
        raise ConfigError(f"choose one judge with judge=... (--judge on the command line; found {judge_ids})")
    items = item_table(ratings, scale, judge=judge_ids[0], judge_column=judge_column)
    cand = items[items["judge_score"].notna() & (items["n_humans"] == 0)].copy()
    if cand.empty:
        raise ConfigError(f"no unlabelled items for metric {scale.id!r}: every judged item already has human ratings")
    rng = np.random.default_rng(random_state)
    cand["uncertainty"] = _uncertainty(ratings, cand, scale.id, judge_ids[0])
    cand["system"] = cand["system"].fillna("all") if "system" in cand.columns else "all"
    cand["stratum"] = cand["system"].astype(str) + " | judge " + cand["judge_level"].map("{:g}".format)
    cand["_tiebreak"] = rng.random(len(cand))
    lang_sizes = cand.groupby("language").size()
    lang_alloc = allocate(min(size, len(cand)), lang_sizes.to_numpy(), rng)
    picked = []
    for (_language, frame), k in zip(cand.groupby("language", sort=True), lang_alloc, strict=True):
        strata = frame.groupby("stratum").size()
        # Equal shares per cell (not proportional): rare judge levels still get labels.
        per = _equal_split(int(k), strata.to_numpy())
        for (_stratum, cell), take in zip(frame.groupby("stratum", sort=True), per, strict=True):
            picked.append(cell.sort_values(["uncertainty", "_tiebreak"], ascending=[False, True]).head(int(take)))
    batch = pd.concat(picked, ignore_index=True).drop(columns="_tiebreak")
    keep = [c for c in ("item_id", "language", "script", "task", "system", "prompt_id", "metric", "judge_score",
                        "uncertainty", "stratum") if c in batch.columns]
    return batch[keep]


def export_batch(batch: pd.DataFrame, ratings: pd.DataFrame, metrics: Sequence[str] | None = None, *,
                 blind: bool = True) -> bytes:
    """The batch as an annotation sheet in the kit's layout: CSV bytes, or with
    ``blind`` a ZIP of the sheet and its key; see
    :func:`judgecal.analysis.annotation_kit.sheet_bytes`."""
    from judgecal.analysis.annotation_kit import sheet_bytes

    return sheet_bytes(batch, ratings, metrics, blind=blind)


def _equal_split(k: int, capacity: np.ndarray) -> np.ndarray:
    """Split ``k`` as evenly as possible over cells of the given capacities, shape (S,)."""
    take = np.zeros(len(capacity), dtype=np.int64)
    left = k
    while left > 0:
        open_ = np.flatnonzero(take < capacity)
        if not len(open_):
            break
        share = max(1, left // len(open_))
        for i in open_:
            add = min(share, capacity[i] - take[i], left)
            take[i] += add
            left -= add
            if left == 0:
                break
    return take


def _uncertainty(ratings: pd.DataFrame, cand: pd.DataFrame, metric: str, judge: str) -> np.ndarray:
    """Entropy (nats) of the judge's score distribution per candidate; 0 when unknown."""
    if "score_probs" not in ratings.columns:
        return np.zeros(len(cand))
    rows = ratings[(ratings["metric"] == metric) & (ratings["rater"].astype(str) == judge)]
    probs = rows.set_index("item_id")["score_probs"].reindex(cand["item_id"])
    out = np.zeros(len(cand))
    import json

    for i, text in enumerate(probs.to_numpy()):
        if isinstance(text, str) and text.strip():
            try:
                p = np.asarray([float(v) for v in json.loads(text).values()], dtype=float)
            except (ValueError, TypeError, AttributeError):
                continue  # malformed distributions were reported by validation; no uncertainty here
            p = p[p > 0] / p.sum() if p.sum() > 0 else p
            out[i] = float(-(p * np.log(p)).sum()) if len(p) else 0.0
    return out
