"""inspect_ai: a scorer that calibrates another scorer's judge score per language.

    from inspect_ai.scorer import model_graded_qa
    from judgecal.integrations.inspect_ai import calibrated

    Task(dataset=..., solver=generate(),
         scorer=calibrated("calibrator.json", metric="la", judge=model_graded_qa(...),
                           judge_model="openai/gpt-4o-mini"))

The wrapped score (``Score.value``, or ``Score.metadata[value_key]``) is
calibrated with the group of the sample's language (``Sample.metadata
["language"]``, script checked against the tag and the sample's input text) and the
result is the new score's value; the raw score and the serving group are kept
in its metadata. Stored logs are re-scored without calling any model:

    inspect score LOG --scorer judgecal/calibrated -S calibrator=cal.json \\
        -S metric=la -S score_name=model_graded_qa -S judge_model=openai/gpt-4o-mini

(registered through the ``inspect_ai`` entry point). The metric
:func:`calibrated_mean` reports the calibrated and raw means and, when samples
carry human labels (``metadata["human_score"]``) and others do not, a
prediction-powered (PPI++) estimate of the human mean with its interval.
"""

from __future__ import annotations

import math

from judgecal._lazy import require
from judgecal.errors import ConfigError, InputError, Problem
from judgecal.integrations._common import calibrate_score, check_version, load_calibrator_cached

_inspect_ai = require("inspect_ai", "inspect", "judgecal's inspect_ai scorer")
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer  # noqa: E402
from inspect_ai.solver import TaskState  # noqa: E402

# Made against 0.3.285, the only version tested. The lower bound: Score.unscored
# (a NaN score with a reason, for a judge without a verdict) needs Score.reason,
# which inspect's own notes date to 0.3.245.
MIN_VERSION, BELOW_VERSION = "0.3.245", "0.4"
check_version("inspect-ai", _inspect_ai.__version__, MIN_VERSION, BELOW_VERSION,
              "pip install 'judgecal[inspect]'")


def _registered(short: str) -> str:
    """The name to register ``short`` under so that it is ``judgecal/<short>``.

    inspect prefixes the package name itself when it recognises judgecal as an
    installed package; it does not for an editable install used from its own
    checkout (the checkout's judgecal.egg-info hides the install record), and
    then the name must carry the namespace already.
    """
    try:
        from inspect_ai._util.registry import registry_name
    except ImportError:  # pragma: no cover - private helper moved; inspect then prefixes nothing we know of
        return short
    return short if registry_name(_registered, short) != short else f"judgecal/{short}"


OPTION = "allow_mismatch=True (-S allow_mismatch=true with inspect score)"


def human_label(value: object, *, where: str) -> float | None:
    """A sample's human label: a number, True/False, or a list of raters' numbers
    (their mean); None when the sample has none."""
    if value is None:
        return None
    values = value if isinstance(value, list | tuple) else [value]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise InputError(Problem("the human label is not a number or a list of numbers", file=where,
                                 column="metadata.human_score", value=value), summary="bad human label") from None
    if not numbers or not all(math.isfinite(x) for x in numbers):
        raise InputError(Problem("the human label is empty or not finite", file=where,
                                 column="metadata.human_score", value=value), summary="bad human label")
    return sum(numbers) / len(numbers)


@metric(name=_registered("calibrated_mean"))
def calibrated_mean(confidence: float = 0.9) -> Metric:
    """Mean calibrated score and mean raw score; with human labels on some
    samples (and not on at least two others), the PPI++ estimate of the mean
    human score and its ``confidence`` interval, the calibrated scores being
    the predictions (:func:`judgecal.analysis.estimates.ppi_mean`)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        import numpy as np

        from judgecal.analysis.estimates import ppi_mean

        if not scores:
            return {"calibrated_mean": float("nan"), "raw_mean": float("nan")}
        f = np.array([float(s.score.value) for s in scores])
        meta = [s.score.metadata or {} for s in scores]
        raw = np.array([float(m.get("raw_score", np.nan)) for m in meta])
        out = {"calibrated_mean": float(f.mean()), "raw_mean": float(raw.mean())}
        labelled = np.array([m.get("human_score") is not None for m in meta])
        if labelled.any():
            y = np.array([float(m["human_score"]) for m, lab in zip(meta, labelled, strict=True) if lab])
            out["n_labelled"] = float(labelled.sum())
            out["human_mean"] = float(y.mean())
            if labelled.sum() >= 2 and (~labelled).sum() >= 2:
                est = ppi_mean(y, f[labelled], f[~labelled], confidence=confidence)
                out.update(ppi_mean=est["estimate"], ppi_low=est["ci_low"], ppi_high=est["ci_high"])
        return out

    return compute


@scorer(metrics=[calibrated_mean()], name=_registered("calibrated"))
def calibrated(
    calibrator: str,
    metric: str,
    judge: Scorer | None = None,
    score_name: str | None = None,
    value_key: str | None = None,
    judge_model: str | None = None,
    prompt_hash: str | None = None,
    language_key: str = "language",
    script_key: str = "script",
    human_key: str = "human_score",
    check_script: bool = True,
    allow_mismatch: bool = False,
) -> Scorer:
    """Calibrate a judge score with a judgecal calibrator, per the sample's language.

    Args:
      calibrator: calibrator file written by ``judgecal calibrate``.
      metric: the judgecal metric the judge scored (``la``, ``tq``, ``h`` or declared).
      judge: the scorer that gives the judge score (e.g. ``model_graded_qa(...)``
        with a grade pattern capturing a number). Either this or ``score_name``.
      score_name: name of a score the sample has already (re-scoring a stored
        log with ``inspect score``: the judge's scorer name, e.g. ``model_graded_qa``).
      value_key: read the judge score from ``Score.metadata[value_key]`` instead
        of ``Score.value``.
      judge_model: the judge's model id; it must be the calibrator's judge.
      prompt_hash: the judge prompt's hash; checked against the calibrator's.
      language_key, script_key: sample metadata keys of language and script.
      human_key: sample metadata key of a human label (number or list), used
        by the metric's prediction-powered interval.
      check_script: check that the sample's input is in the language's script
        (a prompt in another script means the language label is wrong).
      allow_mismatch: calibrate even with another judge or prompt.
    """
    if (judge is None) == (score_name is None):
        raise ConfigError("judgecal/calibrated needs exactly one of judge= (a scorer to run) and score_name= "
                          "(a score the samples already have, e.g. -S score_name=model_graded_qa)")
    cal = load_calibrator_cached(calibrator)

    async def score(state: TaskState, target: Target) -> Score | None:
        where = f"sample {state.sample_id!r} (epoch {state.epoch})"
        if judge is not None:
            judged = await judge(state, target)
        else:
            judged = (state.scores or {}).get(score_name)
            if judged is None:
                raise InputError(Problem(f"the sample has no score named {score_name!r} (it has: "
                                         f"{sorted(state.scores or {})})", file=where),
                                 summary="no judge score to calibrate")
        if judged is None or judged.value is None or (isinstance(judged.value, float) and math.isnan(judged.value)):
            # The judge gave no verdict (e.g. its grade pattern did not match): no score, not a guess.
            return Score.unscored(reason="judge_unscored", explanation=getattr(judged, "explanation", None))
        value = (judged.metadata or {}).get(value_key) if value_key else judged.value
        meta = state.metadata or {}
        text = state.input_text if check_script else None
        result = calibrate_score(
            cal, value, metric=metric, language=meta.get(language_key), script=meta.get(script_key),
            text=text, judge_model=judge_model, prompt_hash=prompt_hash,
            allow_mismatch=allow_mismatch, where=where, option=OPTION)
        return Score(
            value=result.calibrated,
            answer=judged.answer,
            explanation=(f"judge {result.raw:g} -> calibrated {result.calibrated:.4f} "
                         f"({result.level} group {result.group}); judge said: {judged.explanation or ''}"),
            metadata={"raw_score": result.raw, "human_score": human_label(meta.get(human_key), where=where),
                      "calibrator": str(calibrator), **{k: v for k, v in result.as_dict().items() if k != "raw"}},
        )

    return score


# ------------------------------------------------------------ stored logs -> ratings rows
def judged_rows(log_path: str, *, metric: str, score_name: str | None = None, value_key: str | None = None,
                judge_model: str | None = None, prompt_hash: str | None = None, language_key: str = "language",
                script_key: str = "script"):
    """The judge rows (ratings table layout) of one inspect log.

    One row per sample (and epoch) with the score ``score_name`` (default: the
    log's only score): item_id (sample id, ``#epoch`` added when the log has
    several epochs), language and script from the sample metadata, task (the
    eval's task), metric, rater (the judge model: ``judge_model``, else the
    log's ``grader`` model role), rater_kind 'judge', score, prompt, response,
    justification (the score's explanation), system (the eval's model) and
    judge_prompt_hash when given. Every problem of the log is listed in one
    InputError (file, sample, field, value).
    """
    import pandas as pd
    from inspect_ai.log import read_eval_log

    from judgecal.integrations._common import judge_score, sample_language

    try:
        log = read_eval_log(log_path)
    except Exception as exc:  # inspect raises several types for unreadable logs
        raise InputError(Problem(f"not a readable inspect log: {exc}", file=str(log_path)),
                         summary="cannot read the log") from None
    samples = log.samples or []
    if not samples:
        raise InputError(Problem("the log holds no samples (was it written with samples, and did it finish?)",
                                 file=str(log_path)), summary="nothing to import")
    judge = judge_model or _grader_model(log)
    if not judge:
        raise ConfigError(f"{log_path}: the log does not say which model judged (no 'grader' model role); "
                          "name the judge with --judge MODEL")
    names = sorted({k for s in samples for k in (s.scores or {})})
    if score_name is None:
        if len(names) != 1:
            raise ConfigError(f"{log_path}: the log has scores {names}; say which one is the judge's with --score NAME")
        score_name = names[0]
    epochs = len({s.epoch for s in samples}) > 1
    rows, problems = [], []
    for s in samples:
        where = f"sample {s.id!r} (epoch {s.epoch})"
        sc = (s.scores or {}).get(score_name)
        meta = s.metadata or {}
        if sc is None:
            problems.append(Problem(f"{where}: no score named {score_name!r} (scores in the log: {names})",
                                    file=str(log_path)))
            continue
        lang = meta.get(language_key)
        if lang is None or (isinstance(lang, str) and not lang.strip()):
            problems.append(Problem(f"{where}: no language in the sample metadata (sample metadata keys: "
                                    f"{sorted(meta)}); add it to the dataset's samples, or name the key with "
                                    "--language-key", file=str(log_path), column=f"metadata.{language_key}"))
            continue
        value = (sc.metadata or {}).get(value_key) if value_key else sc.value
        response = s.output.completion if s.output is not None else None
        try:
            score = judge_score(value, where=f"{log_path}, {where}")
            lang, script = sample_language(lang, meta.get(script_key), _input_text(s.input),
                                           where=f"{log_path}, {where}")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        rows.append({
            "item_id": f"{s.id}#{s.epoch}" if epochs else str(s.id), "language": lang,
            "script": script, "task": log.eval.task, "metric": metric, "rater": judge,
            "rater_kind": "judge", "score": score, "prompt": _input_text(s.input),
            "response": response,
            "justification": sc.explanation, "system": log.eval.model,
            "judge_prompt_hash": prompt_hash})
    if problems:
        raise InputError(problems, summary=f"{len(problems)} problem(s) in {log_path}")
    frame = pd.DataFrame(rows)
    return frame.drop(columns=["judge_prompt_hash"]) if prompt_hash is None else frame


def _grader_model(log) -> str | None:
    roles = log.eval.model_roles or {}
    grader = roles.get("grader")
    if grader is None or isinstance(grader, list):
        return None
    return getattr(grader, "model", None)


def _input_text(value) -> str:
    if isinstance(value, str):
        return value
    return "\n".join(m.text for m in value if getattr(m, "role", None) == "user")
