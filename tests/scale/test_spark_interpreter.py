"""Spark workers in local mode run the driver's interpreter: a virtualenv that is
not activated (``python3`` on PATH is another Python, without judgecal) still works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'judgecal[spark]')")
JAVA = shutil.which("java") or "/usr/bin/java"
if not os.path.exists(JAVA):
    pytest.skip("no Java runtime for Spark (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

DRIVER = textwrap.dedent("""
    import sys
    import pandas as pd
    from pyspark.sql import SparkSession
    from judgecal.calibration import load_calibrator
    from judgecal.scale.spark import apply_calibrator_spark

    cal_path, table_path = sys.argv[1:3]
    table = pd.read_parquet(table_path)
    spark = (SparkSession.builder.master("local[1]").appName("judgecal-interpreter")
             .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
    try:
        got = apply_calibrator_spark(spark.createDataFrame(table), cal_path).toPandas()
    finally:
        spark.stop()
    want = load_calibrator(cal_path).apply(table)
    got = got.sort_values("row_id").reset_index(drop=True)
    assert (got["score_calibrated"].fillna(-9) == want["score_calibrated"].fillna(-9)).all()
    print("rows", len(got))
""")


def test_local_workers_use_the_drivers_python_when_python3_on_path_is_another(tmp_path, pariksha):
    from judgecal.calibration import GroupedCalibrator
    from judgecal.calibration.persist import save_calibrator

    table = pariksha[pariksha["language"].isin(["hi", "ta"])].head(2000).reset_index(drop=True)
    table = table[["item_id", "language", "script", "metric", "rater", "rater_kind", "score"]].copy()
    table["row_id"] = range(len(table))
    table.to_parquet(tmp_path / "table.parquet", index=False)
    cal = save_calibrator(GroupedCalibrator(method="isotonic").fit(pariksha), tmp_path / "cal.json")

    # What an unactivated venv looks like: the first python3 on PATH is not the driver's.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "python3"
    fake.write_text("#!/bin/sh\necho 'python3 from PATH is not the driver interpreter' >&2\nexit 3\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "VIRTUAL_ENV", "SPARK_HOME")}
    env["PATH"] = f"{bindir}{os.pathsep}{os.path.dirname(JAVA)}{os.pathsep}/usr/bin{os.pathsep}/bin"
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    done = subprocess.run([sys.executable, "-c", DRIVER, str(cal), str(tmp_path / "table.parquet")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["rows", str(len(table))]


def test_worker_python_rule():
    from judgecal.scale.spark import worker_python

    exe = sys.executable
    assert worker_python("local[2]", "python3", {}, None) == exe
    assert worker_python("local", "python3", {}, None) == exe
    # the user's choice stands: PYSPARK_PYTHON, spark.pyspark.python, or a context made with one
    assert worker_python("local[2]", "python3", {"PYSPARK_PYTHON": "/opt/py"}, None) is None
    assert worker_python("local[2]", "python3", {}, "/opt/py") is None
    assert worker_python("local[2]", "/opt/py", {}, None) is None
    # on a cluster the driver's path means nothing on the executors
    assert worker_python("yarn", "python3", {}, None) is None
    assert worker_python("spark://host:7077", "python3", {}, None) is None
