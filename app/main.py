"""judgecal dashboard: the router.

Loads the ratings (cached), draws the filters shared by every page, and runs
the chosen page. Start it with ``judgecal dashboard RATINGS``.
"""

import streamlit as st

from judgecal.dashboard import session

st.set_page_config(page_title="judgecal dashboard", layout="wide")

session.prepare()

pages = st.navigation(
    {
        "Judge vs native speakers": [
            st.Page("pages/overview.py", title="Overview", url_path="overview", default=True),
            st.Page("pages/bias.py", title="Bias", url_path="bias"),
            st.Page("pages/agreement.py", title="Agreement", url_path="agreement"),
        ],
        "Acting on it": [
            st.Page("pages/calibration.py", title="Calibration", url_path="calibration"),
            st.Page("pages/estimates.py", title="System estimates", url_path="estimates"),
            st.Page("pages/disagreements.py", title="Disagreements", url_path="disagreements"),
            st.Page("pages/planner.py", title="Annotation planner", url_path="planner"),
        ],
        "Data": [
            st.Page("pages/data.py", title="Data and uploads", url_path="data"),
        ],
    }
)
pages.run()
