"""Plain-text rendering of tables for the terminal."""

from __future__ import annotations

import pandas as pd

from judgecal.sanitize import terminal_text


def table_text(df: pd.DataFrame, *, max_rows: int = 200, floatfmt: str = "{:.3f}") -> str:
    """A DataFrame as an aligned text table (no index).

    Text cells and column names lose escape sequences and control characters
    (:func:`judgecal.sanitize.terminal_text`): names from the data never drive the terminal.
    """
    if df.empty:
        return "(none)"
    shown = df.head(max_rows).copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else floatfmt.format(v))
        elif not pd.api.types.is_numeric_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: terminal_text(v) if isinstance(v, str) else v)
    shown.columns = [terminal_text(c) if isinstance(c, str) else c for c in shown.columns]
    text = shown.to_string(index=False)
    if len(df) > max_rows:
        text += f"\n... {len(df) - max_rows} more rows"
    return text
