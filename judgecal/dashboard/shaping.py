"""Arranging analysis results for display: selecting, pivoting, sorting, formatting.

No statistics here: every number shown is a value from an analysis table,
only picked, reordered or turned into text and colours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

JUDGE_COMPARISONS = ("judge-consensus", "judge+humans")


def ci_text(estimate: float, low: float, high: float, digits: int = 2) -> str:
    """``0.42 [0.30, 0.55]``; ``n/a`` for a missing estimate, no bracket for a missing interval."""
    if estimate is None or not np.isfinite(estimate):
        return "n/a"
    head = f"{estimate:.{digits}f}"
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return head
    return f"{head} [{low:.{digits}f}, {high:.{digits}f}]"


def signed_ci_text(estimate: float, low: float, high: float, digits: int = 2) -> str:
    """Like :func:`ci_text` with an explicit sign on the estimate (for biases)."""
    if estimate is None or not np.isfinite(estimate):
        return "n/a"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{estimate:+.{digits}f}"
    return f"{estimate:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def interval_text(frame: pd.DataFrame, *, signed: bool = False, estimate: str = "estimate", low: str = "ci_low",
                  high: str = "ci_high") -> list[str]:
    """Each row's estimate with its interval as text (:func:`ci_text`; ``signed``: :func:`signed_ci_text`)."""
    text = signed_ci_text if signed else ci_text
    return [text(e, lo, hi) for e, lo, hi in zip(frame[estimate], frame[low], frame[high], strict=True)]


def interval_pivot(frame: pd.DataFrame, index: str | Sequence[str], columns: str, *,
                   signed: bool = False) -> pd.DataFrame:
    """One row per ``index`` value, one column per value of ``columns``; each cell
    the estimate with its interval as text (see :func:`interval_text`)."""
    index = [index] if isinstance(index, str) else list(index)
    wide = frame.assign(value=interval_text(frame, signed=signed)).pivot_table(
        index=index, columns=columns, values="value", aggfunc="first").reset_index()
    wide.columns.name = None
    return wide


def agreement_rows(agreement: pd.DataFrame, statistic: str) -> pd.DataFrame:
    """Rows of ``statistic``, plus the human ceiling (human-human alpha) when it is another statistic."""
    keep = agreement["statistic"] == statistic
    if statistic != "alpha":
        keep |= (agreement["comparison"] == "human-human") & (agreement["statistic"] == "alpha")
    return agreement[keep]


def agreement_by_language(rows: pd.DataFrame) -> pd.DataFrame:
    """One metric's agreement rows as one row per (language, script): each comparison's
    estimate with its interval as text, and the humans' and the judge's level shares."""
    table = interval_pivot(rows, ["language", "script"], "comparison")
    levels = rows[rows["comparison"] != "human-human"].drop_duplicates(["language", "script"])
    return table.merge(levels[["language", "script", "human_levels", "judge_levels"]],
                       on=["language", "script"], how="left")


def select_disagreements(items: pd.DataFrame, *, direction: str = "both", agree_only: bool = False,
                         item_ids: set[str] | None = None) -> pd.DataFrame:
    """Rows of :func:`judgecal.dashboard.results.disagreements` the reader asked for.

    direction : ``both``, ``judge higher`` or ``judge lower`` (sign of ``gap``)
    agree_only : only items where every human gave the same level
    item_ids : only these items (e.g. :func:`items_matching` a search); None for all
    """
    if direction == "judge higher":
        items = items[items["gap"] > 0]
    elif direction == "judge lower":
        items = items[items["gap"] < 0]
    if agree_only:
        items = items[items["humans_agree"]]
    if item_ids is not None:
        items = items[items["item_id"].astype(str).isin(item_ids)]
    return items


def system_order(estimates: pd.DataFrame) -> list[str]:
    """The systems of one language and metric, best first by their PPI++ estimate (the metric's polarity)."""
    ppi = estimates[estimates["estimator"] == "ppi"]
    if ppi.empty:
        return []
    return list(ppi.sort_values("estimate", ascending=not bool(ppi["higher_is_better"].iloc[0]))["system"])


def systems_side_by_side(estimates: pd.DataFrame, order: Sequence[str], names: dict[str, str]) -> pd.DataFrame:
    """One row per system in ``order``: each estimator's estimate and interval as text
    (columns named by ``names``), and the labelled and judged items of the PPI++ estimate."""
    wide = interval_pivot(estimates, "system", "estimator").set_index("system")
    wide = wide.rename(columns=names).reindex(list(order)).reset_index()
    ppi = estimates[estimates["estimator"] == "ppi"]
    counts = ppi.set_index("system")[["n", "N"]].rename(columns={"n": "labelled items", "N": "judged items"})
    return wide.merge(counts, left_on="system", right_index=True, how="left")


def served_levels(curves: pd.DataFrame) -> pd.DataFrame:
    """The back-off level serving each (language, script, metric) of a calibrator's fitted curves."""
    served = curves.drop_duplicates(["language", "script", "metric"])[
        ["language", "script", "metric", "calibration_level", "calibration_group", "calibration_weight"]]
    return served.rename(columns={"calibration_weight": "own weight"})


def pick_agreement(agreement: pd.DataFrame, statistic: str, comparison: str = "judge-consensus") -> pd.DataFrame:
    """Rows of an agreement table for one statistic and comparison."""
    return agreement[(agreement["statistic"] == statistic) & (agreement["comparison"] == comparison)]


def overview_matrix(
    agreement: pd.DataFrame,
    bias: pd.DataFrame,
    *,
    statistic: str = "alpha",
    comparison: str = "judge-consensus",
    rows: Sequence[str] = ("language", "script"),
) -> pd.DataFrame:
    """One row per (language, script, judge) and metric: agreement and bias with intervals, worst first.

    Returns a long frame with the ``rows`` columns, ``judge``, ``metric``,
    ``agreement``, ``agreement_ci`` (text), ``bias``, ``bias_ci`` (text),
    ``n``, ``human_ceiling`` (human-human value of the same statistic, when the
    table has it), and ``order`` (rank of the row's group, worst agreement first).
    """
    keys = [*rows, "metric"]
    a = pick_agreement(agreement, statistic, comparison)
    a = a[[*keys, "judge", "estimate", "ci_low", "ci_high", "n"]].rename(
        columns={"estimate": "agreement", "ci_low": "agreement_low", "ci_high": "agreement_high"})
    ceiling = pick_agreement(agreement, statistic, "human-human")[[*keys, "estimate"]].rename(
        columns={"estimate": "human_ceiling"})
    b = bias[bias["subset"] == "all"][[*keys, "judge", "estimate", "ci_low", "ci_high"]].rename(
        columns={"estimate": "bias", "ci_low": "bias_low", "ci_high": "bias_high"})
    out = a.merge(b, on=[*keys, "judge"], how="outer").merge(ceiling, on=keys, how="left")
    out["agreement_ci"] = interval_text(out, estimate="agreement", low="agreement_low", high="agreement_high")
    out["bias_ci"] = interval_text(out, signed=True, estimate="bias", low="bias_low", high="bias_high")
    # Worst first: a group's rank is its lowest agreement over metrics (a
    # language that fails on one metric is a problem even if fine on others).
    worst = out.groupby([*rows, "judge"], dropna=False)["agreement"].min().sort_values(na_position="first")
    order = {key: i for i, key in enumerate(worst.index)}
    out["order"] = [order[tuple(k)] for k in out[[*rows, "judge"]].itertuples(index=False)]
    return out.sort_values(["order", "metric"]).reset_index(drop=True)


def overview_wide(matrix: pd.DataFrame, rows: Sequence[str] = ("language", "script")) -> pd.DataFrame:
    """:func:`overview_matrix` as one row per group with ``<metric> agreement`` / ``<metric> bias`` columns."""
    idx = [*rows, "judge"]
    parts = []
    for metric in sorted(matrix["metric"].unique()):
        m = matrix[matrix["metric"] == metric].set_index(idx)
        parts.append(pd.DataFrame({
            f"{metric} agreement": m["agreement"],
            f"{metric} agreement CI": m["agreement_ci"],
            f"{metric} human ceiling": m["human_ceiling"],
            f"{metric} bias": m["bias"],
            f"{metric} bias CI": m["bias_ci"],
        }))
    wide = pd.concat(parts, axis=1)
    # the human ceiling exists for alpha only: no empty ceiling columns for the other statistics
    wide = wide.drop(columns=[c for c in wide.columns if c.endswith(" human ceiling") and wide[c].isna().all()])
    order = matrix.drop_duplicates(idx).set_index(idx)["order"]
    wide = wide.loc[order.sort_values().index]
    return wide.reset_index()


def agreement_colour(value: float) -> str:
    """CSS background for an agreement value: red below 0.2, amber to 0.6, green above."""
    if value is None or not np.isfinite(value):
        return "background-color: #eeeeee"
    if value < 0.2:
        return "background-color: #f4b6b6"
    if value < 0.4:
        return "background-color: #f8d7a8"
    if value < 0.6:
        return "background-color: #f9efb0"
    return "background-color: #c7e8c1"


def bias_colour(value: float) -> str:
    """CSS background for a bias on a 0-2 style scale: darker the farther from 0, red above, blue below."""
    if value is None or not np.isfinite(value):
        return "background-color: #eeeeee"
    size = min(abs(value) / 0.8, 1.0)
    if value >= 0:
        r, g, b = 255, int(255 - 120 * size), int(255 - 120 * size)
    else:
        r, g, b = int(255 - 120 * size), int(255 - 80 * size), 255
    return f"background-color: rgb({r},{g},{b})"


def styled_overview(wide: pd.DataFrame):
    """Pandas Styler colouring the numeric agreement and bias columns of :func:`overview_wide`."""
    agree_cols = [c for c in wide.columns if c.endswith(" agreement")]
    ceiling_cols = [c for c in wide.columns if c.endswith(" human ceiling")]
    bias_cols = [c for c in wide.columns if c.endswith(" bias")]
    style = wide.style.format("{:.2f}", subset=agree_cols + ceiling_cols, na_rep="n/a")
    style = style.format("{:+.2f}", subset=bias_cols, na_rep="n/a")
    style = style.map(agreement_colour, subset=agree_cols).map(bias_colour, subset=bias_cols)
    return style.hide(axis="index")


def level_shares(levels: pd.DataFrame, group: str) -> pd.DataFrame:
    """Level distribution rows ready for a stacked bar: ``group``, metric, source, level label, share."""
    out = levels.copy()
    out["level_text"] = [f"{lv:g} {lab}".strip() if isinstance(lab, str) and lab else f"{lv:g}"
                         for lv, lab in zip(out["level"], out["label"], strict=True)]
    return out[[group, "metric", "judge", "source", "level", "level_text", "share", "count", "n"]]


def top_level_gap(levels: pd.DataFrame, group: str) -> pd.DataFrame:
    """Share of the top level given by judge vs humans per ``group`` and metric (the inflation pattern)."""
    top = levels[levels["level"] == levels.groupby("metric")["level"].transform("max")]
    top = top.assign(source=top["source"].map({"human": "humans' top-level share",
                                               "judge": "judge's top-level share"}))
    wide = top.pivot_table(index=[group, "metric", "judge"], columns="source", values="share").reset_index()
    wide.columns.name = None
    return wide


def score_grid(ratings: pd.DataFrame, judge: str, levels_by_metric: dict[str, Sequence[float]]) -> pd.DataFrame:
    """One judge row per level of the metric's scale for every (language, script, metric) in ``ratings``.

    Feeding this to a calibrator's ``apply`` gives its fitted map (judge level ->
    calibrated score) per group. Judge scores are levels, so the grid is the
    levels themselves (calibrators refuse scores off the scale).
    Shape: (sum over groups of their metric's levels, 7): item_id, language,
    script, metric, rater, rater_kind, score.
    """
    groups = ratings.loc[ratings["metric"].isin(list(levels_by_metric)), ["language", "script", "metric"]]
    groups = groups.drop_duplicates().sort_values(["metric", "language"]).reset_index(drop=True)
    frames = []
    for metric, g in groups.groupby("metric", sort=True):
        levels = np.asarray(levels_by_metric[metric], dtype=float)
        rep = g.loc[g.index.repeat(len(levels))].reset_index(drop=True)
        rep["score"] = np.tile(levels, len(g))
        frames.append(rep)
    if not frames:
        return pd.DataFrame(columns=["item_id", "language", "script", "metric", "rater", "rater_kind", "score"])
    grid = pd.concat(frames, ignore_index=True)
    grid["item_id"] = [f"grid-{i}" for i in range(len(grid))]
    grid["rater"] = judge
    grid["rater_kind"] = "judge"
    return grid[["item_id", "language", "script", "metric", "rater", "rater_kind", "score"]]


def columns_first(frame: pd.DataFrame, first: Sequence[str]) -> pd.DataFrame:
    """The same frame with the ``first`` columns (those present) leading, the rest in their order."""
    lead = [c for c in first if c in frame.columns]
    return frame[lead + [c for c in frame.columns if c not in lead]]


def texts_of_items(ratings: pd.DataFrame, item_ids: Sequence[str], metric: str) -> dict[str, dict]:
    """What a reader needs to judge a disagreement, per item of ``metric``.

    Returns item_id -> {"prompt", "response", "judges": [(rater, score, justification)],
    "humans": [(rater, score, reasoning)]}; missing texts are None.
    """
    rows = ratings[ratings["item_id"].isin(list(item_ids)) & (ratings["metric"] == metric)]
    out: dict[str, dict] = {}
    for item_id, g in rows.groupby("item_id", sort=False):
        first = g.iloc[0]
        entry = {"prompt": _text(first, "prompt"), "response": _text(first, "response"), "judges": [], "humans": []}
        for r in g.itertuples(index=False):
            who = "judges" if r.rater_kind == "judge" else "humans"
            entry[who].append((str(r.rater), float(r.score), _text(r._asdict(), "justification")))
        out[str(item_id)] = entry
    return out


def _text(row, column: str) -> str | None:
    value = row.get(column) if hasattr(row, "get") else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def levels_text(items: pd.DataFrame, levels: Sequence[float]) -> list[str]:
    """The humans' level counts of each item row as text, e.g. ``0:1 1:0 2:2``."""
    cols = [f"h{j}" for j in range(len(levels))]
    counts = items[cols].to_numpy(int)
    return [" ".join(f"{lv:g}:{c}" for lv, c in zip(levels, row, strict=True)) for row in counts]


def items_matching(ratings: pd.DataFrame, query: str) -> set[str]:
    """Item ids whose prompt, response or any justification contains ``query`` (case-insensitive)."""
    q = query.strip().lower()
    hit = np.zeros(len(ratings), dtype=bool)
    for col in ("prompt", "response", "justification"):
        if col in ratings.columns:
            hit |= ratings[col].astype("string").str.lower().str.contains(q, regex=False).fillna(False).to_numpy()
    return set(ratings.loc[hit, "item_id"].astype(str))
