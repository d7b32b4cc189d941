"""Annotation planner: how many native-speaker labels each language needs, and the next batch to send."""

import altair as alt
import streamlit as st

from judgecal.dashboard import results, session
from judgecal.errors import ConfigError


def needs_section(ctx: session.Context) -> None:
    st.subheader("Labels needed per language")
    target = st.number_input("Target interval width (on the metric's scale)", min_value=0.01, max_value=2.0,
                             step=0.05, key=session.persist("planner_target_width", 0.2))
    needed = session.compute(ctx, results.labels_needed, target_width=float(target), confidence=ctx.confidence)
    if needed.empty:
        st.info("No language has judge-scored items in this selection.")
        return
    st.caption(f"Labels so that every system's {100 * ctx.confidence:g}% interval is at most {target:g} wide, "
               "with the judge's help (PPI++) and without it (humans only).")
    long = needed.melt(id_vars=["language", "metric"], value_vars=["more_ppi", "more_human"],
                       var_name="with", value_name="more labels")
    long["with"] = long["with"].map({"more_ppi": "PPI++ (with the judge)", "more_human": "humans only"})
    chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("more labels:Q"), y=alt.Y("language:N"), color="with:N", yOffset="with:N",
        column=alt.Column("metric:N"), tooltip=["language", "metric", "with", "more labels"],
    ).properties(width=230, height=max(150, 30 * long["language"].nunique()))
    st.altair_chart(chart)
    st.dataframe(needed, hide_index=True)


def curves_section(ctx: session.Context) -> None:
    st.subheader("Interval width against labelled items")
    curves = session.compute(ctx, results.learning_curves, confidence=ctx.confidence)
    if curves.empty:
        st.info("Too few labelled items per language for learning curves.")
        return
    long = curves.melt(id_vars=["language", "metric", "n"], value_vars=["width_ppi", "width_human"],
                       var_name="estimate", value_name="interval width")
    long["estimate"] = long["estimate"].map({"width_ppi": "PPI++", "width_human": "humans only"})
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("n:Q", title="labelled items"), y="interval width:Q", color="language:N",
        strokeDash="estimate:N", column=alt.Column("metric:N"), tooltip=list(long.columns),
    ).properties(width=260, height=220)
    st.altair_chart(chart)


def batch_section(ctx: session.Context) -> None:
    st.subheader("Next batch for annotators")
    metrics = sorted(ctx.view["metric"].unique())
    left, right = st.columns(2)
    size = left.number_input("Items in the batch", min_value=1, max_value=100_000, step=10,
                             key=session.persist("planner_batch_size", 100))
    metric = right.selectbox("Metric that decides which items are unlabelled", metrics,
                             key=session.persist("planner_metric", metrics[0], metrics))
    try:
        batch = session.compute(ctx, results.next_batch, size=int(size), metric=metric)
    except ConfigError as exc:  # e.g. every judged item already has human ratings: nothing to plan
        st.info(session.as_markdown(str(exc)))
        return
    st.caption(f"{len(batch)} item(s), spread over languages, systems and judge levels; "
               "the judge's least certain items first.")
    st.dataframe(batch, hide_index=True)
    blind = st.checkbox("Blind the sheet (opaque item ids; item ids often name the system)",
                        key=session.persist("planner_blind", True))
    sheet = results.batch_export(batch, ctx.view, blind=blind)
    # blinded: a ZIP of the sheet and its key, made together so that they match
    kind, mime = ("ZIP: sheet and key", "application/zip") if blind else ("CSV", "text/csv")
    st.download_button(f"Download the annotation sheet ({kind})", sheet,
                       file_name=f"next_batch_{metric}.{'zip' if blind else 'csv'}", mime=mime, key="planner_download")
    st.caption("The sheet is the annotation kit's layout (annotations/): one row per item and annotator, a score "
               "and a reasoning column per metric. `judgecal.analysis.annotation_kit.read_annotation_sheet` "
               "reads the filled sheet back as human ratings.")


def body(ctx: session.Context) -> None:
    session.guarded("labels needed", needs_section, ctx)
    session.guarded("the interval-width curves", curves_section, ctx)
    session.guarded("the next batch", batch_section, ctx)


session.show_page("Annotation planner", body,
                  caption="Where more native-speaker labels buy the most certainty.")
