"""Declared parameter constraints for the calibration estimators, checked in ``fit``.

scikit-learn's own machinery does the checking (each estimator declares
``_parameter_constraints``; ``fit`` is wrapped in ``_fit_context``, which calls
``_validate_params``); this module only makes a bad parameter raise judgecal's
:class:`ParameterError`, which is a ``ConfigError`` (so the command line reports
it as a configuration error) and still the ``ValueError`` scikit-learn raises.
"""

from __future__ import annotations

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from judgecal.errors import ConfigError

__all__ = ["HasMethods", "Interval", "ParameterError", "StrOptions", "ValidatedParams", "fit_context"]


class ParameterError(ConfigError, InvalidParameterError):
    """A calibrator parameter has a wrong type or value; the message names it and what it must be."""


class ValidatedParams:
    """Mixin (before BaseEstimator): parameter checks raise :class:`ParameterError`."""

    _parameter_constraints: dict = {}

    def _validate_params(self) -> None:
        try:
            validate_parameter_constraints(self._parameter_constraints, self.get_params(deep=False),
                                           caller_name=type(self).__name__)
        except InvalidParameterError as exc:
            raise ParameterError(str(exc)) from None


def fit_context(fit):
    """Decorate ``fit``: validate the parameters first (scikit-learn's ``_fit_context``)."""
    return _fit_context(prefer_skip_nested_validation=True)(fit)
