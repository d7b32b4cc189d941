"""judgecal's lm-eval filter and metric in an lm_eval run, offline.

    python docs/integrations/examples/lm_eval_example.py ../shared/data/pariksha /tmp/lm-eval-demo

Writes a task folder (items JSONL, task YAML, one-line utils.py) into WORK_DIR and
runs it with lm_eval's Python API. The judge is an lm-eval model registered here
that replays PARIKSHA's judge ("SCORE: n"); with a real judge use e.g.
``--model local-chat-completions --model_args model=...,base_url=...`` on the
command line: ``lm_eval --include_path WORK_DIR/task --tasks judgecal_pariksha_la ...``.
"""

import json

import lm_eval
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model
from lm_eval.tasks import TaskManager
from pariksha_example import JUDGE, compare, setup

calibrator, work, items = setup()
task = work / "task"
task.mkdir(exist_ok=True)
with open(task / "items.jsonl", "w", encoding="utf-8") as f:
    for r in items.itertuples():
        f.write(json.dumps({"item_id": r.item_id, "language": r.language, "question": r.prompt,
                            "response": r.response}, ensure_ascii=False) + "\n")
(task / "utils.py").write_text("from judgecal.integrations.lm_eval import CalibrateJudgeScore, judgecal_judge_score"
                               "  # noqa: F401\n")
(task / "task.yaml").write_text(f"""task: judgecal_pariksha_la
dataset_path: json
dataset_kwargs:
  data_files:
    test: {task / 'items.jsonl'}
test_split: test
output_type: generate_until
doc_to_text: "Rate the linguistic acceptability of the answer from 0 to 2; end with SCORE: n.\\nQuestion: {{{{question}}}}\\nAnswer: {{{{response}}}}"
doc_to_target: "0"  # unused: the metric reads only the judge's score
generation_kwargs: {{until: [], max_gen_toks: 64}}
filter_list:
  - name: raw
    filter: [{{function: regex, regex_pattern: 'SCORE:\\s*(\\d+)'}}, {{function: take_first}}]
  - name: calibrated
    filter:
      - function: !function utils.CalibrateJudgeScore
        calibrator: {calibrator}
        metric: la
        judge_model: {JUDGE}
        text_field: question
      - function: take_first
metric_list:
  - {{metric: !function utils.judgecal_judge_score, aggregation: mean, higher_is_better: true}}
""", encoding="utf-8")


@register_model("pariksha-replay")
class ReplayJudge(LM):
    """Answers each grading prompt with PARIKSHA's judge score for the response in it."""

    scores = dict(zip(items["response"], items["score"], strict=True))

    def generate_until(self, requests, disable_tqdm=False):
        return [f"SCORE: {int(next(s for r, s in self.scores.items() if r in req.args[0]))}" for req in requests]

    def loglikelihood(self, requests, disable_tqdm=False):
        raise NotImplementedError

    def loglikelihood_rolling(self, requests, disable_tqdm=False):
        raise NotImplementedError


out = lm_eval.simple_evaluate(model="pariksha-replay", tasks=["judgecal_pariksha_la"],
                              task_manager=TaskManager(include_path=str(task)), log_samples=True)
print({k: v for k, v in out["results"]["judgecal_pariksha_la"].items() if k.startswith("judgecal")})
samples = out["samples"]["judgecal_pariksha_la"]
compare(calibrator, work, items, {s["doc"]["item_id"]: float(s["filtered_resps"][0]) for s in samples
                                  if s["filter"] == "calibrated"})
