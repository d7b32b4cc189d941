"""Apply a calibrator to a Spark DataFrame of judge ratings (extra ``spark``).

:func:`apply_calibrator_spark` broadcasts the calibrator once, as its JSON text,
and runs :class:`~judgecal.scale.partition.PartitionCalibrator` on Arrow
batches through ``mapInPandas``. Each Python worker rebuilds the calibrator from
the text once and reuses it for every batch it serves. The result has the
input's columns followed by the columns ``calibrator.apply`` adds, with the same
values row for row.

Calibrators that read an item's scores on its other metrics
(``features=("score", "other_metrics")``) need every row of an item in the same
pandas batch; for them the rows are grouped into hash buckets of ``item_id``
and served by ``groupBy(...).applyInPandas`` (one shuffle).

In local mode the Python workers run the driver's own interpreter
(``sys.executable``), unless ``PYSPARK_PYTHON`` or ``spark.pyspark.python`` names
another: PySpark's default, ``python3`` from PATH, is a different Python (without
judgecal) whenever the virtualenv holding judgecal is not activated.

Errors raised on the workers (a judge the calibrator was not fitted for, a score
off the scale) come back from Spark's action as a ``PythonException`` whose
message holds judgecal's error text.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping

from judgecal._lazy import require
from judgecal.errors import InputError, Problem
from judgecal.scale.partition import STRING_OUTPUT, PartitionCalibrator

REQUIRED = ("item_id", "language", "metric", "score")
BUCKET = "__judgecal_bucket"


def _import_pyspark():
    require("pyspark.sql", "spark", "applying calibrators on Spark")
    return require("pyspark", "spark", "applying calibrators on Spark")


PYSPARK_DEFAULT_PYTHON = "python3"  # what PySpark's SparkContext runs when nothing says otherwise


def worker_python(master: str, current: str, environ: Mapping[str, str], conf_python: str | None) -> str | None:
    """The interpreter local Python workers should run instead of ``current``, or None to keep it.

    master : the SparkContext's master URL; current : its ``pythonExec``;
    environ : the environment; conf_python : the ``spark.pyspark.python`` setting.
    Only a local master gets the driver's interpreter: on a cluster the driver's
    path means nothing on the executors. A choice the user made (either
    setting, or a context created with ``PYSPARK_PYTHON``) is kept.
    """
    if environ.get("PYSPARK_PYTHON") or conf_python or current != PYSPARK_DEFAULT_PYTHON:
        return None
    if not (master == "local" or master.startswith("local[") or master.startswith("local-cluster")):
        return None
    return sys.executable


@contextlib.contextmanager
def _local_workers_run_this_python(session) -> Iterator[None]:
    """While Python functions are created, point PySpark at the driver's interpreter
    (see :func:`worker_python`); the session's own setting is restored afterwards,
    and each function keeps the interpreter it was created with."""
    try:
        sc = session.sparkContext
    except Exception:  # Spark Connect: no SparkContext, the server decides
        yield
        return
    before = sc.pythonExec
    chosen = worker_python(str(sc.master), before, os.environ, sc.getConf().get("spark.pyspark.python"))
    if chosen is not None:
        sc.pythonExec = chosen
    try:
        yield
    finally:
        sc.pythonExec = before


def output_schema(schema, added: list[str]):
    """The input's StructType with the calibrated columns appended (or retyped in place)."""
    from pyspark.sql import types as T

    def field(name: str):
        kind = T.StringType() if name in STRING_OUTPUT else T.DoubleType()
        return T.StructField(name, kind, True)

    fields = [field(f.name) if f.name in added else f for f in schema.fields]
    present = {f.name for f in schema.fields}
    fields += [field(c) for c in added if c not in present]
    return T.StructType(fields)


def apply_calibrator_spark(df, calibrator, *, allow_mismatch: bool = False, randomize: bool = True,
                           keep_items_together: bool | None = None, n_buckets: int | None = None):
    """Calibrated Spark DataFrame: ``df``'s columns plus those ``calibrator.apply`` adds.

    df : pyspark DataFrame in the ratings-table layout (item_id, language,
        metric, score; rater, rater_kind, script, score_probs, ... as the
        calibrator needs them)
    calibrator : fitted or loaded GroupedCalibrator, a calibrator file path, or its JSON
    allow_mismatch, randomize : as in ``apply``
    keep_items_together : serve all rows of an item in one batch (default: only
        when the calibrator needs it)
    n_buckets : item-hash buckets when items are kept together (default
        ``spark.sql.shuffle.partitions``)
    """
    _import_pyspark()
    from pyspark.sql import functions as F

    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError([Problem("required column is missing from the Spark DataFrame", column=c) for c in missing],
                         summary="cannot apply the calibrator")
    part = PartitionCalibrator(calibrator, allow_mismatch=allow_mismatch, randomize=randomize)
    schema = output_schema(df.schema, part.added_columns)
    text = part.calibrator_json
    session = df.sparkSession
    try:
        shipped = session.sparkContext.broadcast(text)

        def calibrator_text() -> str:
            return shipped.value
    except Exception:  # Spark Connect has no SparkContext: the text travels with the function
        def calibrator_text() -> str:
            return text
    options = {"allow_mismatch": bool(allow_mismatch), "randomize": bool(randomize)}

    together = part.whole_items if keep_items_together is None else bool(keep_items_together)
    if not together:
        def calibrate_batches(batches):
            yield from PartitionCalibrator(calibrator_text(), **options).iter_batches(batches)

        with _local_workers_run_this_python(session):
            return df.mapInPandas(calibrate_batches, schema)

    buckets = int(n_buckets or session.conf.get("spark.sql.shuffle.partitions") or 200)
    if buckets < 1:
        raise InputError(Problem(f"n_buckets must be at least 1, not {buckets}"))
    keyed = df.withColumn(BUCKET, F.pmod(F.xxhash64(F.col("item_id").cast("string")), F.lit(buckets)))

    def calibrate_group(frame):
        return PartitionCalibrator(calibrator_text(), **options)(frame.drop(columns=[BUCKET]))

    with _local_workers_run_this_python(session):
        return keyed.groupBy(BUCKET).applyInPandas(calibrate_group, schema)
