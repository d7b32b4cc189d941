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
    path = os.environ.get(ENV_BATTLES)
    if not path:
        return None, (), "", None
    try:
        ref = source_ref(path)
        return _battles_from_path(ref.path, ref.stamp), (ref.path, ref.stamp), path, None
    except SourceError as exc:
        return None, (), path, str(exc)


def battle_calibrator() -> tuple[object | None, tuple, str, str | None]:
    """(calibrator, key, label, error) from --battle-calibrator; None when not given."""
    path = os.environ.get(ENV_BATTLE_CALIBRATOR)
    if not path:
        return None, (), "", None
    try:
        ref = source_ref(path)
        return _calibrator_from_path(ref.path, ref.stamp), (ref.path, ref.stamp), path, None
    except SourceError as exc:
        return None, (), path, str(exc)


@st.cache_resource(max_entries=8, show_spinner="Computing agreement, biases and leaderboards...")
def report(data_key: tuple, calibrator_key: tuple, judge_family: str, confidence: float, n_resamples: int,
           _battles: pd.DataFrame, _calibrator):
    """logic.battles_report, cached on the sources' identity and the page's settings."""
    return logic.battles_report(_battles, calibrator=_calibrator, judge_family=judge_family,
                                confidence=confidence, n_resamples=n_resamples)
