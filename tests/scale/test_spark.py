"""Calibrators on Spark (local mode, started here): the output equals pandas
``apply`` row for row on PARIKSHA."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from judgecal.calibration import GroupedCalibrator
from judgecal.calibration.persist import save_calibrator
from judgecal.errors import InputError

from .compare import assert_same_rows

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'judgecal[spark]')")
JAVA = os.environ.get("JAVA_HOME") and os.path.join(os.environ["JAVA_HOME"], "bin", "java")
if not (JAVA and os.path.exists(JAVA)) and shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

from judgecal.scale.spark import apply_calibrator_spark  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    old = os.environ.get("SPARK_LOCAL_IP")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (
        SparkSession.builder.master("local[2]").appName("judgecal-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Small Arrow batches: many batches per partition, some without an ordinal metric.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1500")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if old is None:
        os.environ.pop("SPARK_LOCAL_IP", None)
    else:
        os.environ["SPARK_LOCAL_IP"] = old


@pytest.fixture(scope="module")
def table(pariksha) -> pd.DataFrame:
    out = pariksha.copy()
    out["row_id"] = range(len(out))  # to put Spark's rows back in pandas order
    return out


@pytest.fixture(scope="module")
def sdf(spark, table):
    # Sorted by metric: range partitions and Arrow batches of one or two metrics.
    return spark.createDataFrame(table).orderBy("metric", "row_id").repartitionByRange(4, "metric", "row_id")


@pytest.fixture(scope="module")
def auto_cal(table):
    return GroupedCalibrator(method="auto").fit(table)


def collect(sdf) -> pd.DataFrame:
    return sdf.toPandas().sort_values("row_id").reset_index(drop=True)


def test_spark_equals_pandas_apply_on_pariksha(spark, table, sdf, auto_cal, tmp_path):
    cal = auto_cal
    methods = {m: i["method"] for m, i in cal.metric_info_.items()}
    want = cal.apply(table)
    # prob_<level> columns exist exactly when some metric is served by the ordinal model.
    assert any(c.startswith("prob_") for c in want.columns) == ("ordinal" in methods.values())
    out = apply_calibrator_spark(sdf, cal)
    assert "MapInPandas" in out._jdf.queryExecution().toString()  # no shuffle needed
    got = collect(out)
    assert got["score_calibrated"].notna().sum() == (table["rater_kind"] == "judge").sum()
    assert_same_rows(got, want)
    # From the saved file: the same rows.
    path = save_calibrator(cal, tmp_path / "pariksha.json")
    assert_same_rows(collect(apply_calibrator_spark(sdf, str(path))), want)


def test_spark_keeps_items_together_for_other_metric_features(table, sdf):
    cal = GroupedCalibrator(method="ordinal", features=("score", "other_metrics")).fit(table)
    want = cal.apply(table)
    out = apply_calibrator_spark(sdf, cal)
    assert "FlatMapGroupsInPandas" in out._jdf.queryExecution().toString()  # grouped by item hash
    got = collect(out)
    assert [c for c in want.columns if c.startswith("prob_")] == ["prob_0", "prob_1", "prob_2"]
    assert_same_rows(got, want)


def test_spark_bad_input(spark, table, sdf, auto_cal):
    from pyspark.errors import PythonException

    cal = auto_cal
    with pytest.raises(InputError, match="score"):
        apply_calibrator_spark(sdf.drop("score"), cal)
    other = sdf.withColumnRenamed("rater", "rater_orig").selectExpr("*", "'another-judge' AS rater")
    with pytest.raises(PythonException, match="does not transfer between judges"):
        apply_calibrator_spark(other, cal).count()
