"""Calibration: turn raw judge scores into what native speakers would have said.

Estimators (scikit-learn style): :class:`IsotonicCalibrator`,
:class:`OrdinalCalibrator`, and :class:`GroupedCalibrator` (one calibrator per
language, script and metric with back-off and cross-validated shrinkage).
Cross-validation: :func:`cross_validate`, :func:`out_of_fold_predictions`.
Files: :func:`save_calibrator`, :func:`load_calibrator` (versioned JSON, no pickle).
Judge drift: :func:`check_drift`, anchor items to re-score: :func:`select_anchors`.
"""

from __future__ import annotations

from judgecal._lazy import lazy_exports
from judgecal.calibration.grouped import GroupedCalibrator
from judgecal.calibration.isotonic import IsotonicCalibrator
from judgecal.calibration.ordinal import OrdinalCalibrator

__all__ = [
    "GroupedCalibrator",
    "IsotonicCalibrator",
    "OrdinalCalibrator",
    "cross_validate",
    "out_of_fold_predictions",
    "save_calibrator",
    "load_calibrator",
    "check_drift",
    "select_anchors",
]

_LAZY = {
    "cross_validate": "judgecal.calibration.cv",
    "out_of_fold_predictions": "judgecal.calibration.cv",
    "save_calibrator": "judgecal.calibration.persist",
    "load_calibrator": "judgecal.calibration.persist",
    "check_drift": "judgecal.calibration.drift",
    "select_anchors": "judgecal.calibration.anchors",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
