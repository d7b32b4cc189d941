"""The Streamlit dashboard app (installed as ``judgecal.app``); entry file: main.py."""
