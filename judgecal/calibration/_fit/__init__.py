"""Machinery behind the calibration estimators (private: import the public modules instead).

Fitting :class:`~judgecal.calibration.grouped.GroupedCalibrator`: ``examples``
(judge scores paired with human targets), ``metric_data`` (one metric's examples
as arrays), ``design`` (features), ``folds`` (grouped cross-validation folds),
``hierarchy`` (per-group nodes and their shrinkage), ``ordinal_nodes`` /
``isotonic_nodes`` (all nodes fitted at once), ``heldout`` and ``rowcodes``
(array helpers), ``conformal`` (prediction sets), ``evaluation`` (held-out
quality), ``params`` (declared parameter constraints). What a fit learns:
``state`` (one ``FittedGroups``), written and read by ``fileformat``, whose
content ``filecheck`` checks field by field on load. Serving a
fitted state: ``serving`` and ``serving_rows``.
"""
