"""Compare: every sync mode on the same topics, side by side."""

from functools import partial

import streamlit as st

from chains.experiments.shapes import DEFAULT_SHAPE, invoke_verdict, shape_of
from chains.experiments.verdicts import compare_verdict
from chains.modes import COMPARE_PLAN, planned_calls, run_batch, run_invoke, run_loop, run_stream
from ui.elements.charts import call_timeline, show_chart, wall_time_bars
from ui.elements.code import show_code
from ui.elements.errors import show_run_problems
from ui.elements.inputs import topics_input
from ui.elements.shapes import chain_shape_select, show_verdict
from ui.elements.verdicts import compare_sentences, done_label, status_state
from ui.format import seconds
from ui.i18n import t
from ui.navigation import route_through_entrypoint
from ui.run import begin_page_run, finish_page_run, last_runs, prepare_run, show_run_label

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

LAST_RUNS = "compare_last_runs"

st.title(t("compare.title"))
st.markdown(t("compare.intro"))
text = topics_input("compare", height=140)
chain_shape = chain_shape_select()

RUNNERS = {"invoke": run_invoke, "loop": run_loop, "batch": run_batch, "stream": run_stream}

if st.button(t("common.run"), key="run", type="primary", icon="▶️"):
    # One plan for the budget check and for the calls: invoke and stream take the first topic, loop and batch all.
    prepared = prepare_run(text, planned_calls=partial(planned_calls, COMPARE_PLAN), shape=chain_shape.id)
    if prepared is not None:
        keeper = begin_page_run(LAST_RUNS)
        with st.status(t("compare.running"), expanded=True) as status:
            for mode, every_topic in COMPARE_PLAN:
                st.write(t("compare.step", mode=t(f"modes.{mode}")))
                topics = prepared.topics if every_topic else prepared.topics[0]
                # A shape's stream yields text, dict pieces (branches) or partial JSON (its chunk kind and keys).
                shaped = {"chunks": prepared.shape.chunks, "keys": prepared.shape.keys} if mode == "stream" else {}
                record = keeper.keep(RUNNERS[mode](prepared.chain, topics, meta=prepared.meta, on_stopped=keeper.on_stopped, **shaped))
                st.write(done_label(record, "compare.step_done", mode=t(f"modes.{mode}")))
            status.update(label=t("compare.done"), state=status_state(*keeper.records), expanded=False)
        finish_page_run(LAST_RUNS, list(keeper.records))

records = last_runs(LAST_RUNS)
if records:
    by_mode = {record.mode: record for record in records}
    show_run_label(by_mode["loop"], text)
    columns = st.columns(len(records))
    for column, record in zip(columns, records):
        column.metric(t(f"modes.{record.mode}"), seconds(record.wall_s), help=t("compare.n_calls", n=record.n))
    stream_call = by_mode["stream"].calls[0]
    st.caption(t("chain_shapes.ran", shape=t(shape_of(by_mode["stream"].shape).label_key)))
    if stream_call.ttft_s is not None:  # the whole answer: the stream metric's own figure above, not a second one
        st.caption(t("compare.stream_ttft", ttft=seconds(stream_call.ttft_s), total=seconds(by_mode["stream"].wall_s)))
    if by_mode["stream"].shape != DEFAULT_SHAPE:  # the seed's chain: the claims below say it all
        show_verdict(invoke_verdict(records))
    chart_left, chart_right = st.columns([2, 3])
    show_chart(wall_time_bars(records), key="compare_wall", container=chart_left)
    show_chart(call_timeline([by_mode["loop"], by_mode["batch"]]), key="compare_timeline", container=chart_right)
    verdict = compare_verdict(by_mode["invoke"], by_mode["loop"], by_mode["batch"], by_mode["stream"])
    sentences = compare_sentences(verdict)
    if sentences:
        st.info("\n\n".join(sentences), icon="💡")
    else:
        st.warning(t("verdict.compare_failed"), icon="🚫")
    for record in records:
        show_run_problems(record, calls_shown=False)

show_code("invoke", "loop", "batch", "stream", shape=chain_shape)
