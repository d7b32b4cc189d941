"""Battles: pairwise agreement, biases and leaderboards per language, raw and calibrated, side by side."""

import altair as alt
import streamlit as st

from judgecal.dashboard import battles, session
from judgecal.dashboard import session_battles as source
from judgecal.sanitize import markdown_text


def leaderboard_chart(points):
    """Strengths with interval bars per system, one colour per leaderboard, systems by the natives' order."""
    order = points.sort_values("order")["system"].drop_duplicates().tolist()
    y = alt.Y("system:N", sort=order, title=None)
    names = list(dict.fromkeys(points["leaderboard"]))
    color = alt.Color("leaderboard:N", title="leaderboard", sort=names,
                      scale=alt.Scale(domain=names, range=battles.LEADERBOARD_COLORS[: len(names)]))
    base = alt.Chart(points)
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", title="log-strength (centred)"), x2="ci_high:Q",
                                                y=y, yOffset=alt.YOffset("leaderboard:N", sort=names), color=color)
    dots = base.mark_point(filled=True, size=45).encode(
        x="strength:Q", y=y, yOffset=alt.YOffset("leaderboard:N", sort=names), color=color,
        tooltip=["system", "leaderboard", "strength", "ci_low", "ci_high", "rank", "rank_best", "rank_worst"])
    zero = alt.Chart().mark_rule(strokeDash=[4, 4], color="grey").encode(x=alt.datum(0))
    return alt.layer(bars, dots, zero).properties(height=max(240, 44 * len(order)))


def body() -> None:
    table, data_key, label, error = source.battles_source()
    if error:
        st.error(f"The battles could not be loaded from {markdown_text(label)}:\n\n{markdown_text(error)}")
        return
    if table is None:
        st.info("No battles loaded. Start `judgecal dashboard --battles FILE` with a battles table "
                "(docs/pairwise.md) or a PARIKSHA folder.")
        return
    cal, cal_key, cal_label, cal_error = source.battle_calibrator()
    if cal_error:
        st.error(f"The pairwise calibrator could not be loaded from {markdown_text(cal_label)}:\n\n"
                 f"{markdown_text(cal_error)}")
        return
    left, mid, right = st.columns(3)
    family = left.text_input("Judge's own family (regular expression, for self-preference)",
                             value=battles.judge_family_guess(table), key="battles_family")
    confidence = mid.select_slider("Interval level", options=[0.8, 0.9, 0.95], value=0.9, key="battles_confidence")
    resamples = right.select_slider("Bootstrap resamples (by prompt)", options=[100, 200, 500, 1000], value=200,
                                    key="battles_resamples")
    st.caption("The sidebar's filters apply to the ratings pages; this page shows every battle loaded.")
    report = source.report(data_key, cal_key, family, float(confidence), int(resamples), table, cal)
    m = report.meta
    st.caption(f"{markdown_text(label)}: {m['n_pairs']:,} pairs ({m['n_pairs_with_systems']:,} name both systems), "
               f"{m['n_native_votes']:,} native votes, {m['n_judge_verdicts']:,} verdicts of "
               f"{markdown_text(str(m['judge']))}. Calibration: {markdown_text(m['calibration'])}"
               + (f" ({markdown_text(cal_label)})." if cal is not None else "."))

    st.subheader("Per language: raw and calibrated judge against native speakers")
    st.caption("Agreement with the natives' majority (3-way, and where both are decisive); tie and first-preferred "
               "rates (calibrated: the predicted native rates); self-preference on pairs with one system of the "
               "judge's family; log-loss of a native vote; Kendall tau of each leaderboard to the natives'.")
    st.dataframe(battles.summary_table(report), hide_index=True)

    if report.leaderboards.empty:
        st.info("No leaderboards: no battle names both of its systems.")
        return
    languages = sorted(report.leaderboards["language"].unique())
    language = st.selectbox("Language", languages, key=session.persist("battles_language", languages[0], languages))
    st.subheader(f"Leaderboards, {language}")
    st.caption(f"Davidson Bradley-Terry strengths with {100 * confidence:g}% intervals clustered by prompt (a "
               "bootstrap over prompts; for the anchored leaderboard, a PPI++ covariance clustered by prompt): native "
               "votes, raw judge, calibrated judge, and PPI++ anchored on the native votes.")
    st.altair_chart(leaderboard_chart(battles.leaderboard_points(report, language)), width="stretch")
    st.dataframe(battles.leaderboards_side_by_side(report, language), hide_index=True)
    st.subheader("Kendall tau between leaderboards")
    st.dataframe(battles.taus_table(report, language), hide_index=True)


st.title("Battles")
st.caption("Pairwise judgments: does the judge pick the same response as native speakers, and do its "
           "leaderboards match theirs?")
session.guarded("Battles", lambda _ctx: body(), session.context())
