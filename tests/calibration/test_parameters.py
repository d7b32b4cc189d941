"""The calibration estimators as scikit-learn sees them: declared parameter constraints
checked in fit (a bad value is a ValueError and a judgecal ConfigError naming the
parameter), clone/get_params/set_params, and check_is_fitted."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import judgecal
from judgecal.calibration import GroupedCalibrator, IsotonicCalibrator, OrdinalCalibrator
from judgecal.errors import ConfigError

BAD = [
    (GroupedCalibrator, "method", "platt"),
    (GroupedCalibrator, "pooling", "some"),
    (GroupedCalibrator, "target", "mean"),
    (GroupedCalibrator, "coverage", 1.5),
    (GroupedCalibrator, "coverage", 0),
    (GroupedCalibrator, "min_group_size", 1),
    (GroupedCalibrator, "n_splits", 1),
    (GroupedCalibrator, "n_splits", 2.5),
    (GroupedCalibrator, "min_conformal_size", 0),
    (GroupedCalibrator, "alpha", -1.0),
    (GroupedCalibrator, "bias_penalty", -0.1),
    (GroupedCalibrator, "features", "score"),
    (GroupedCalibrator, "random_state", -3),
    (OrdinalCalibrator, "output", "mode"),
    (OrdinalCalibrator, "alpha", -1e-3),
    (OrdinalCalibrator, "max_iter", 0),
    (IsotonicCalibrator, "increasing", "yes"),
    (IsotonicCalibrator, "y_min", "low"),
]


@pytest.mark.parametrize(("cls", "name", "value"), BAD, ids=[f"{c.__name__}-{n}-{v!r}" for c, n, v in BAD])
def test_a_bad_parameter_is_a_value_error_naming_it(cls, name, value, ratings):
    est = cls(**{name: value})
    X, y = (ratings, None) if cls is GroupedCalibrator else (np.arange(6.0).reshape(-1, 1), np.array([0, 0, 1, 1, 2, 2]))
    with pytest.raises(ValueError, match=f"'{name}' parameter of {cls.__name__} must be") as info:
        est.fit(X, y)
    assert isinstance(info.value, ConfigError)  # the command line reports it as a configuration error
    assert repr(value) in str(info.value) or str(value) in str(info.value)


def test_set_params_is_checked_at_the_next_fit(ratings):
    cal = GroupedCalibrator().set_params(coverage=2.0)
    assert cal.get_params()["coverage"] == 2.0  # sklearn style: stored as given, checked in fit
    with pytest.raises(ConfigError, match="'coverage'"):
        cal.fit(ratings)


def test_clone_get_params_and_set_params(fitted):
    params = fitted.get_params()
    assert params["method"] == "auto" and params["features"] == ("score",)
    copy = clone(fitted)
    assert copy.get_params() == params and copy is not fitted
    assert not hasattr(copy, "state_") and not hasattr(copy, "nodes_")  # clone drops what was learned
    copy.set_params(pooling="none", coverage=0.8)
    assert (copy.pooling, copy.coverage) == ("none", 0.8)
    assert fitted.pooling == "partial"


def test_check_is_fitted(fitted, saved, ratings):
    with pytest.raises(NotFittedError):
        check_is_fitted(GroupedCalibrator())
    check_is_fitted(fitted)
    check_is_fitted(judgecal.load_calibrator(saved))
    with pytest.raises(judgecal.errors.CalibratorError, match="not fitted"):
        GroupedCalibrator().apply(ratings)


def test_grouped_calibrator_is_exported_from_judgecal(fitted):
    assert judgecal.GroupedCalibrator is GroupedCalibrator
    assert "GroupedCalibrator" in judgecal.__all__ and "CalibratedJudge" in judgecal.__all__


def test_fitted_attributes_are_views_of_one_state(fitted):
    state = fitted.state_
    assert fitted.nodes_ is state.nodes and fitted.metric_info_ is state.metric_info
    assert fitted.cv_quality_ is state.cv_quality and fitted.judge_ == state.judge
    with pytest.raises(AttributeError):
        fitted.nodes_ = {}  # learned state changes only by fitting (or loading)
