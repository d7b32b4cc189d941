"""Row-for-row comparison of calibrated tables (pandas apply vs partitions/Spark)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def assert_same_rows(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal columns in the same order, and equal values row for row (NaN == NaN).

    Floats are compared to 1e-9 relative: numpy's vectorised products sum in an
    order that depends on the batch's length, so the last bits can differ."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for col in want.columns:
        a, b = got[col].to_numpy(), want[col].to_numpy()
        if pd.api.types.is_float_dtype(want[col]):
            assert np.allclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-12, equal_nan=True), col
        else:
            norm = [None if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else v for v in a]
            wnorm = [None if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else v for v in b]
            assert norm == wnorm, col
