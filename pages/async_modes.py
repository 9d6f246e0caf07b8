"""Async: ainvoke, abatch and astream on an event loop in the script thread, next to their sync twins."""

import asyncio
from functools import partial

import streamlit as st

from chains.experiments.verdicts import async_verdict
from chains.modes import (
    async_comparison_calls,
    default_pool_size,
    find_record,
    run_abatch,
    run_ainvoke,
    run_astream,
    run_batch,
    run_invoke,
    run_stream,
)
from chains.security.safe_text import inert_markdown
from ui.elements.charts import call_timeline, show_chart, wall_time_bars
from ui.elements.code import show_code
from ui.elements.errors import show_call_error, show_run_problems
from ui.elements.inputs import topics_input
from ui.elements.live import LiveMarkdown
from ui.elements.results import show_call
from ui.elements.verdicts import async_sentences, done_label, status_state
from ui.format import seconds
from ui.i18n import t
from ui.navigation import route_through_entrypoint
from ui.run import begin_page_run, finish_page_run, last_runs, prepare_run, show_run_label
from ui.runs.history import run_name

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

LAST_RUNS = "async_last_runs"
GRID_COLUMNS = 3


def astream_grid(topics: list[str]) -> list:
    """One bordered container per topic (keys ``astream_0``, ``astream_1``...), three to a row."""
    boxes = []
    for start in range(0, len(topics), GRID_COLUMNS):
        columns = st.columns(GRID_COLUMNS)
        for column, index in zip(columns, range(start, min(start + GRID_COLUMNS, len(topics)))):
            box = column.container(key=f"astream_{index}", border=True)
            box.caption(f"#{index + 1} · **{inert_markdown(topics[index])}**")
            boxes.append(box)
    return boxes


st.title(t("async.title"))
st.markdown(t("async.intro"))
text = topics_input("async", height=140)

left, right = st.columns(2)
with left:
    max_concurrency = st.slider(
        t("async.max_concurrency"), 1, 32, 2, key="abatch_max_concurrency", help=t("async.max_concurrency_help")
    )
with right:
    with_sync = st.toggle(t("async.with_sync"), value=True, key="async_with_sync", help=t("async.with_sync_help"))
st.info(t("async.unbounded_note", pool=default_pool_size()), icon="🧵")

run_clicked = st.button(t("common.run"), key="run", type="primary", icon="▶️")
shown_live = False
status_area = st.container()
results_area = st.container()

if run_clicked:
    with status_area:
        prepared = prepare_run(text, planned_calls=partial(async_comparison_calls, with_sync=with_sync))
    if prepared is not None:
        chain, meta, topics = prepared.chain, prepared.meta, prepared.topics
        first = topics[0]
        keeper = begin_page_run(LAST_RUNS)
        kept = keeper.on_stopped
        steps = []
        if with_sync:
            steps.append(("invoke", lambda: run_invoke(chain, first, meta=meta, on_stopped=kept)))
        # Each asyncio.run is a fresh event loop in this (the script's) thread.
        steps.append(("ainvoke", lambda: asyncio.run(run_ainvoke(chain, first, meta=meta, on_stopped=kept))))
        if with_sync:
            steps.append(("batch", lambda: run_batch(chain, topics, meta=meta, on_stopped=kept)))
        steps.append(("abatch", lambda: asyncio.run(run_abatch(chain, topics, meta=meta, on_stopped=kept))))
        steps.append(
            (
                f"abatch (max_concurrency={max_concurrency})",
                lambda: asyncio.run(run_abatch(chain, topics, max_concurrency=max_concurrency, meta=meta, on_stopped=kept)),
            )
        )
        if with_sync:
            steps.append(("stream", lambda: run_stream(chain, first, meta=meta, on_stopped=kept)))
        with status_area, st.status(t("async.running", n=len(topics)), expanded=True) as status:
            for name, step in steps:
                st.write(t("async.step", mode=name))
                record = keeper.keep(step())
                st.write(done_label(record, "async.step_done", mode=name))
            status.update(label=t("async.steps_done"), state=status_state(*keeper.records), expanded=False)
        with results_area:
            st.subheader(t("async.astream_title", n=len(topics)))
            st.caption(t("async.astream_live"))
            lives = [LiveMarkdown(box) for box in astream_grid(topics)]
            # on_chunk runs inside the coroutine, on the event loop, which is this script thread.
            record = keeper.keep(
                asyncio.run(
                    run_astream(chain, topics, meta=meta, on_chunk=lambda index, piece, _: lives[index].append(piece), on_stopped=kept)
                )
            )
            for live, call in zip(lives, record.calls):
                live.close(interrupted_note=t("stream.interrupted_note") if call.interrupted else None)
        finish_page_run(LAST_RUNS, list(keeper.records))
        shown_live = True

records = last_runs(LAST_RUNS, results_area)
if records:
    astream = find_record(records, "astream")
    with results_area:
        show_run_label(astream, text)
        if not shown_live:
            st.subheader(t("async.astream_title", n=astream.n))
            for box, call in zip(astream_grid([call.topic for call in astream.calls]), astream.calls):
                box.markdown(inert_markdown(call.output) or "∅")
                if not call.ok:
                    with box:
                        show_call_error(call)
        sync = {record.mode: record for record in records if record.mode in ("invoke", "batch", "stream")}
        ainvoke = find_record(records, "ainvoke")
        abatch_open = find_record(records, "abatch", capped=False)
        abatch_capped = find_record(records, "abatch", capped=True)

        st.subheader(t("async.compare_title"))
        pairs = st.columns(3)
        with pairs[0].container(border=True, key="async_pair_invoke"):
            st.markdown(t("async.pair_invoke"))
            if "invoke" in sync:
                st.metric(t("async.m_invoke"), seconds(sync['invoke'].wall_s))
            st.metric(t("async.m_ainvoke"), seconds(ainvoke.wall_s))
        with pairs[1].container(border=True, key="async_pair_batch"):
            st.markdown(t("async.pair_batch"))
            if "batch" in sync:
                st.metric(
                    t("async.m_batch", pool=sync["batch"].pool_size or 1), seconds(sync['batch'].wall_s), help=t("async.m_batch_help")
                )
            st.metric(t("async.m_abatch_open", n=abatch_open.n), seconds(abatch_open.wall_s), help=t("async.m_abatch_open_help"))
            st.metric(
                t("async.m_abatch_capped", max_concurrency=abatch_capped.max_concurrency),
                seconds(abatch_capped.wall_s),
                help=t("async.m_abatch_capped_help"),
            )
        with pairs[2].container(border=True, key="async_pair_stream"):
            st.markdown(t("async.pair_stream"))
            if "stream" in sync:
                st.metric(t("async.m_stream"), seconds(sync['stream'].wall_s))
            st.metric(t("async.m_astream", n=astream.n), seconds(astream.wall_s))
        lesson = async_sentences(async_verdict(ainvoke, abatch_open, abatch_capped, sync.get("invoke"), astream=astream, stream=sync.get("stream")), default_pool_size())
        if lesson:
            st.info("\n\n".join(lesson), icon="💡")
        else:
            st.warning(t("verdict.async_failed"), icon="🚫")
        chart_left, chart_right = st.columns([2, 3])
        show_chart(wall_time_bars(records), key="async_wall", container=chart_left)
        timeline_records = [record for record in records if record.mode in ("batch", "abatch", "astream")]
        timeline = call_timeline(timeline_records, title=t("async.timeline_title"))
        show_chart(timeline, key="async_timeline", container=chart_right)
        first_started = [call.index + 1 for call in sorted(abatch_capped.calls, key=lambda call: call.start_s)]
        if first_started != sorted(first_started):  # LangChain's own order, not a drawing error: say why
            chart_right.caption(
                t(
                    "async.start_order_note",
                    first=", ".join(f"#{number}" for number in first_started[: abatch_capped.max_concurrency or 1]),
                    max_concurrency=abatch_capped.max_concurrency,
                )
            )
        for record in records:
            show_run_problems(record, calls_shown=record in (astream, ainvoke, abatch_open))
        st.caption(t("async.usage_in_history"))
        with st.expander(t("async.answers"), expanded=False):
            st.markdown(f"**{run_name(ainvoke)}**")
            show_call(ainvoke.calls[0])
            st.markdown(f"**{run_name(abatch_open)}**")
            for call in abatch_open.calls:
                show_call(call)

show_code("ainvoke", "abatch", "astream")
