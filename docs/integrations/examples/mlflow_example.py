"""judgecal's MLflow scorer in mlflow.genai.evaluate, offline (a SQLite store in WORK_DIR).

    python docs/integrations/examples/mlflow_example.py ../shared/data/pariksha /tmp/mlflow-demo

The judge is a scorer replaying PARIKSHA's judge score stored with each row
(swap in your LLM judge scorer, e.g. one from mlflow.genai.judges.make_judge).
"""

import mlflow
from mlflow.genai.scorers import scorer
from pariksha_example import JUDGE, compare, setup

from judgecal.integrations.mlflow import calibrated_scorer

calibrator, work, items = setup()
mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
mlflow.set_experiment("judgecal-demo")


@scorer
def pariksha_judge(expectations):
    return expectations["judge_score"]


data = [{"inputs": {"question": r.prompt, "language": r.language}, "outputs": r.response,
         "expectations": {"judge_score": float(r.score), "item_id": r.item_id}} for r in items.itertuples()]
calibrated = calibrated_scorer(str(calibrator), "la", judge=pariksha_judge, judge_model=JUDGE, text_key="question")
result = mlflow.genai.evaluate(data=data, scorers=[pariksha_judge, calibrated])
print({k: round(float(v), 6) for k, v in result.metrics.items()})

scores = {}
for trace in map(mlflow.get_trace, result.tables["eval_results"]["trace_id"]):
    item = trace.search_assessments(name="item_id", type="expectation")[0].value
    scores[item] = trace.search_assessments(name="judgecal_calibrated", type="feedback")[0].value
compare(calibrator, work, items, scores)
