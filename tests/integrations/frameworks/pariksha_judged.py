"""Constants and the ``judgecal apply`` reference shared by the MLflow, DeepEval
and lm-eval integration tests (their fixtures are in this folder's conftest.py).
They run in a venv without inspect_ai (.ci/run's frameworks step), so they do not
use the parent conftest's fixtures built on the inspect example."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from judgecal.cli import main as judgecal_main
from judgecal.integrations._common import template_hash

# Nothing leaves the machine: the frameworks' telemetry off (read when they are
# imported, after this module) and the Hugging Face hub offline (lm-eval's datasets).
os.environ.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "DEEPEVAL_TELEMETRY_OPT_OUT": "YES",
                   "DEEPEVAL_UPDATE_WARNING_OPT_IN": "NO", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})

JUDGE = "pariksha-gpt-judge"  # PARIKSHA's judge rows carry this rater id
# The judge prompt the calibrator records (its hash); the tests' judges are told it.
JUDGE_PROMPT = ("Rate the linguistic acceptability of the answer in its language: 0 unacceptable, 1 partly, "
                "2 fully acceptable.")
PROMPT_HASH = template_hash(JUDGE_PROMPT)
OTHER_HASH = "0123456789abcdef"


def judgecal_apply(calibrator: Path, items: pd.DataFrame, work: Path) -> pd.DataFrame:
    """``judgecal apply --no-randomize`` (the command line) on the items' judge rows,
    indexed by item_id: what every integration's numbers must equal."""
    judged = items.assign(metric="la", rater=JUDGE, rater_kind="judge", judge_prompt_hash=PROMPT_HASH)[
        ["item_id", "language", "metric", "rater", "rater_kind", "score", "judge_prompt_hash"]]
    judged.to_csv(work / "judged.csv", index=False)
    out = work / "calibrated.parquet"
    assert judgecal_main(["apply", str(calibrator), str(work / "judged.csv"), "--out", str(out),
                          "--no-randomize"]) == 0
    applied = pd.read_parquet(out).set_index("item_id")
    assert len(applied) == len(items)
    return applied
