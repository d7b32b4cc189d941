"""Small inline SVG charts written by hand: no plotting dependency, and the
report opens offline. Every label is escaped; sizes are in CSS pixels."""

from __future__ import annotations

import math
from collections.abc import Sequence

from judgecal.sanitize import html_text

# Ten distinguishable colours (one per language in PARIKSHA-sized reports).
PALETTE = ("#1f6fb4", "#e07b00", "#2a9d4b", "#c23b3b", "#7d5bb5", "#8c564b", "#d462b0", "#6b6b6b", "#b5a300", "#17a9bd")
LEVEL_COLORS = ("#c8553d", "#f2b84b", "#5b9e5f", "#3c7fb8", "#7d5bb5")
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    out, v = [], start
    while v <= hi + 1e-12:
        out.append(round(v, 10))
        v += step
    return out


def _label(text: object, limit: int = 26) -> str:
    """Escaped label cut to fit the left margin (the full text stays in tooltips)."""
    text = str(text)
    return html_text(text if len(text) <= limit else text[: limit - 1] + "…")


def _finite(values) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def forest(
    rows: Sequence[tuple[str, Sequence[tuple[str, float, float, float]]]],
    *,
    title: str = "",
    x_label: str = "",
    reference: float | None = None,
    x_range: tuple[float, float] | None = None,
    width: int = 640,
) -> str:
    """Points with interval whiskers, one band per row and one offset line per series.

    rows : [(row label, [(series, estimate, ci_low, ci_high), ...]), ...]
    reference : x value drawn as a dashed vertical line (e.g. 0 for bias)
    """
    series = list(dict.fromkeys(s for _, pts in rows for s, *_ in pts))
    color = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}
    values = _finite(v for _, pts in rows for _, e, lo, hi in pts for v in (e, lo, hi))
    if reference is not None:
        values.append(reference)
    lo, hi = x_range if x_range else ((min(values), max(values)) if values else (0.0, 1.0))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.04 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    left, right, top = 170, 20, 34 if title else 14
    band = 8 + 9 * max(1, len(series))
    plot_h = band * max(1, len(rows))
    plot_w = width - left - right
    legend_rows = _legend_rows(series, left, width - right)
    height = top + plot_h + 40 + 15 * legend_rows

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {_FONT} role="img">']
    if title:
        out.append(f'<text x="{left}" y="16" font-weight="bold" font-size="12">{html_text(title)}</text>')
    for t in _ticks(lo, hi):
        out.append(f'<line x1="{_fmt(x(t))}" y1="{top}" x2="{_fmt(x(t))}" y2="{top + plot_h}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{_fmt(x(t))}" y="{top + plot_h + 14}" text-anchor="middle" fill="#444">{t:g}</text>')
    if reference is not None and lo <= reference <= hi:
        out.append(f'<line x1="{_fmt(x(reference))}" y1="{top}" x2="{_fmt(x(reference))}" y2="{top + plot_h}" stroke="#555" stroke-dasharray="4,3"/>')
    for r, (label, pts) in enumerate(rows):
        y0 = top + r * band
        if r % 2 == 0:
            out.append(f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{band}" fill="#f7f7f7"/>')
        out.append(f'<text x="{left - 6}" y="{_fmt(y0 + band / 2 + 4)}" text-anchor="end">{_label(label)}</text>')
        for s, est, ci_lo, ci_hi in pts:
            if est is None or not math.isfinite(est):
                continue
            yy = y0 + 8 + 9 * series.index(s)
            c = color[s]
            if ci_lo is not None and ci_hi is not None and math.isfinite(ci_lo) and math.isfinite(ci_hi):
                out.append(f'<line x1="{_fmt(x(ci_lo))}" y1="{yy}" x2="{_fmt(x(ci_hi))}" y2="{yy}" stroke="{c}" stroke-width="1.6"/>')
            out.append(f'<circle cx="{_fmt(x(est))}" cy="{yy}" r="3.2" fill="{c}"><title>{html_text(f"{label} · {s}: {est:.3f} [{ci_lo:.3f}, {ci_hi:.3f}]")}</title></circle>')
    out.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h + 30}" text-anchor="middle" fill="#333">{html_text(x_label)}</text>')
    out.append(_legend(series, color, left, top + plot_h + 48, width - right))
    out.append("</svg>")
    return "".join(out)


def _legend_layout(names: Sequence[str], x0: float, max_x: float) -> list[tuple[str, float, int]]:
    """(name, x, row) for each legend entry, wrapping before ``max_x``."""
    placed, x, row = [], x0, 0
    for name in names:
        w = 24 + 6.5 * len(name)
        if x + w > max_x and x > x0:
            x, row = x0, row + 1
        placed.append((name, x, row))
        x += w
    return placed


def _legend_rows(names: Sequence[str], x0: float, max_x: float) -> int:
    layout = _legend_layout(names, x0, max_x)
    return (layout[-1][2] + 1) if layout else 0


def _legend(names: Sequence[str], color: dict, x0: float, y: float, max_x: float = 10_000) -> str:
    parts = []
    for name, x, row in _legend_layout(names, x0, max_x):
        yy = y + 15 * row
        parts.append(f'<rect x="{_fmt(x)}" y="{_fmt(yy - 9)}" width="10" height="10" fill="{color[name]}"/>')
        parts.append(f'<text x="{_fmt(x + 14)}" y="{_fmt(yy)}">{html_text(name)}</text>')
    return "".join(parts)


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    level_names: Sequence[str],
    *,
    title: str = "",
    width: int = 640,
) -> str:
    """Horizontal 100 % bars: each row's shares of the levels (shares sum to 1)."""
    color = {name: LEVEL_COLORS[i % len(LEVEL_COLORS)] for i, name in enumerate(level_names)}
    left, right, top, bar = 170, 20, 34 if title else 14, 16
    plot_w = width - left - right
    legend_rows = _legend_rows(level_names, left, width - right)
    height = top + len(rows) * (bar + 4) + 12 + 15 * legend_rows
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {_FONT} role="img">']
    if title:
        out.append(f'<text x="{left}" y="16" font-weight="bold" font-size="12">{html_text(title)}</text>')
    for r, (label, shares) in enumerate(rows):
        y = top + r * (bar + 4)
        out.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_label(label)}</text>')
        x = float(left)
        for name, share in zip(level_names, shares, strict=True):
            if share is None or not math.isfinite(share) or share <= 0:
                continue
            w = share * plot_w
            out.append(f'<rect x="{_fmt(x)}" y="{y}" width="{_fmt(w)}" height="{bar}" fill="{color[name]}"><title>{html_text(f"{label} · {name}: {100 * share:.1f}%")}</title></rect>')
            if w > 26:
                out.append(f'<text x="{_fmt(x + w / 2)}" y="{y + 12}" text-anchor="middle" fill="#fff">{100 * share:.0f}%</text>')
            x += w
    out.append(_legend(list(level_names), color, left, top + len(rows) * (bar + 4) + 12, width - right))
    out.append("</svg>")
    return "".join(out)


def lines(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 640,
    height: int = 260,
) -> str:
    """Line chart: ``series`` maps a name to (x values, y values)."""
    names = list(series)
    color = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(names)}
    xs = _finite(v for xv, _ in series.values() for v in xv)
    ys = _finite(v for _, yv in series.values() for v in yv)
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y_lo, y_hi = (min(0.0, min(ys)), max(ys)) if ys else (0.0, 1.0)
    x_hi = x_hi if x_hi > x_lo else x_lo + 1
    y_hi = y_hi if y_hi > y_lo else y_lo + 1
    left, right, top = 60, 20, 34 if title else 14
    bottom = 40 + 15 * _legend_rows(names, left, width - right)
    pw, ph = width - left - right, height - top - bottom

    def px(v):
        return left + (v - x_lo) / (x_hi - x_lo) * pw

    def py(v):
        return top + ph - (v - y_lo) / (y_hi - y_lo) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {_FONT} role="img">']
    if title:
        out.append(f'<text x="{left}" y="16" font-weight="bold" font-size="12">{html_text(title)}</text>')
    for t in _ticks(y_lo, y_hi, 4):
        out.append(f'<line x1="{left}" y1="{_fmt(py(t))}" x2="{left + pw}" y2="{_fmt(py(t))}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{left - 4}" y="{_fmt(py(t) + 4)}" text-anchor="end" fill="#444">{t:g}</text>')
    for t in _ticks(x_lo, x_hi, 6):
        out.append(f'<text x="{_fmt(px(t))}" y="{top + ph + 14}" text-anchor="middle" fill="#444">{t:g}</text>')
    for name in names:
        pts = [(a, b) for a, b in zip(*series[name], strict=True) if math.isfinite(a) and math.isfinite(b)]
        if not pts:
            continue
        path = " ".join(f"{_fmt(px(a))},{_fmt(py(b))}" for a, b in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color[name]}" stroke-width="1.8"/>')
        for a, b in pts:
            out.append(f'<circle cx="{_fmt(px(a))}" cy="{_fmt(py(b))}" r="2.5" fill="{color[name]}"><title>{html_text(f"{name}: n={a:g}, {b:.3f}")}</title></circle>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 30}" text-anchor="middle" fill="#333">{html_text(x_label)}</text>')
    out.append(f'<text x="12" y="{top + ph / 2}" transform="rotate(-90 12 {top + ph / 2})" text-anchor="middle" fill="#333">{html_text(y_label)}</text>')
    out.append(_legend(names, color, left, top + ph + 48, width - right))
    out.append("</svg>")
    return "".join(out)
