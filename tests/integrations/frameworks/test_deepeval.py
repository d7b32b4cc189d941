"""judgecal's DeepEval metric wrapping a real G-Eval, in a real ``deepeval.evaluate``, offline.

G-Eval's judge is a DeepEval custom model (DeepEvalBaseLLM) that sends G-Eval's
prompt to the fake provider on 127.0.0.1 with the OpenAI SDK. Each test case's
context carries ``FAKE_SCORE=n``, PARIKSHA's judge score for the response, and
G-Eval puts the context in its prompt, so the fake judge replays PARIKSHA's judge
on the 0-2 rubric. The calibrated scores must equal ``judgecal apply``.
"""

from __future__ import annotations

import json

import pytest

from judgecal.errors import CalibratorMismatchError, ConfigError, InputError

from .pariksha_judged import JUDGE, OTHER_HASH, PROMPT_HASH, judgecal_apply

deepeval = pytest.importorskip("deepeval", reason="deepeval is not installed: pip install 'judgecal[deepeval]' "
                                                  "(.ci/run installs it in its frameworks venv)")
THRESHOLD = 1.5


@pytest.fixture(scope="module")
def fake_judge_url():
    from judges.fake_provider import FakeProvider

    with FakeProvider() as server:
        yield server.base_url + "/v1"


def _judge_model(base_url: str):
    from deepeval.models import DeepEvalBaseLLM
    from openai import OpenAI

    class FakeProviderJudge(DeepEvalBaseLLM):
        """A DeepEval custom model: the fake provider's chat completions, answers read as G-Eval's schema."""

        def __init__(self):
            self.client = OpenAI(base_url=base_url, api_key="test-key-not-used", max_retries=0)
            super().__init__(JUDGE)

        def load_model(self):
            return self.client

        def generate(self, prompt: str, schema=None):
            reply = self.client.chat.completions.create(model=JUDGE, messages=[{"role": "user", "content": prompt}])
            answer = json.loads(reply.choices[0].message.content)
            payload = {"score": answer["score"], "reason": answer["justification"]}
            return schema(**payload) if schema is not None else json.dumps(payload)

        async def a_generate(self, prompt: str, schema=None):
            return self.generate(prompt, schema)

        def get_model_name(self):
            return JUDGE

    return FakeProviderJudge()


def _geval(base_url: str):
    from deepeval.metrics import GEval
    from deepeval.metrics.g_eval import Rubric
    from deepeval.test_case import LLMTestCaseParams

    return GEval(name="Acceptability", evaluation_steps=["Judge whether the answer reads naturally in its language."],
                 evaluation_params=[LLMTestCaseParams.INPUT, LLMTestCaseParams.ACTUAL_OUTPUT,
                                    LLMTestCaseParams.CONTEXT],
                 rubric=[Rubric(score_range=(0, 0), expected_outcome="unacceptable"),
                         Rubric(score_range=(1, 1), expected_outcome="partly acceptable"),
                         Rubric(score_range=(2, 2), expected_outcome="fully acceptable")],
                 model=_judge_model(base_url), async_mode=False)


def _case(row, language="__row__"):
    from deepeval.test_case import LLMTestCase

    metadata = {"language": row.language if language == "__row__" else language}
    if metadata["language"] is None:
        metadata = {}
    return LLMTestCase(name=row.item_id, input=row.prompt, actual_output=row.response,
                       context=[f"Replay of the recorded judge: FAKE_SCORE={int(row.score)}"],
                       additional_metadata=metadata)


def _metric(base_url, calibrator, **options):
    from judgecal.integrations.deepeval import CalibratedMetric

    return CalibratedMetric(_geval(base_url), str(calibrator), "la", THRESHOLD,
                            **{"prompt_hash": PROMPT_HASH, **options})


def test_deepeval_evaluate_gives_judgecal_apply_numbers(fake_judge_url, judged_la, calibrator_file, tmp_path,
                                                         monkeypatch):
    from deepeval.evaluate.configs import AsyncConfig, CacheConfig, DisplayConfig

    monkeypatch.chdir(tmp_path)  # deepeval writes its run files under ./.deepeval
    result = deepeval.evaluate(
        test_cases=[_case(r) for r in judged_la.itertuples()], metrics=[_metric(fake_judge_url, calibrator_file)],
        async_config=AsyncConfig(run_async=False), cache_config=CacheConfig(write_cache=False, use_cache=False),
        display_config=DisplayConfig(show_indicator=False, print_results=False))
    applied = judgecal_apply(calibrator_file, judged_la, tmp_path)
    by_case = {t.name: t for t in result.test_results}
    assert set(by_case) == set(applied.index)
    for item_id, row in applied.iterrows():
        [data] = by_case[item_id].metrics_data
        assert data.error is None
        assert data.score == row["score_calibrated"]  # exactly judgecal apply's number
        assert f"judge score {row['score']:g} -> calibrated {row['score_calibrated']:.4f}" in data.reason
        assert row["calibration_group"] in data.reason
        assert data.success is bool(row["score_calibrated"] >= THRESHOLD)
        assert data.evaluation_model == JUDGE
    # Calibration changes some verdicts: the raw judge's 2 passes, its calibrated score does not.
    assert ((applied["score"] >= THRESHOLD) != (applied["score_calibrated"] >= THRESHOLD)).any()


def test_deepeval_measure_keeps_raw_and_calibrated(fake_judge_url, judged_la, calibrator_file, tmp_path):
    metric = _metric(fake_judge_url, calibrator_file)
    row = next(judged_la.itertuples())
    applied = judgecal_apply(calibrator_file, judged_la, tmp_path).loc[row.item_id]
    assert metric.measure(_case(row)) == applied["score_calibrated"]
    assert metric.judge.score == row.score / 2  # G-Eval's own score on [0, 1]
    assert metric.score_breakdown["judge_raw"] == row.score
    assert metric.score_breakdown["judge_calibrated"] == applied["score_calibrated"]
    assert metric.is_successful() is bool(applied["score_calibrated"] >= THRESHOLD)


def test_deepeval_bad_input_is_a_clear_error(fake_judge_url, judged_la, calibrator_file):
    row = next(judged_la.itertuples())  # a Bengali item
    metric = _metric(fake_judge_url, calibrator_file)
    with pytest.raises(InputError, match="the sample has no language"):
        metric.measure(_case(row, language=None))
    with pytest.raises(InputError, match="the prompt is written in Bengali"):
        metric.measure(_case(row, language="ta"))
    with pytest.raises(CalibratorMismatchError, match="calibrator was fitted for judge 'pariksha-gpt-judge'"):
        _metric(fake_judge_url, calibrator_file, judge_model="openai/gpt-4o").measure(_case(row))
    with pytest.raises(CalibratorMismatchError, match=f"judge prompt {OTHER_HASH}"):
        _metric(fake_judge_url, calibrator_file, prompt_hash=OTHER_HASH).measure(_case(row))
    # A score range that puts G-Eval's 0.5 between two levels is an error, not a rounded score.
    with pytest.raises(InputError, match="not one of its levels"):
        _metric(fake_judge_url, calibrator_file, judge_range=(0, 0.8)).measure(_case(row))
    from judgecal.integrations.deepeval import CalibratedMetric

    with pytest.raises(ConfigError, match="must be a DeepEval metric"):
        CalibratedMetric("not a metric", str(calibrator_file), "la", THRESHOLD)


def test_deepeval_unsupported_version_is_refused(monkeypatch):
    from importlib import metadata

    from judgecal.integrations import deepeval as integration

    integration._metric_class.cache_clear()
    real = metadata.version
    monkeypatch.setattr(deepeval, "__version__", "3.9.0", raising=False)
    monkeypatch.setattr(metadata, "version", lambda name: "3.9.0" if name == "deepeval" else real(name))
    try:
        with pytest.raises(ConfigError, match=r"deepeval 3.9.0 is not supported .* >= 4.0.0, < 5.0.0"):
            integration.CalibratedMetric  # noqa: B018 - the attribute builds the class
    finally:
        integration._metric_class.cache_clear()
