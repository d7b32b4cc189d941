"""Table cells and page parts shared by the reports (ratings and battles): numbers and
intervals as text, HTML tables, the page head and notes, Markdown tables, and JSON-safe numbers.

Text from the data is escaped where it is put into a page: :func:`html_table` and
:func:`notes_list` escape every cell; Markdown callers pass data through
:func:`judgecal.sanitize.markdown_text` before :func:`md_table`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from judgecal.sanitize import html_text

# --- table cells ----------------------------------------------------------------

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
        # A pipe splits the row unless escaped; markdown_text has escaped those of data already.
        return re.sub(r"(?<!\\)\|", r"\|", str(text)).replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- HTML -----------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:24px}h2{font-size:19px;margin-top:34px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin-top:22px}
table{border-collapse:collapse;font-size:12.5px;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:13px}.charts{display:flex;flex-wrap:wrap;gap:12px}
details{margin:10px 0}summary{cursor:pointer;font-weight:600}
"""


def page_head(title: str) -> list[str]:
    """The opening parts of a report page: doctype, head with the CSS, and the title."""
    return [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html_text(title)}</title>",
            f"<style>{CSS}</style></head><body>", f"<h1>{html_text(title)}</h1>"]


def notes_list(notes: Sequence[str]) -> str:
    """The report's notes as a list ('' when there are none)."""
    return "<ul class=\"note\">" + "".join(f"<li>{html_text(n)}</li>" for n in notes) + "</ul>" if notes else ""


def html_table(header: Sequence[str], rows: Sequence[Sequence], numeric: Sequence[bool] | None = None) -> str:
    numeric = numeric or [False] * len(header)
    out = ["<table><thead><tr>", *(f"<th>{html_text(str(h))}</th>" for h in header), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>")
        for value, is_num in zip(row, numeric, strict=True):
            cls = ' class="num"' if is_num else ""
            out.append(f"<td{cls}>{html_text(str(value))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def frame_table(frame: pd.DataFrame, digits: int = 3) -> str:
    rows = [[fmt(v, digits) if isinstance(v, float) else ("" if v is None else v) for v in r]
            for r in frame.itertuples(index=False)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    return html_table(list(frame.columns), rows, numeric)


def clean_html(text: str) -> str:
    # NaN never reaches the page as the string "nan".
    return text.replace(">nan<", "><")


# --- JSON -----------------------------------------------------------------------

def finite_or_none(value):
    """JSON-friendly number: NaN and infinities become None."""
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
