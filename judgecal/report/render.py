"""Formatting a :class:`~judgecal.report.build.Report`: the HTML page and the Markdown
and JSON summaries (table cells and page parts from :mod:`judgecal.report.cells`; the
pairwise section, when the report has one, from :mod:`judgecal.report.render_battles`).

:mod:`judgecal.report.build` computes every number; this module only turns
them into text. The HTML is one self-contained file: inline CSS and SVG, no
scripts, no external links.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from judgecal.data.metrics import DEFAULT_REGISTRY, MetricScale
from judgecal.report import svg
from judgecal.report.build import Report, ppi_summary
from judgecal.report.cells import (
    ci,
    clean_html,
    finite_or_none,
    fmt,
    frame_table,
    html_table,
    md_table,
    notes_list,
    page_head,
)
from judgecal.report.render_battles import (
    battles_body_html,
    battles_body_markdown,
    battles_doc,
    timings_text,
)
from judgecal.sanitize import html_text
from judgecal.sanitize import markdown_text as md

# --- table cells ----------------------------------------------------------------

def _pct(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.0f}%"


def headline_rows(head: pd.DataFrame, calibrated: bool) -> tuple[list[str], list[list[str]]]:
    header = ["language", "script", "metric", "alpha humans", "alpha judge+humans (raw)"]
    if calibrated:
        header.append("alpha judge+humans (calibrated)")
    header.append("bias judge-human (raw)")
    if calibrated:
        header.append("bias (calibrated)")
    header += ["top level: humans", "top level: judge"]
    rows = []
    for r in head.itertuples(index=False):
        d = r._asdict()
        row = [d["language"], d["script"], d["metric"],
               ci(d.get("alpha_human_human"), d.get("alpha_human_human_ci_low"), d.get("alpha_human_human_ci_high")),
               ci(d.get("alpha_judge_raw"), d.get("alpha_judge_raw_ci_low"), d.get("alpha_judge_raw_ci_high"))]
        if calibrated:
            row.append(ci(d.get("alpha_judge_calibrated"), d.get("alpha_judge_calibrated_ci_low"),
                          d.get("alpha_judge_calibrated_ci_high")))
        row.append(ci(d.get("bias_raw"), d.get("bias_raw_ci_low"), d.get("bias_raw_ci_high")))
        if calibrated:
            row.append(ci(d.get("bias_calibrated"), d.get("bias_calibrated_ci_low"), d.get("bias_calibrated_ci_high")))
        row += [_pct(d.get("top_level_share_human")), _pct(d.get("top_level_share_judge"))]
        rows.append(row)
    return header, rows



# --- HTML -----------------------------------------------------------------------

def _agreement_chart(agreement: pd.DataFrame, metric: str) -> str:
    a = agreement[(agreement["metric"] == metric) & (agreement["statistic"] == "alpha")]
    rows = []
    for (language, script), g in a.groupby(["language", "script"], sort=True):
        pts = []
        for label, comp, stage in (("humans among themselves", "human-human", "raw"),
                                   ("judge + humans (raw)", "judge+humans", "raw"),
                                   ("judge + humans (calibrated)", "judge+humans", "calibrated")):
            r = g[(g["comparison"] == comp) & (g["stage"] == stage)]
            if len(r):
                pts.append((label, r["estimate"].iloc[0], r["ci_low"].iloc[0], r["ci_high"].iloc[0]))
        rows.append((f"{language} ({script})", pts))
    return svg.forest(rows, title=f"Krippendorff's alpha, {metric}", x_label="alpha", reference=0.0)


def _bias_chart(bias: pd.DataFrame, metric: str) -> str:
    b = bias[(bias["metric"] == metric) & (bias["subset"] == "all")]
    rows = []
    for (language, script), g in b.groupby(["language", "script"], sort=True):
        pts = [(f"judge {stage}", r.estimate, r.ci_low, r.ci_high) for stage in ("raw", "calibrated")
               for r in g[g["stage"] == stage].itertuples()]
        rows.append((f"{language} ({script})", pts))
    return svg.forest(rows, title=f"Mean signed difference judge - humans, {metric}", x_label="score points",
                      reference=0.0)


def _levels_chart(levels: pd.DataFrame, metric: str, scale: MetricScale) -> str:
    lv = levels[levels["metric"] == metric]
    names = [f"{level:g} {scale.label(level)}" for level in scale.levels]
    rows = []
    for (language, _script), g in lv.groupby(["language", "script"], sort=True):
        for label, source, stage in (("humans", "human", "raw"), ("judge", "judge", "raw"),
                                     ("judge calibrated", "judge", "calibrated")):
            r = g[(g["source"] == source) & (g["stage"] == stage)].sort_values("level")
            if len(r):
                rows.append((f"{language} {label}", r["share"].tolist()))
    return svg.stacked_bars(rows, names, title=f"Levels given, {metric}")


def _systems_chart(systems: pd.DataFrame, language: str, metric: str) -> str:
    s = systems[(systems["language"] == language) & (systems["metric"] == metric)]
    rows = []
    order = s[s["estimator"] == "human"].sort_values("estimate", ascending=False)["system"].tolist()
    for system in order:
        g = s[s["system"] == system]
        pts = [(name, r.estimate, r.ci_low, r.ci_high) for name in ("ppi", "human", "judge")
               for r in g[g["estimator"] == name].itertuples()]
        rows.append((system.split("/")[-1], pts))
    return svg.forest(rows, title=f"{language} · {metric}: mean score per system", x_label="mean score", width=520)


def render_html(report: Report) -> str:
    """The report as one HTML page (level names from the scales the report was built with)."""
    m = report.meta
    metrics = m["metrics"]
    parts = page_head(m["title"])
    parts.append(
        f"<p>{m['n_ratings']:,} ratings ({m['n_human_ratings']:,} human, {m['n_judge_ratings']:,} judge) on "
        f"{m['n_items']:,} items · languages {html_text(', '.join(m['languages']))} · metrics {html_text(', '.join(metrics))}"
        f" · judge(s) {html_text(', '.join(m['judges']) or 'none')}</p>"
        f"<p class=\"note\">Generated {html_text(m['generated'])} by judgecal {html_text(m['judgecal_version'])}. Agreement "
        f"and bias intervals: {100 * m['confidence']:.0f} % cluster bootstrap over items ({m['n_resamples']} "
        f"resamples). System estimates: {100 * m['estimate_confidence']:.0f} % intervals.</p>")
    parts.append(notes_list(m["notes"]))

    parts.append("<h2>Summary per language and metric</h2>")
    parts.append("<p class=\"note\">Alpha among humans is the ceiling; alpha with the judge counted as one more "
                 "rater shows how far the judge falls below it. Bias is the judge's mean score minus the humans' "
                 "mean on the same items (positive: the judge scores higher).</p>")
    header, rows = headline_rows(report.headline, m["calibrated"])
    parts.append(html_table(header, rows, [False] * 3 + [True] * (len(header) - 3)))

    parts.append("<h2>Agreement</h2><div class=\"charts\">")
    parts += [_agreement_chart(report.agreement, metric) for metric in metrics]
    parts.append("</div><details><summary>All agreement statistics</summary>")
    parts.append(frame_table(report.agreement))
    parts.append("</details>")
    if report.agreement_by_task is not None:
        parts.append("<details><summary>Agreement by task</summary>" + frame_table(report.agreement_by_task) + "</details>")

    parts.append("<h2>Bias and level distributions</h2><div class=\"charts\">")
    for metric in metrics:
        parts.append(_bias_chart(report.bias, metric))
        parts.append(_levels_chart(report.levels, metric, report.scales.get(metric) or DEFAULT_REGISTRY.get(metric)))
    parts.append("</div><h3>Bias by script</h3>")
    bs = report.bias_by_script[report.bias_by_script["subset"] == "all"]
    parts.append(html_table(["stage", "script", "metric", "bias", "items"],
                        [[r.stage, r.script, r.metric, ci(r.estimate, r.ci_low, r.ci_high), r.n] for r in bs.itertuples()],
                        [False, False, False, True, True]))
    parts.append("<h3>Bias where humans agree and where they disagree</h3>")
    ba = report.bias[report.bias["subset"] != "all"]
    parts.append(html_table(["stage", "language", "metric", "humans", "bias", "items"],
                        [[r.stage, r.language, r.metric, r.subset.replace("humans ", ""), ci(r.estimate, r.ci_low, r.ci_high), r.n]
                         for r in ba.itertuples()], [False] * 4 + [True, True]))

    if len(report.systems):
        parts.append("<h2>System-level estimates</h2>")
        parts.append("<p class=\"note\">Each system's mean human score: PPI++ (human labels plus the judge on every "
                     "item), human labels only, and the raw judge (its interval covers item sampling, not its bias). "
                     "Rank intervals come from the PPI++ estimates' uncertainty.</p>")
        p = ppi_summary(report.systems)
        parts.append(html_table(["language", "metric", "systems", "labelled / items", "lambda", "effective sample size gain"],
                            [[r.language, r.metric, r.systems, f"{r.labelled} / {r.items}", fmt(r.lam), fmt(r.ess_gain)]
                             for r in p.itertuples(index=False)], [False, False, True, True, True, True]))
        for metric in metrics:
            parts.append(f"<details><summary>{html_text(metric)}: systems per language</summary><div class=\"charts\">")
            for language in sorted(report.systems.loc[report.systems["metric"] == metric, "language"].unique()):
                parts.append(_systems_chart(report.systems, language, metric))
            parts.append("</div></details>")
        if len(report.rankings):
            r = report.rankings
            parts.append("<details><summary>Rankings with uncertainty</summary>")
            parts.append(html_table(["language", "metric", "system", "estimate", "rank", "rank range", "P(best)"],
                                [[x.language, x.metric, x.system, fmt(x.estimate), x.rank, f"{x.rank_low}-{x.rank_high}",
                                  fmt(x.p_best)] for x in r.itertuples()], [False] * 3 + [True] * 4))
            parts.append("</details>")

    if report.simulation_summary is not None:
        parts.append("<h2>PPI++ check by hiding labels</h2>")
        parts.append("<p class=\"note\">Human labels hidden except n per language (spread over systems); each "
                     "system's mean human score estimated and compared with the full-data mean, over repeated draws. "
                     "Cells where n reaches every item are exact and not scored.</p>")
        parts.append(frame_table(report.simulation_summary))
        parts.append("<details><summary>Per language and metric</summary>" + frame_table(report.simulation) + "</details>")

    if report.drift is not None:
        parts += _drift_html(report)

    parts.append("<h2>Annotation budget</h2>")
    if len(report.learning):
        parts.append("<div class=\"charts\">")
        for metric in metrics:
            lc = report.learning[report.learning["metric"] == metric]
            series = {lang: (g["n"].tolist(), g["width_ppi"].tolist()) for lang, g in lc.groupby("language")}
            parts.append(svg.lines(series, title=f"{metric}: mean system interval width vs labels",
                                   x_label="labelled items per language", y_label="interval width", width=520))
            series = {lang: (g["n"].tolist(), g["calibration_error"].tolist()) for lang, g in lc.groupby("language")}
            parts.append(svg.lines(series, title=f"{metric}: held-out calibration error vs labels",
                                   x_label="labelled items per language", y_label="calibration error", width=520))
        parts.append("</div>")
    if len(report.needed):
        parts.append(f"<h3>Labels needed for intervals at most {m['target_width']:g} wide on every system</h3>")
        parts.append(frame_table(report.needed, 2))
    timings = timings_text(report.timings)
    if report.pairwise is not None:
        parts.append("<h2>Pairwise battles</h2>")
        parts += battles_body_html(report.pairwise, level=3, generated=False)
        timings += "; pairwise: " + timings_text(report.pairwise.timings)
    parts.append("<h2>Timings</h2><p class=\"note\">" + timings + "</p>")
    parts.append("</body></html>")
    return "".join(clean_html(p) for p in parts)


DRIFT_COLUMNS = ["metric", "language", "status", "n_reference", "n_new", "mean_reference", "mean_new", "mean_shift",
                 "tv_distance", "unseen_levels", "p_value", "p_adjusted", "flagged"]
ANCHOR_COLUMNS = ["metric", "language", "anchor_n_pairs", "anchor_up", "anchor_down", "anchor_mean_change",
                  "anchor_p_adjusted", "anchor_flagged"]


def _drift_html(report: Report) -> list[str]:
    d = report.meta["drift"]
    parts = ["<h2>Judge drift</h2>"]
    if d["fingerprint_notes"]:
        parts.append("<p><strong>The judge differs from the calibrator's:</strong></p><ul>"
                     + "".join(f"<li>{html_text(n)}</li>" for n in d["fingerprint_notes"]) + "</ul>")
    else:
        parts.append(f"<p>Judge fingerprint: the same as the calibrator's ({html_text(d['new_judge'])}).</p>")
    if d["notes"]:
        parts.append("<ul class=\"note\">" + "".join(f"<li>{html_text(n)}</li>" for n in d["notes"]) + "</ul>")
    parts.append(f"<p class=\"note\">New judge scores against the calibrator's fitting data per (metric, language): "
                 f"two-sample G-test of the level counts (permutation test when an expected count is below 5), "
                 f"{'Holm' if d['correction'] == 'holm' else 'Benjamini-Hochberg'}-adjusted at {d['alpha']:g}; "
                 "on anchor items scored by both judges, the exact sign test of the paired change. A shift without "
                 "an anchor change points at the systems being judged; an anchor change points at the judge.</p>")
    parts.append(frame_table(report.drift_verdict))
    parts.append("<h3>Score distribution against the fitting data</h3>")
    parts.append(frame_table(report.drift[[c for c in DRIFT_COLUMNS if c in report.drift.columns]]))
    if d["anchors"]:
        parts.append("<h3>Judge change on identical anchor items (new - old)</h3>")
        parts.append(frame_table(report.drift[[c for c in ANCHOR_COLUMNS if c in report.drift.columns]]
                                  .dropna(subset=["anchor_n_pairs"])))
    return parts


# --- Markdown and JSON ----------------------------------------------------------

def to_markdown(report: Report) -> str:
    """The report's main tables as Markdown; text from the data (title, names, notes) is escaped."""
    m = report.meta
    out = [f"# {md(m['title'])}", "",
           f"{m['n_ratings']:,} ratings ({m['n_human_ratings']:,} human, {m['n_judge_ratings']:,} judge) on "
           f"{m['n_items']:,} items; languages {md(', '.join(m['languages']))}; metrics {md(', '.join(m['metrics']))}; "
           f"judge(s) {md(', '.join(m['judges']) or 'none')}. Generated {m['generated']} by judgecal {m['judgecal_version']}.",
           ""]
    out += [f"- {md(n)}" for n in m["notes"]]
    out += ["", f"## Agreement and bias ({100 * m['confidence']:.0f} % bootstrap intervals over items)", ""]
    header, rows = headline_rows(report.headline, m["calibrated"])
    out += [md_table([[*map(md, row[:3]), *row[3:]] for row in rows], header), ""]
    b = report.bias_by_script[report.bias_by_script["subset"] == "all"]
    if len(b):
        out += ["## Bias by script", ""]
        out.append(md_table([[r.stage, md(r.script), md(r.metric), ci(r.estimate, r.ci_low, r.ci_high), str(r.n)]
                             for r in b.itertuples()], ["stage", "script", "metric", "bias", "items"]))
        out.append("")
    if len(report.systems):
        p = ppi_summary(report.systems)
        out += [f"## System estimates: PPI++ per language ({100 * m['estimate_confidence']:.0f} % intervals)", ""]
        out.append(md_table([[md(r.language), md(r.metric), str(r.systems), f"{r.labelled}/{r.items}", fmt(r.lam),
                              fmt(r.ess_gain)] for r in p.itertuples(index=False)],
                            ["language", "metric", "systems", "labelled/items", "lambda", "ESS gain"]))
        out.append("")
    if report.simulation_summary is not None and len(report.simulation_summary):
        s = report.simulation_summary
        out += [f"## PPI++ check: labels hidden except n per language ({100 * m['estimate_confidence']:.0f} % intervals)", ""]
        out.append(md_table([[str(r.n), fmt(r.coverage_ppi, 3), fmt(r.coverage_human, 3), fmt(r.width_ratio, 3),
                              fmt(r.ess_gain_median, 3), f"{r.cells_outside}/{r.cells}", md(r.outside) if r.outside else "-",
                              md(r.exhaustive) if r.exhaustive else "-"] for r in s.itertuples()],
                            ["n", "coverage PPI++", "coverage human-only", "width PPI/human", "ESS gain (median)",
                             "cells outside 87-93 %", "which", "all items labelled (not scored)"]))
        out.append("")
    if len(report.needed):
        out += [f"## Labels needed for {m['target_width']:g}-wide intervals on every system", ""]
        out.append(md_table([[md(r.language), md(r.metric), str(r.labels_now), fmt(r.width_now), fmt(r.more_ppi, 0),
                              fmt(r.more_human, 0)] for r in report.needed.itertuples()],
                            ["language", "metric", "labels now", "width now", "more (with judge)", "more (human only)"]))
        out.append("")
    if report.drift_verdict is not None:
        d = m["drift"]
        out += ["## Judge drift", ""]
        out += [f"- **judge differs:** {md(n)}" for n in d["fingerprint_notes"]] or [
            f"Judge fingerprint: the same as the calibrator's ({md(d['new_judge'])})."]
        out += [f"- {md(n)}" for n in d["notes"]]
        out += ["", md_table([[md(r.language), str(bool(r.distribution_flagged)), str(bool(r.anchors_flagged)),
                               md(r.reading)] for r in report.drift_verdict.itertuples()],
                             ["language", "distribution shifted", "judge changed on anchors", "reading"]), ""]
    timings = ", ".join(f"{k} {v:g}" for k, v in report.timings.items())
    if report.pairwise is not None:
        out += ["## Pairwise battles", "", *battles_body_markdown(report.pairwise, level=3, generated=False)]
        timings += "; pairwise: " + ", ".join(f"{k} {v:g}" for k, v in report.pairwise.timings.items())
    out += ["## Timings (seconds)", "", timings, ""]
    return "\n".join(out)


def to_json(report: Report) -> str:
    """Every table as a list of records (NaN as null), plus meta and timings, and the pairwise
    section's when the report has one."""
    tables = {
        name: [{k: finite_or_none(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        for name, frame in report.tables().items()
    }
    doc = {"meta": report.meta, "timings_seconds": report.timings, "tables": tables}
    if report.pairwise is not None:
        doc["pairwise"] = battles_doc(report.pairwise)  # what `judgecal report-battles` writes as its JSON
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str, allow_nan=False)


