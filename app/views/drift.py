"""Judge drift: have the judge's scores moved away from what the calibrator was fitted on?

New judged rows are the selection's judge rows, or an uploaded judged file; anchor rows
(scored by the old judge, from `judgecal anchors`) can be uploaded to tell a judge
change from a change in the systems judged. Logic: judgecal.dashboard.drift.
"""

import altair as alt
import streamlit as st

from judgecal.dashboard import drift, session
from judgecal.dashboard.sources import content_digest, read_uploaded_ratings
from judgecal.sanitize import markdown_text as md


def _upload(label: str, key: str, help_text: str):
    """An uploaded ratings file kept in the session: (table, digest) or (None, None)."""
    got = st.file_uploader(label, key=f"{key}_widget", help=help_text)
    if got is not None:
        st.session_state[key] = (got.name, got.getvalue())
    kept = st.session_state.get(key)
    if kept is None:
        return None, None
    name, data = kept
    return read_uploaded_ratings(name, data), content_digest(data)


def body(ctx: session.Context) -> None:
    cal = ctx.calibrator
    if cal is None:
        st.info("No calibrator loaded: drift is checked against a calibrator's fitting data. Start "
                "`judgecal dashboard RATINGS --calibrator calibrator.json` or upload one on the Data page.")
        return
    left, right = st.columns(2)
    with left:
        judged, judged_digest = _upload("New judged rows (optional)", drift.JUDGED_KEY,
                                        "Judge scores from the new judge or prompt; without a file the selection's "
                                        "judge rows are checked.")
    with right:
        anchors, anchors_digest = _upload("Anchor rows scored by the old judge (optional)", drift.ANCHORS_KEY,
                                          "The file `judgecal anchors` wrote; the new judged rows must hold the "
                                          "same items re-scored.")
    if judged is None:
        judged = ctx.view[ctx.view["rater_kind"] == "judge"]
        st.caption("Checking the selection's judge rows against the calibrator's fitting data.")
    tables = session.compute(ctx, drift.drift_tables, frame=judged,
                             tag=("drift", ctx.calibrator_label, judged_digest, anchors_digest),
                             extra={"calibrator": cal, "anchors": anchors})
    if tables["fingerprint"]:
        st.warning("The judge differs from the calibrator's:\n\n" + "\n".join(f"- {md(n)}" for n in tables["fingerprint"]))
    else:
        st.success("Judge fingerprint: the same model, prompt hashes and log-probability availability as the "
                   "calibrator's.")
    for note in tables["notes"]:
        st.caption(md(note))
    st.subheader("Per language")
    st.caption("Flags: two-sample G-test of the level counts against the fitting data (permutation test for small "
               "counts) and, on anchor items, the exact sign test of the judge's change; Holm-adjusted at 0.05 "
               "across (metric, language).")
    st.dataframe(tables["verdict"], hide_index=True)
    shares = tables["shares"]
    if len(shares):
        metric = st.selectbox("Metric", sorted(shares["metric"].unique()),
                              key=session.persist("drift_metric", sorted(shares["metric"].unique())[0]))
        chart = alt.Chart(shares[shares["metric"] == metric]).mark_bar().encode(
            x=alt.X("level:N"), y=alt.Y("share:Q", title="share of scores"), color="sample:N", xOffset="sample:N",
            column=alt.Column("language:N"), tooltip=["language", "level", "sample", alt.Tooltip("share:Q", format=".2f")],
        ).properties(width=90, height=180)
        st.altair_chart(chart)
    st.subheader("Score distribution against the fitting data")
    st.dataframe(tables["distribution"], hide_index=True)
    if tables["anchors"] is not None:
        st.subheader("Judge change on identical anchor items (new - old)")
        st.dataframe(tables["anchors"], hide_index=True)


session.show_page("Judge drift", lambda ctx: session.guarded("the drift check", body, ctx),
                  caption="Has the judge moved away from what the calibrator was fitted on, per language?",
                  needs_humans=False)
