"""Bias: judge vs human level distributions per language and script, and inflation by script."""

import altair as alt
import streamlit as st

from judgecal.dashboard import results, session, shaping


def level_chart(shares, group: str):
    """Stacked bars: share of each level, humans and judge side by side, one row per group."""
    return alt.Chart(shares).mark_bar().encode(
        x=alt.X("share:Q", stack="normalize", title="share of ratings", axis=alt.Axis(format="%")),
        y=alt.Y("source:N", title=None),
        row=alt.Row(f"{group}:N", title=group, header=alt.Header(labelAngle=0, labelAlign="left")),
        color=alt.Color("level_text:N", title="level", scale=alt.Scale(scheme="blues")),
        order=alt.Order("level:Q"),
        tooltip=[group, "metric", "source", "level_text", alt.Tooltip("share:Q", format=".1%"), "count", "n"],
    ).properties(height=38)


def body(ctx: session.Context) -> None:
    metrics = sorted(ctx.view["metric"].unique())
    default = "la" if "la" in metrics else metrics[0]
    metric = st.radio("Metric", metrics, horizontal=True, key=session.persist("bias_metric", default, metrics))
    st.caption(f"{len(metrics)} metric(s) in the selection; showing {metric}.")

    levels = session.compute(ctx, results.level_distribution, by=("language", "script", "metric"))
    levels_m = levels[levels["metric"] == metric]
    by_lang, by_script = st.columns(2)
    with by_lang:
        st.subheader("Levels given, per language")
        st.altair_chart(level_chart(shaping.level_shares(levels_m, "language"), "language"))
    script_levels = session.compute(ctx, results.level_distribution, by=("script", "metric"))
    with by_script:
        st.subheader("Levels given, per script")
        st.altair_chart(level_chart(shaping.level_shares(script_levels[script_levels["metric"] == metric], "script"),
                                    "script"))

    st.subheader("Share of the top level: judge vs humans")
    st.dataframe(shaping.top_level_gap(levels_m, "language"), hide_index=True)

    st.subheader("Inflation by script")
    st.caption(f"Judge minus the humans' mean on the {metric} scale, with {100 * ctx.confidence:g}% intervals; "
               "also split by whether the humans agreed among themselves.")
    script_bias = session.compute(ctx, results.bias, by=("script", "metric"), confidence=ctx.confidence,
                                  n_resamples=ctx.n_resamples)
    sb = script_bias[script_bias["metric"] == metric]
    points = alt.Chart(sb).mark_point(filled=True, size=70).encode(
        x=alt.X("estimate:Q", title="bias (judge - humans)"),
        y=alt.Y("script:N", title="script"),
        color=alt.Color("subset:N", title="items"),
        tooltip=["script", "subset", "estimate", "ci_low", "ci_high", "n"],
    )
    bars = alt.Chart(sb).mark_rule().encode(x="ci_low:Q", x2="ci_high:Q", y="script:N", color="subset:N")
    zero = alt.Chart().mark_rule(strokeDash=[4, 4], color="grey").encode(x=alt.datum(0))
    st.altair_chart(alt.layer(bars, points, zero, data=sb).properties(height=max(150, 30 * sb["script"].nunique())),
                    width="stretch")
    table = sb.assign(bias=shaping.interval_text(sb, signed=True))
    st.dataframe(table[["script", "metric", "judge", "subset", "bias", "n", "judge_mean", "human_mean"]],
                 hide_index=True)

    st.subheader("Bias per language")
    lang_bias = session.compute(ctx, results.bias, confidence=ctx.confidence, n_resamples=ctx.n_resamples)
    lb = lang_bias[(lang_bias["metric"] == metric) & (lang_bias["subset"] == "all")]
    lb = lb.assign(bias=shaping.interval_text(lb, signed=True))
    lb = lb.reindex(lb["estimate"].abs().sort_values(ascending=False).index)
    st.dataframe(lb[["language", "script", "metric", "judge", "bias", "n", "judge_mean", "human_mean"]],
                 hide_index=True)


session.show_page("Bias", body, caption="Does the judge give the top grade more often than native speakers do?")
