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

Errors raised on the workers (a judge the calibrator was not fitted for, a score
off the scale) come back from Spark's action as a ``PythonException`` whose
message holds judgecal's error text.
"""

from __future__ import annotations

from judgecal._lazy import require
from judgecal.errors import InputError, Problem
from judgecal.scale.partition import STRING_OUTPUT, PartitionCalibrator

REQUIRED = ("item_id", "language", "metric", "score")
BUCKET = "__judgecal_bucket"


def _import_pyspark():
    require("pyspark.sql", "spark", "applying calibrators on Spark")
    return require("pyspark", "spark", "applying calibrators on Spark")


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

        return df.mapInPandas(calibrate_batches, schema)

    buckets = int(n_buckets or session.conf.get("spark.sql.shuffle.partitions") or 200)
    if buckets < 1:
        raise InputError(Problem(f"n_buckets must be at least 1, not {buckets}"))
    keyed = df.withColumn(BUCKET, F.pmod(F.xxhash64(F.col("item_id").cast("string")), F.lit(buckets)))

    def calibrate_group(frame):
        return PartitionCalibrator(calibrator_text(), **options)(frame.drop(columns=[BUCKET]))

    return keyed.groupBy(BUCKET).applyInPandas(calibrate_group, schema)
