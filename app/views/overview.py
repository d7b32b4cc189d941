"""Overview: languages x metrics, agreement and bias with intervals, worst first."""

import altair as alt
import streamlit as st

from judgecal.dashboard import results, session, shaping

STATISTICS = {
    "alpha": "Krippendorff's alpha",
    "kappa": "Cohen's kappa (weighted)",
    "spearman": "Spearman",
    "kendall": "Kendall's tau-b",
    "percent_agreement": "Percentage agreement",
    "weighted_f1": "Weighted F1",
}


def body(ctx: session.Context) -> None:
    view = ctx.view
    judges = view.loc[view["rater_kind"] == "judge", "rater"].nunique()
    cols = st.columns(5)
    cols[0].metric("Ratings", f"{len(view):,}")
    cols[1].metric("Items", f"{view['item_id'].nunique():,}")
    cols[2].metric("Languages", view["language"].nunique())
    cols[3].metric("Metrics", view["metric"].nunique())
    cols[4].metric("Judges", judges)

    statistic = st.selectbox("Agreement statistic (judge vs the humans' consensus)", list(STATISTICS),
                             format_func=STATISTICS.get, key=session.persist("overview_statistic", "alpha"))
    agreement = session.compute(ctx, results.agreement, confidence=ctx.confidence, n_resamples=ctx.n_resamples)
    bias = session.compute(ctx, results.bias, confidence=ctx.confidence, n_resamples=ctx.n_resamples)
    matrix = shaping.overview_matrix(agreement, bias, statistic=statistic)
    if matrix.empty:
        st.warning("No group has both judge and human ratings of the same items in this selection.")
        return

    level = f"{100 * ctx.confidence:g}%"
    st.subheader("Where the judge can be trusted, worst first")
    st.caption(f"{STATISTICS[statistic]} between the judge and the native speakers' consensus, and bias "
               f"(judge minus the humans' mean, on the metric's scale), with {level} bootstrap intervals over "
               "items. Rows are sorted by their lowest agreement over metrics.")
    order = matrix.drop_duplicates(["language", "script", "judge"])
    y_order = [f"{r.language} ({r.script})" for r in order.itertuples()]
    chart_data = matrix.assign(group=[f"{r.language} ({r.script})" for r in matrix.itertuples()])
    base = alt.Chart(chart_data).encode(
        x=alt.X("metric:N", title="metric", axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("group:N", sort=y_order, title="language (script)"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("agreement:Q", title=statistic, scale=alt.Scale(scheme="redyellowgreen", domain=[-0.2, 1])),
        tooltip=["language", "script", "metric", "judge", "agreement_ci", "bias_ci", "n"],
    )
    text = base.mark_text(fontSize=11).encode(
        text="agreement_ci:N",
        # white text on the dark ends of the colour scale, black in the middle
        color=alt.condition((alt.datum.agreement < 0.05) | (alt.datum.agreement > 0.85),
                            alt.value("white"), alt.value("black")),
    )
    st.altair_chart((heat + text).properties(height=max(160, 28 * len(y_order))), width="stretch")

    st.subheader("Agreement and bias per language and metric")
    if statistic == "alpha":
        st.caption("'human ceiling': Krippendorff's alpha among the native speakers themselves; a judge rarely "
                   "agrees with them more than they agree with each other.")
    wide = shaping.overview_wide(matrix)
    st.dataframe(shaping.styled_overview(wide), hide_index=True)


session.show_page("Overview", body, caption="How far the judge agrees with native speakers, per language and metric.")
