"""What every framework integration shares: one judge score of one sample in, the
raw and the calibrated score out, with the same numbers as ``judgecal apply``.

A framework hands over a score (a number, or a numeric string), the metric it
is on, the sample's language (a tag or a name from its metadata), optionally a
script and the sample's prompt text, and who judged it. :func:`calibrate_score`

1. reads the score as a number (True/False, empty or non-numeric values are
   errors, never scores);
2. normalises the language, checks a given script against the tag, and checks
   the prompt's own script against it (a prompt in another language's script is
   the sign of a mislabelled sample, as in PARIKSHA's swapped files);
3. checks the judge model and judge prompt hash against what the calibrator was
   fitted for;
4. builds the one-row judged table ``judgecal apply`` would read and calls the
   calibrator's own ``apply`` on it, so the calibrated score, the serving group
   and the prediction set are those of ``judgecal apply``.

Framework modules (inspect_ai, promptfoo, and later MLflow, DeepEval, lm-eval)
only translate their objects into these arguments.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

# A text says which script it is in only with enough letters, mostly of one
# script: the thresholds are judgecal validate's.
from judgecal.data.validate import MIN_LETTERS, MIN_SHARE
from judgecal.errors import CalibratorMismatchError, ConfigError, InputError, Problem


@dataclass(frozen=True)
class CalibratedScore:
    """One sample's judge score before and after calibration."""

    raw: float
    calibrated: float
    metric: str
    language: str
    script: str
    level: str  # serving level: 'language', 'script' or 'metric' (backed off)
    group: str  # the calibrator group that served it, e.g. 'la|hi|Deva'
    score_set: str  # prediction set of human levels, e.g. "1,2"
    judge: str

    def as_dict(self) -> dict:
        return asdict(self)


def judge_score(value: object, *, where: str) -> float:
    """A judge's score as a float. ``where`` names the sample for the error.

    Numbers and numeric strings ("2", " 1.5 ") are scores; True/False, NaN,
    empty and other text are not (an unparseable judgment never becomes a score).
    """
    if isinstance(value, bool):
        raise InputError(Problem("the judge score is True/False; calibration needs a number on the metric's scale",
                                 file=where, value=value), summary="not a judge score")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*", value):
        number = float(value)
    else:
        raise InputError(Problem("the judge score is not a number", file=where, value=value),
                         summary="not a judge score")
    if not math.isfinite(number):
        raise InputError(Problem("the judge score is not a finite number", file=where, value=value),
                         summary="not a judge score")
    return number


def score_in_text(text: str, pattern: str, *, where: str) -> str:
    """The one judge score that ``pattern`` (a regex, first group = the score) finds in ``text``.

    Zero or several matches are an error: the judge's answer then holds no single
    score, and none is made up.
    """
    found = re.findall(pattern, text)
    if len(found) != 1:
        raise InputError(Problem(f"the judge's answer holds {len(found)} matches of the score pattern {pattern!r}, "
                                 "not one", file=where, value=text[:300]), summary="no judge score in the answer")
    return found[0] if isinstance(found[0], str) else found[0][0]


def sample_language(language: object, script: object = None, text: str | None = None, *,
                    where: str) -> tuple[str, str]:
    """Normalised (language tag, ISO 15924 script) of one sample, checked.

    ``script`` None takes the tag's script (``pa`` -> ``Guru``). A given script
    must be a 4-letter code agreeing with a script subtag of the tag. ``text``,
    when it has enough letters, must be written in that script: pass a text the
    dataset's authors wrote in the sample's language (its prompt or question).
    Then a mismatch means the language label is wrong, and calibrating with that
    language's group would be too. Not the judged response: a system answering
    in English or in romanised text is what the judge is there to catch (PARIKSHA
    has such responses), not a labelling error.
    """
    from judgecal.data.languages import UnknownLanguage, default_script, normalize_language
    from judgecal.data.schema import SCRIPT_CLASH, SCRIPT_INVALID, check_scripts
    from judgecal.data.scripts import detect_script, script_matches, script_name

    if language is None or (isinstance(language, str) and not language.strip()) or (
            isinstance(language, float) and math.isnan(language)):
        raise InputError(Problem("the sample has no language", file=where, column="language"),
                         summary="cannot calibrate without the sample's language")
    try:
        tag = normalize_language(str(language))
    except UnknownLanguage:
        raise InputError(Problem("not a BCP-47 tag or a known language name", file=where, column="language",
                                 value=language), summary="cannot calibrate without the sample's language") from None
    if script is None or (isinstance(script, str) and not script.strip()):
        code = default_script(tag)
    else:
        checked, invalid, clash = check_scripts(pd.Series([tag]), pd.Series([script]))
        if invalid[0] or clash[0]:
            raise InputError(Problem(SCRIPT_INVALID if invalid[0] else SCRIPT_CLASH, file=where, column="script",
                                     value=script), summary="bad script")
        code = str(checked.iloc[0])
    if text:
        guess = detect_script(text)
        if guess.letters >= MIN_LETTERS and guess.share >= MIN_SHARE and not script_matches(code, guess.script):
            raise InputError(Problem(
                f"the prompt is written in {script_name(guess.script)} ({guess.script}, {guess.share:.0%} of "
                f"{guess.letters} letters) but the language {tag!r} is written in {script_name(code)} ({code}): "
                "the sample's language label looks wrong", file=where, column="language", value=language),
                summary="language and prompt disagree")
    return tag, code


_CACHE: dict[tuple, object] = {}
_CACHE_LOCK = threading.Lock()


def load_calibrator_cached(path: str | Path):
    """The calibrator in ``path``, read once per file version (path, size, mtime).

    Frameworks call a scorer once per sample; reading and checking the JSON each
    time would cost more than calibrating.
    """
    from judgecal.calibration.persist import load_calibrator

    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError:
        st = None
    if st is None:
        return load_calibrator(p)  # its own clear error for a missing/unreadable file
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = load_calibrator(p)
        return _CACHE[key]


def template_hash(template: str) -> str:
    """A judge prompt's hash for prompts judgecal did not write (16 hex digits of
    SHA-256 of the template text). Record it with the judged rows (``judgecal
    import-inspect --prompt-hash``) and pass it to the scorer, so the calibrator
    fitted on them refuses scores from another prompt."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def judge_rater(cal, judge_model: str | None, metric: str, prompt_hash: str | None, *,
                allow_mismatch: bool, where: str, option: str = "allow_mismatch=True") -> str:
    """The rater id to put on the judged row, after checking judge and prompt.

    ``openai/gpt-4o-mini`` and ``gpt-4o-mini`` name the same model. ``option``
    is how the calling framework spells "apply anyway", for the error message.
    """
    if judge_model is None or not str(judge_model).strip():
        if allow_mismatch:
            return cal.judge_
        raise CalibratorMismatchError(
            f"{where}: which judge produced this score is not known; the calibrator was fitted for judge "
            f"{cal.judge_!r}. Name the judge (judge_model=...), or pass {option} to apply it anyway.")
    judge_model = str(judge_model)
    same = _model_name(judge_model) == _model_name(cal.judge_)
    if not same and not allow_mismatch:
        raise CalibratorMismatchError(
            f"{where}: the score comes from judge {judge_model!r} but the calibrator was fitted for judge "
            f"{cal.judge_!r}; a calibrator does not transfer between judges. Fit one for {judge_model!r}, "
            f"or pass {option} to apply it anyway.")
    fitted_hash = (cal.judge_prompt_hash_ or {}).get(_metric_id(cal, metric))
    if prompt_hash and fitted_hash and str(prompt_hash) != fitted_hash and not allow_mismatch:
        raise CalibratorMismatchError(
            f"{where}: the score comes from judge prompt {prompt_hash} but the calibrator was fitted for judge "
            f"prompt {fitted_hash} on metric {metric!r}; pass {option} to apply it anyway.")
    return cal.judge_ if same else judge_model


# Per calibrator: metric name -> metric id, and (metric, language, script, judge,
# prompt hash, score) -> apply's output for that row. Judge scores are discrete,
# so a whole eval needs a handful of apply calls instead of one per sample
# (one-row apply costs 10-50 ms of pandas work; see bench/integration_per_sample.py).
_SERVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _memo(cal) -> dict:
    with _CACHE_LOCK:
        return _SERVED.setdefault(cal, {})


def _model_name(judge: str) -> str:
    """'openai/gpt-4o-mini' -> 'gpt-4o-mini' (as judgecal.calibrated_judge compares judges)."""
    return str(judge).split("/", 1)[-1]


def _metric_id(cal, metric: str) -> str:
    """The calibrator's id of ``metric`` (an id or one of its scale's aliases)."""
    memo = _memo(cal)
    key = ("metric", str(metric))
    if key not in memo:
        name = str(metric).strip().lower()
        found = [mid for mid, scale in cal.scales_.items() if name in (mid.lower(), *map(str.lower, scale.aliases))]
        if not found:
            raise CalibratorMismatchError(f"metric {str(metric)!r} is not in this calibrator "
                                          f"(it covers {sorted(cal.scales_)})")
        memo[key] = found[0]
    return memo[key]


def calibrate_score(cal, score: object, *, metric: str, language: object, script: object = None,
                    text: str | None = None, judge_model: str | None = None, prompt_hash: str | None = None,
                    allow_mismatch: bool = False, where: str = "sample",
                    option: str = "allow_mismatch=True") -> CalibratedScore:
    """Calibrate one judge score of one sample with a loaded calibrator ``cal``.

    The numbers are ``cal.apply``'s on the row (language, script, metric,
    rater, score), so those of ``judgecal apply``; the prediction set is the
    conservative one (``judgecal apply --no-randomize``): the randomised set
    draws its tie-breaks per item, and one sample is calibrated without the others.
    """
    if not str(metric or "").strip():
        raise ConfigError("name the metric the judge scored (metric=...), one of " + ", ".join(sorted(cal.scales_)))
    raw = judge_score(score, where=where)
    tag, code = sample_language(language, script, text, where=where)
    try:
        metric_id = _metric_id(cal, metric)
    except CalibratorMismatchError as exc:
        raise CalibratorMismatchError(f"{where}: {exc}") from None
    rater = judge_rater(cal, judge_model, metric_id, prompt_hash, allow_mismatch=allow_mismatch, where=where,
                        option=option)
    hash_text = str(prompt_hash) if prompt_hash else None
    key = ("row", metric_id, tag, code, rater, hash_text, raw, bool(allow_mismatch))
    memo = _memo(cal)
    if key not in memo:
        row = {"item_id": "sample", "language": tag, "script": code, "metric": metric_id, "rater": rater,
               "rater_kind": "judge", "score": raw}
        if hash_text:
            row["judge_prompt_hash"] = hash_text
        try:
            out = cal.apply(pd.DataFrame([row]), allow_mismatch=allow_mismatch, randomize=False).iloc[0]
        except InputError as exc:  # e.g. a score off the metric's scale: say which sample
            raise InputError([Problem(p.message, file=where, column=p.column, value=p.value) for p in exc.problems],
                             summary=exc.summary) from None
        memo[key] = (float(out["score_calibrated"]), str(out["calibration_level"]), str(out["calibration_group"]),
                     str(out["score_set"]))
    calibrated, level, group, score_set = memo[key]
    return CalibratedScore(raw=raw, calibrated=calibrated, metric=metric_id, language=tag, script=code, level=level,
                           group=group, score_set=score_set, judge=rater)


def parse_version(text: str) -> tuple[int, ...]:
    """(major, minor, patch) of a version string such as '0.3.285' or '0.120.8-beta'."""
    return tuple(int(x) for x in re.findall(r"\d+", str(text))[:3])


def check_version(framework: str, installed: str, minimum: str, below: str, extra: str) -> None:
    """ConfigError unless ``minimum <= installed < below`` (the range judgecal is made for)."""
    v = parse_version(installed)
    if not v or not (parse_version(minimum) <= v < parse_version(below)):
        raise ConfigError(
            f"{framework} {installed} is not supported by judgecal's integration (supported: >= {minimum}, "
            f"< {below}). Install a supported version: {extra}")
