"""What the MLflow, DeepEval and lm-eval examples share: a calibrator fitted on
PARIKSHA, a few of its judged items, and the check that a framework's calibrated
scores are ``judgecal apply``'s.

Each example runs as ``python docs/integrations/examples/<framework>_example.py
PARIKSHA_DIR WORK_DIR`` (the PARIKSHA release folder, a scratch folder).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd

from judgecal.cli import main as judgecal
from judgecal.datasets import load_pariksha

JUDGE = "pariksha-gpt-judge"  # the rater id of PARIKSHA's GPT judge rows
# Offline: the frameworks' telemetry off, the Hugging Face hub not asked.
os.environ.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "DEEPEVAL_TELEMETRY_OPT_OUT": "YES",
                   "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})


def setup() -> tuple[Path, Path, pd.DataFrame]:
    """(calibrator file, work folder, 3 judged 'la' items per language in hi, ta, bn)."""
    if len(sys.argv) != 3:
        sys.exit(f"usage: python {sys.argv[0]} PARIKSHA_DIR WORK_DIR")
    release, work = Path(sys.argv[1]), Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    calibrator = work / "calibrator.json"
    if not calibrator.exists():
        assert judgecal(["calibrate", str(release), "--out", str(calibrator)]) == 0
    ratings = load_pariksha(release)
    la = ratings[(ratings["metric"] == "la") & (ratings["rater_kind"] == "judge")
                 & ratings["language"].isin(["hi", "ta", "bn"])].drop_duplicates("response")
    items = la.sort_values(["language", "item_id"]).groupby("language").head(3).reset_index(drop=True)
    return calibrator, work, items[["item_id", "language", "prompt", "response", "score"]]


def compare(calibrator: Path, work: Path, items: pd.DataFrame, framework: dict[str, float]) -> None:
    """Print raw, the framework's calibrated and judgecal apply's calibrated score per item; fail if they differ."""
    judged = items.assign(metric="la", rater=JUDGE, rater_kind="judge")
    judged[["item_id", "language", "metric", "rater", "rater_kind", "score"]].to_csv(work / "judged.csv", index=False)
    assert judgecal(["apply", str(calibrator), str(work / "judged.csv"), "--out", str(work / "applied.parquet"),
                     "--no-randomize"]) == 0
    applied = pd.read_parquet(work / "applied.parquet").set_index("item_id")
    table = pd.DataFrame({"language": applied["language"], "raw": applied["score"],
                          "framework": pd.Series(framework), "judgecal_apply": applied["score_calibrated"]})
    table.index = [f"{i[:8]}../{i.rsplit('/', 1)[-1]}" for i in table.index]  # prompt id.../system
    print(table.to_string(float_format=lambda x: f"{x:.6f}"))
    print(f"means: raw {table['raw'].mean():.6f}  framework {table['framework'].mean():.6f}  "
          f"judgecal apply {table['judgecal_apply'].mean():.6f}")
    same = (table["framework"] == table["judgecal_apply"]).all()
    print("framework == judgecal apply on every item:", bool(same))
    if not same:
        sys.exit(1)
