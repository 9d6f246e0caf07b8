"""Inside the chain: the step trace built from ``astream_events`` v2 (chains/experiments/steps.py)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.prompt_values import ChatPromptValue

from chains.experiments.steps import (
    CHUNK_PREVIEW_CHARS,
    FIRST_CHUNKS_KEPT,
    PREVIEW_CHARS,
    StepTrace,
    preview,
    trace_steps,
)
from chains.joke import build_joke_chain
from chains.simulation.simulator import SimulatedChatModel

SEED_KINDS = ["parallel", "prompt", "model", "parser"]


def fast_chain(**overrides: Any):
    fields: dict[str, Any] = {"ttft_s": 0.03, "tokens_per_s": 2000.0, "jitter": 0.1, "seed": 7}
    fields.update(overrides)
    return build_joke_chain(SimulatedChatModel(**fields))


@pytest.fixture(scope="module")
def trace() -> StepTrace:
    return trace_steps(fast_chain(), "ice cream")


def test_the_four_steps_of_the_seed_appear_in_order(trace: StepTrace) -> None:
    top = trace.top_level()
    assert [step.kind for step in top] == SEED_KINDS
    assert [step.name for step in top] == ["RunnableParallel<topic>", "ChatPromptTemplate", "SimulatedChatModel", "StrOutputParser"]
    assert trace.root_name == "RunnableSequence"
    assert trace.ok and "ice cream" in trace.output
    starts = [step.start_s for step in top]
    assert starts == sorted(starts)
    # The map and the prompt are done before the model starts.
    assert top[0].end_s <= top[1].start_s <= top[1].end_s <= top[2].start_s


def test_the_map_holds_the_passthrough_and_parents_are_right(trace: StepTrace) -> None:
    parallel = trace.top_level()[0]
    children = trace.children(parallel)
    assert [child.kind for child in children] == ["passthrough"]
    passthrough = children[0]
    assert passthrough.parent_id == parallel.run_id and passthrough.depth == 1
    assert all(step.parent_id == trace.root_id and step.depth == 0 for step in trace.top_level())
    assert parallel.start_s <= passthrough.start_s <= passthrough.end_s <= parallel.end_s
    assert len({step.run_id for step in trace.steps}) == len(trace.steps) == 5


def test_the_models_span_contains_its_first_token_and_most_of_the_time(trace: StepTrace) -> None:
    model = trace.model_step()
    assert model is not None and model.first_chunk_s is not None
    assert model.start_s < model.first_chunk_s <= model.end_s <= trace.total_s
    # The simulator sleeps ~30 ms before its first token; the other steps do no I/O.
    assert model.first_chunk_s - model.start_s >= 0.025
    others = sum(step.duration_s for step in trace.top_level() if step.kind in ("parallel", "prompt"))
    assert model.duration_s > others


def test_chunks_what_the_map_and_the_parser_do_while_streaming(trace: StepTrace) -> None:
    parallel, prompt, model, parser = trace.top_level()
    assert (parallel.chunks_in, parallel.chunks_out) == (1, 1)
    assert parallel.first_chunks == ['{"topic": "ice cream"}']
    assert prompt.chunks_out == 0 and not prompt.streamed  # it waits for its whole input and returns once
    assert model.chunks_in == 1 and model.chunks_out > 5
    # The parser transforms each of the model's chunks as it arrives: as many out as in.
    assert parser.chunks_in == model.chunks_out == parser.chunks_out
    assert parser.first_chunks == model.first_chunks[:FIRST_CHUNKS_KEPT]
    assert len(parser.first_chunks) == FIRST_CHUNKS_KEPT
    # The parser starts with the model's first chunk, not after the model ends.
    assert parser.start_s < model.end_s and parser.first_chunk_s is not None and parser.first_chunk_s >= model.first_chunk_s


def test_previews_show_the_data_between_the_steps(trace: StepTrace) -> None:
    parallel, prompt, model, parser = trace.top_level()
    assert parallel.input_preview == "ice cream"
    assert prompt.input_preview == '{"topic": "ice cream"}'
    assert prompt.output_preview == "human: Tell me a short joke about ice cream"
    assert "Tell me a short joke about ice cream" in model.input_preview
    assert parser.output_preview == preview(trace.output)


def test_previews_are_truncated_plain_text_even_for_hostile_topics() -> None:
    hostile = "<script>alert(1)</script> [x](javascript:alert(1)) " + "y" * 5000
    trace = trace_steps(fast_chain(), hostile)
    assert trace.ok
    for step in trace.steps:
        assert len(step.input_preview) <= PREVIEW_CHARS and len(step.output_preview) <= PREVIEW_CHARS
        assert all(len(chunk) <= CHUNK_PREVIEW_CHARS for chunk in step.first_chunks)
    assert trace.top_level()[0].input_preview.startswith("<script>")  # kept as text; the page shows it as text
    assert trace.top_level()[0].input_preview.endswith("…")


def test_preview_of_langchain_values() -> None:
    assert preview(AIMessageChunk(content="hi")) == "hi"
    assert preview(ChatPromptValue(messages=[HumanMessage("a joke")])) == "human: a joke"
    assert preview({"messages": [[HumanMessage("q")]]}) == '{"messages": [["human: q"]]}'
    assert preview("abcdef", limit=4) == "abc…"
    assert preview("a\x00b") == "ab"


def test_a_fake_clock_gives_every_event_its_own_tick() -> None:
    ticks = itertools.count()
    trace = trace_steps(fast_chain(), "cats", clock=lambda: float(next(ticks)))
    times = [time for step in trace.steps for time in (step.start_s, step.end_s)]
    assert all(time == int(time) for time in times)
    model = trace.model_step()
    assert model is not None and model.start_s < model.first_chunk_s < model.end_s
    assert trace.total_s >= max(step.end_s for step in trace.steps)


def test_a_failed_call_keeps_its_steps_and_a_scrubbed_error() -> None:
    trace = trace_steps(fast_chain(failure_rate=1.0), "cats", secrets=("sk-never-shown",))
    assert not trace.ok and trace.error is not None and trace.error.kind == "rate_limit"
    assert [step.kind for step in trace.top_level()] == ["parallel", "prompt", "model"]
    model = trace.model_step()
    assert model is not None and not model.finished and model.first_chunk_s is None
    assert model.end_s >= model.start_s and trace.total_s >= model.end_s


def test_steps_are_numbered_by_their_place_in_the_chain(trace: StepTrace) -> None:
    numbers = [trace.number(step) for step in trace.steps]
    assert numbers == ["1", "1.1", "2", "3", "4"]


def test_a_real_openai_compatible_model_gives_the_same_four_steps(openai_server) -> None:
    from chains.models import ModelSettings, make_model

    settings = ModelSettings(provider="compatible", model="test-model", base_url=openai_server.base_url, api_key="sk-test-not-real", max_retries=0)
    trace = trace_steps(build_joke_chain(make_model(settings)), "penguins", secrets=(settings.api_key,))
    assert trace.ok, trace.error
    assert [step.kind for step in trace.top_level()] == SEED_KINDS
    model = trace.model_step()
    assert model is not None and model.name == "ChatOpenAI"
    assert model.first_chunk_s is not None and model.start_s < model.first_chunk_s <= model.end_s
    assert [(request.stream, request.topic) for request in openai_server.requests] == [(True, "penguins")]
