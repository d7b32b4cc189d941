"""judgecal: make LLM-as-judge scores trustworthy in every language.

Heavy parts load on first use, so ``import judgecal`` is cheap.
"""

from __future__ import annotations

from judgecal._version import __version__

__all__ = [
    "__version__",
    "read_ratings",
    "write_ratings",
    "load_calibrator",
    "validate_ratings",
    "GroupedCalibrator",
    "CalibratedJudge",
]

_LAZY = {
    "read_ratings": ("judgecal.data.io", "read_ratings"),
    "load_ratings": ("judgecal.data.io", "load_ratings"),
    "write_ratings": ("judgecal.data.io", "write_ratings"),
    "validate_ratings": ("judgecal.data.validate", "validate_ratings"),
    "load_calibrator": ("judgecal.calibration", "load_calibrator"),
    "GroupedCalibrator": ("judgecal.calibration", "GroupedCalibrator"),
    "CalibratedJudge": ("judgecal.calibrated_judge", "CalibratedJudge"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'judgecal' has no attribute {name!r}")
