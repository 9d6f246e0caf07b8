"""Invoke: one topic, one call, one answer."""

import streamlit as st

from chains.modes import run_invoke
from ui.elements.code import show_code
from ui.elements.errors import show_run_problems
from ui.elements.inputs import topics_input
from ui.elements.results import show_call, show_usage
from ui.format import seconds
from ui.i18n import t
from ui.navigation import route_through_entrypoint
from ui.run import begin_page_run, finish_page_run, last_result, prepared_on_run_button, show_run_label

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

LAST_RUN = "invoke_last_run"

st.title(t("invoke.title"))
st.markdown(t("invoke.intro"))
text = topics_input("invoke", single=True)

prepared = prepared_on_run_button(text, max_topics=1)
if prepared is not None:
    kept = begin_page_run(LAST_RUN)
    with st.spinner(t("invoke.waiting", topic=prepared.topics[0])):
        record = run_invoke(prepared.chain, prepared.topics[0], meta=prepared.meta, on_stopped=kept.on_stopped)
        finish_page_run(LAST_RUN, kept.keep(record))

record = last_result(LAST_RUN)
if record is not None:
    call = record.calls[0]
    show_run_label(record, text)
    with st.container(key="invoke_result", border=True):
        show_call(call)
    first, second = st.columns(2)
    first.metric(t("metrics.latency"), seconds(call.latency_s), help=t("invoke.latency_help"))
    second.metric(t("metrics.ttft"), "—", help=t("invoke.no_ttft"))
    show_usage(record)
    if not record.stopped:  # a stopped call is not a failure; its label says what happened
        show_run_problems(record)
    st.info(t("invoke.lesson"), icon="💡")

show_code("invoke")
