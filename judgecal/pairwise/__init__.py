"""Pairwise battles: two responses to one prompt, a verdict first / tie / second.

Public modules: ``schema`` (the battles table contract, docs/pairwise.md),
``io`` (readers and writers), ``verdicts`` (each order's and the combined
verdict of a judge), ``calibration`` (P(native says system_1 / tie /
system_2 better) per language and script), ``quality`` (agreement and
calibration tables), ``bias`` (position, ties, length, self-preference),
``describe`` (what a battles table holds per language), ``overview`` (every
number of a pairwise report: before/after calibration per language, leaderboards).
Machinery lives in ``_machinery``. Names are loaded lazily, so reading a table
does not import the calibration stack.
"""

from __future__ import annotations

from judgecal._lazy import lazy_exports

_LAZY = {
    "normalize_battles": "judgecal.data.battles",
    "outcomes": "judgecal.data.battles",
    "load_battles": "judgecal.pairwise.io",
    "read_battles": "judgecal.pairwise.io",
    "write_battles": "judgecal.pairwise.io",
    "judged_pairs": "judgecal.data.battle_verdicts",
    "battle_arrays": "judgecal.data.battle_verdicts",
    "PairwiseCalibrator": "judgecal.pairwise.calibration",
    "cross_validated_pairs": "judgecal.pairwise.calibration",
    "agreement_table": "judgecal.pairwise.quality",
    "calibration_table": "judgecal.pairwise.quality",
    "bias_table": "judgecal.pairwise.bias",
}
__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
