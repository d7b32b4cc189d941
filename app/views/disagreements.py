"""Disagreements: the items where the judge and the native speakers differ most, with the texts,
the judge's justification and the raters' own reasoning."""

import streamlit as st

from judgecal.dashboard import results, session, shaping
from judgecal.sanitize import markdown_text as md

SHOW_DETAILS = 15


def body(ctx: session.Context) -> None:
    view = ctx.view
    metrics = sorted(view["metric"].unique())
    judges = sorted(view.loc[view["rater_kind"] == "judge", "rater"].astype(str).unique())
    c1, c2, c3 = st.columns(3)
    metric = c1.selectbox("Metric", metrics, key=session.persist(
        "disagree_metric", "la" if "la" in metrics else metrics[0], metrics))
    judge = judges[0]  # one judge per page (the choice above the page when the selection has several)
    c2.metric("Judge", judge)
    direction = c3.radio("Direction", ["both", "judge higher", "judge lower"], horizontal=True,
                         key=session.persist("disagree_direction", "both"))
    c4, c5 = st.columns(2)
    agree_only = c4.checkbox("Only items where the humans agreed among themselves",
                             key=session.persist("disagree_agree_only", False))
    search = c5.text_input("Search the texts (prompt, response, justifications)",
                           key=session.persist("disagree_search", ""))

    items = session.compute(ctx, results.disagreements, metric=metric, judge=judge)
    hits = shaping.items_matching(view[view["metric"] == metric], search) if search.strip() else None
    items = shaping.select_disagreements(items, direction=direction, agree_only=agree_only, item_ids=hits)
    if items.empty:
        st.warning("No item matches these choices. Change the direction, the search or the sidebar filters.")
        return

    shown = items.assign(human_levels=shaping.levels_text(items, results.metric_levels(metric)))
    cols = [c for c in ("language", "system", "judge_score", "human_mean", "gap", "human_levels",
                        "humans_agree", "n_humans", "item_id") if c in shown.columns]
    st.subheader(f"{len(items):,} item(s), largest disagreement first")
    st.dataframe(shown[cols], hide_index=True)

    st.subheader(f"The {min(SHOW_DETAILS, len(items))} largest, with the texts")
    top = items.head(SHOW_DETAILS)
    texts = shaping.texts_of_items(view, top["item_id"].tolist(), metric)
    for row in top.itertuples(index=False):
        t = texts.get(str(row.item_id), {})
        # Labels and Markdown carry the data's names and reasoning: escaped, so they show as written.
        label = (f"{md(row.language)} | {md(getattr(row, 'system', ''))} | judge {row.judge_score:g} vs humans "
                 f"{row.human_mean:.2f} (gap {row.gap:+.2f})")
        with st.expander(label):
            st.markdown("**Prompt**")
            st.text(t.get("prompt") or "(no prompt text)")
            st.markdown("**Response**")
            st.text(t.get("response") or "(no response text)")
            for rater, score, why in t.get("judges", []):
                if rater == judge:
                    st.markdown(f"**Judge {md(rater)}: {score:g}**")
                    st.text(why or "(no justification recorded)")
            st.markdown("**Native speakers**")
            for rater, score, why in t.get("humans", []):
                st.markdown(f"- rater {md(rater)}: **{score:g}** - {md(why) if why else '(no reasoning recorded)'}")


session.show_page("Disagreements", body,
                  caption="Read the items behind the numbers: where does the judge part ways with native speakers?")
