import streamlit as st

st.title("estimates")
