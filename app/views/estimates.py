"""System estimates: each system's mean native-speaker score per language (PPI++), with human-only
and raw-judge estimates side by side, and rankings with their uncertainty."""

import altair as alt
import streamlit as st

from judgecal.dashboard import results, session, shaping

ESTIMATORS = {"ppi": "PPI++ (humans + judge)", "human": "humans only", "judge": "raw judge"}


def body(ctx: session.Context) -> None:
    if "system" not in ctx.view.columns or ctx.view["system"].isna().all():
        st.warning("The ratings have no 'system' column (the evaluated model of each item): "
                   "system estimates need it.")
        return
    estimates = session.compute(ctx, results.system_estimates, confidence=ctx.confidence)
    if estimates.empty:
        st.warning("No system has judge-scored items in this selection.")
        return
    languages = sorted(estimates["language"].unique())
    metrics = sorted(estimates["metric"].unique())
    left, right = st.columns(2)
    language = left.selectbox("Language", languages, key=session.persist("estimates_language", languages[0], languages))
    metric = right.selectbox("Metric", metrics, key=session.persist("estimates_metric", "la" if "la" in metrics else metrics[0], metrics))
    est = estimates[(estimates["language"] == language) & (estimates["metric"] == metric)]
    est = est.assign(estimator_text=est["estimator"].map(ESTIMATORS))

    ppi = est[est["estimator"] == "ppi"]
    gain = ppi["ess_gain"].dropna()
    cols = st.columns(3)
    cols[0].metric("Systems", est["system"].nunique())
    cols[1].metric("Labelled items", int(ppi["n"].sum()))
    cols[2].metric("Effective sample size gain (PPI++)", f"{gain.iloc[0]:.2f}x" if len(gain) else "n/a")

    level = f"{100 * ctx.confidence:g}%"
    st.subheader(f"Mean human score per system ({metric}, {language}), {level} intervals")
    sort = shaping.system_order(est)
    points = alt.Chart(est).mark_point(filled=True, size=60).encode(
        x=alt.X("estimate:Q", title=f"mean {metric} score"),
        y=alt.Y("system:N", sort=sort, title=None, axis=alt.Axis(labelLimit=360)),
        yOffset="estimator_text:N",
        color=alt.Color("estimator_text:N", title="estimate"),
        tooltip=["system", "estimator", "estimate", "ci_low", "ci_high", "n", "N"],
    )
    rules = alt.Chart(est).mark_rule().encode(x="ci_low:Q", x2="ci_high:Q", y=alt.Y("system:N", sort=sort),
                                              yOffset="estimator_text:N", color="estimator_text:N")
    st.altair_chart((rules + points).properties(height=max(200, 45 * len(sort))), width="stretch")
    st.caption("The raw judge's interval covers item sampling only, not the judge's bias.")

    st.dataframe(shaping.systems_side_by_side(est, sort, ESTIMATORS), hide_index=True)

    st.subheader("Ranking")
    estimator = st.radio("Rank by", list(ESTIMATORS), format_func=ESTIMATORS.get, horizontal=True,
                         key=session.persist("estimates_rank_by", "ppi"))
    ranks = session.compute(ctx, results.system_rankings, frame=est, tag=("estimates", language, metric),
                            estimator=estimator, confidence=ctx.confidence)
    st.dataframe(ranks[["system", "estimate", "rank", "rank_low", "rank_high", "p_best"]].rename(
        columns={"rank_low": f"rank ({level} low)", "rank_high": f"rank ({level} high)",
                 "p_best": "chance of ranking first"}), hide_index=True)


session.show_page("System estimates", body,
                  caption="Each evaluated system's native-speaker score from a few human labels plus many "
                          "judge scores (prediction-powered inference).")
