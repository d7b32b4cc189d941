"""A judge paired with a calibrator: calibrated scores straight from ``score``.

    cj = CalibratedJudge("openai/gpt-4o-mini", "calibrator.json", metrics=("la", "tq"))
    result = cj.score(generations)          # ScoreResult; ratings carry score_calibrated
    calibrated = cj.transform(generations)  # the same as a DataFrame: a Pipeline step

It sits above both layers it joins: the judge runs through
:func:`judgecal.judges.score_generations`, the scores are calibrated by a
:class:`~judgecal.calibration.GroupedCalibrator` (so the calibration package stays
free of provider code). The calibrator checks that the scores come from the judge
and judge prompt it was fitted for.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from judgecal.calibration.persist import load_calibrator
from judgecal.errors import CalibratorMismatchError
from judgecal.judges import score_generations


class CalibratedJudge(TransformerMixin, BaseEstimator):
    """Score generations with ``judge`` and calibrate the scores with ``calibrator``.

    Parameters
    ----------
    judge : str
        Judge id as ``judgecal score`` takes it (``openai/<model>``, ...).
    calibrator : GroupedCalibrator or path
        A fitted calibrator, or the path of a calibrator file.
    metrics : sequence of str, optional
        Metrics to score (default: every metric the calibrator covers).
    allow_mismatch : bool
        Calibrate even if judge or prompt differ from the calibrator's.
    judge_options : dict, optional
        Passed to :func:`judgecal.score_generations` (``base_url``, ``cache``,
        ``concurrency``, ``variant``, ...).

    Attributes
    ----------
    calibrator_ : GroupedCalibrator
        The loaded calibrator (after ``fit``, ``score`` or ``transform``).

    Examples
    --------
    >>> from judgecal import GroupedCalibrator
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=120, languages=("hi",), metrics=("tq",))
    >>> cal = GroupedCalibrator(method="isotonic").fit(ratings)
    >>> CalibratedJudge("synthetic-judge", cal).fit().calibrator_ is cal
    True
    >>> CalibratedJudge("openai/gpt-4o-mini", cal).fit()
    Traceback (most recent call last):
    ...
    judgecal.errors.CalibratorMismatchError: calibrator was fitted for judge 'synthetic-judge', not 'openai/gpt-4o-mini' (allow_mismatch=True to use it anyway)

    With a real judge (needs the provider's API key):

    >>> judge = CalibratedJudge("openai/gpt-4o-mini", "calibrator.json")  # doctest: +SKIP
    >>> judge.transform("outputs.jsonl")[["item_id", "metric", "score", "score_calibrated"]]  # doctest: +SKIP
    """

    def __init__(self, judge: str, calibrator, *, metrics=None, allow_mismatch: bool = False,
                 judge_options: dict | None = None):
        self.judge = judge
        self.calibrator = calibrator
        self.metrics = metrics
        self.allow_mismatch = allow_mismatch
        self.judge_options = judge_options

    def _calibrator(self):
        if isinstance(self.calibrator, (str, Path)):
            self.calibrator_ = load_calibrator(self.calibrator)
        else:
            self.calibrator_ = self.calibrator
        if not self.allow_mismatch and _model(self.judge) != _model(self.calibrator_.judge_):
            raise CalibratorMismatchError(
                f"calibrator was fitted for judge {self.calibrator_.judge_!r}, not {self.judge!r} "
                "(allow_mismatch=True to use it anyway)")
        return self.calibrator_

    def fit(self, X=None, y=None):
        """Nothing to learn (the calibrator is fitted already); loads and checks it."""
        self._calibrator()
        return self

    def score(self, generations, y=None):
        """Judge ``generations`` and return the ScoreResult with calibrated ratings."""
        cal = self._calibrator()
        metrics = tuple(self.metrics) if self.metrics else tuple(cal.metric_info_)
        result = score_generations(generations, self.judge, metrics, **(self.judge_options or {}))
        if len(result.ratings):
            result.ratings = cal.apply(result.ratings, allow_mismatch=self.allow_mismatch)
        return result

    def transform(self, X) -> pd.DataFrame:
        """Calibrated ratings of generations X (a DataFrame or a file path)."""
        return self.score(X).ratings


def _model(judge: str) -> str:
    """'openai/gpt-4o-mini' and 'gpt-4o-mini' name the same model."""
    return str(judge).split("/", 1)[-1]
