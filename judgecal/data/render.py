"""Plain-text rendering of tables for the terminal."""

from __future__ import annotations

import pandas as pd


def table_text(df: pd.DataFrame, *, max_rows: int = 200, floatfmt: str = "{:.3f}") -> str:
    """A DataFrame as an aligned text table (no index)."""
    if df.empty:
        return "(none)"
    shown = df.head(max_rows).copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else floatfmt.format(v))
    text = shown.to_string(index=False)
    if len(df) > max_rows:
        text += f"\n... {len(df) - max_rows} more rows"
    return text
