"""judgecal: make LLM-as-judge scores trustworthy in every language.

Heavy parts load on first use, so ``import judgecal`` is cheap.
"""

from __future__ import annotations

from judgecal._lazy import lazy_exports
from judgecal._version import __version__

__all__ = [
    "__version__",
    "score_generations",
    "score_battles",
    "read_ratings",
    "write_ratings",
    "load_calibrator",
    "validate_ratings",
    "GroupedCalibrator",
    "CalibratedJudge",
]

_LAZY = {
    "score_generations": ("judgecal.judges.api", "score_generations"),
    "score_battles": ("judgecal.judges.pairwise", "score_battles"),
    "read_ratings": ("judgecal.data.io", "read_ratings"),
    "load_ratings": ("judgecal.data.io", "load_ratings"),
    "write_ratings": ("judgecal.data.io", "write_ratings"),
    "validate_ratings": ("judgecal.data.validate", "validate_ratings"),
    "load_calibrator": ("judgecal.calibration", "load_calibrator"),
    "GroupedCalibrator": ("judgecal.calibration", "GroupedCalibrator"),
    "CalibratedJudge": ("judgecal.calibrated_judge", "CalibratedJudge"),
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
