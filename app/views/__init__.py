"""Dashboard pages, one file each (layout only). Not named pages/: Streamlit would treat that folder as an old-style multipage app."""
