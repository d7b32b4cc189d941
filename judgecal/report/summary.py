"""JSON and Markdown summaries of a :class:`~judgecal.report.build.Report`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import pandas as pd

from judgecal.report.build import Report, finite_or_none


def to_json(report: Report) -> str:
    """Every table as a list of records (NaN as null), plus meta and timings."""
    tables = {
        name: [{k: finite_or_none(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        for name, frame in report.tables().items()
    }
    doc = {"meta": report.meta, "timings_seconds": report.timings, "tables": tables}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str, allow_nan=False)


def _num(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    # -0.001 rounds to "-0.00": print zero without a sign.
    return text.lstrip("-") if float(text) == 0 else text


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else _num(value, digits)
    return str(value)


def ci(est, low, high, digits: int = 2) -> str:
    """``0.42 [0.31, 0.52]``; ``n/a`` when the estimate is undefined."""
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "n/a"
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return fmt(float(est), digits)
    return f"{_num(est, digits)} [{_num(low, digits)}, {_num(high, digits)}]"


def md_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


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


def ppi_summary(systems: pd.DataFrame) -> pd.DataFrame:
    """Per language and metric: lambda, effective sample size gain, labelled and total items."""
    ppi = systems[systems["estimator"] == "ppi"]
    if ppi.empty:
        return pd.DataFrame(columns=["language", "metric", "systems", "labelled", "items", "lam", "ess_gain"])
    keys = [c for c in ("language", "script", "metric", "judge") if c in ppi.columns]
    return (ppi.groupby(keys, sort=True)
            .agg(systems=("system", "nunique"), labelled=("n", "sum"), items=("N", "sum"),
                 lam=("lam", "first"), ess_gain=("ess_gain", "first"))
            .reset_index())


def _pct(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.0f}%"


def to_markdown(report: Report) -> str:
    m = report.meta
    out = [f"# {m['title']}", "",
           f"{m['n_ratings']:,} ratings ({m['n_human_ratings']:,} human, {m['n_judge_ratings']:,} judge) on "
           f"{m['n_items']:,} items; languages {', '.join(m['languages'])}; metrics {', '.join(m['metrics'])}; "
           f"judge(s) {', '.join(m['judges']) or 'none'}. Generated {m['generated']} by judgecal {m['judgecal_version']}.",
           ""]
    out += [f"- {n}" for n in m["notes"]]
    out += ["", f"## Agreement and bias ({100 * m['confidence']:.0f} % bootstrap intervals over items)", ""]
    header, rows = headline_rows(report.headline, m["calibrated"])
    out += [md_table(rows, header), ""]
    b = report.bias_by_script[report.bias_by_script["subset"] == "all"]
    if len(b):
        out += ["## Bias by script", ""]
        out.append(md_table([[r.stage, r.script, r.metric, ci(r.estimate, r.ci_low, r.ci_high), str(r.n)]
                             for r in b.itertuples()], ["stage", "script", "metric", "bias", "items"]))
        out.append("")
    if len(report.systems):
        p = ppi_summary(report.systems)
        out += [f"## System estimates: PPI++ per language ({100 * m['estimate_confidence']:.0f} % intervals)", ""]
        out.append(md_table([[r.language, r.metric, str(r.systems), f"{r.labelled}/{r.items}", fmt(r.lam),
                              fmt(r.ess_gain)] for r in p.itertuples(index=False)],
                            ["language", "metric", "systems", "labelled/items", "lambda", "ESS gain"]))
        out.append("")
    if report.simulation_summary is not None and len(report.simulation_summary):
        s = report.simulation_summary
        out += [f"## PPI++ check: labels hidden except n per language ({100 * m['estimate_confidence']:.0f} % intervals)", ""]
        out.append(md_table([[str(r.n), fmt(r.coverage_ppi, 3), fmt(r.coverage_human, 3), fmt(r.width_ratio, 3),
                              fmt(r.ess_gain_median, 3), f"{r.cells_outside}/{r.cells}", r.outside or "-",
                              r.exhaustive or "-"] for r in s.itertuples()],
                            ["n", "coverage PPI++", "coverage human-only", "width PPI/human", "ESS gain (median)",
                             "cells outside 87-93 %", "which", "all items labelled (not scored)"]))
        out.append("")
    if len(report.needed):
        out += [f"## Labels needed for {m['target_width']:g}-wide intervals on every system", ""]
        out.append(md_table([[r.language, r.metric, str(r.labels_now), fmt(r.width_now), fmt(r.more_ppi, 0),
                              fmt(r.more_human, 0)] for r in report.needed.itertuples()],
                            ["language", "metric", "labels now", "width now", "more (with judge)", "more (human only)"]))
        out.append("")
    out += ["## Timings (seconds)", "", ", ".join(f"{k} {v:g}" for k, v in report.timings.items()), ""]
    return "\n".join(out)
