"""lm-evaluation-harness: a filter that calibrates the judge score in a model's
answer per language, and a metric that averages it.

In lm-eval the model being run is here the judge: a task's documents are the
judged items (question, response, language), its prompt asks for a score, and
the filter ``judgecal_calibrate`` reads the one score in each answer and
calibrates it with the group of the document's language. The metric
``judgecal_judge_score`` is the filtered score as a number, averaged over the task
(``mean``). Both are registered when this module is imported; a task folder's
``utils.py`` does that with one line::

    from judgecal.integrations.lm_eval import CalibrateJudgeScore, judgecal_judge_score  # noqa: F401

and the task's YAML names them (``!function utils.<name>`` takes them from that
file, which also registers them, so ``judgecal_calibrate`` works as well)::

    filter_list:
      - name: raw                       # the judge's own score, for comparison
        filter:
          - {function: regex, regex_pattern: 'SCORE:\\s*(\\d+)'}
          - {function: take_first}
      - name: calibrated
        filter:
          - function: !function utils.CalibrateJudgeScore
            calibrator: calibrator.json
            metric: la
            judge_model: openai/gpt-4o-mini
            score_pattern: 'SCORE:\\s*(\\d+)'
            text_field: question         # the doc field written in its language (script check)
          - {function: take_first}
    metric_list:
      - {metric: !function utils.judgecal_judge_score, aggregation: mean, higher_is_better: true}

``lm_eval --include_path <folder> --tasks <task> ...`` then reports
``judgecal_judge_score`` under the ``raw`` and ``calibrated`` filters; with
``--log_samples`` each sample's ``filtered_resps`` holds its calibrated score, the
same number as ``judgecal apply``. A document without a language, an answer
without one score, another judge or prompt stop the run with judgecal's error.
"""

from __future__ import annotations

from judgecal._lazy import require
from judgecal.errors import ConfigError
from judgecal.integrations._common import (
    calibrate_score,
    check_version,
    load_calibrator_cached,
    score_in_text,
)
from judgecal.integrations._common import judge_score as _judge_score

# Made against lm-eval 0.4.13 (the version tested). Filter.apply(resps, docs),
# register_filter and register_metric(metric, higher_is_better, aggregation) are
# those of the 0.4 line's YAML tasks; 0.4.8 is the first without a torch dependency.
MIN_VERSION, BELOW_VERSION = "0.4.8", "0.5.0"
INSTALL = "pip install 'judgecal[lmeval]'"
OPTION = "allow_mismatch: true"
DEFAULT_PATTERN = r"SCORE:\s*([-+]?\d+(?:\.\d+)?)"

_lm_eval = require("lm_eval", "lmeval", "the lm-evaluation-harness integration")
from importlib.metadata import version as _version  # noqa: E402

check_version("lm-eval", _version("lm_eval"), MIN_VERSION, BELOW_VERSION, INSTALL)

import lm_eval.api.metrics  # noqa: E402,F401 - registers the built-in aggregations ("mean") used below
from lm_eval.api.filter import Filter  # noqa: E402
from lm_eval.api.registry import register_filter, register_metric  # noqa: E402


@register_filter("judgecal_calibrate")
class CalibrateJudgeScore(Filter):
    """Each answer's judge score, calibrated with the group of its document's language.

    calibrator : calibrator file (``judgecal calibrate``); metric : its metric the judge scores
    judge_model : the judge's (the model lm-eval runs) id, checked against the calibrator's
    prompt_hash : the judge prompt's hash, checked against the calibrator's
    score_pattern : regex whose first group is the score (exactly one match per answer)
    language_field, script_field, text_field : document fields (text: written in the
        document's language, e.g. the question; its script is checked against the language)
    """

    def __init__(self, calibrator: str | None = None, metric: str | None = None, judge_model: str | None = None,
                 prompt_hash: str | None = None, score_pattern: str = DEFAULT_PATTERN,
                 language_field: str = "language", script_field: str = "script", text_field: str | None = None,
                 allow_mismatch: bool = False, **unknown) -> None:
        if unknown:
            raise ConfigError(f"judgecal_calibrate got unknown options {sorted(unknown)} (options: calibrator, "
                              "metric, judge_model, prompt_hash, score_pattern, language_field, script_field, "
                              "text_field, allow_mismatch)")
        if not calibrator or not metric:
            raise ConfigError("the judgecal_calibrate filter needs calibrator: <file> and metric: <id> "
                              "in the task's filter_list")
        self.cal = load_calibrator_cached(calibrator)
        self.metric = str(metric)
        self.judge_model = judge_model
        self.prompt_hash = prompt_hash
        self.score_pattern = score_pattern
        self.language_field = language_field
        self.script_field = script_field
        self.text_field = text_field
        self.allow_mismatch = bool(allow_mismatch)

    def apply(self, resps, docs):
        """resps: per document, the list of the model's answers (strings);
        returns per document the list of calibrated scores (floats)."""
        out = []
        for index, (answers, doc) in enumerate(zip(resps, docs, strict=True)):
            where = f"document {doc.get('item_id', doc.get('id', index))}"
            scores = []
            for answer in answers:
                value = score_in_text(str(answer), self.score_pattern, where=where)
                result = calibrate_score(
                    self.cal, value, metric=self.metric, language=doc.get(self.language_field),
                    script=doc.get(self.script_field), text=doc.get(self.text_field) if self.text_field else None,
                    judge_model=self.judge_model, prompt_hash=self.prompt_hash,
                    allow_mismatch=self.allow_mismatch, where=where, option=OPTION)
                scores.append(result.calibrated)
            out.append(scores)
        return out


@register_metric(metric="judgecal_judge_score", higher_is_better=True, aggregation="mean")
def judgecal_judge_score(references=None, predictions=None, **_) -> float:
    """The (filtered) judge score of one document as a number: ``predictions`` is
    ``[score]``. A score lm-eval's regex filter could not find (``[invalid]``) is an
    error, not a zero."""
    [value] = predictions
    return _judge_score(value, where="lm-eval prediction")
