"""Formatting a :class:`~judgecal.pairwise.overview.BattlesReport`: the HTML page (inline
CSS and SVG, no scripts), the Markdown and JSON summaries, and the leaderboard figure.

:mod:`judgecal.pairwise.overview` computes every number; this module only turns them into text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from judgecal._atomic import atomic_write_text
from judgecal.data.io import write_ratings
from judgecal.pairwise.overview import SOURCE_NAMES, BattlesReport
from judgecal.report import cells, svg
from judgecal.sanitize import html_text
from judgecal.sanitize import markdown_text as md

# (column, header) of the per-language summary; "raw -> calibrated" pairs share a cell.
_PAIRED = (
    ("agree_3way", "agree_3way_cal", "agreement, 3-way"),
    ("agree_decisive", "agree_decisive_cal", "agreement, both decisive"),
    ("tie_judge", "tie_cal", "tie rate judge"),
    ("first_judge", "first_cal", "first preferred, judge"),
    ("self_preference", "self_preference_cal", "self-preference"),
    ("log_loss_fixed", "log_loss_cal", "log-loss of a native vote"),
)


def summary_rows(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the per-language table: each quantity as ``raw → calibrated``,
    natives' rates alone, Kendall tau of each judge leaderboard to the natives' with its
    paired-bootstrap interval where there is one."""
    header = ["language", "script", "pairs"]
    pairs = [p for p in _PAIRED if p[0] in summary.columns and p[1] in summary.columns
             and summary[[p[0], p[1]]].notna().any(axis=None)]
    header += [h for *_, h in pairs]
    header += ["tie rate natives", "first preferred, natives"]
    taus = [c for c in ("tau_judge", "tau_calibrated", "tau_anchored") if c in summary.columns]
    header += [f"tau natives vs {SOURCE_NAMES[c[4:]]}" for c in taus]
    rows = []
    for r in summary.to_dict(orient="records"):
        row = [str(r["language"]), str(r["script"]), str(r["pairs"])]
        row += [f"{cells.fmt(r[a])} → {cells.fmt(r[b])}" for a, b, _ in pairs]
        row += [cells.fmt(r["tie_native"]), cells.fmt(r["first_native"])]
        row += [cells.ci(r[c], r.get(c + "_low"), r.get(c + "_high")) if pd.notna(r[c]) else "" for c in taus]
        rows.append(row)
    return header, rows


def leaderboard_chart(boards: pd.DataFrame, language: str, *, width: int = 560) -> str:
    """Strengths with interval bars per system, one series per leaderboard source,
    systems ordered by the natives' strength (or the first source's)."""
    part = boards[boards["language"] == language]
    sources = list(dict.fromkeys(part["source"]))
    anchor = "human" if "human" in sources else sources[0]
    order = part[part["source"] == anchor].sort_values("strength", ascending=False)["system"].tolist()
    rows = []
    for system in order:
        g = part[part["system"] == system]
        pts = [(SOURCE_NAMES.get(s, s), float(r.strength), float(r.ci_low), float(r.ci_high))
               for s in sources for r in g[g["source"] == s].itertuples()]
        rows.append((str(system).split("/")[-1], pts))
    return svg.forest(rows, title=f"{language}: Bradley-Terry strengths (Davidson, log scale)",
                      x_label="log-strength, centred per leaderboard", reference=0.0, width=width)


def _board_table(boards: pd.DataFrame, language: str) -> str:
    """Systems side by side: strength [interval] and rank range per source."""
    part = boards[boards["language"] == language]
    sources = list(dict.fromkeys(part["source"]))
    wide = {}
    for s in sources:
        g = part[part["source"] == s].set_index("system")
        wide[s] = g
    anchor = "human" if "human" in sources else sources[0]
    order = wide[anchor].sort_values("rank").index.tolist()
    header = ["system", *[SOURCE_NAMES.get(s, s) for s in sources]]
    rows = []
    for system in order:
        row = [system]
        for s in sources:
            if system in wide[s].index:
                r = wide[s].loc[system]
                row.append(f"{cells.fmt(r['strength'])} [{cells.fmt(r['ci_low'])}, {cells.fmt(r['ci_high'])}] "
                           f"#{r['rank']} ({r['rank_best']}-{r['rank_worst']})")
            else:
                row.append("")
        rows.append(row)
    return cells.html_table(header, rows, [False] + [True] * len(sources))


def _intro_html(m: dict, generated: bool) -> str:
    stamp = f"Generated {html_text(m['generated'])} by judgecal {html_text(m['judgecal_version'])}. " if generated else ""
    return (
        f"<p>{m['n_pairs']:,} pairs ({m['n_pairs_with_systems']:,} name both systems and count for leaderboards) · "
        f"{m['n_native_votes']:,} native votes · {m['n_judge_verdicts']:,} verdicts of judge {html_text(str(m['judge']))}"
        f" · languages {html_text(', '.join(m['languages']))}</p>"
        f"<p class=\"note\">{stamp}"
        f"Calibration: {html_text(m['calibration'])}. Leaderboard intervals: {100 * m['confidence']:.0f} %, bootstrap "
        f"clustered by prompt ({m['n_resamples']} resamples; for the anchored one, t intervals from a PPI++ "
        f"covariance also clustered by prompt, prompts - 1 degrees of freedom); ridge "
        f"alpha {m['alpha']:g}.</p>")


def battles_body_html(report: BattlesReport, *, level: int = 2, generated: bool = True) -> list[str]:
    """The pairwise numbers as parts of an HTML page: counts and settings, notes, the per-language
    table before and after calibration, the leaderboard figures and tables, Kendall taus.

    Headings start at ``<h{level}>``: 2 on the pairwise page, 3 as a section of the ratings
    report (:func:`judgecal.report.render.render_html`). ``generated``: say when and by which
    version (the ratings report says it once at its top). Parts are not yet cleaned of NaN.
    """
    m = report.meta
    h, sub = f"h{level}", f"h{level + 1}"
    parts = [_intro_html(m, generated), cells.notes_list(m["notes"])]
    parts.append(f"<{h}>Per language: raw judge → calibrated judge</{h}>")
    parts.append("<p class=\"note\">Agreement: the judge's verdict (after calibration, its most probable native "
                 "outcome) against the natives' majority, over all pairs with a majority (3-way) and where both are "
                 "decisive. Tie and first-preferred rates of the calibrated judge are its predicted native rates; "
                 "compare them with the natives'. Self-preference: share of decisive verdicts for the one system of "
                 f"the judge's family ({html_text(str(m['judge_family']))}) minus the natives' share on the same pairs. "
                 "Log-loss: of a native vote given the verdict read as 80/10/10, then calibrated. Kendall tau: "
                 "leaderboard strengths against the natives' leaderboard.</p>")
    header, rows = summary_rows(report.summary)
    parts.append(cells.html_table(header, rows, [False, False] + [True] * (len(header) - 2)))
    parts.append("<details><summary>Agreement and calibration tables</summary>")
    for table in (report.agreement, report.calibrated, report.calibration, report.bias):
        parts.append(cells.frame_table(table))
    parts.append("</details>")
    if len(report.leaderboards):
        parts.append(f"<{h}>Leaderboards per language</{h}>")
        parts.append("<p class=\"note\">Davidson Bradley-Terry with ties. Sources: native votes, the raw judge's "
                     "verdicts, the calibrated judge's probabilities (expected native votes), and PPI++ anchored on "
                     "the native votes with the judge on every pair. Cells: strength [interval] #rank (rank range).</p>")
        parts.append("<div class=\"charts\">")
        for language in sorted(report.leaderboards["language"].unique()):
            parts.append(leaderboard_chart(report.leaderboards, language))
        parts.append("</div>")
        for language in sorted(report.leaderboards["language"].unique()):
            parts.append(f"<details><summary>{html_text(language)}: leaderboards side by side</summary>")
            parts.append(_board_table(report.leaderboards, language) + "</details>")
        parts.append(f"<{sub}>Kendall tau between leaderboards</{sub}>")
        parts.append(cells.frame_table(report.taus))
    return parts


def timings_text(timings: dict) -> str:
    """``name 1.2 s, name 0.3 s`` (escaped for HTML)."""
    return html_text(", ".join(f"{k} {v:g} s" for k, v in timings.items()))


def render_battles_html(report: BattlesReport) -> str:
    """The pairwise report as one self-contained HTML page."""
    parts = cells.page_head(report.meta["title"])
    parts += battles_body_html(report)
    parts.append("<h2>Timings</h2><p class=\"note\">" + timings_text(report.timings) + "</p>")
    parts.append("</body></html>")
    return "".join(cells.clean_html(p) for p in parts)


def battles_body_markdown(report: BattlesReport, *, level: int = 2, generated: bool = True) -> list[str]:
    """The counts, notes, per-language table and leaderboards as Markdown lines, headings from
    ``level`` ``#``; text from the data is escaped."""
    m = report.meta
    h, sub = "#" * level, "#" * (level + 1)
    stamp = f" Generated {m['generated']} by judgecal {m['judgecal_version']}." if generated else ""
    out = [f"{m['n_pairs']:,} pairs ({m['n_pairs_with_systems']:,} with both systems), {m['n_native_votes']:,} native "
           f"votes, {m['n_judge_verdicts']:,} verdicts of judge {md(str(m['judge']))}; languages "
           f"{md(', '.join(m['languages']))}. Calibration: {md(m['calibration'])}.{stamp}", ""]
    out += [f"- {md(n)}" for n in m["notes"]]
    out += ["", f"{h} Per language: raw judge → calibrated judge", ""]
    header, rows = summary_rows(report.summary)
    # Language and script come from the data; the other cells are numbers we formatted.
    out += [cells.md_table([[md(row[0]), md(row[1]), *row[2:]] for row in rows], header), ""]
    if len(report.leaderboards):
        out += [f"{h} Leaderboards ({100 * m['confidence']:.0f} % intervals)", "",
                f"Intervals are clustered by prompt: a bootstrap over prompts ({m['n_resamples']} resamples), and "
                "for the anchored leaderboard t intervals (prompts - 1 degrees of freedom) from a PPI++ covariance "
                "clustered by prompt.", ""]
        for language in sorted(report.leaderboards["language"].unique()):
            part = report.leaderboards[report.leaderboards["language"] == language]
            out += [f"{sub} {md(language)}", ""]
            lines = [[SOURCE_NAMES.get(r.source, r.source), md(r.system), cells.fmt(r.strength),
                     f"[{cells.fmt(r.ci_low)}, {cells.fmt(r.ci_high)}]", f"{r.rank} ({r.rank_best}-{r.rank_worst})"]
                    for r in part.itertuples()]
            out.append(cells.md_table(lines, ["source", "system", "strength", "interval", "rank"]))
            out.append("")
    return out


def battles_markdown(report: BattlesReport) -> str:
    """The per-language table and Kendall taus as Markdown; text from the data is escaped."""
    return "\n".join([f"# {md(report.meta['title'])}", "", *battles_body_markdown(report)])


def battles_doc(report: BattlesReport) -> dict:
    """Meta, timings and every table as lists of records (NaN as None): what the JSON holds."""
    tables = {name: [{k: cells.finite_or_none(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
              for name, frame in report.tables().items()}
    return {"meta": report.meta, "timings_seconds": report.timings, "tables": tables}


def battles_json(report: BattlesReport) -> str:
    """Every table as a list of records (NaN as null), plus meta and timings."""
    return json.dumps(battles_doc(report), ensure_ascii=False, indent=1, default=str, allow_nan=False)


def write_leaderboards(report: BattlesReport, path: str | Path) -> Path | None:
    """The leaderboards as CSV (atomic; cells safe for spreadsheets, system names come from the
    data); None when the report has none."""
    return write_ratings(report.leaderboards, path) if len(report.leaderboards) else None


def write_battles_report(report: BattlesReport, out: str | Path, *, json_path: str | Path | None = None,
                         markdown_path: str | Path | None = None,
                         leaderboards_csv: str | Path | None = None) -> dict[str, Path]:
    """Write the HTML to ``out`` and the JSON and Markdown beside it (``.json`` / ``.md``), plus the
    leaderboards as CSV when asked, each replaced atomically. Returns the paths."""
    out = Path(out)
    paths = {"html": out, "json": Path(json_path) if json_path else out.with_suffix(".json"),
             "markdown": Path(markdown_path) if markdown_path else out.with_suffix(".md")}
    atomic_write_text(paths["html"], render_battles_html(report))
    atomic_write_text(paths["json"], battles_json(report))
    atomic_write_text(paths["markdown"], battles_markdown(report))
    if leaderboards_csv is not None and len(report.leaderboards):
        paths["leaderboards"] = write_leaderboards(report, leaderboards_csv)
    return paths


__all__: Sequence[str] = ("battles_body_html", "battles_body_markdown", "battles_doc", "battles_json",
                          "battles_markdown", "leaderboard_chart", "render_battles_html", "summary_rows",
                          "timings_text", "write_battles_report", "write_leaderboards")
