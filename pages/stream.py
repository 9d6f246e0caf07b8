"""Stream: tokens render live, chunk boundaries show, and invoke races stream."""

from dataclasses import dataclass
from typing import Any

import streamlit as st

from chains.experiments.shapes import DEFAULT_SHAPE, shape_of, shape_stream_verdict
from chains.experiments.verdicts import stream_verdict
from chains.modes import RaceEvent, run_race, run_stream
from chains.security.safe_text import inert_markdown
from chains.simulation.joke_book import REPLY_SHAPES
from ui.elements.charts import show_chart, token_arrival
from ui.elements.code import show_code
from ui.elements.errors import show_call_error, show_run_problems
from ui.elements.inputs import TOPICS_KEY, topics_input
from ui.elements.live import ChunkView, LiveMarkdown
from ui.elements.results import show_stream_metrics, show_usage
from ui.elements.shapes import KeyedAnswer, chain_shape_select, show_answer, show_verdict
from ui.elements.verdicts import race_sentence, stream_share_sentence
from ui.format import seconds
from ui.i18n import option_labels, t
from ui.navigation import route_through_entrypoint
from ui.run import (
    begin_page_run,
    finish_page_run,
    last_result,
    prepare_run,
    show_run_label,
    show_stopped_runs,
    stopped_if_superseded,
    stopped_runs,
)
from ui.sidebar import active_settings

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

LAST_RUN = "stream_last_run"
LAST_RACE = "stream_last_race"
ANSWER_LENGTHS = {"short": None, "medium": 300, "long": 1000}


def simulator_overrides(length: str, shape: str) -> dict[str, Any]:
    """The simulator's settings for this page's answers: at least the length's tokens, laid out in ``shape``."""
    return {"sim_min_output_tokens": ANSWER_LENGTHS[length], "sim_shape": shape}


st.title(t("stream.title"))
st.markdown(t("stream.intro"))
text = topics_input("stream", one_topic=True, height=100, help_text=t("stream.topic_help"))

options = st.columns(2)
chunk_style = options[0].radio(
    t("stream.chunk_style"), ["colour", "bang"], key="chunk_style", horizontal=True, format_func=option_labels("stream.chunk_style_")
)
length, shape = "short", REPLY_SHAPES[0]
model_settings = active_settings().model
if model_settings.is_simulated and model_settings.sim_replay is not None:
    options[1].caption(t("stream.replay_length_note"))  # a replay answers with its recorded text: no length or shape to choose
elif model_settings.is_simulated:
    length = options[1].radio(
        t("stream.length"), list(ANSWER_LENGTHS), key="answer_length", horizontal=True, format_func=option_labels("stream.length_")
    )
    shape = options[1].radio(
        t("shapes.shape"), REPLY_SHAPES, key="answer_shape", horizontal=True, format_func=option_labels("shapes.shape_"), help=t("shapes.shape_help")
    )
overrides = simulator_overrides(length, shape)
chain_shape = chain_shape_select()

stream_tab, race_tab = st.tabs([t("stream.tab_stream"), t("stream.tab_race")])


@dataclass(frozen=True)
class StreamLayout:
    """Where the Run fragment draws besides its own place (Run): the answer's and the chunks' boxes and the results below them.

    They are drawn by the page's full run, outside the fragment, with their
    columns and headings. A Run press reruns only the fragment: it redraws the
    Run button and what it writes into these boxes, not the columns, headings
    and borders around them. Streamlit keeps a fragment's writes into a
    container made outside it in a wrapper of their own, which each fragment
    run clears and fills again.
    """

    output: Any
    chunk_box: Any
    results: Any


def stream_layout() -> StreamLayout:
    """Draw the Stream tab's layout: the two boxes side by side under their headings, and a place for the results."""
    answer_column, chunk_column = st.columns(2)
    answer_column.subheader(t("stream.answer"))
    chunk_column.subheader(t("stream.chunks"))
    output = answer_column.container(key="stream_output", border=True)
    chunk_box = chunk_column.container(key="chunk_view", border=True)
    return StreamLayout(output, chunk_box, st.container())


@st.fragment
def stream_section(layout: StreamLayout, text: str | None, chunk_style: str, length: str, shape: str) -> None:
    """Run, the live answer, its chunks and its results: a Run press reruns only this part of the page.

    When a study group presses Run together, every element a script draws before
    the answer's first words waits behind the other scripts for the GIL (each one
    also wakes the server's event loop). As a fragment, a Run press no longer
    redraws the sidebar, the page's CSS, title, topic box and radios above the
    answer, nor the columns, headings and boxes of ``layout``: they are
    unchanged, since a change to any of them is a full run of its own. Whatever
    a run changes outside this part (the sidebar's host-key calls left) is drawn
    by the full run that follows a metered run.

    A fragment run can only write into a box made outside it that the fragment
    also wrote into in the last full run (Streamlit keeps the box's place for it
    then), so a full run always writes into each box, if only an empty slot.

    The arguments are the widgets' values in the last full run. A fragment run
    reads their current values instead: a Run pressed while a change's own full
    run was still going (and so cut short) then runs with what the widgets show.

    Args:
        layout: The boxes this fragment writes into (``stream_layout``, drawn by the full run).
        text: The topic box's value.
        chunk_style: The chunk view's style, ``colour`` or ``bang``.
        length: The simulator's answer length (``ANSWER_LENGTHS``).
        shape: The simulator's answer shape (``REPLY_SHAPES``).
    """
    state = st.session_state
    text, chunk_style = state.get(TOPICS_KEY, text), state.get("chunk_style", chunk_style)
    overrides = simulator_overrides(state.get("answer_length", length), state.get("answer_shape", shape))
    run_clicked = st.button(t("common.run"), key="run", type="primary", icon="▶️")
    with stopped_if_superseded():
        draw_stream_section(layout, run_clicked, text, chunk_style, overrides)


def draw_stream_section(layout: StreamLayout, run_clicked: bool, text: str | None, chunk_style: str, overrides: dict[str, Any]) -> None:
    """``stream_section``'s body: on Run, stream into the layout's boxes; else show the last run in them; then its results."""
    state = st.session_state
    output, chunk_box = layout.output, layout.chunk_box
    if run_clicked:
        prepared = prepare_run(text, max_topics=1, simulator_overrides=overrides, shape=state.get("chain_shape", chain_shape.id))
        if prepared is not None:
            live = LiveMarkdown(output) if prepared.shape.chunks == "text" else KeyedAnswer(output, prepared.shape.keys)
            chunks = ChunkView(chunk_box, separator="!!" if chunk_style == "bang" else None, styled=True)

            def show_piece(_: int, key: str, piece: str, t_s: float) -> None:
                with stopped_if_superseded():  # a full run started meanwhile: a stop, not a failed call
                    if isinstance(live, KeyedAnswer):
                        live.append(key, piece)
                    else:
                        live.append(piece)
                    chunks.append(piece, t_s)

            # A rerun (a click, a language switch, leaving the page) stops the script inside
            # show_piece: kept.on_stopped keeps what arrived, marked stopped, as this page's last run.
            kept = begin_page_run(LAST_RUN)
            record = kept.keep(
                run_stream(
                    prepared.chain,
                    prepared.topics[0],
                    meta=prepared.meta,
                    chunks=prepared.shape.chunks,
                    keys=prepared.shape.keys,
                    on_piece=show_piece,
                    on_stopped=kept.on_stopped,
                )
            )
            call = record.calls[0]
            if isinstance(live, KeyedAnswer):
                live.close()
            else:
                live.close(interrupted_note=t("stream.interrupted_note") if call.interrupted else None)
            chunks.close()
            finish_page_run(LAST_RUN, record)
            if active_settings().metered:
                st.rerun()  # the whole app, so that the sidebar shows the host's calls left
    else:
        last = last_result(LAST_RUN)
        if last is not None:
            show_answer(last.calls[0].output, shape_of(last.shape), output)
            previous = ChunkView(chunk_box, separator="!!" if chunk_style == "bang" else None, styled=True)
            for t_s, piece in last.calls[0].chunks:
                previous.append(piece, t_s)
            previous.close()
        if last is None:
            output.empty()  # the box's place in this full run (see ``stream_section``); it shows nothing
        if last is None or not last.calls[0].chunks:
            chunk_box.empty()  # a chunk view with no chunks draws nothing
    with layout.results:
        show_results(text)


def show_results(text: str | None) -> None:
    """The last run's label, metrics, usage, chart and lesson, below the boxes (an empty slot when there is none)."""
    record = last_result(LAST_RUN)
    if record is None:
        st.empty()  # the results' place in this full run (see ``stream_section``)
        return
    call = record.calls[0]
    show_run_label(record, text)
    if not call.ok and not record.stopped:
        show_call_error(call)
    show_stream_metrics(call)
    show_usage(record)
    if not record.stopped:  # a stopped call is not a failure; its label says what happened
        show_run_problems(record)
    if call.chunks:
        show_chart(token_arrival([record]), key="stream_arrival")
    st.caption(t("chain_shapes.ran", shape=t(shape_of(record.shape).label_key)))
    shape_verdict = shape_stream_verdict(record)
    if record.shape != DEFAULT_SHAPE or (shape_verdict is not None and not shape_verdict.good):
        show_verdict(shape_verdict)  # the shape's own point: does the chain still stream, and why not
    else:
        lesson = stream_share_sentence(stream_verdict(record))
        if lesson is not None:  # a failed or stopped call teaches nothing; its message is above
            st.info(lesson, icon="💡")


with stream_tab:
    run_area = st.container()  # the fragment's own place, above the layout: it holds Run
    layout = stream_layout()
    with run_area:
        stream_section(layout, text, chunk_style, length, shape)

with race_tab:
    st.markdown(t("stream.race_intro"))
    race_clicked = st.button(t("stream.race_run"), key="race_run", icon="🏁")
    invoke_column, stream_column = st.columns(2)
    invoke_column.subheader("invoke")
    stream_column.subheader("stream")
    invoke_box = invoke_column.container(key="race_invoke", border=True)
    stream_box = stream_column.container(key="race_stream", border=True)
    if race_clicked:
        prepared = prepare_run(text, max_topics=1, calls_per_topic=2, simulator_overrides=overrides, shape=chain_shape.id)
        if prepared is not None:
            waiting = invoke_box.empty()
            waiting.markdown(t("stream.race_waiting"))
            race_live = LiveMarkdown(stream_box) if prepared.shape.chunks == "text" else KeyedAnswer(stream_box, prepared.shape.keys)
            invoke_note, stream_note = invoke_column.empty(), stream_column.empty()
            first_chunk: list[float] = []

            def on_event(event: RaceEvent) -> None:
                if event.kind == "chunk":
                    if not first_chunk:
                        first_chunk.append(event.t_s)
                        stream_note.caption(t("stream.race_first_token", seconds=seconds(event.t_s)))
                    if isinstance(race_live, KeyedAnswer):
                        race_live.append(event.key, event.text)
                    else:
                        race_live.append(event.text)
                else:
                    if prepared.shape.chunks == "text":
                        waiting.markdown(inert_markdown(event.text))
                    else:
                        waiting.code(event.text, language="json", wrap_lines=True)
                    invoke_note.caption(t("stream.race_invoke_done", seconds=seconds(event.t_s)))

            kept = begin_page_run(LAST_RACE)
            invoke_record, stream_record = run_race(
                prepared.chain,
                prepared.topics[0],
                meta=prepared.meta,
                on_event=on_event,
                on_stopped=kept.on_stopped,
                chunks=prepared.shape.chunks,
                keys=prepared.shape.keys,
            )
            race_live.close()
            # The live notes counted from the race's start; the metrics below count each call from its own
            # start. Once the race is over, the notes show the metrics' figures: one fact, one number.
            stream_ttft = stream_record.calls[0].ttft_s
            if stream_ttft is not None:
                stream_note.caption(t("stream.race_first_token", seconds=seconds(stream_ttft)))
            invoke_note.caption(t("stream.race_invoke_done", seconds=seconds(invoke_record.calls[0].latency_s)))
            finish_page_run(LAST_RACE, (kept.keep(invoke_record), kept.keep(stream_record)))
    if stopped_runs(LAST_RACE):
        show_stopped_runs(stopped_runs(LAST_RACE))
    race = st.session_state.get(LAST_RACE)
    if race is not None:
        invoke_record, stream_record = race
        show_run_label(stream_record, text)
        stream_call = stream_record.calls[0]
        columns = st.columns(3)
        columns[0].metric(t("stream.race_invoke_total"), seconds(invoke_record.calls[0].latency_s))
        columns[1].metric(t("metrics.ttft"), seconds(stream_call.ttft_s) if stream_call.ttft_s is not None else "—")
        columns[2].metric(t("stream.race_stream_total"), seconds(stream_call.latency_s))
        lesson = race_sentence(stream_verdict(stream_record, invoke_record, raced=True))
        if lesson is not None:
            st.info(lesson, icon="💡")
        else:
            st.warning(t("verdict.call_failed"), icon="🚫")

show_code("stream", shape=chain_shape)
