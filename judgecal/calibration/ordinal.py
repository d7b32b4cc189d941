"""Ordinal calibrator: proportional-odds (cumulative logit) model.

P(Y <= level_k | x) = sigmoid(theta_k - x @ beta), k = 0..K-2, with increasing
thresholds theta. Fitted by damped Newton steps on the weighted negative
log-likelihood with an analytic gradient (numpy/scipy only; statsmodels is not needed).

Levels a group never used still get a probability: a small prior of
pseudo-observations (``prior_weight`` in total, spread evenly over the levels at
the mean feature vector) keeps every threshold finite, and a light L2 penalty on
beta keeps separable data from running off to infinity.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from judgecal.calibration._fit.params import Interval, StrOptions, ValidatedParams, fit_context
from judgecal.calibration._fit.proportional_odds import fit_proportional_odds, ordinal_proba

OUTPUTS = ("level", "expected")


class OrdinalCalibrator(ValidatedParams, ClassifierMixin, BaseEstimator):
    """Judge features -> probability of each human level (proportional odds).

    Parameters
    ----------
    levels : the metric's levels in increasing order (e.g. (0, 1, 2)). With
        levels given, classes the training data never shows still get a
        probability. None: the sorted distinct training labels.
    output : what ``predict`` returns: ``"level"`` (most likely level, the
        classifier contract) or ``"expected"`` (probability-weighted mean level;
        needs numeric levels).
    alpha : L2 penalty on the coefficients of the standardised features.
    prior_weight : total weight of the pseudo-observations (one share per level).
    max_iter : Newton iterations.

    Attributes
    ----------
    classes_ : ndarray, shape (K,) the levels
    coef_ : ndarray, shape (p,) coefficients on the original feature scale
    thresholds_ : ndarray, shape (K-1,) increasing cut points (original scale)
    n_iter_ : iterations used

    Examples
    --------
    >>> import numpy as np
    >>> from judgecal.calibration import OrdinalCalibrator
    >>> judge = np.array([[0], [1], [2], [2], [2], [1], [0], [1]])
    >>> human = np.array([0, 1, 1, 2, 2, 1, 0, 0])
    >>> cal = OrdinalCalibrator(levels=(0, 1, 2)).fit(judge, human)
    >>> proba = cal.predict_proba([[0], [2]])
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1))
    ((2, 3), True)
    >>> cal.predict([[0], [2]]).tolist()
    [0, 2]
    """

    _parameter_constraints: dict = {
        "levels": ["array-like", None],
        "output": [StrOptions(set(OUTPUTS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "prior_weight": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        levels=None,
        output: str = "level",
        alpha: float = 1e-3,
        prior_weight: float = 1.0,
        max_iter: int = 100,
    ):
        self.levels = levels
        self.output = output
        self.alpha = alpha
        self.prior_weight = prior_weight
        self.max_iter = max_iter

    @fit_context
    def fit(self, X, y, sample_weight=None):
        """Fit on X shape (n, p), y shape (n,) of levels, sample_weight shape (n,)."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if self.levels is None:
            classes = np.unique(y)
            if len(classes) < 2:
                raise ValueError(
                    f"OrdinalCalibrator needs at least 2 classes in y when levels are not given; got {len(classes)} class"
                )
        else:
            classes = np.asarray(self.levels)
            if len(classes) < 2 or np.any(np.diff(classes.astype(float)) <= 0):
                raise ValueError(f"levels must be at least two increasing values, got {self.levels!r}")
            unknown = ~np.isin(y, classes)
            if unknown.any():
                raise ValueError(f"y holds values that are not levels {tuple(classes)}: {np.unique(y[unknown])[:5]}")
        self.classes_ = classes
        yi = np.searchsorted(classes, y) if self.levels is not None else np.unique(y, return_inverse=True)[1]
        self.coef_, self.thresholds_, self.n_iter_ = fit_proportional_odds(
            X, yi, w, len(classes), alpha=float(self.alpha), prior_weight=float(self.prior_weight),
            max_iter=int(self.max_iter))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each level, shape (n, K), rows sum to 1."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return ordinal_proba(X @ self.coef_, self.thresholds_)

    def predict_expected(self, X) -> np.ndarray:
        """Probability-weighted mean level, shape (n,)."""
        return self.predict_proba(X) @ self.classes_.astype(np.float64)

    def predict(self, X) -> np.ndarray:
        """Most likely level (``output="level"``) or expected level, shape (n,)."""
        if self.output == "expected":
            return self.predict_expected(X)
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


__all__ = ["OrdinalCalibrator", "fit_proportional_odds", "ordinal_proba"]
