"""Logic behind the Streamlit dashboard (``judgecal dashboard``).

The app under ``app/`` (installed as ``judgecal.app``) holds layout only. What
it needs besides layout lives here, split so that most of it is testable
without Streamlit:

* :mod:`~judgecal.dashboard.filters`: the sidebar filters as data, and applying them;
* :mod:`~judgecal.dashboard.sources`: reading a ratings file, a PARIKSHA folder
  or an uploaded file, with readable errors;
* :mod:`~judgecal.dashboard.results`: the one place the app calls judgecal's
  analysis and calibration functions (the numbers are computed there, never here);
* :mod:`~judgecal.dashboard.shaping`: sorting and pivoting results for display;
* :mod:`~judgecal.dashboard.launch`: finding the app file and starting ``streamlit run``;
* :mod:`~judgecal.dashboard.session`: the Streamlit side: caches, session state,
  sidebar widgets, error guards (imports Streamlit).

Nothing here imports Streamlit at package import time.
"""

from __future__ import annotations

from judgecal._lazy import lazy_exports

__all__ = ["app_path", "run_dashboard", "streamlit_command"]

__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(__all__, "judgecal.dashboard.launch"))
