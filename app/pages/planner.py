import streamlit as st

st.title("planner")
