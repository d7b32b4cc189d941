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
            st.Page("views/overview.py", title="Overview", url_path="overview", default=True),
            st.Page("views/bias.py", title="Bias", url_path="bias"),
            st.Page("views/agreement.py", title="Agreement", url_path="agreement"),
            st.Page("views/battles.py", title="Battles", url_path="battles"),
        ],
        "Acting on it": [
            st.Page("views/calibration.py", title="Calibration", url_path="calibration"),
            st.Page("views/estimates.py", title="System estimates", url_path="estimates"),
            st.Page("views/disagreements.py", title="Disagreements", url_path="disagreements"),
            st.Page("views/planner.py", title="Annotation planner", url_path="planner"),
            st.Page("views/drift.py", title="Judge drift", url_path="drift"),
        ],
        "Data": [
            st.Page("views/data.py", title="Data and uploads", url_path="data"),
        ],
    }
)
pages.run()
