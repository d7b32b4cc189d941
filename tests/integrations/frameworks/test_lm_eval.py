"""judgecal's lm-eval filter and metric in a real ``lm_eval`` command-line run, offline.

The task is a folder in tmp: a JSONL of PARIKSHA items (question, response,
language), a YAML task whose prompt asks the model for a 0-2 score, and a one-line
``utils.py`` importing judgecal's filter and metric (as docs/integrations/lm-eval.md
shows). The model lm-eval runs is the judge: ``local-chat-completions`` against the
fake provider on 127.0.0.1, whose prompt carries ``FAKE_SCORE=n`` so that it replays
PARIKSHA's judge score. The calibrated scores must equal ``judgecal apply``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from judgecal.errors import CalibratorMismatchError, ConfigError, InputError

from .pariksha_judged import JUDGE, OTHER_HASH, PROMPT_HASH, judgecal_apply

pytest.importorskip("lm_eval", reason="lm-eval is not installed: pip install 'judgecal[lmeval]' "
                                      "(.ci/run installs it in its frameworks venv)")
SCORE = r'"score":\s*(\d+)'  # the fake provider answers with a JSON object

TASK = """task: judgecal_pariksha_la
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Rate the answer's linguistic acceptability <one of 0, 1, 2>.\\nQuestion: {{{{question}}}}\\nAnswer: {{{{response}}}}\\nFAKE_SCORE={{{{judge_score}}}}"
doc_to_target: judge_score
generation_kwargs:
  until: []
  max_gen_toks: 64
filter_list:
  - name: raw
    filter:
      - function: regex
        regex_pattern: '{score}'
      - function: take_first
  - name: calibrated
    filter:
      - function: !function utils.CalibrateJudgeScore
        calibrator: {calibrator}
        metric: la
        judge_model: {judge}
        prompt_hash: {prompt_hash}
        score_pattern: '{score}'
        text_field: question
      - function: take_first
metric_list:
  - metric: !function utils.judgecal_judge_score
    aggregation: mean
    higher_is_better: true
"""


@pytest.fixture(scope="module")
def fake_judge():
    from judges.fake_provider import FakeProvider

    with FakeProvider() as server:
        yield server


def _task_folder(folder: Path, items, calibrator, *, judge=JUDGE, prompt_hash=PROMPT_HASH) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "items.jsonl", "w", encoding="utf-8") as f:
        for r in items.itertuples():
            doc = {"item_id": r.item_id, "question": r.prompt, "response": r.response, "judge_score": int(r.score)}
            if r.language is not None:
                doc["language"] = r.language
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    (folder / "task.yaml").write_text(TASK.format(data=folder / "items.jsonl", calibrator=calibrator, judge=judge,
                                                  prompt_hash=prompt_hash, score=SCORE), encoding="utf-8")
    (folder / "utils.py").write_text("from judgecal.integrations.lm_eval import CalibrateJudgeScore, "
                                     "judgecal_judge_score  # noqa: F401\n")
    return folder


def _lm_eval(folder: Path, server, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_DATASETS_CACHE": str(out / "hf"),
           "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "lm_eval", "--model", "local-chat-completions", "--model_args",
           f"model={JUDGE},base_url={server.base_url}/v1/chat/completions,num_concurrent=1,max_retries=1,"
           "tokenizer_backend=None", "--apply_chat_template", "--include_path", str(folder), "--tasks",
           "judgecal_pariksha_la", "--output_path", str(out / "results"), "--log_samples"]
    return subprocess.run(cmd, env=env, cwd=out, capture_output=True, text=True, timeout=900)


def _results(out: Path) -> tuple[dict, list[dict]]:
    [results] = (out / "results").rglob("results_*.json")
    [samples] = (out / "results").rglob("samples_judgecal_pariksha_la_*.jsonl")
    return json.loads(results.read_text()), [json.loads(line) for line in samples.read_text().splitlines()]


@pytest.fixture(scope="module")
def lm_eval_run(fake_judge, judged_la, calibrator_file, tmp_path_factory):
    work = tmp_path_factory.mktemp("lm_eval")
    folder = _task_folder(work / "task", judged_la, calibrator_file)
    done = _lm_eval(folder, fake_judge, work)
    assert done.returncode == 0, f"lm_eval failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return _results(work)


def test_lm_eval_run_gives_judgecal_apply_numbers(lm_eval_run, judged_la, calibrator_file, tmp_path):
    results, samples = lm_eval_run
    applied = judgecal_apply(calibrator_file, judged_la, tmp_path)
    calibrated = {s["doc"]["item_id"]: s["filtered_resps"] for s in samples if s["filter"] == "calibrated"}
    raw = {s["doc"]["item_id"]: s["filtered_resps"] for s in samples if s["filter"] == "raw"}
    assert set(calibrated) == set(raw) == set(applied.index)
    for item_id, row in applied.iterrows():
        # The samples log writes filtered responses as text; a float's repr reads back exactly.
        [value], [judge] = calibrated[item_id], raw[item_id]
        assert float(value) == row["score_calibrated"]  # exactly judgecal apply's number
        assert float(judge) == row["score"]
    task = results["results"]["judgecal_pariksha_la"]
    assert task["judgecal_judge_score,calibrated"] == pytest.approx(applied["score_calibrated"].mean(), abs=1e-12)
    assert task["judgecal_judge_score,raw"] == pytest.approx(applied["score"].mean(), abs=1e-12)
    assert task["judgecal_judge_score,calibrated"] != task["judgecal_judge_score,raw"]


def test_lm_eval_bad_document_stops_the_run_with_the_reason(fake_judge, judged_la, calibrator_file, tmp_path):
    items = judged_la.iloc[:2].copy()
    items.loc[items.index[1], "language"] = None
    folder = _task_folder(tmp_path / "task", items, calibrator_file)
    done = _lm_eval(folder, fake_judge, tmp_path)
    assert done.returncode != 0
    assert f"document {items['item_id'].iloc[1]}" in done.stderr and "the sample has no language" in done.stderr
    assert not list((tmp_path / "results").rglob("results_*.json"))  # no results from a run with a bad sample


@pytest.mark.parametrize("options, doc, message", [
    ({}, {"language": "ta"}, "the prompt is written in Bengali"),
    ({"judge_model": "openai/gpt-4o"}, {}, "calibrator was fitted for judge 'pariksha-gpt-judge'"),
    ({"prompt_hash": OTHER_HASH}, {}, f"judge prompt {OTHER_HASH}"),
])
def test_lm_eval_filter_refuses_mislabelled_documents_and_other_judges(options, doc, message, judged_la,
                                                                        calibrator_file):
    from judgecal.integrations.lm_eval import CalibrateJudgeScore

    row = judged_la.iloc[0]  # a Bengali item
    f = CalibrateJudgeScore(**{"calibrator": str(calibrator_file), "metric": "la", "judge_model": JUDGE,
                               "prompt_hash": PROMPT_HASH, "text_field": "question", **options})
    document = {"item_id": row["item_id"], "question": row["prompt"], "language": row["language"], **doc}
    with pytest.raises((InputError, CalibratorMismatchError), match=message):
        f.apply([["SCORE: 2"]], [document])


def test_lm_eval_filter_refuses_answers_without_one_score_and_bad_options(calibrator_file):
    from judgecal.integrations.lm_eval import CalibrateJudgeScore, judgecal_judge_score

    f = CalibrateJudgeScore(calibrator=str(calibrator_file), metric="la", judge_model=JUDGE)
    doc = {"item_id": "x1", "language": "hi"}
    with pytest.raises(InputError, match="holds 0 matches of the score pattern"):
        f.apply([["I would rather not say."]], [doc])
    with pytest.raises(InputError, match="holds 2 matches"):
        f.apply([["SCORE: 1 ... SCORE: 2"]], [doc])
    assert f.apply([["SCORE: 2"]], [doc])[0][0] == f.apply([["verdict SCORE: 2"]], [doc])[0][0]
    with pytest.raises(CalibratorMismatchError, match="which judge produced this score is not known"):
        CalibrateJudgeScore(calibrator=str(calibrator_file), metric="la").apply([["SCORE: 2"]], [doc])
    with pytest.raises(ConfigError, match="unknown options"):
        CalibrateJudgeScore(calibrator=str(calibrator_file), metric="la", judgemodel=JUDGE)
    with pytest.raises(ConfigError, match="needs calibrator"):
        CalibrateJudgeScore(metric="la")
    with pytest.raises(InputError, match="not a number"):
        judgecal_judge_score(references=["2"], predictions=["[invalid]"])


def test_lm_eval_unsupported_version_is_refused(monkeypatch):
    import importlib
    from importlib import metadata

    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "0.4.2" if name == "lm_eval" else real(name))
    monkeypatch.delitem(sys.modules, "judgecal.integrations.lm_eval", raising=False)
    with pytest.raises(ConfigError, match=r"lm-eval 0.4.2 is not supported .* >= 0.4.8, < 0.5.0"):
        importlib.import_module("judgecal.integrations.lm_eval")
