import streamlit as st

st.title("disagreements")
