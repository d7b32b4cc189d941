"""The Streamlit side of the Battles page: its sources, read once and cached, and the cached report.

The battles come from ``judgecal dashboard --battles PATH`` (a battles file or a
PARIKSHA folder), independent of the ratings; a pairwise calibrator from
``--battle-calibrator FILE``. Errors come back as text for the page.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from judgecal.dashboard import battles as logic
from judgecal.dashboard.launch import ENV_BATTLE_CALIBRATOR, ENV_BATTLES
from judgecal.dashboard.sources import SourceError, source_ref


@st.cache_resource(max_entries=2, show_spinner="Reading the battles...")
def _battles_from_path(path: str, stamp: str) -> pd.DataFrame:
    return logic.read_battles_source(path)


@st.cache_resource(max_entries=2, show_spinner=False)
def _calibrator_from_path(path: str, stamp: str):
    return logic.read_battle_calibrator(path)


def battles_source() -> tuple[pd.DataFrame | None, tuple, str, str | None]:
    """(battles, data key, label, error); (None, (), "", None) when none was given."""
    return _from_env(ENV_BATTLES, _battles_from_path)


def battle_calibrator() -> tuple[object | None, tuple, str, str | None]:
    """(calibrator, key, label, error) from --battle-calibrator; None when not given."""
    return _from_env(ENV_BATTLE_CALIBRATOR, _calibrator_from_path)


def _from_env(variable: str, read) -> tuple[object | None, tuple, str, str | None]:
    """What ``read(path, stamp)`` makes of the file named by the environment ``variable``, keyed by
    the file's identity; a file that cannot be read comes back as the error's text."""
    path = os.environ.get(variable)
    if not path:
        return None, (), "", None
    try:
        ref = source_ref(path)
        return read(ref.path, ref.stamp), (ref.path, ref.stamp), path, None
    except SourceError as exc:
        return None, (), path, str(exc)


@st.cache_resource(max_entries=8, show_spinner="Computing agreement, biases and leaderboards...")
def report(data_key: tuple, calibrator_key: tuple, judge_family: str, confidence: float, n_resamples: int,
           _battles: pd.DataFrame, _calibrator):
    """logic.battles_report, cached on the sources' identity and the page's settings."""
    return logic.battles_report(_battles, calibrator=_calibrator, judge_family=judge_family,
                                confidence=confidence, n_resamples=n_resamples)
