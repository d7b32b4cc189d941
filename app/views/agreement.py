"""Agreement: human-human (the ceiling) vs judge-human per language, with intervals."""

import altair as alt
import streamlit as st

from judgecal.dashboard import results, session, shaping

STATISTICS = ("alpha", "kappa", "spearman", "kendall", "percent_agreement", "weighted_f1")
COMPARISONS = {
    "human-human": "humans with each other (ceiling)",
    "judge+humans": "judge as one more rater",
    "judge-consensus": "judge vs the humans' consensus",
}


def body(ctx: session.Context) -> None:
    statistic = st.selectbox("Statistic", STATISTICS, key=session.persist("agreement_statistic", "alpha"))
    agreement = session.compute(ctx, results.agreement, confidence=ctx.confidence, n_resamples=ctx.n_resamples)
    if statistic != "alpha":
        st.caption(f"{statistic} compares the judge with the humans' consensus; the human ceiling is "
                   "Krippendorff's alpha among the humans.")
    rows = shaping.agreement_rows(agreement, statistic)
    rows = rows.assign(comparison_text=rows["comparison"].map(COMPARISONS))
    for metric in sorted(rows["metric"].unique()):
        m = rows[rows["metric"] == metric]
        st.subheader(f"Metric {metric}")
        points = alt.Chart(m).mark_point(filled=True, size=60).encode(
            x=alt.X("estimate:Q", title=statistic),
            y=alt.Y("language:N", title="language"),
            color=alt.Color("comparison_text:N", title="comparison",
                            legend=alt.Legend(orient="bottom", labelLimit=400)),
            yOffset="comparison_text:N",
            tooltip=["language", "script", "comparison", "statistic", "estimate", "ci_low", "ci_high", "n",
                     "human_levels", "judge_levels"],
        )
        rules = alt.Chart(m).mark_rule().encode(x="ci_low:Q", x2="ci_high:Q", y="language:N",
                                                yOffset="comparison_text:N", color="comparison_text:N")
        st.altair_chart((rules + points).properties(height=max(160, 36 * m["language"].nunique())),
                        width="stretch")
        st.dataframe(shaping.agreement_by_language(m), hide_index=True)
    st.caption("Level shares next to the statistics: kappa is hard to read when one level dominates.")


session.show_page("Agreement", body,
                  caption="Native speakers among themselves set the ceiling; how close does the judge come?")
