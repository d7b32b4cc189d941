"""Fixtures for the dashboard tests: the app run headless by Streamlit's AppTest on PARIKSHA."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgecal.dashboard.launch import ENV_CALIBRATOR, ENV_RATINGS, ENV_REPAIR, app_path

PAGES = {
    "overview": "Overview",
    "bias": "Bias",
    "agreement": "Agreement",
    "calibration": "Calibration",
    "estimates": "System estimates",
    "disagreements": "Disagreements",
    "planner": "Annotation planner",
    "data": "Data and uploads",
}


@pytest.fixture
def make_app(monkeypatch):
    """Factory: an AppTest of the dashboard showing ``ratings`` (a path, or None for nothing)."""
    from streamlit.testing.v1 import AppTest

    def make(ratings: str | Path | None, *, calibrator: str | Path | None = None, repair: bool = True,
             timeout: float = 300):
        for key, value in ((ENV_RATINGS, ratings), (ENV_CALIBRATOR, calibrator)):
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, str(value))
        monkeypatch.setenv(ENV_REPAIR, "1" if repair else "0")
        return AppTest.from_file(str(app_path()), default_timeout=timeout)

    return make


@pytest.fixture
def pariksha_app(make_app, pariksha_path):
    """The dashboard on the PARIKSHA release (repaired language labels), first run done."""
    at = make_app(pariksha_path).run()
    assert not at.exception, at.exception
    return at


def open_page(at, page: str):
    """Switch ``at`` to ``page`` (a key of PAGES) and run it."""
    at.switch_page(f"views/{page}.py").run()
    return at


def page_text(at) -> str:
    """Every text element of the last run, joined (for checks that no traceback is shown)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "error", "warning", "info",
                 "success", "exception"):
        for el in getattr(at, kind, []):
            parts.append(str(getattr(el, "value", "") or getattr(el, "message", "")))
    return "\n".join(parts)


def messages(at, kind: str) -> list[str]:
    return [str(el.value) for el in getattr(at, kind)]


def frames(at) -> list:
    """The DataFrames shown (Styler values come back as DataFrames)."""
    return [el.value for el in at.dataframe]
