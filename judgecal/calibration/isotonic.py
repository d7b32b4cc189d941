"""Isotonic calibrator: one judge feature -> expected human score, monotone.

A scikit-learn regressor. The fit is a weighted pool-adjacent-violators fit
(scipy's C++ implementation) on the distinct feature values, so judge scores on
a 0-2 scale cost three points however many rows there are.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from judgecal.calibration._fit.isotonic_fit import fit_isotonic_table, isotonic_from_sums
from judgecal.calibration._fit.params import ValidatedParams, fit_context


class IsotonicCalibrator(ValidatedParams, RegressorMixin, BaseEstimator):
    """Monotone map from one judge feature to the expected human score.

    Parameters
    ----------
    y_min, y_max : the metric's scale ends; predictions are clipped to them
        (None: no clipping on that side).
    increasing : whether the map rises with the judge feature. Judges and
        humans share a metric's polarity, so this is True for every built-in metric.

    Attributes
    ----------
    X_thresholds_ : ndarray, shape (k,) distinct training feature values, increasing
    y_thresholds_ : ndarray, shape (k,) fitted expected human score at each of them
    n_features_in_ : always 1

    Examples
    --------
    >>> import numpy as np
    >>> from judgecal.calibration import IsotonicCalibrator
    >>> judge = np.array([0, 1, 2, 2, 2, 1])
    >>> human = np.array([0, 0, 1, 2, 1, 1])
    >>> cal = IsotonicCalibrator(y_min=0, y_max=2).fit(judge, human)
    >>> cal.predict([0, 1, 2]).tolist()
    [0.0, 0.5, 1.3333333333333333]
    """

    _parameter_constraints: dict = {
        "y_min": [Real, None],
        "y_max": [Real, None],
        "increasing": ["boolean"],
    }

    def __init__(self, y_min: float | None = None, y_max: float | None = None, increasing: bool = True):
        self.y_min = y_min
        self.y_max = y_max
        self.increasing = increasing

    @fit_context
    def fit(self, X, y, sample_weight=None):
        """Fit on X shape (n, 1) (or (n,)), y shape (n,), sample_weight shape (n,)."""
        X, y = validate_data(self, _as_2d(X), y, dtype=np.float64, y_numeric=True)
        if X.shape[1] != 1:
            raise ValueError(
                f"IsotonicCalibrator takes exactly one feature (the judge's score), got {X.shape[1]}"
            )
        w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self.X_thresholds_, self.y_thresholds_ = fit_isotonic_table(
            X[:, 0], y, w, increasing=self.increasing, y_min=self.y_min, y_max=self.y_max
        )
        return self

    def predict(self, X) -> np.ndarray:
        """Expected human score, shape (n,), for X shape (n, 1) or (n,)."""
        check_is_fitted(self)
        X = validate_data(self, _as_2d(X), dtype=np.float64, reset=False)
        return np.interp(X[:, 0], self.X_thresholds_, self.y_thresholds_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Like sklearn's IsotonicRegression: one feature, given as (n,) or (n, 1).
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        return tags


def _as_2d(X):
    arr = np.asarray(X) if not hasattr(X, "iloc") else X
    if getattr(arr, "ndim", 2) == 1:
        return np.asarray(arr).reshape(-1, 1)
    return X


__all__ = ["IsotonicCalibrator", "fit_isotonic_table", "isotonic_from_sums"]
