"""MLflow 3: a GenAI scorer that calibrates a judge score per language.

    import mlflow
    from judgecal.integrations.mlflow import calibrated_scorer

    judge = mlflow.genai.judges.make_judge(...)          # or any scorer with a numeric value
    mlflow.genai.evaluate(
        data=[{"inputs": {"question": q, "language": "hi"}, "outputs": answer}, ...],
        scorers=[judge, calibrated_scorer("calibrator.json", "la", judge=judge,
                                          judge_model="openai/gpt-4o-mini", text_key="question")])

The judge score comes either from ``judge``, a scorer called on the same row
(inputs, outputs, expectations, trace), or, with ``score_name``, from a
feedback of that name already on the row's trace (a judge that ran earlier, or
``mlflow.log_feedback``), so stored traces are re-scored without calling a model.
The sample's language is ``inputs[language_key]`` (else ``expectations``), its
script is checked against the tag and against ``inputs[text_key]``. The result
is a ``Feedback`` whose value is the calibrated score (``judgecal apply``'s
number) with the raw score, the serving group and the prediction set in its
metadata; ``mlflow.genai.evaluate`` reports its mean as ``<name>/mean``.

A sample the scorer cannot calibrate (no language, a score that is not a
number, another judge or prompt) raises a judgecal error when the scorer is
called directly; inside ``mlflow.genai.evaluate`` MLflow records that error on
the sample's feedback (``Feedback.error``) and leaves the sample out of the mean.
"""

from __future__ import annotations

from judgecal._lazy import require
from judgecal.errors import ConfigError, InputError, Problem
from judgecal.integrations._common import calibrate_score, check_version, load_calibrator_cached

# Made against mlflow 3.17.2 (the version tested). mlflow.genai.scorers.scorer
# and Feedback as a scorer's result exist from 3.0; 3.1 is the first release whose
# evaluate runs on a local store without Databricks.
MIN_VERSION, BELOW_VERSION = "3.1.0", "4.0.0"
INSTALL = "pip install 'judgecal[mlflow]'"
OPTION = "allow_mismatch=True"


def _mlflow():
    mlflow = require("mlflow", "mlflow", "the MLflow integration")
    check_version("mlflow", mlflow.__version__, MIN_VERSION, BELOW_VERSION, INSTALL)
    return mlflow


def _lookup(key: str, *sources: object) -> object:
    """``key`` in the first of ``sources`` (dicts) that holds it, else None."""
    for source in sources:
        if isinstance(source, dict) and key in source:
            return source[key]
    return None


def _where(inputs: object, trace: object) -> str:
    if trace is not None and getattr(getattr(trace, "info", None), "trace_id", None):
        return f"trace {trace.info.trace_id}"
    return f"row with inputs {dict(inputs) if isinstance(inputs, dict) else inputs!r}"[:200]


def _stored_score(trace: object, name: str, where: str) -> object:
    """The value of the one valid feedback called ``name`` on ``trace``."""
    if trace is None:
        raise InputError(Problem(f"score_name={name!r} reads the judge score from the row's trace, and the row "
                                 "has none", file=where), summary="no judge score")
    found = [a for a in trace.search_assessments(name=name, type="feedback") if getattr(a, "valid", True)]
    if len(found) != 1:
        raise InputError(Problem(f"the trace holds {len(found)} feedbacks named {name!r}, not one", file=where,
                                 column=name), summary="no judge score")
    feedback = found[0]
    if feedback.error is not None:
        raise InputError(Problem(f"the judge's feedback {name!r} is an error, not a score: "
                                 f"{feedback.error.error_message}", file=where, column=name), summary="no judge score")
    return feedback.value


def _judged_score(judge, inputs, outputs, expectations, trace, where: str) -> object:
    """Call the wrapped scorer on the row; its (single) feedback's value."""
    result = judge.run(inputs=inputs, outputs=outputs, expectations=expectations, trace=trace)
    if isinstance(result, list):
        if len(result) != 1:
            raise InputError(Problem(f"the judge scorer returned {len(result)} feedbacks, not one", file=where),
                             summary="no judge score")
        result = result[0]
    if hasattr(result, "value") and hasattr(result, "error"):  # a Feedback
        if result.error is not None:
            raise InputError(Problem(f"the judge scorer failed: {result.error.error_message}", file=where),
                             summary="no judge score")
        result = result.value
    return result


def calibrated_scorer(calibrator, metric: str, *, judge=None, score_name: str | None = None,
                      judge_model: str | None = None, prompt_hash: str | None = None,
                      language_key: str = "language", script_key: str = "script", text_key: str | None = None,
                      name: str = "judgecal_calibrated", allow_mismatch: bool = False):
    """An MLflow scorer whose feedback is the judge score calibrated per language.

    calibrator : a calibrator file (``judgecal calibrate``) or a loaded calibrator
    metric : the calibrator's metric the judge scores (``la``)
    judge : a scorer giving the judge score, called on each row; or
    score_name : the name of the judge's feedback already on each row's trace
    judge_model : the judge's model id, checked against the calibrator's judge
        (default: the wrapped judge's ``model`` attribute, when it has one)
    prompt_hash : the judge prompt's hash, checked against the calibrator's
    language_key, script_key, text_key : keys of ``inputs`` (or ``expectations``)
    """
    _mlflow()
    from mlflow.entities import Feedback
    from mlflow.genai.scorers import scorer

    if (judge is None) == (score_name is None):
        raise ConfigError("give the judge score's source: judge=<a scorer> or score_name=<a feedback on the "
                          "trace>, one of the two")
    cal = load_calibrator_cached(calibrator) if isinstance(calibrator, str | bytes) or hasattr(
        calibrator, "__fspath__") else calibrator
    if judge_model is None and judge is not None:
        judge_model = _judge_model_id(getattr(judge, "model", None))

    def calibrate(inputs=None, outputs=None, expectations=None, trace=None):
        where = _where(inputs, trace)
        if score_name is not None:
            value = _stored_score(trace, score_name, where)
        else:
            value = _judged_score(judge, inputs, outputs, expectations, trace, where)
        result = calibrate_score(
            cal, value, metric=metric, language=_lookup(language_key, inputs, expectations),
            script=_lookup(script_key, inputs, expectations),
            text=_lookup(text_key, inputs) if text_key else None, judge_model=judge_model,
            prompt_hash=prompt_hash, allow_mismatch=allow_mismatch, where=where, option=OPTION)
        return Feedback(
            name=name, value=result.calibrated,
            rationale=(f"{result.metric} judge score {result.raw:g} -> calibrated {result.calibrated:.4f} "
                       f"({result.level} group {result.group}, prediction set {{{result.score_set}}})"),
            metadata={"judge_raw": result.raw, "judge_calibrated": result.calibrated, "language": result.language,
                      "script": result.script, "calibration_level": result.level,
                      "calibration_group": result.group, "score_set": result.score_set, "judge": result.judge})

    calibrate.__name__ = name
    return scorer(calibrate, name=name)


def _judge_model_id(model: object) -> str | None:
    """'openai:/gpt-4o-mini' (MLflow's judge model URI) -> 'openai/gpt-4o-mini'."""
    if not isinstance(model, str) or not model.strip():
        return None
    return model.replace(":/", "/", 1)


__all__ = ["calibrated_scorer"]
