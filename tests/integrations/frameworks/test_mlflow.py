"""judgecal's MLflow scorer in a real ``mlflow.genai.evaluate`` run, offline.

The tracking store is a SQLite file in tmp. The judge is a scorer replaying
PARIKSHA's judge score stored with each row (an offline judge: no model, no
network); the calibrated scorer wraps it. A second evaluate re-scores the
first run's traces from the judge feedback stored on them (``score_name``).
Both must give ``judgecal apply``'s numbers.
"""

from __future__ import annotations

import math

import pytest

from judgecal.errors import CalibratorMismatchError, ConfigError, InputError

from .pariksha_judged import JUDGE, OTHER_HASH, PROMPT_HASH, judgecal_apply

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed: pip install 'judgecal[mlflow]' "
                                              "(.ci/run installs it in its frameworks venv)")


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow")
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    mlflow.set_experiment("judgecal-test")
    yield folder
    mlflow.set_tracking_uri(None)


def _rows(items, language=True):
    return [{"inputs": {"question": r.prompt, **({"language": r.language} if language else {})},
             "outputs": r.response, "expectations": {"judge_score": float(r.score), "item_id": r.item_id}}
            for r in items.itertuples()]


def _stored_judge():
    from mlflow.genai.scorers import scorer

    @scorer
    def pariksha_judge(expectations):
        """PARIKSHA's judge, replayed from the score stored with the row."""
        return expectations["judge_score"]

    return pariksha_judge


def _by_item(table, name):
    """item_id -> (raw feedback value, calibrated feedback) from evaluate's results table."""
    out = {}
    for trace in map(mlflow.get_trace, table["trace_id"]):
        item = trace.search_assessments(name="item_id", type="expectation")[0].value
        [feedback] = trace.search_assessments(name=name, type="feedback")
        out[item] = feedback
    return out


@pytest.fixture(scope="module")
def first_run(tracking, judged_la, calibrator_file):
    from judgecal.integrations.mlflow import calibrated_scorer

    judge = _stored_judge()
    calibrated = calibrated_scorer(str(calibrator_file), "la", judge=judge, judge_model=JUDGE,
                                   prompt_hash=PROMPT_HASH, text_key="question")
    result = mlflow.genai.evaluate(data=_rows(judged_la), scorers=[judge, calibrated])
    return result


def test_mlflow_evaluate_gives_judgecal_apply_numbers(first_run, judged_la, calibrator_file, tmp_path):
    applied = judgecal_apply(calibrator_file, judged_la, tmp_path)
    feedback = _by_item(first_run.tables["eval_results"], "judgecal_calibrated")
    assert set(feedback) == set(applied.index)
    for item_id, row in applied.iterrows():
        fb = feedback[item_id]
        assert fb.error is None
        assert fb.value == row["score_calibrated"]  # exactly judgecal apply's number
        assert fb.metadata["judge_raw"] == row["score"]
        assert fb.metadata["calibration_group"] == row["calibration_group"]
        assert fb.metadata["score_set"] == str(row["score_set"])
    assert first_run.metrics["judgecal_calibrated/mean"] == pytest.approx(applied["score_calibrated"].mean(), 1e-12)
    assert first_run.metrics["pariksha_judge/mean"] == pytest.approx(applied["score"].mean(), 1e-12)
    assert not math.isclose(first_run.metrics["judgecal_calibrated/mean"], first_run.metrics["pariksha_judge/mean"])


def test_mlflow_rescores_stored_traces_from_their_judge_feedback(first_run, judged_la, calibrator_file, tmp_path):
    from judgecal.integrations.mlflow import calibrated_scorer

    traces = mlflow.search_traces(run_id=first_run.run_id)
    assert len(traces) == len(judged_la)
    rescored = calibrated_scorer(str(calibrator_file), "la", score_name="pariksha_judge", judge_model=JUDGE,
                                 prompt_hash=PROMPT_HASH, text_key="question", name="recalibrated")
    second = mlflow.genai.evaluate(data=traces, scorers=[rescored])
    applied = judgecal_apply(calibrator_file, judged_la, tmp_path)
    feedback = _by_item(second.tables["eval_results"], "recalibrated")
    assert {k: v.value for k, v in feedback.items()} == applied["score_calibrated"].to_dict()


def test_mlflow_bad_samples_are_errors_not_scores(tracking, judged_la, calibrator_file):
    from judgecal.integrations.mlflow import calibrated_scorer

    judge = _stored_judge()
    row = _rows(judged_la.iloc[:1])[0]
    scorer = calibrated_scorer(str(calibrator_file), "la", judge=judge, judge_model=JUDGE, prompt_hash=PROMPT_HASH,
                               text_key="question")
    # Called directly: the judgecal error itself.
    with pytest.raises(InputError, match="the sample has no language"):
        scorer(inputs={"question": row["inputs"]["question"]}, outputs=row["outputs"],
               expectations=row["expectations"])
    wrong = {**row["inputs"], "language": "ta"}  # a Bengali question labelled Tamil
    with pytest.raises(InputError, match="the prompt is written in Bengali"):
        scorer(inputs=wrong, outputs=row["outputs"], expectations=row["expectations"])
    with pytest.raises(InputError, match="not a number"):
        scorer(inputs=row["inputs"], outputs=row["outputs"], expectations={"judge_score": "good"})
    other_judge = calibrated_scorer(str(calibrator_file), "la", judge=judge, judge_model="openai/gpt-4o")
    with pytest.raises(CalibratorMismatchError, match="calibrator was fitted for judge 'pariksha-gpt-judge'"):
        other_judge(inputs=row["inputs"], outputs=row["outputs"], expectations=row["expectations"])
    other_prompt = calibrated_scorer(str(calibrator_file), "la", judge=judge, judge_model=JUDGE,
                                     prompt_hash=OTHER_HASH)
    with pytest.raises(CalibratorMismatchError, match=f"judge prompt {OTHER_HASH}"):
        other_prompt(inputs=row["inputs"], outputs=row["outputs"], expectations=row["expectations"])
    # Inside evaluate: MLflow records the error on the sample's feedback; no score is made up.
    result = mlflow.genai.evaluate(data=_rows(judged_la.iloc[:2], language=False), scorers=[scorer])
    for trace in map(mlflow.get_trace, result.tables["eval_results"]["trace_id"]):
        [fb] = trace.search_assessments(name="judgecal_calibrated", type="feedback")
        assert fb.value is None and "the sample has no language" in fb.error.error_message
    assert "judgecal_calibrated/mean" not in result.metrics


def test_mlflow_configuration_errors(calibrator_file, monkeypatch):
    from judgecal.integrations import mlflow as integration

    with pytest.raises(ConfigError, match="judge=<a scorer> or score_name="):
        integration.calibrated_scorer(str(calibrator_file), "la")
    monkeypatch.setattr(mlflow, "__version__", "2.22.0")
    with pytest.raises(ConfigError, match=r"mlflow 2.22.0 is not supported .* >= 3.1.0, < 4.0.0"):
        integration.calibrated_scorer(str(calibrator_file), "la", score_name="j")
