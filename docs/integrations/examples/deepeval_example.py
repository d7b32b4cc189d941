"""judgecal's DeepEval metric wrapping G-Eval in deepeval.evaluate, offline.

    python docs/integrations/examples/deepeval_example.py ../shared/data/pariksha /tmp/deepeval-demo

G-Eval's judge is a DeepEval custom model that replays PARIKSHA's judge (it finds
the response in G-Eval's prompt and answers with the score PARIKSHA's judge gave
it); give G-Eval your own judge model instead. It must answer with a rubric level
(no log-probability weighting): the calibrator maps levels.
"""

import os

from deepeval import evaluate
from deepeval.evaluate.configs import AsyncConfig, CacheConfig, DisplayConfig
from deepeval.metrics import GEval
from deepeval.metrics.g_eval import Rubric
from deepeval.models import DeepEvalBaseLLM
from deepeval.test_case import LLMTestCase, LLMTestCaseParams
from pariksha_example import JUDGE, compare, setup

from judgecal.integrations.deepeval import CalibratedMetric

calibrator, work, items = setup()
os.chdir(work)  # deepeval keeps its run files under ./.deepeval


class ReplayJudge(DeepEvalBaseLLM):
    """Answers G-Eval's prompt with PARIKSHA's judge score for the response in it."""

    def __init__(self, scores):
        self.scores = scores
        super().__init__(JUDGE)

    def load_model(self):
        return self

    def generate(self, prompt, schema=None):
        [score] = [s for response, s in self.scores.items() if response in prompt]
        return schema(score=int(score), reason="replayed PARIKSHA judge score")

    async def a_generate(self, prompt, schema=None):
        return self.generate(prompt, schema)

    def get_model_name(self):
        return JUDGE


geval = GEval(name="Acceptability", evaluation_steps=["Judge whether the answer reads naturally in its language."],
              evaluation_params=[LLMTestCaseParams.INPUT, LLMTestCaseParams.ACTUAL_OUTPUT],
              rubric=[Rubric(score_range=(0, 0), expected_outcome="unacceptable"),
                      Rubric(score_range=(1, 1), expected_outcome="partly acceptable"),
                      Rubric(score_range=(2, 2), expected_outcome="fully acceptable")],
              model=ReplayJudge(dict(zip(items["response"], items["score"], strict=True))), async_mode=False)
metric = CalibratedMetric(geval, str(calibrator), "la", threshold=1.5)
cases = [LLMTestCase(name=r.item_id, input=r.prompt, actual_output=r.response,
                     additional_metadata={"language": r.language}) for r in items.itertuples()]
result = evaluate(test_cases=cases, metrics=[metric], async_config=AsyncConfig(run_async=False),
                  cache_config=CacheConfig(write_cache=False, use_cache=False),
                  display_config=DisplayConfig(show_indicator=False, print_results=False))
for t in result.test_results[:2]:
    print(t.name[:8], t.metrics_data[0].reason.split(". Judge")[0])
compare(calibrator, work, items, {t.name: t.metrics_data[0].score for t in result.test_results})
