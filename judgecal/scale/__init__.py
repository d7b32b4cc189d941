"""Running judgecal inside the engines teams already use for large tables.

* :mod:`judgecal.scale.partition` – :class:`PartitionCalibrator`, the
  pandas -> pandas function that applies a fitted calibrator to one partition
  (Dask ``map_partitions``, Ray Data ``map_batches``, Spark ``mapInPandas``).
* :mod:`judgecal.scale.spark` – :func:`apply_calibrator_spark`, a Spark
  DataFrame in, the same columns as ``calibrator.apply`` out (extra ``spark``).

Nothing here imports pyspark, Dask or Ray at module level.
"""

from __future__ import annotations

from judgecal._lazy import lazy_exports

__all__ = ["PartitionCalibrator", "apply_calibrator_spark", "calibrator_json", "check_partitioned", "output_columns"]

_LAZY = {
    "PartitionCalibrator": "judgecal.scale.partition",
    "calibrator_json": "judgecal.scale.partition",
    "check_partitioned": "judgecal.scale.partition",
    "output_columns": "judgecal.scale.partition",
    "apply_calibrator_spark": "judgecal.scale.spark",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
