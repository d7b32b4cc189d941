"""Data page: what is loaded, uploads of a ratings file or a calibrator, and checks of the data."""

import streamlit as st

from judgecal.dashboard import results, session
from judgecal.dashboard.sources import CALIBRATOR_SUFFIXES, RATINGS_SUFFIXES
from judgecal.sanitize import markdown_text as md

st.title("Data and uploads")
ctx = session.context()

left, right = st.columns(2)
with left:
    st.subheader("Ratings")
    if ctx.ratings is not None:
        st.success(f"Showing {md(ctx.source_label)}: {len(ctx.ratings):,} ratings rows.")
    elif ctx.load_error:
        st.error(f"Could not load {md(ctx.source_label)}:\n\n{session.as_markdown(ctx.load_error)}")
    else:
        st.info("No ratings loaded. Upload a file below.")
    # No type= restriction: a file of another kind gets judgecal's own readable message.
    st.file_uploader(
        "Upload a ratings file", key=session.RATINGS_WIDGET, on_change=session.on_ratings_upload,
        help="One row per (item, metric, rater) with item_id, language, metric, rater, rater_kind, score; "
             f"as {', '.join('.' + s for s in RATINGS_SUFFIXES)}.",
    )
with right:
    st.subheader("Calibrator")
    if ctx.calibrator is not None:
        st.success(f"Using calibrator {md(ctx.calibrator_label)}.")
    elif ctx.calibrator_error:
        st.error(f"Could not load the calibrator {md(ctx.calibrator_label)}:\n\n"
                 f"{session.as_markdown(ctx.calibrator_error)}")
    else:
        st.info("No calibrator loaded. Fit one with `judgecal calibrate RATINGS --out calibrator.json`.")
    st.file_uploader(
        "Upload a calibrator", key=session.CALIBRATOR_WIDGET, on_change=session.on_calibrator_upload,
        help=f"The JSON file written by `judgecal calibrate` ({', '.join('.' + s for s in CALIBRATOR_SUFFIXES)}).",
    )

rejected = session.upload_error()
if rejected:
    kind, name, message = rejected
    st.error(f"The uploaded {kind} file {md(name)} was not loaded:\n\n{session.as_markdown(message)}")
    st.caption("The data shown before the upload is still in use.")

if st.session_state.get(session.UPLOAD_RATINGS_KEY) or st.session_state.get(session.UPLOAD_CALIBRATOR_KEY):
    st.button("Forget uploads (back to the command line's files)", on_click=session.forget_uploads)


def body(ctx: session.Context) -> None:
    st.subheader("What the selection holds, per language")
    checked = session.compute(ctx, results.validation, texts=True)
    st.dataframe(checked["summary"], hide_index=True)
    if len(checked["script_mismatches"]):
        st.subheader("Texts written in another script than declared")
        st.dataframe(checked["script_mismatches"], hide_index=True)
    for finding in checked["findings"]:
        st.warning(md(finding))


if ctx.ratings is not None:
    session.show_page(None, body, needs_judge=False, needs_humans=False, one_judge=False)
