"""Calibration: what the calibrator learned per group, and what calibration changed.

Sections: the loaded calibrator (method, back-off, cross-validated quality per
group), its fitted curves per group with the back-off level serving each,
before/after tables from out-of-fold calibrated scores, reliability diagrams,
and learning curves.
"""

import altair as alt
import streamlit as st

from judgecal.dashboard import results, session, shaping
from judgecal.sanitize import markdown_text as md


def calibrator_section(ctx: session.Context) -> None:
    cal = ctx.calibrator
    st.subheader("The calibrator")
    if cal is None:
        if ctx.calibrator_error:
            st.error(f"The calibrator {md(ctx.calibrator_label)} could not be loaded:\n\n"
                     f"{session.as_markdown(ctx.calibrator_error)}")
        else:
            st.info("No calibrator loaded: start `judgecal dashboard RATINGS --calibrator calibrator.json` or "
                    "upload one on the Data page. The out-of-fold sections below work without one.")
        return
    fitted_for = getattr(cal, "judge_", None)
    st.caption(f"{md(ctx.calibrator_label)}: fitted for judge {md(fitted_for or '?')}")
    shown = set(ctx.view.loc[ctx.view["rater_kind"] == "judge", "rater"].astype(str))
    if fitted_for is not None and fitted_for not in shown:
        st.warning(f"This calibrator was fitted for judge {md(fitted_for)}, but the selection shows "
                   f"{md(', '.join(sorted(shown)))}: a calibrator does not transfer between judges.")
    info = getattr(cal, "metric_info_", {})
    for metric, meta in sorted(info.items()):
        shrink = meta.get("shrinkage", {})
        st.markdown(f"**{md(metric)}**: {md(meta.get('method', '?'))} - {md(meta.get('selection', ''))}  \n"
                    f"shrinkage pseudo-counts: script toward metric {shrink.get('script')}, "
                    f"language toward script {shrink.get('language')}")
    quality = getattr(cal, "cv_quality_", None)
    if quality is not None and len(quality):
        st.markdown("Cross-validated quality stored in the calibrator (raw judge vs calibrated, held-out items). "
                    "`loss` names the loss each metric is judged by: MAE, or the Brier score for two-level "
                    "metrics, whose calibrated value is a probability (`raw_brier`, `brier`).")
        st.dataframe(shaping.columns_first(quality, ["language", "script", "metric", "method", "n_items", "loss",
                                                     "raw_bias", "bias", "raw_brier", "brier", "raw_mae", "mae"]),
                     hide_index=True)

    st.subheader("Fitted curves per group")
    scales = getattr(cal, "scales_", {})
    judge = getattr(cal, "judge_", None)
    view_metrics = set(ctx.view["metric"].unique())
    levels = {m: s.levels for m, s in scales.items() if m in view_metrics}
    if not levels or judge is None:
        st.info("The calibrator covers none of the selected metrics.")
        return
    grid = shaping.score_grid(ctx.view, judge, levels)
    try:
        curves = session.compute(ctx, results.fitted_curves, frame=grid, tag=("curves", ctx.calibrator_label),
                                 extra={"calibrator": cal})
    except results.NotAvailable:
        raise
    except Exception as exc:  # e.g. a calibrator whose features need texts the grid does not have
        st.info(f"not available: fitted curves for this calibrator ({type(exc).__name__}: {md(exc)})")
        return
    for metric in sorted(levels):
        c = curves[curves["metric"] == metric]
        line = alt.Chart(c).mark_line(point=True).encode(
            x=alt.X("score:Q", title="judge score"),
            y=alt.Y("score_calibrated:Q", title="calibrated (expected human score)"),
            color=alt.Color("language:N"),
            strokeDash=alt.StrokeDash("calibration_level:N", title="served at level"),
            tooltip=["language", "script", "calibration_level", "calibration_group", "calibration_weight",
                     "score", "score_calibrated"],
        )
        st.markdown(f"**{metric}**")
        st.altair_chart(line.properties(height=260), width="stretch")
    st.markdown("Back-off level serving each group (language: its own calibrator, shrunk toward its script; "
                "script or metric: too few items of its own):")
    st.dataframe(shaping.served_levels(curves), hide_index=True)


def before_after_section(ctx: session.Context) -> None:
    st.subheader("Before and after calibration (out of fold)")
    st.caption("Every judge score is calibrated by a calibrator fitted without its prompt's items "
               "(5 folds grouped by prompt), so 'after' is what new items would get.")
    method = getattr(ctx.calibrator, "method", "auto") if ctx.calibrator is not None else "auto"
    run = st.toggle("Compute (refits the calibrator on 5 folds; may take a while on large data)",
                    key=session.persist("calibration_run_oof", True))
    if not run:
        return
    oof = session.compute(ctx, results.out_of_fold, method=method)
    bias = session.compute(ctx, results.bias_before_after, tag=("ba-bias", method), extra={"calibrated": oof},
                           confidence=ctx.confidence, n_resamples=ctx.n_resamples)
    bias = bias[bias["subset"] == "all"]
    wide = shaping.interval_pivot(bias, ["language", "script", "metric"], "stage", signed=True)
    st.markdown("**Bias (judge - humans' mean)**")
    st.dataframe(shaping.columns_first(wide.rename(columns={"raw": "raw judge"}),
                                       ["language", "script", "metric", "raw judge", "calibrated"]), hide_index=True)

    agreement = session.compute(ctx, results.agreement_before_after, tag=("ba-agreement", method),
                                extra={"calibrated": oof}, confidence=ctx.confidence,
                                n_resamples=ctx.n_resamples)
    a = agreement[(agreement["comparison"] == "judge-consensus") & (agreement["statistic"] == "alpha")]
    wide = shaping.interval_pivot(a, ["language", "script", "metric"], "stage")
    st.markdown("**Krippendorff's alpha, judge vs the humans' consensus**")
    st.dataframe(shaping.columns_first(wide.rename(columns={"raw": "raw judge"}),
                                       ["language", "script", "metric", "raw judge", "calibrated"]), hide_index=True)

    st.subheader("Reliability diagrams")
    st.caption("Mean human score against the judge's score, per bin of judge scores, raw and calibrated "
               f"(out of fold), with {100 * ctx.confidence:g}% intervals. A calibrated judge sits on the diagonal.")
    rel = session.compute(ctx, results.reliability, frame=oof, tag=("reliability", method), confidence=ctx.confidence)
    for metric in sorted(rel["metric"].unique()):
        r = rel[rel["metric"] == metric]
        levels = results.metric_levels(metric)
        scale = alt.Scale(domain=[min(levels), max(levels)])  # intervals of tiny bins reach past the scale
        points = alt.Chart(r).mark_line(point=True, clip=True).encode(
            x=alt.X("predicted:Q", title="judge score (bin mean)", scale=scale),
            y=alt.Y("observed:Q", title="humans' mean score", scale=scale),
            color="language:N",
            tooltip=["language", "stage", "bin_label", "predicted", "observed", "ci_low", "ci_high", "n"],
        )
        bars = alt.Chart(r).mark_rule(opacity=0.4, clip=True).encode(x="predicted:Q", y="ci_low:Q", y2="ci_high:Q",
                                                                     color="language:N")
        diagonal = alt.Chart(r).mark_line(color="grey", strokeDash=[3, 3]).encode(x="predicted:Q", y="predicted:Q")
        chart = alt.layer(diagonal, bars, points, data=r).properties(width=330, height=260).facet(
            column=alt.Column("stage:N", sort=["raw", "calibrated"], title=None))
        st.markdown(f"**{metric}**")
        st.altair_chart(chart)
    with st.expander("Reliability points"):
        st.dataframe(rel, hide_index=True)


def learning_section(ctx: session.Context) -> None:
    st.subheader("Learning curves")
    st.caption("Held-out calibration error of a per-language calibrator fitted on n labelled items "
               "(drawn from the current labels, repeated), by language.")
    curves = session.compute(ctx, results.learning_curves, confidence=ctx.confidence)
    if curves.empty:
        st.info("Too few labelled items per language for learning curves.")
        return
    chart = alt.Chart(curves).mark_line(point=True).encode(
        x=alt.X("n:Q", title="labelled items"),
        y=alt.Y("calibration_error:Q", title="calibration error"),
        color="language:N", column=alt.Column("metric:N"),
        tooltip=list(curves.columns),
    ).properties(width=260, height=220)
    st.altair_chart(chart)
    with st.expander("The numbers"):
        st.dataframe(curves, hide_index=True)


def body(ctx: session.Context) -> None:
    session.guarded("the calibrator section", calibrator_section, ctx)
    session.guarded("the before/after section", before_after_section, ctx)
    session.guarded("the learning curves", learning_section, ctx)


session.show_page("Calibration", body, caption="What calibration learned per language and script, and what it changed.")
