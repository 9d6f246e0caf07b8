"""Compare: every sync mode on the same topics, side by side."""

import streamlit as st

from chains.modes import run_batch, run_invoke, run_loop, run_stream
from ui.charts import call_timeline, show_chart, wall_time_bars
from ui.code import show_code
from ui.errors import show_run_problems
from ui.format import seconds
from ui.i18n import t
from ui.inputs import topics_input
from ui.navigation import route_through_entrypoint
from ui.run import begin_page_run, finish_page_run, last_runs, prepare_run, show_run_label

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

LAST_RUNS = "compare_last_runs"

st.title(t("compare.title"))
st.markdown(t("compare.intro"))
text = topics_input("compare", height=140)

if st.button(t("common.run"), key="run", type="primary", icon="▶️"):
    prepared = prepare_run(text, calls_per_topic=2)
    if prepared is not None:
        first = prepared.topics[0]
        keeper = begin_page_run(LAST_RUNS)
        kept = keeper.on_stopped
        steps = [
            ("invoke", lambda: run_invoke(prepared.chain, first, meta=prepared.meta, on_stopped=kept)),
            ("loop", lambda: run_loop(prepared.chain, prepared.topics, meta=prepared.meta, on_stopped=kept)),
            ("batch", lambda: run_batch(prepared.chain, prepared.topics, meta=prepared.meta, on_stopped=kept)),
            ("stream", lambda: run_stream(prepared.chain, first, meta=prepared.meta, on_stopped=kept)),
        ]
        with st.status(t("compare.running"), expanded=True) as status:
            for mode, run in steps:
                st.write(t("compare.step", mode=t(f"modes.{mode}")))
                record = keeper.keep(run())
                st.write(t("compare.step_done", mode=t(f"modes.{mode}"), seconds=seconds(record.wall_s)))
            status.update(label=t("compare.done"), state="complete", expanded=False)
        finish_page_run(LAST_RUNS, list(keeper.records))

records = last_runs(LAST_RUNS)
if records:
    by_mode = {record.mode: record for record in records}
    show_run_label(by_mode["loop"], text)
    columns = st.columns(len(records))
    for column, record in zip(columns, records):
        column.metric(t(f"modes.{record.mode}"), seconds(record.wall_s), help=t("compare.n_calls", n=record.n))
    stream_call = by_mode["stream"].calls[0]
    if stream_call.ttft_s is not None:  # the whole answer: the stream metric's own figure above, not a second one
        st.caption(t("compare.stream_ttft", ttft=seconds(stream_call.ttft_s), total=seconds(by_mode["stream"].wall_s)))
    chart_left, chart_right = st.columns([2, 3])
    show_chart(wall_time_bars(records), key="compare_wall", container=chart_left)
    show_chart(call_timeline([by_mode["loop"], by_mode["batch"]]), key="compare_timeline", container=chart_right)
    st.info(t("compare.lesson"), icon="💡")
    for record in records:
        show_run_problems(record, calls_shown=False)

show_code("invoke", "loop", "batch", "stream")
