"""DeepEval: a metric that wraps another metric (G-Eval, ...) and calibrates its
score per language.

    from deepeval.metrics import GEval
    from judgecal.integrations.deepeval import CalibratedMetric

    judge = GEval(name="acceptability", evaluation_steps=[...], rubric=[...], model=my_judge, ...)
    metric = CalibratedMetric(judge, "calibrator.json", metric="la", threshold=1.5)
    metric.measure(LLMTestCase(input=question, actual_output=answer,
                               additional_metadata={"language": "hi"}))

DeepEval metrics score on [0, 1]; the calibrator's metric has its own scale
(``la``: 0, 1, 2). The wrapped metric's score is mapped linearly onto that
scale (0 -> the lowest level, 1 -> the highest; ``judge_range`` says otherwise)
and must land on one of its levels. The calibrated score (``judgecal apply``'s
number, on the metric's scale) becomes this metric's ``score``, compared with
``threshold`` on that scale in the metric's direction; ``score_breakdown``
holds the raw and calibrated scores and the serving group.

The sample's language is ``additional_metadata["language"]`` (script from
``additional_metadata["script"]`` when given), checked against the script of
the test case's ``input`` (the question, written in the sample's language).
"""

from __future__ import annotations

import functools

from judgecal._lazy import require
from judgecal.errors import ConfigError, InputError, Problem
from judgecal.integrations._common import calibrate_score, check_version, load_calibrator_cached

# Made against deepeval 4.3.1 (the version tested). BaseMetric's contract used
# here (measure / a_measure / is_successful, score, reason, success,
# score_breakdown, error) is unchanged through the 4.x releases.
MIN_VERSION, BELOW_VERSION = "4.0.0", "5.0.0"
INSTALL = "pip install 'judgecal[deepeval]'"
OPTION = "allow_mismatch=True"


@functools.cache
def _metric_class() -> type:
    deepeval = require("deepeval", "deepeval", "the DeepEval integration")
    from importlib.metadata import version

    check_version("deepeval", getattr(deepeval, "__version__", None) or version("deepeval"), MIN_VERSION,
                  BELOW_VERSION, INSTALL)
    from deepeval.metrics import BaseMetric

    class CalibratedMetric(BaseMetric):
        __doc__ = _DOC

        def __init__(self, judge, calibrator, metric: str, threshold: float, *, judge_model: str | None = None,
                     prompt_hash: str | None = None, judge_range: tuple[float, float] = (0.0, 1.0),
                     language_key: str = "language", script_key: str = "script", check_input_script: bool = True,
                     allow_mismatch: bool = False, name: str | None = None):
            if not hasattr(judge, "measure") or not hasattr(judge, "a_measure"):
                raise ConfigError(f"judge must be a DeepEval metric (measure/a_measure), got {type(judge).__name__}")
            self.judge = judge
            self.calibrator = calibrator
            self.metric = metric
            self.threshold = float(threshold)
            self.judge_model = judge_model
            self.prompt_hash = prompt_hash
            self.judge_range = judge_range
            self.language_key = language_key
            self.script_key = script_key
            self.check_input_script = check_input_script
            self.allow_mismatch = allow_mismatch
            self.name = name or f"Calibrated {getattr(judge, '__name__', type(judge).__name__)}"
            self.evaluation_model = getattr(judge, "evaluation_model", None)
            self.async_mode = getattr(judge, "async_mode", True)
            self.strict_mode = False
            self.include_reason = True
            self.verbose_mode = False
            self.cal_ = load_calibrator_cached(calibrator) if not hasattr(calibrator, "apply") else calibrator
            self.error = None

        @property
        def __name__(self):  # DeepEval names a metric by its __name__
            return self.name

        def measure(self, test_case, *args, **kwargs) -> float:
            self.judge.measure(test_case, *args, **kwargs)
            return self._calibrate(test_case)

        async def a_measure(self, test_case, *args, **kwargs) -> float:
            await self.judge.a_measure(test_case, *args, **kwargs)
            return self._calibrate(test_case)

        def is_successful(self) -> bool:
            return bool(self.success)

        def _calibrate(self, test_case) -> float:
            where = f"test case {getattr(test_case, 'name', None) or (test_case.input or '')[:60]!r}"
            self.result_ = calibrate_test_case(
                self.cal_, self.judge, test_case, metric=self.metric, judge_range=self.judge_range,
                judge_model=self.judge_model, prompt_hash=self.prompt_hash, language_key=self.language_key,
                script_key=self.script_key, check_input_script=self.check_input_script,
                allow_mismatch=self.allow_mismatch, where=where)
            r = self.result_
            higher = self.cal_.scales_[r.metric].higher_is_better
            self.score = r.calibrated
            self.success = r.calibrated >= self.threshold if higher else r.calibrated <= self.threshold
            self.score_breakdown = {"judge_raw": r.raw, "judge_calibrated": r.calibrated,
                                    "calibration_group": r.group, "calibration_level": r.level,
                                    "score_set": r.score_set}
            self.reason = (f"{r.metric} judge score {r.raw:g} -> calibrated {r.calibrated:.4f} ({r.level} group "
                           f"{r.group}) {'>=' if higher else '<='} threshold {self.threshold:g}: "
                           f"{'pass' if self.success else 'fail'}. Judge's reason: {self.judge.reason}")
            self.evaluation_cost = getattr(self.judge, "evaluation_cost", None)
            return self.score

    return CalibratedMetric


_DOC = """A DeepEval metric: ``judge``'s score calibrated per language with a judgecal calibrator.

judge : the DeepEval metric giving the judge score (GEval, DAGMetric, ...)
calibrator : a calibrator file (``judgecal calibrate``) or a loaded calibrator
metric : the calibrator's metric the judge scores
threshold : pass mark on the metric's scale (the calibrated score is compared with it)
judge_model : the judge's model id (default: the wrapped metric's model name)
prompt_hash : the judge prompt's hash, checked against the calibrator's
judge_range : the wrapped metric's score range, mapped onto the metric's scale
"""


def calibrate_test_case(cal, judge, test_case, *, metric: str, judge_range, judge_model, prompt_hash, language_key,
                        script_key, check_input_script: bool, allow_mismatch: bool, where: str):
    """The wrapped metric's last score on ``test_case``, calibrated (a CalibratedScore)."""
    if judge.error is not None if hasattr(judge, "error") else False:
        raise InputError(Problem(f"the judge metric failed: {judge.error}", file=where), summary="no judge score")
    metadata = test_case.additional_metadata or {}
    lo, hi = (float(x) for x in judge_range)
    if not hi > lo:
        raise ConfigError(f"judge_range must be (low, high) with low < high, got {judge_range!r}")
    scale = cal.scales_.get(metric) or next((s for s in cal.scales_.values() if metric in s.aliases), None)
    if scale is None:
        raise ConfigError(f"metric {metric!r} is not in this calibrator (it covers {sorted(cal.scales_)})")
    score = judge.score
    raw = on_scale(score, lo, hi, scale.levels, where=where)
    judge_id = judge_model or _model_name(getattr(judge, "model", None))
    return calibrate_score(
        cal, raw, metric=metric, language=metadata.get(language_key), script=metadata.get(script_key),
        text=test_case.input if check_input_script else None, judge_model=judge_id, prompt_hash=prompt_hash,
        allow_mismatch=allow_mismatch, where=where, option=OPTION)


def on_scale(score: object, lo: float, hi: float, levels: tuple[float, ...], *, where: str) -> float:
    """A DeepEval score in [lo, hi] as the metric level it stands for.

    The linear image of ``score`` on [min level, max level] must be one of the
    levels (to 1e-9): a score between two levels is not one the judge can give
    on this scale, and is an error rather than rounded.
    """
    from judgecal.integrations._common import judge_score

    value = judge_score(score, where=where)
    image = levels[0] + (value - lo) / (hi - lo) * (levels[-1] - levels[0])
    for level in levels:
        if abs(image - level) <= 1e-9:
            return float(level)
    raise InputError(Problem(f"the judge metric's score {value:g} (range {lo:g}..{hi:g}) maps to {image:g} on the "
                             f"metric's scale, which is not one of its levels {list(levels)}", file=where,
                             value=score), summary="judge score off the metric's scale")


def _model_name(model: object) -> str | None:
    if model is None:
        return None
    name = model.get_model_name() if hasattr(model, "get_model_name") else getattr(model, "name", None)
    return str(name) if name else None


def __getattr__(name: str):
    if name == "CalibratedMetric":
        return _metric_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
