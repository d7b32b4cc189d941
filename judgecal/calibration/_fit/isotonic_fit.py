"""Weighted isotonic fits on pooled (x, y) sums, without input checks.

The numerical core behind ``judgecal.calibration.isotonic.IsotonicCalibrator`` and the
grouped calibrator's isotonic nodes: both import it from here, so the machinery never
reaches back up into the public estimator module.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import isotonic_regression


def fit_isotonic_table(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    *,
    increasing: bool = True,
    y_min: float | None = None,
    y_max: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted isotonic fit as a knot table.

    x, y, w : shape (n,). Returns (knots, values), each shape (k,) with k the
    number of distinct x; ``np.interp(x_new, knots, values)`` predicts (flat
    beyond the ends). Rows with zero weight are ignored.
    """
    keep = w > 0
    if not keep.all():
        x, y, w = x[keep], y[keep], w[keep]
    if len(x) == 0:
        raise ValueError("no rows with positive weight to fit on")
    knots, inverse = np.unique(x, return_inverse=True)
    wsum = np.bincount(inverse, weights=w, minlength=len(knots))
    ysum = np.bincount(inverse, weights=w * y, minlength=len(knots))
    return knots.astype(np.float64), isotonic_from_sums(wsum, ysum, increasing=increasing, y_min=y_min, y_max=y_max)


def isotonic_from_sums(
    wsum: np.ndarray,
    ysum: np.ndarray,
    *,
    increasing: bool = True,
    y_min: float | None = None,
    y_max: float | None = None,
) -> np.ndarray:
    """Fitted values, shape (k,), at k increasing knots from the total weight
    wsum (k,) (all > 0) and weighted target ysum (k,) of the rows at each knot."""
    values = isotonic_regression(ysum / wsum, weights=wsum, increasing=increasing).x
    if y_min is not None or y_max is not None:
        values = np.clip(values, y_min, y_max)
    return np.asarray(values, dtype=np.float64)
