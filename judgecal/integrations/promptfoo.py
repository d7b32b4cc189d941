"""promptfoo: a Python assertion that passes or fails on the calibrated judge score.

promptfoo (an npm package) runs ``get_assert(output, context)`` of a ``.py``
file named by a ``type: python`` assertion. Point it at a one-line file::

    # judgecal_assert.py
    from judgecal.integrations.promptfoo import get_assert  # noqa: F401

and configure it in the assertion's ``config``::

    assert:
      - type: python
        value: file://judgecal_assert.py
        config:
          calibrator: calibrator.json      # from judgecal calibrate
          metric: la
          threshold: 1.5                  # on the metric's scale
          judge_model: openai/gpt-4o-mini  # default: the provider's id
          # score_var: judge_score        # take the score from a test var ...
          # score_pattern: 'SCORE:\\s*(\\d+)' # ... or from the output (default)
          # language_var: language, script_var: script
          text_var: question              # a var in the test's language (script check)

The judge score (a test var, or parsed from the output when the provider is the
judge) is calibrated with the group of the test's language (``vars.language``,
script checked against the tag and, with ``text_var``, against the script that
var's text is written in: the question, not the response being judged).
The result is ``{pass, score, reason, namedScores}``: ``score`` is the
calibrated score on the metric's scale (the same number as ``judgecal apply``),
``pass`` compares it with ``threshold`` in the metric's direction (for a metric
where lower is better, such as hallucination, it passes at or below), and
``namedScores`` carries ``judge_raw`` and ``judge_calibrated``.

Python is the interpreter promptfoo runs (``PROMPTFOO_PYTHON``): judgecal must
be installed there.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from judgecal.errors import ConfigError, InputError, Problem
from judgecal.integrations._common import calibrate_score, check_version, load_calibrator_cached

# Made against promptfoo 0.120.8 (the version tested; the last one that runs on
# Node 20). The python assertion interface (get_assert(output, context) with
# context.vars and context.config) is older than 0.110 and unchanged since.
MIN_VERSION, BELOW_VERSION = "0.110.0", "1.0.0"
INSTALL = "npm install promptfoo@0.120.8"
DEFAULT_PATTERN = r"SCORE:\s*([-+]?\d+(?:\.\d+)?)"
OPTION = "config.allow_mismatch: true"


def promptfoo_version(argv0: str | None = None) -> str | None:
    """Version of the promptfoo whose Python wrapper runs this process, or None.

    promptfoo starts ``<package>/dist/src/python/wrapper.py``; the package's
    package.json is three folders up.
    """
    wrapper = Path(argv0 if argv0 is not None else (sys.argv[0] if sys.argv else ""))
    if wrapper.name not in ("wrapper.py", "persistent_wrapper.py"):
        return None
    for folder in wrapper.resolve().parents[:5]:
        manifest = folder / "package.json"
        try:
            info = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
        except (OSError, ValueError):
            info = {}
        # dist/src holds a package.json of its own ({"type": "module"}): keep going up.
        if isinstance(info, dict) and info.get("name") == "promptfoo":
            return str(info.get("version"))
    return None


def get_assert(output, context) -> dict:
    """promptfoo's entry point: grade ``output`` by the calibrated judge score."""
    version = promptfoo_version()
    if version is not None:
        check_version("promptfoo", version, MIN_VERSION, BELOW_VERSION, INSTALL)
    if not isinstance(context, dict) or "vars" not in context:
        raise ConfigError("promptfoo called the assertion without a context holding 'vars': this promptfoo "
                          f"is not one judgecal supports (>= {MIN_VERSION}, < {BELOW_VERSION}); {INSTALL}")
    return grade(output, context.get("vars") or {}, context.get("config") or {},
                 provider=(context.get("provider") or {}).get("id") if isinstance(context.get("provider"), dict)
                 else None)


def grade(output, variables: dict, config: dict, *, provider: str | None = None) -> dict:
    """The grading result for one test: ``{pass, score, reason, namedScores}``."""
    for key in ("calibrator", "metric", "threshold"):
        if config.get(key) in (None, ""):
            raise ConfigError(f"the judgecal assertion needs config.{key} (config: calibrator, metric, threshold; "
                              "optional judge_model, prompt_hash, score_var, score_pattern, language_var, "
                              "script_var, text_var, allow_mismatch)")
    try:
        threshold = float(config["threshold"])
    except (TypeError, ValueError):
        raise ConfigError(f"config.threshold must be a number, got {config['threshold']!r}") from None
    where = f"test {variables.get('item_id', variables.get('id', '?'))}"
    if config.get("score_var"):
        if config["score_var"] not in variables:
            raise InputError(Problem(f"the test has no var {config['score_var']!r} (config.score_var)", file=where,
                                     column=f"vars.{config['score_var']}"), summary="no judge score")
        value = variables[config["score_var"]]
    else:
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        found = re.findall(config.get("score_pattern") or DEFAULT_PATTERN, text)
        if len(found) != 1:
            # Zero or several matches: the judge's answer holds no one score, so no score is made up.
            raise InputError(Problem(f"the output holds {len(found)} matches of the score pattern "
                                     f"{config.get('score_pattern') or DEFAULT_PATTERN!r}, not one", file=where,
                                     value=text), summary="no judge score in the output")
        value = found[0] if isinstance(found[0], str) else found[0][0]
    cal = load_calibrator_cached(config["calibrator"])
    result = calibrate_score(
        cal, value, metric=str(config["metric"]), language=variables.get(config.get("language_var", "language")),
        script=variables.get(config.get("script_var", "script")),
        text=variables.get(config["text_var"]) if config.get("text_var") else None,
        judge_model=config.get("judge_model") or provider, prompt_hash=config.get("prompt_hash"),
        allow_mismatch=bool(config.get("allow_mismatch", False)), where=where, option=OPTION)
    higher = cal.scales_[result.metric].higher_is_better
    passed = result.calibrated >= threshold if higher else result.calibrated <= threshold
    return {
        "pass": bool(passed),
        "score": result.calibrated,
        "reason": (f"{result.metric} judge score {result.raw:g} -> calibrated {result.calibrated:.4f} "
                   f"({result.level} group {result.group}) {'>=' if higher else '<='} threshold {threshold:g}: "
                   f"{'pass' if passed else 'fail'}"),
        "namedScores": {"judge_raw": result.raw, "judge_calibrated": result.calibrated},
    }
