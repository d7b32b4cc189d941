"""Without its framework, each integration says which extra installs it.

Runs in the main test venv, where MLflow, DeepEval and lm-eval are not installed
(.ci/run tests them in a venv of their own); skipped where they are.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

from judgecal.errors import MissingDependencyError


def _absent(module: str) -> None:
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here; the hint is for venvs without it")


def test_mlflow_hint():
    _absent("mlflow")
    from judgecal.integrations.mlflow import calibrated_scorer

    with pytest.raises(MissingDependencyError, match=r"pip install 'judgecal\[mlflow\]'"):
        calibrated_scorer("calibrator.json", "la", score_name="judge")


def test_deepeval_hint():
    _absent("deepeval")
    from judgecal.integrations import deepeval

    with pytest.raises(MissingDependencyError, match=r"pip install 'judgecal\[deepeval\]'"):
        deepeval.CalibratedMetric  # noqa: B018 - the attribute builds the class


def test_lm_eval_hint(monkeypatch):
    _absent("lm_eval")
    monkeypatch.delitem(sys.modules, "judgecal.integrations.lm_eval", raising=False)
    with pytest.raises(MissingDependencyError, match=r"pip install 'judgecal\[lmeval\]'"):
        importlib.import_module("judgecal.integrations.lm_eval")
