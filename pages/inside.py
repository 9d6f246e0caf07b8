"""Inside the chain: one call's steps on a timeline, from LangChain's own events."""

import streamlit as st

from chains.experiments.shapes import shape_of, trace_verdict
from chains.experiments.steps import StepTrace, trace_steps
from chains.security.safe_text import inert_markdown, plain_markdown
from ui.elements.charts import show_chart, step_timeline
from ui.elements.errors import show_error_info
from ui.elements.inputs import topics_input
from ui.elements.shapes import chain_shape_select, show_shape_code, show_verdict
from ui.format import provider_name, seconds
from ui.i18n import t
from ui.navigation import route_through_entrypoint
from ui.run import prepared_on_run_button

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

LAST_TRACE = "inside_last_trace"
TRACE_CODE = '''import asyncio

async def trace(topic: str) -> None:
    async for event in chain.astream_events(topic, version="v2"):
        # on_chain_start / on_prompt_end / on_chat_model_stream / on_parser_stream ...
        print(event["event"], event["name"], event["parent_ids"])

asyncio.run(trace("ice cream"))'''


def step_rows(trace: StepTrace) -> list[dict[str, object]]:
    """One table row per step of the chain's sequence (previews are plain text in the table's cells)."""
    # The numbers first, so that a phone shows them without scrolling; the kind and the previews after them.
    return [
        {
            t("inside.col_step"): f"{trace.number(step)}. {step.name}",
            t("inside.col_duration_ms"): round(step.duration_s * 1000, 2),
            t("inside.col_share"): f"{trace.share(step):.1%}",
            t("inside.col_start_ms"): round(step.start_s * 1000, 2),
            t("inside.col_chunks_in"): str(step.chunks_in),
            # A step that streams nothing still returns one value at its end (the prompt): say so, not "0".
            t("inside.col_chunks_out"): str(step.chunks_out) if step.chunks_out or not step.finished else t("inside.returned_once"),
            t("inside.col_kind"): t(f"inside.kind_{step.kind}"),
            t("inside.col_input"): step.input_preview,
            t("inside.col_output"): step.output_preview,
        }
        for step in trace.top_level()
    ]


def chunk_line(chunks: list[str]) -> str:
    """The first chunks on one line, each in «», line breaks shown as ↵ (for ``st.code``: plain text)."""
    return " ".join(f"«{chunk}»".replace("\n", "↵") for chunk in chunks)


st.title(t("inside.title"))
st.markdown(t("inside.intro"))
text = topics_input("inside", single=True)
chain_shape = chain_shape_select()

prepared = prepared_on_run_button(text, max_topics=1, shape=chain_shape.id)
if prepared is not None:
    with st.spinner(t("inside.running", topic=inert_markdown(prepared.topics[0]))):
        traced = trace_steps(prepared.chain, prepared.topics[0], secrets=prepared.meta.secrets)
        st.session_state[LAST_TRACE] = (traced, prepared.meta.provider, prepared.meta.model, prepared.shape.id)

last = st.session_state.get(LAST_TRACE)
if last is not None:
    trace, provider, model_label, traced_shape = last
    st.caption(t("inside.answered_by", provider=plain_markdown(provider_name(provider)), model=plain_markdown(model_label)))
    st.caption(t("chain_shapes.ran", shape=t(shape_of(traced_shape).label_key)))
    if trace.error is not None:
        st.warning(t("inside.failed"), icon="🧱")
        show_error_info(trace.error)
    model = trace.model_step()
    columns = st.columns(4)
    columns[0].metric(t("inside.metric_total"), seconds(trace.total_s, 3))
    columns[1].metric(
        t("inside.metric_model_share"), f"{trace.share(model):.1%}" if model else "—", help=t("inside.metric_model_share_help")
    )
    columns[2].metric(
        t("inside.metric_first_token"),
        seconds(model.first_chunk_s if model else None, 3),
        help=t("inside.metric_first_token_help"),
    )
    columns[3].metric(t("inside.metric_steps"), len(trace.top_level()))
    with st.container(key="inside_timeline"):
        show_chart(step_timeline(trace), key="step_timeline")

    st.subheader(t("inside.table_title"))
    st.caption(t("inside.table_scroll_hint"))
    st.dataframe(step_rows(trace), key="inside_steps", hide_index=True)

    st.subheader(t("inside.chunks_title"))
    with st.container(key="inside_chunks", border=True):
        for step in trace.top_level():
            does = step.kind if step.kind in ("parallel", "prompt", "model", "parser") else "other"
            st.markdown(f"**{trace.number(step)}. {step.name}** · " + t(f"inside.does_{does}", chunks_in=step.chunks_in, chunks_out=step.chunks_out))
            st.code(chunk_line(step.first_chunks) if step.first_chunks else t("inside.no_chunks"), language=None, wrap_lines=True)
            for child in trace.children(step):
                if not child.finished:
                    does_child = t("inside.child_failed")
                elif child.kind == "passthrough":
                    does_child = t("inside.does_passthrough", chunks_out=child.chunks_out)
                else:
                    does_child = t("inside.does_other", chunks_in=child.chunks_in, chunks_out=child.chunks_out)
                st.caption(f"└ {trace.number(child)}. {child.name} · " + does_child)

    if trace.output:
        with st.expander(t("inside.answer"), icon="💬"):
            st.markdown(inert_markdown(trace.output))
    show_verdict(trace_verdict(trace, traced_shape))
    if model is not None and trace.ok and traced_shape == "seed":
        st.info(t("inside.lesson", share=trace.share(model), before_ms=trace.seconds_before(model) * 1000), icon="💡")

with st.expander(t("inside.code_title"), icon="🧑‍💻"):
    show_shape_code(chain_shape)
    st.code(TRACE_CODE, language="python", wrap_lines=True)
