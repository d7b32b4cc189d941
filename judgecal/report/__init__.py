"""Reports: one self-contained HTML file (inline SVG charts, opens offline) plus
JSON and Markdown summaries, all from :func:`build_report`'s tables."""

from __future__ import annotations

from pathlib import Path

from judgecal._atomic import atomic_write_text
from judgecal.report.build import Report, build_report, headline
from judgecal.report.render import render_html, to_json, to_markdown
from judgecal.report.render_battles import write_leaderboards

__all__ = ["Report", "build_report", "headline", "make_report", "render_html", "to_json", "to_markdown", "write_report"]


def write_report(report: Report, out: str | Path, *, json_path: str | Path | None = None,
                 markdown_path: str | Path | None = None,
                 leaderboards_csv: str | Path | None = None) -> dict[str, Path]:
    """Write the HTML report to ``out`` and the JSON and Markdown summaries beside it
    (same name, ``.json`` / ``.md``, unless paths are given), plus the pairwise section's
    leaderboards as CSV when asked and the report has them, each replaced
    atomically. Returns the paths."""
    out = Path(out)
    json_path = Path(json_path) if json_path else out.with_suffix(".json")
    markdown_path = Path(markdown_path) if markdown_path else out.with_suffix(".md")
    atomic_write_text(out, render_html(report))
    atomic_write_text(json_path, to_json(report))
    atomic_write_text(markdown_path, to_markdown(report))
    paths = {"html": out, "json": json_path, "markdown": markdown_path}
    if leaderboards_csv is not None and report.pairwise is not None:
        written = write_leaderboards(report.pairwise, leaderboards_csv)
        if written is not None:
            paths["leaderboards"] = written
    return paths


def make_report(ratings, out: str | Path, *, leaderboards_csv: str | Path | None = None,
                **options) -> dict[str, Path]:
    """Build and write a report in one call (what ``judgecal demo`` uses).

    ``options`` go to :func:`build_report` (calibration, confidence, n_resamples,
    simulate_ppi, notes, title, pairwise, ...); ``leaderboards_csv`` to :func:`write_report`.
    """
    return write_report(build_report(ratings, **options), out, leaderboards_csv=leaderboards_csv)
