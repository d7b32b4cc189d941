"""An offline inspect_ai eval of PARIKSHA responses with a calibrated judge.

The "system" replays PARIKSHA's responses, and the judge is inspect's offline
``mockllm/model`` answering ``model_graded_qa``'s grading prompt with the score
PARIKSHA's GPT judge gave that response: a replay of the real judge, so the
whole path runs without network or keys. With a real judge, drop the replay and
give ``model_graded_qa`` your grader model (and ``judge_model`` its id).

    inspect eval docs/integrations/inspect_pariksha.py --model mockllm/model \\
        -T calibrator=calibrator.json -T release=../shared/data/pariksha

judgecal's tests build the same task through :func:`build_task`.
"""

from __future__ import annotations

import math

import pandas as pd
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import model_graded_qa
from inspect_ai.solver import solver

JUDGE = "pariksha-gpt-judge"  # the rater id of PARIKSHA's judge rows
TEMPLATE = (
    "Rate the linguistic acceptability of the answer in its language from 0 (unacceptable) to 2 "
    "(fully acceptable).\n\n[Question]\n{question}\n\n[Answer]\n{answer}\n\n{instructions}"
)
INSTRUCTIONS = "Finish with the line SCORE: n, n being 0, 1 or 2."
GRADE = r"SCORE:\s*([0-2])"


def pariksha_items(ratings: pd.DataFrame, languages=("hi", "ta", "bn"), per_language: int = 8) -> pd.DataFrame:
    """``per_language`` judged items of metric 'la' per language (with distinct
    responses and native ratings), with the mean native score as ``human_mean``
    on the first half of each language's items only: the other half is the
    unlabelled pool of the prediction-powered estimate."""
    la = ratings[ratings["metric"] == "la"]
    human = la[la["rater_kind"] == "human"].groupby("item_id")["score"].mean()
    judge = la[(la["rater_kind"] == "judge") & la["language"].isin(languages) & la["item_id"].isin(human.index)]
    judge = judge.drop_duplicates("response").sort_values(["language", "item_id"])
    picked = judge.groupby("language", group_keys=False).head(per_language).reset_index(drop=True)
    picked["human_mean"] = picked["item_id"].map(human)
    picked.loc[picked.groupby("language").cumcount() >= per_language // 2, "human_mean"] = float("nan")
    return picked


def replay_judge(items: pd.DataFrame):
    """model_graded_qa whose grader answers as PARIKSHA's judge did."""
    by_response = dict(zip(items["response"], items["score"], strict=True))

    def answer(messages, tools, tool_choice, config):
        text = messages[-1].text
        found = [s for r, s in by_response.items() if r in text]
        if len(found) != 1:
            raise ValueError("the grading prompt holds no single known response")
        out = ModelOutput.from_content("mockllm/model", f"The answer reads well.\nSCORE: {int(found[0])}")
        # Usage given: mockllm would otherwise count tokens with tiktoken, which downloads its tables.
        out.usage = ModelUsage(input_tokens=len(text), output_tokens=len(out.completion),
                               total_tokens=len(text) + len(out.completion))
        return out

    return model_graded_qa(template=TEMPLATE, instructions=INSTRUCTIONS, grade_pattern=GRADE,
                           model=get_model("mockllm/model", custom_outputs=answer))


@solver
def replay_response():
    """The system's answer is the response PARIKSHA recorded."""
    async def solve(state, generate):
        state.output = ModelOutput.from_content("pariksha-system", state.metadata["response"])
        return state
    return solve


def build_task(items: pd.DataFrame, calibrator: str | None = None, *, judge_model: str | None = JUDGE,
               prompt_hash: str | None = None, language: bool = True) -> Task:
    """The eval: samples with language (and, on some, human_score) metadata; the
    judge's raw score (model_graded_qa) and, given a calibrator, the calibrated
    one (judgecal/calibrated wrapping the same judge)."""
    samples = []
    for row in items.itertuples():
        meta = {"response": row.response, "item_id": row.item_id}
        if language:
            meta["language"] = row.language
        if not math.isnan(row.human_mean):
            meta["human_score"] = float(row.human_mean)
        samples.append(Sample(id=row.item_id, input=row.prompt, target="", metadata=meta))
    scorers = [replay_judge(items)]
    if calibrator:
        from judgecal.integrations.inspect_ai import calibrated

        scorers.append(calibrated(str(calibrator), "la", judge=replay_judge(items), judge_model=judge_model,
                                  prompt_hash=prompt_hash))
    return Task(dataset=MemoryDataset(samples), solver=replay_response(), scorer=scorers)


@task
def pariksha_la(calibrator: str = "", release: str = "../shared/data/pariksha", per_language: int = 8,
                prompt_hash: str = "") -> Task:
    from judgecal.datasets import load_pariksha

    items = pariksha_items(load_pariksha(release), per_language=per_language)
    return build_task(items, calibrator or None, prompt_hash=prompt_hash or None)
