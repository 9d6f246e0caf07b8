"""Batch: a for loop of invoke against LangChain's batch, on the same topics."""

import streamlit as st

from chains.experiments.verdicts import batch_verdict
from chains.modes import default_pool_size, effective_concurrency, run_batch, run_loop
from ui.elements.charts import call_timeline, show_chart
from ui.elements.code import show_code
from ui.elements.errors import show_run_problems
from ui.elements.inputs import topics_input
from ui.elements.results import call_status_line, pending_line, show_call, show_usage
from ui.elements.verdicts import done_label, server_value, show_batch_lesson, status_state
from ui.format import seconds
from ui.i18n import t
from ui.navigation import route_through_entrypoint
from ui.run import begin_page_run, finish_page_run, last_runs, prepare_run, show_run_label

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

LAST_RUNS = "batch_last_runs"

st.title(t("batch.title"))
st.markdown(t("batch.intro"))
text = topics_input("batch", height=180)

left, right = st.columns(2)
with left:
    capped = st.toggle(t("batch.set_max_concurrency"), key="batch_capped", help=t("batch.max_concurrency_help"))
    max_concurrency = st.slider("max_concurrency", 1, 32, 8, key="max_concurrency", disabled=not capped) if capped else None
    if max_concurrency is None:
        st.caption(t("batch.default_pool", pool=default_pool_size()))
with right:
    with_loop = st.toggle(t("batch.with_loop"), value=True, key="batch_with_loop")

if st.button(t("common.run"), key="run", type="primary", icon="▶️"):
    prepared = prepare_run(text, calls_per_topic=2 if with_loop else 1)
    if prepared is not None:
        n = len(prepared.topics)
        kept = begin_page_run(LAST_RUNS)
        loop_column, batch_column = st.columns(2)
        if with_loop:
            with loop_column, st.status(t("batch.running_loop", n=n), expanded=True) as status:
                slots = [st.empty() for _ in prepared.topics]
                for slot, topic in zip(slots, prepared.topics):
                    slot.markdown(pending_line(topic))
                record = run_loop(
                    prepared.chain,
                    prepared.topics,
                    meta=prepared.meta,
                    on_result=lambda call: slots[call.index].markdown(call_status_line(call)),
                    on_stopped=kept.on_stopped,
                )
                status.update(label=done_label(record, "batch.loop_done"), state=status_state(record), expanded=False)
                kept.keep(record)
        with batch_column, st.status(t("batch.running_batch", n=n, pool=effective_concurrency(n, max_concurrency)), expanded=True) as status:
            slots = [st.empty() for _ in prepared.topics]
            for slot, topic in zip(slots, prepared.topics):
                slot.markdown(pending_line(topic))
            finished = []

            def show_finished(call):
                finished.append(call.index)
                slots[call.index].markdown(call_status_line(call, len(finished)))

            record = run_batch(
                prepared.chain,
                prepared.topics,
                max_concurrency=max_concurrency,
                meta=prepared.meta,
                on_result=show_finished,
                on_stopped=kept.on_stopped,
            )
            status.update(label=done_label(record, "batch.batch_done"), state=status_state(record), expanded=False)
            kept.keep(record)
        finish_page_run(LAST_RUNS, list(kept.records))

records = last_runs(LAST_RUNS)
if records:
    by_mode = {record.mode: record for record in records}
    batch = by_mode["batch"]
    show_run_label(batch, text)
    verdict = batch_verdict(batch, by_mode.get("loop"))
    columns = st.columns(5)
    if "loop" in by_mode:
        columns[0].metric(t("batch.loop_total"), seconds(by_mode["loop"].wall_s))
    columns[1].metric(t("batch.batch_total"), seconds(batch.wall_s))
    if verdict.speedup is not None:  # failed calls (or too few) have no speed-up
        columns[2].metric(t("batch.speedup"), f"{verdict.speedup:.1f}×", help=t("batch.speedup_help"))
    columns[3].metric(t("verdict.client_pool"), batch.pool_size or "—", help=t("verdict.client_pool_help"))
    columns[4].metric(t("verdict.server_at_once"), server_value(verdict), help=t("verdict.server_help"))
    show_batch_lesson(verdict)
    show_chart(call_timeline(records), key="batch_timeline")
    for record in records:
        show_usage(record)
        show_run_problems(record, calls_shown=record is batch)  # the answers below show batch's calls
    with st.expander(t("batch.answers"), expanded=False):
        for call in batch.calls:
            show_call(call)

show_code("loop", "batch")
