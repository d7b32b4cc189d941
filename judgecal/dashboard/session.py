"""The Streamlit side of the dashboard: caches, session state, sidebar, error guards.

The router (``app/main.py``) calls :func:`prepare` on every run: it loads the
ratings (from the command line's file or an upload, cached), draws the
sidebar filters and stores a :class:`Context` for the page. Pages call
:func:`show_page` with a function that lays the page out; it catches every
error and shows a readable message instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd
import streamlit as st

from judgecal.dashboard import results
from judgecal.dashboard.filters import FILTERS, Filters, apply_filters, filter_options, keep_known
from judgecal.dashboard.launch import ENV_CALIBRATOR, ENV_RATINGS, ENV_REPAIR
from judgecal.dashboard.sources import (
    SourceError,
    analysis_columns,
    compact,
    content_digest,
    read_calibrator_source,
    read_ratings_source,
    read_uploaded_calibrator,
    read_uploaded_ratings,
    source_ref,
)
from judgecal.errors import JudgecalError
from judgecal.sanitize import markdown_text

log = logging.getLogger("judgecal.dashboard")

CTX_KEY = "judgecal_context"
UPLOAD_RATINGS_KEY = "judgecal_uploaded_ratings"      # (name, bytes)
UPLOAD_CALIBRATOR_KEY = "judgecal_uploaded_calibrator"  # (name, bytes)
FILTER_PREFIX = "judgecal_filter_"
CONFIDENCE_KEY = "judgecal_confidence"
RESAMPLES_KEY = "judgecal_resamples"


@dataclass
class Context:
    """What a page works with during one run of the app."""

    ratings: pd.DataFrame | None          # every loaded row (None: nothing loaded)
    view: pd.DataFrame | None             # the rows the filters allow
    filters: Filters = field(default_factory=Filters)
    data_key: tuple = ()                  # identity of the loaded data, for caches
    source_label: str = ""
    load_error: str | None = None
    calibrator: object | None = None
    calibrator_label: str = ""
    calibrator_error: str | None = None
    confidence: float = 0.95
    n_resamples: int = 500
    dropped_filters: dict = field(default_factory=dict)


# --- loading (cached) -------------------------------------------------------------

# The ratings table is shared, not copied: st.cache_resource hands every run the
# same DataFrame, where st.cache_data would unpickle a fresh copy of up to a
# million rows on every rerun. Analyses get column selections or filtered
# frames (new objects; pandas' copy-on-write keeps their edits off the cache).
@st.cache_resource(max_entries=4, show_spinner="Reading the ratings...")
def _ratings_from_path(path: str, stamp: str, repair: bool) -> pd.DataFrame:
    return compact(read_ratings_source(path, repair=repair))


@st.cache_resource(max_entries=4, show_spinner="Reading the uploaded ratings...")
def _ratings_from_upload(name: str, digest: str, _data: bytes) -> pd.DataFrame:
    return compact(read_uploaded_ratings(name, _data))


@st.cache_resource(max_entries=4, show_spinner=False)
def _calibrator_from_path(path: str, stamp: str):
    return read_calibrator_source(path)


@st.cache_resource(max_entries=4, show_spinner=False)
def _calibrator_from_upload(name: str, digest: str, _data: bytes):
    return read_uploaded_calibrator(name, _data)


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_result(name: str, data_key: tuple, filter_key: tuple, tag, params: tuple, _fn: Callable,
                   _frame: pd.DataFrame, _extra: dict):
    return _fn(_frame, **dict(params), **_extra)


def compute(ctx: Context, fn: Callable[..., object], frame: pd.DataFrame | None = None, *, tag=None,
            extra: dict | None = None, texts: bool = False, **params):
    """``fn(view, **params, **extra)``, cached per function, data, filters, ``tag`` and ``params``.

    ``fn`` is one of :mod:`judgecal.dashboard.results`' functions. The filtered
    view goes in without its long text columns unless ``texts``.
    ``frame`` replaces the view (a page's own narrower or derived table) and
    ``extra`` passes objects that are not hashed (a calibrator, a derived
    table); both then need a ``tag`` saying what they are, because the cache
    keys on the tag, not on them.
    """
    if (frame is not None or extra) and tag is None:
        raise ValueError("compute(frame=..., extra=...) needs tag=... naming them (they are not hashed)")
    if frame is None:
        frame = ctx.view if texts else analysis_columns(ctx.view)
    name = f"{fn.__module__}.{fn.__qualname__}"  # the cache key: the function itself is not hashed
    with st.spinner(f"Computing {fn.__name__.replace('_', ' ')}..."):
        return _cached_result(name, ctx.data_key, ctx.filters.key(), (tag, texts), tuple(sorted(params.items())),
                              fn, frame, extra or {})


def _load_ratings() -> tuple[pd.DataFrame | None, tuple, str, str | None]:
    """(table, data key, label, error) from an upload, else the command line's path."""
    upload = st.session_state.get(UPLOAD_RATINGS_KEY)
    if upload is not None:
        name, data = upload
        digest = content_digest(data)
        try:
            return _ratings_from_upload(name, digest, data), ("upload", name, digest), f"uploaded file {name}", None
        except SourceError as exc:
            return None, (), f"uploaded file {name}", str(exc)
    path = os.environ.get(ENV_RATINGS)
    if not path:
        return None, (), "", None
    repair = os.environ.get(ENV_REPAIR, "0") == "1"
    try:
        ref = source_ref(path, repair=repair)
        table = _ratings_from_path(ref.path, ref.stamp, ref.repair)
        return table, ("path", ref.path, ref.stamp, ref.repair), path, None
    except SourceError as exc:
        return None, (), path, str(exc)


def _load_calibrator() -> tuple[object | None, str, str | None]:
    upload = st.session_state.get(UPLOAD_CALIBRATOR_KEY)
    try:
        if upload is not None:
            name, data = upload
            return _calibrator_from_upload(name, content_digest(data), data), f"uploaded file {name}", None
        path = os.environ.get(ENV_CALIBRATOR)
        if not path:
            return None, "", None
        ref = source_ref(path)
        return _calibrator_from_path(ref.path, ref.stamp), path, None
    except SourceError as exc:
        label = f"uploaded file {upload[0]}" if upload is not None else os.environ.get(ENV_CALIBRATOR, "")
        return None, label, str(exc)


# --- sidebar ----------------------------------------------------------------------

@st.cache_data(max_entries=8, show_spinner=False)
def _filter_options(data_key: tuple, _ratings: pd.DataFrame) -> dict[str, list[str]]:
    return filter_options(_ratings)  # distinct values of 6 columns: worth keeping for a 1M-row table


def _filter_widgets(ratings: pd.DataFrame, data_key: tuple) -> tuple[Filters, dict]:
    """Multiselects for every filter the data supports; their keys keep the choice across pages."""
    options = _filter_options(data_key, ratings)
    chosen = {name: tuple(st.session_state.get(FILTER_PREFIX + name) or ()) for name in FILTERS}
    cleaned, dropped = keep_known(Filters({k: v for k, v in chosen.items() if v}), options)
    for name in FILTERS:
        key = FILTER_PREFIX + name
        if name not in options:
            st.session_state.pop(key, None)
            continue
        # Re-assigning the value keeps it when another page is shown and removes
        # values the current data does not have (after loading another file).
        st.session_state[key] = list(cleaned.values(name))
        st.multiselect(FILTERS[name][1], options[name], key=key, placeholder=f"all {len(options[name])}")
    return cleaned, dropped


def _clear_filters() -> None:
    for name in FILTERS:
        st.session_state[FILTER_PREFIX + name] = []


def _sidebar(ratings: pd.DataFrame | None, data_key: tuple) -> tuple[Filters, dict, float, int]:
    with st.sidebar:
        st.subheader("Filters")
        if ratings is None:
            st.caption("Load ratings on the Data page to filter them.")
            filters, dropped = Filters(), {}
        else:
            filters, dropped = _filter_widgets(ratings, data_key)
            st.button("Clear filters", key="judgecal_clear_filters", disabled=not filters.active,
                      on_click=_clear_filters)
        st.subheader("Intervals")
        st.session_state.setdefault(CONFIDENCE_KEY, 0.95)
        st.session_state.setdefault(RESAMPLES_KEY, 500)
        st.session_state[CONFIDENCE_KEY] = st.session_state[CONFIDENCE_KEY]
        st.session_state[RESAMPLES_KEY] = st.session_state[RESAMPLES_KEY]
        confidence = st.select_slider("Confidence level", options=[0.8, 0.9, 0.95, 0.99], key=CONFIDENCE_KEY)
        resamples = st.select_slider("Bootstrap resamples", options=[200, 500, 1000, 2000], key=RESAMPLES_KEY)
    return filters, dropped, float(confidence), int(resamples)


def prepare() -> Context:
    """Load data, draw the sidebar and store this run's :class:`Context`.

    Never raises: an unexpected failure becomes the context's ``load_error``,
    which every page shows as a message.
    """
    try:
        ctx = _prepare()
    except Exception as exc:  # a bug: keep the traceback in the terminal, show a message
        log.error("dashboard: preparing the data failed:\n%s", traceback.format_exc())
        ctx = Context(ratings=None, view=None, source_label=os.environ.get(ENV_RATINGS, "the ratings"),
                      load_error=f"internal error while preparing the data ({type(exc).__name__}: {exc}); "
                                 "details are in the terminal running `judgecal dashboard`")
    st.session_state[CTX_KEY] = ctx
    return ctx


def _prepare() -> Context:
    ratings, data_key, label, error = _load_ratings()
    calibrator, cal_label, cal_error = _load_calibrator()
    filters, dropped, confidence, resamples = _sidebar(ratings, data_key)
    view = None if ratings is None else apply_filters(ratings, filters)
    return Context(ratings=ratings, view=view, filters=filters, data_key=data_key, source_label=label,
                   load_error=error, calibrator=calibrator, calibrator_label=cal_label, calibrator_error=cal_error,
                   confidence=confidence, n_resamples=resamples, dropped_filters=dropped)


def context() -> Context:
    ctx = st.session_state.get(CTX_KEY)
    if ctx is None:  # a page opened without the router (should not happen): load now
        ctx = prepare()
    return ctx


# --- page guard -------------------------------------------------------------------

def show_page(title: str | None, body: Callable[[Context], None], *, caption: str | None = None,
              needs_judge: bool = True, needs_humans: bool = True, one_judge: bool = True) -> None:
    """Lay out one page: title, checks that there is something to show, then ``body(ctx)``.

    Errors never reach the page as tracebacks: judgecal's own errors and
    :class:`~judgecal.dashboard.results.NotAvailable` are shown as messages;
    anything else as a short message naming the page (details go to the log).
    With ``one_judge`` and several judges in the selection, the page shows one
    judge at a time (a choice kept across pages) against the same humans.
    """
    if title:
        st.title(title)
    if caption:
        st.caption(caption)
    ctx = context()
    if ctx.load_error:
        st.error(f"The ratings could not be loaded from {markdown_text(ctx.source_label)}:\n\n{_as_markdown_list(ctx.load_error)}")
        st.info("Upload a ratings file on the Data page, or restart `judgecal dashboard` with another file.")
        return
    if ctx.ratings is None:
        st.info("No ratings loaded yet. Upload a ratings file on the Data page, or start "
                "`judgecal dashboard RATINGS`.")
        return
    if ctx.dropped_filters:
        gone = markdown_text("; ".join(f"{FILTERS[k][1].lower()}: {', '.join(v)}" for k, v in ctx.dropped_filters.items()))
        st.warning(f"Some filter values are not in the loaded data and were cleared ({gone}).")
    if ctx.view is None or ctx.view.empty:
        st.warning(f"No ratings match the filters ({markdown_text(ctx.filters.describe())}). "
                   "Widen the selection in the sidebar.")
        return
    missing = []
    if needs_judge and not results.has_judge(ctx.view):
        missing.append("judge")
    if needs_humans and not results.has_humans(ctx.view):
        missing.append("human")
    if missing:
        st.warning(f"The selection ({markdown_text(ctx.filters.describe())}) has no {' or '.join(missing)} ratings; "
                   "this page compares judge and human ratings.")
        return
    if one_judge:
        ctx = _one_judge(ctx)
    guarded(title or "this", body, ctx)


PAGE_JUDGE_KEY = "judgecal_page_judge"


def _one_judge(ctx: Context) -> Context:
    """The context narrowed to one judge (and every human row) when the selection has several."""
    judges = sorted(ctx.view.loc[ctx.view["rater_kind"] == "judge", "rater"].astype(str).unique())
    if len(judges) <= 1:
        return ctx
    preferred = getattr(ctx.calibrator, "judge_", None)
    default = preferred if preferred in judges else judges[0]
    judge = st.selectbox(f"Judge shown ({len(judges)} in the selection; the Judge filter narrows them)", judges,
                         key=persist(PAGE_JUDGE_KEY, default, judges))
    only = Filters({"judge": (judge,)})
    return replace(ctx, view=apply_filters(ctx.view, only), filters=Filters({**ctx.filters.active, "judge": (judge,)}))


def guarded(what: str, body: Callable[[Context], None], ctx: Context) -> None:
    """Run ``body(ctx)``; show any error as a message (never a traceback) and carry on.

    Pages call it per section, so one missing function does not hide the rest.
    """
    try:
        body(ctx)
    except results.NotAvailable as exc:
        st.info(markdown_text(exc))
    except JudgecalError as exc:
        st.error(_as_markdown_list(str(exc)))
    except Exception as exc:  # a bug: say so plainly, keep the traceback off the page
        log.error("dashboard section %r failed:\n%s", what, traceback.format_exc())
        st.error(f"Something went wrong in {what} ({type(exc).__name__}: {markdown_text(exc)}). "
                 "The details are in the terminal running `judgecal dashboard`.")


def not_available(what: str) -> None:
    st.info(f"not available: {what}")


def _as_markdown_list(text: str) -> str:
    """A multi-line error as Markdown: one problem per line, each shown as written
    (messages quote values from the data; see :func:`judgecal.sanitize.markdown_text`)."""
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    return "  \n".join(markdown_text(ln) for ln in lines)


def persist(key: str, default, options=None):
    """Keep a page widget's value when another page is shown (pass ``key`` to the widget).

    Streamlit forgets a widget's state when a run does not draw it; copying the
    value into itself before drawing keeps it. With ``options``, a kept value
    that is no longer among them (the filters changed) falls back to ``default``.
    """
    value = st.session_state.get(key, default)
    if options is not None and value not in list(options):
        value = default
    st.session_state[key] = value
    return key


# --- uploads ----------------------------------------------------------------------

UPLOAD_ERROR_KEY = "judgecal_upload_error"
RATINGS_WIDGET = "judgecal_ratings_uploader"
CALIBRATOR_WIDGET = "judgecal_calibrator_uploader"


def _load_upload(kind: str, widget: str, load, store_key: str) -> None:
    """Load an uploaded file now; on a bad file keep what is loaded and say why."""
    up = st.session_state.get(widget)
    st.session_state.pop(UPLOAD_ERROR_KEY, None)
    if up is None:
        return
    data = up.getvalue()
    try:
        load(up.name, content_digest(data), data)
    except SourceError as exc:
        st.session_state[UPLOAD_ERROR_KEY] = (kind, up.name, str(exc))
        return
    st.session_state[store_key] = (up.name, data)


def on_ratings_upload() -> None:
    """Callback of the ratings uploader: load the file now; keep the current data if it is bad."""
    _load_upload("ratings", RATINGS_WIDGET, _ratings_from_upload, UPLOAD_RATINGS_KEY)


def on_calibrator_upload() -> None:
    """Callback of the calibrator uploader: load it now; keep the current one if it is bad."""
    _load_upload("calibrator", CALIBRATOR_WIDGET, _calibrator_from_upload, UPLOAD_CALIBRATOR_KEY)


def forget_uploads() -> None:
    for key in (UPLOAD_RATINGS_KEY, UPLOAD_CALIBRATOR_KEY, UPLOAD_ERROR_KEY):
        st.session_state.pop(key, None)


def upload_error() -> tuple[str, str, str] | None:
    """(kind, file name, message) of the last rejected upload, if any."""
    return st.session_state.get(UPLOAD_ERROR_KEY)


def as_markdown(text: str) -> str:
    return _as_markdown_list(text)
