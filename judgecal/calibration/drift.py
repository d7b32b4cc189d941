"""Judge drift: have the judge's scores moved away from what a calibrator was fitted on?

A calibrator records, per (metric, language), how often its judge gave each level
on the fitting data, and the judge's fingerprint (model id, prompt hash per metric,
log-probabilities or not). :func:`check_drift` compares new judged rows with that:

1. **Fingerprint**: a different model or prompt hash is said first.
2. **Distribution** per (metric, language): a two-sample G-test of the new level
   counts against the recorded ones (a seeded permutation test when an expected
   count is below 5), Holm-adjusted across all (metric, language) pairs tested
   (family-wise error ``alpha``), with effect sizes: the mean shift and the total
   variation distance between the two level distributions. A shift here can come
   from the judge or from the systems being judged: other outputs get other scores.
3. **Anchors** (optional): items scored by the old judge (``judgecal anchors``
   picks them) and re-scored now. On identical items only the judge can have
   changed: an exact sign test of the paired differences per (metric, language),
   Holm-adjusted. A distribution shift without an anchor shift points at the
   systems; an anchor shift points at the judge.

``GroupedCalibrator.apply`` uses :func:`drift_warnings` to warn when new scores
fall outside what the calibrator saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judgecal.calibration._fit.drift_stats import ADJUST, g_test_counts, sign_test, total_variation
from judgecal.calibration._fit.profile import fingerprint, has_logprobs, level_counts
from judgecal.data.languages import UnknownLanguage, normalize_language
from judgecal.errors import CalibratorError, InputError, Problem

__all__ = ["DriftReport", "JudgeDriftWarning", "check_drift", "drift_warnings"]


class JudgeDriftWarning(UserWarning):
    """New judge scores fall outside what a calibrator saw when it was fitted."""


@dataclass
class DriftReport:
    """What :func:`check_drift` found.

    fingerprint_notes : differences between the calibrator's judge and the new one (empty: same)
    recorded, new : the two fingerprints ({'model', 'prompt_hash', 'logprobs'})
    distribution : one row per (metric, language): status, n_reference, n_new, mean_reference,
        mean_new, mean_shift, tv_distance, unseen_levels, statistic, method, p_value, p_adjusted, flagged
    anchors : one row per (metric, language) with anchor pairs: n_pairs, up, down, mean_change,
        p_value, p_adjusted, flagged (None: no anchors given)
    verdict : one row per language: distribution_flagged, anchors_flagged, reading
    notes : what could not be checked and why
    """

    fingerprint_notes: list[str]
    recorded: dict | None
    new: dict
    distribution: pd.DataFrame
    anchors: pd.DataFrame | None
    verdict: pd.DataFrame
    alpha: float
    correction: str
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per (metric, language): the distribution test beside the anchor test (prefix anchor_)."""
        dist = self.distribution
        if self.anchors is None:
            return dist.copy()
        a = self.anchors.rename(columns={c: f"anchor_{c}" for c in self.anchors.columns if c not in ("metric", "language")})
        return dist.merge(a, on=["metric", "language"], how="outer")

    @property
    def flagged_languages(self) -> list[str]:
        """Languages with a distribution or anchor shift."""
        v = self.verdict
        return sorted(v.loc[v["distribution_flagged"] | v["anchors_flagged"], "language"])


def judge_rows(judged: pd.DataFrame, *, judge: str | None = None, source: str = "judged rows") -> tuple[pd.DataFrame, str]:
    """The judge rows of a table (rater_kind 'judge' when the column exists) and the judge's id.

    Raises InputError when columns are missing, no judge row is left, or several
    judges are present and ``judge`` does not pick one.
    """
    if not isinstance(judged, pd.DataFrame):
        raise InputError(Problem(f"{source}: expected a table (DataFrame), got {type(judged).__name__}"),
                         summary="wrong input type")
    missing = [c for c in ("item_id", "language", "metric", "score") if c not in judged.columns]
    if missing:
        raise InputError([Problem(f"{source} has no {c!r} column", column=c) for c in missing],
                         summary=f"{source}: missing column(s)")
    rows = judged[(judged["rater_kind"] == "judge").to_numpy()] if "rater_kind" in judged.columns else judged
    if "rater" in rows.columns:
        raters = sorted({str(r) for r in pd.unique(rows["rater"])})
        if judge is not None:
            rows = rows[(rows["rater"] == judge).to_numpy()]
        elif len(raters) > 1:
            raise InputError(Problem(f"{source} hold scores of {len(raters)} judges ({', '.join(raters[:10])}); "
                                     "say which one to check (judge=..., --judge)", column="rater"),
                             summary="several judges")
        name = judge if judge is not None else (raters[0] if raters else "")
    else:
        name = judge or "(unnamed judge)"
    if rows.empty:
        raise InputError(Problem(f"{source} hold no judge rows" + (f" of judge {judge!r}" if judge else "")),
                         summary="nothing to check")
    return rows, name


def _new_fingerprint(rows: pd.DataFrame, name: str) -> tuple[dict, list[str]]:
    notes = []
    hashes = {}
    if "judge_prompt_hash" in rows.columns:
        known = rows.loc[rows["judge_prompt_hash"].notna(), ["metric", "judge_prompt_hash"]]
        per = known.groupby("metric", observed=True)["judge_prompt_hash"]
        for m, h in per.unique().items():
            if len(h) > 1:
                notes.append(f"new judged rows of metric {str(m)!r} carry {len(h)} different prompt hashes")
            hashes[str(m)] = str(h[0])
    return fingerprint(name, hashes, has_logprobs(rows)), notes


def compare_fingerprints(recorded: dict, new: dict) -> list[str]:
    """Differences between two fingerprints, one sentence each (empty: the same judge and prompts)."""
    out = []
    if recorded["model"] != new["model"]:
        out.append(f"different judge: the calibrator was fitted on {recorded['model']!r}, "
                   f"the new scores come from {new['model']!r}")
    for m in sorted(set(recorded["prompt_hash"]) | set(new["prompt_hash"])):
        a, b = recorded["prompt_hash"].get(m), new["prompt_hash"].get(m)
        if a and b and a != b:
            out.append(f"different judge prompt for metric {m!r}: hash {a} at fitting, {b} now")
        elif a and not b:
            out.append(f"metric {m!r}: the new rows carry no judge_prompt_hash (fitted with {a}); "
                       "a prompt change cannot be ruled out")
    if recorded["logprobs"] != new["logprobs"]:
        out.append("log-probabilities " + ("were available at fitting but are missing now" if recorded["logprobs"]
                                            else "are available now but were not at fitting"))
    return out


def unknown_metrics(rows: pd.DataFrame, scales: dict) -> list[str]:
    """One note per metric of the rows that the calibrator has no scale (and no profile) for."""
    counts = rows["metric"].value_counts()
    return [f"metric {str(name)!r}: {n} new row(s) of a metric the calibrator was not fitted on: not tested"
            for name, n in counts.items() if n and str(name) not in scales]


def served_languages(language: pd.Series, profile: dict | None) -> pd.Series:
    """Each row's language as ``apply`` serves it (n,): the normalised tag ('hindi' -> 'hi'), and a
    regional tag the calibrator has no scores of (hi-IN) as its base language when it has those.
    Values that are no language are kept as they are (apply refuses them with their own error)."""
    codes, uniq = pd.factorize(language, sort=False)
    known = {e["language"] for e in profile["levels"].values()} if profile else set()
    names = []
    for value in uniq:
        try:
            tag = normalize_language(str(value))
        except UnknownLanguage:
            tag = str(value)
        if tag not in known and "-" in tag and tag.split("-", 1)[0] in known:
            tag = tag.split("-", 1)[0]
        names.append(tag)
    name_codes, distinct = pd.factorize(pd.Series(names, dtype=object))
    full = np.where(codes >= 0, name_codes[np.maximum(codes, 0)], -1) if len(names) else codes
    return pd.Series(pd.Categorical.from_codes(full, categories=list(distinct)), index=language.index)


def _distribution(profile: dict, rows: pd.DataFrame, scales: dict, random_state: int) -> pd.DataFrame:
    rows = rows.assign(language=served_languages(rows["language"], profile))
    counts, bad = level_counts(rows["language"], rows["metric"], rows["score"], scales)
    if len(bad):
        known = bad[bad["metric"].astype(str).isin(list(scales))]
        if len(known):
            raise InputError([Problem("judge score is not a level of its metric's scale", row=int(r.row),
                                      column="score", value=f"{r.metric}: {r.score:g}")
                              for r in known.head(20).itertuples()],
                             summary=f"{len(known)} judge score(s) off their metric's scale")
    recs = []
    recorded = profile["levels"]
    for key in sorted(set(recorded) | set(counts)):
        m, lang = key.split("|", 1)
        ref = recorded.get(key)
        new = counts.get(key)
        rec = {"metric": m, "language": lang, "n_reference": 0, "n_new": 0, "mean_reference": np.nan,
               "mean_new": np.nan, "mean_shift": np.nan, "tv_distance": np.nan, "unseen_levels": "",
               "statistic": np.nan, "method": "", "p_value": np.nan}
        levels = np.asarray(ref["levels"] if ref else scales[m].levels, dtype=float)
        r = np.asarray(ref["counts"], float) if ref else None
        if r is not None:
            rec.update(n_reference=int(r.sum()), mean_reference=float(levels @ r / max(r.sum(), 1)))
        if new is not None:
            rec.update(n_new=int(new.sum()), mean_new=float(levels @ new / new.sum()))
        if ref is None:
            rec["status"] = "language not in calibrator"
        elif new is None:
            rec["status"] = "no new rows"
        else:
            seen = [f"{v:g}" for v, a, b in zip(levels, r, new, strict=True) if a == 0 and b > 0]
            g, p, method = g_test_counts(r, new, random_state=random_state)
            rec.update(status="tested", mean_shift=rec["mean_new"] - rec["mean_reference"],
                       tv_distance=total_variation(r, new), unseen_levels=",".join(seen),
                       statistic=g, method=method, p_value=p)
        recs.append(rec)
    return pd.DataFrame(recs, columns=["metric", "language", "status", "n_reference", "n_new", "mean_reference",
                                       "mean_new", "mean_shift", "tv_distance", "unseen_levels", "statistic",
                                       "method", "p_value"])


def _anchor_pairs(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    new = new[new["item_id"].isin(pd.unique(old["item_id"])).to_numpy()]  # before any per-row work
    for frame, name in ((old, "anchor rows"), (new, "new judged rows")):
        dup = frame.duplicated(["item_id", "metric"], keep=False)
        if dup.any():
            first = frame[dup].iloc[0]
            raise InputError(Problem(f"{name}: the judge scored an item and metric more than once "
                                     f"({int(dup.sum())} rows)", column="item_id",
                                     value=f"{first['item_id']} / {first['metric']}"),
                             summary="duplicate judge scores")
    a = old[["item_id", "metric", "score"]].astype({"item_id": str, "metric": str})
    b = new[["item_id", "metric", "language", "score"]].astype({"item_id": str, "metric": str, "language": str})
    pairs = a.merge(b, on=["item_id", "metric"], suffixes=("_old", "_new"))
    if pairs.empty:
        raise InputError(Problem("no anchor item (item_id, metric) of the anchor rows appears in the new judged "
                                 "rows: re-score the anchor items with the new judge and include them"),
                         summary="no anchor pairs")
    return pairs


def _anchors(pairs: pd.DataFrame) -> pd.DataFrame:
    recs = []
    for (m, lang), g in pairs.groupby(["metric", "language"], sort=True):
        d = g["score_new"].to_numpy(float) - g["score_old"].to_numpy(float)
        up, down, p = sign_test(d)
        recs.append({"metric": m, "language": lang, "n_pairs": len(d), "up": up, "down": down,
                     "mean_change": float(d.mean()), "p_value": p})
    return pd.DataFrame(recs)


def _adjust(table: pd.DataFrame, alpha: float, correction: str) -> pd.DataFrame:
    table = table.copy()
    table["p_adjusted"] = ADJUST[correction](table["p_value"].to_numpy(float)) if len(table) else []
    table["flagged"] = (table["p_adjusted"] <= alpha).fillna(False).astype(bool)
    return table


def _verdict(dist: pd.DataFrame | None, anchors: pd.DataFrame | None) -> pd.DataFrame:
    langs = sorted(set(dist["language"] if dist is not None else []) | set(anchors["language"] if anchors is not None else []))
    out = []
    for lang in langs:
        d = bool(dist.loc[dist["language"] == lang, "flagged"].any()) if dist is not None else False
        has_a = anchors is not None and (anchors["language"] == lang).any()
        a = bool(anchors.loc[anchors["language"] == lang, "flagged"].any()) if has_a else False
        if a:
            reading = "judge changed (its scores moved on identical anchor items)"
        elif d and has_a:
            reading = "systems changed: scores shifted but the judge is stable on the anchor items"
        elif d:
            reading = "scores shifted: judge or systems (no anchor items to tell them apart)"
        else:
            reading = "no drift found"
        out.append({"language": lang, "distribution_flagged": d, "anchors_flagged": a, "reading": reading})
    return pd.DataFrame(out, columns=["language", "distribution_flagged", "anchors_flagged", "reading"])


def check_drift(calibrator, judged: pd.DataFrame, *, anchors: pd.DataFrame | None = None, judge: str | None = None,
                alpha: float = 0.05, correction: str = "holm", random_state: int = 0) -> DriftReport:
    """Check new judge scores against what a calibrator was fitted on (see the module docstring).

    Parameters
    ----------
    calibrator : fitted GroupedCalibrator (its ``state_.judge_profile`` holds the recorded distribution)
    judged : the new judged rows (item_id, language, metric, score; rater, rater_kind,
        judge_prompt_hash, score_probs used when present). Human rows are ignored.
    anchors : the anchor items' rows scored by the old judge (``judgecal anchors`` output);
        the same items must be among ``judged``, re-scored by the new judge.
    judge : which judge's rows of ``judged`` to check when it holds several.
    alpha : family-wise error (Holm) or false discovery rate (BH) of the flags.
    correction : 'holm' (default) or 'bh'.
    random_state : seed of the permutation tests used for small counts.

    Raises
    ------
    CalibratorError : the calibrator is not fitted, or it records no distribution and no anchors are given.
    InputError : unusable judged or anchor rows (missing columns, no judge rows, off-scale scores, ...).
    """
    if correction not in ADJUST:
        raise InputError(Problem(f"correction must be one of {sorted(ADJUST)}, got {correction!r}"),
                         summary="bad option")
    if not 0 < alpha < 1:
        raise InputError(Problem(f"alpha must be between 0 and 1, got {alpha!r}"), summary="bad option")
    state = getattr(calibrator, "state_", None)
    if state is None:
        raise CalibratorError("check_drift needs a fitted calibrator")
    rows, name = judge_rows(judged, judge=judge)
    new_fp, notes = _new_fingerprint(rows, name)
    profile = state.judge_profile
    source = getattr(calibrator, "source_", "the calibrator")
    if profile is None:
        missing = (f"{source} records no judge score distribution or fingerprint (it was written by a judgecal "
                   "that did not record them): the distribution test cannot run. Refit it with judgecal "
                   "calibrate to record them")
        if anchors is None:
            raise CalibratorError(missing + ", or give anchor rows (--anchors) for the paired check.")
        notes.append(missing + "; only the anchor check ran.")
        fp_notes = compare_fingerprints(fingerprint(state.judge, state.judge_prompt_hash, new_fp["logprobs"]), new_fp)
        recorded = None
        dist = None
    else:
        recorded = profile["fingerprint"]
        fp_notes = compare_fingerprints(recorded, new_fp)
        dist = _adjust(_distribution(profile, rows, state.scales, random_state), alpha, correction)
        notes.extend(unknown_metrics(rows, state.scales))
        for r in dist.itertuples():
            if r.status == "language not in calibrator":
                notes.append(f"{r.metric}/{r.language}: {r.n_new} new row(s) in a language the calibrator "
                             "was not fitted on: not tested (apply backs them off to the script or metric level)")
    anchor_table = None
    if anchors is not None:
        old_rows, _ = judge_rows(anchors, source="anchor rows")
        pairs = _anchor_pairs(old_rows, rows)
        pairs["language"] = served_languages(pairs["language"], profile).astype(str)
        anchor_table = _adjust(_anchors(pairs), alpha, correction)
    empty = pd.DataFrame(columns=["metric", "language", "status", "p_value", "p_adjusted", "flagged"])
    return DriftReport(fingerprint_notes=fp_notes, recorded=recorded, new=new_fp,
                       distribution=dist if dist is not None else empty, anchors=anchor_table,
                       verdict=_verdict(dist, anchor_table), alpha=alpha, correction=correction, notes=notes)


def drift_warnings(state, judged: pd.DataFrame, *, alpha: float = 0.05) -> list[str]:
    """Why new judge rows fall outside what a calibrator saw, one sentence each (empty: nothing).

    Looks at judge rows only (rater_kind 'judge' when the column exists): a
    (metric, language) the calibrator has no recorded scores for, levels the judge
    never gave there in the fitting data, and a distribution shift flagged by the
    Holm-adjusted G-test of :func:`check_drift`.
    """
    profile = state.judge_profile
    if "rater_kind" in judged.columns:
        judged = judged[(judged["rater_kind"] == "judge").to_numpy()]
    if judged.empty or not {"language", "metric", "score"} <= set(judged.columns):
        return []
    if profile is None:
        return ["this calibrator records no judge score distribution (written by an older judgecal): "
                "apply cannot check whether the new scores drifted from its fitting data; refit to record it"]
    # Metric aliases were resolved by apply; rows under another name are left to it.
    rows = judged[judged["metric"].isin(list(state.scales)).to_numpy()]
    dist = _adjust(_distribution(profile, rows, state.scales, 0), alpha, "holm")
    out = []
    for r in dist.itertuples():
        where = f"metric {r.metric!r}, language {r.language!r}"
        if r.status == "language not in calibrator":
            out.append(f"{where}: {r.n_new} judge score(s) in a language the calibrator saw no scores of")
            continue
        if r.status != "tested":
            continue
        if r.unseen_levels:
            out.append(f"{where}: the judge gave level(s) {r.unseen_levels} which it never gave in the "
                       "calibrator's fitting data")
        if r.flagged:
            out.append(f"{where}: the judge's score distribution shifted from the fitting data (mean "
                       f"{r.mean_reference:.2f} -> {r.mean_new:.2f}, G-test Holm-adjusted p = {r.p_adjusted:.2g}); "
                       "check drift with judgecal drift")
    return out



def report_text(report: DriftReport) -> str:
    """The report as text for a terminal: fingerprint first, then the verdict and the tables."""
    from judgecal.data.render import table_text

    lines = []
    if report.fingerprint_notes:
        lines.append("JUDGE FINGERPRINT DIFFERS from the calibrator's:")
        lines.extend(f"  - {n}" for n in report.fingerprint_notes)
    else:
        lines.append(f"judge fingerprint: same as the calibrator's (model {report.new['model']!r})")
    lines.extend(f"note: {n}" for n in report.notes)
    adj = {"holm": "Holm (family-wise error)", "bh": "Benjamini-Hochberg (false discovery rate)"}[report.correction]
    lines.append(f"\nper language (flags at {report.alpha:g}, {adj} across (metric, language)):")
    lines.append(table_text(report.verdict))
    if len(report.distribution):
        cols = ["metric", "language", "status", "n_reference", "n_new", "mean_reference", "mean_new", "mean_shift",
                "tv_distance", "unseen_levels", "method", "p_value", "p_adjusted", "flagged"]
        lines.append("\nscore distribution vs the calibrator's fitting data (two-sample G-test; permutation "
                     "when an expected count < 5):")
        lines.append(table_text(report.distribution[cols]))
    if report.anchors is not None:
        lines.append("\njudge change on identical anchor items (new - old score; exact sign test):")
        lines.append(table_text(report.anchors))
    return "\n".join(lines)
