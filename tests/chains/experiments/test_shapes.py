"""Chain shapes (issue 29): what each shape's stream yields, what its steps are, and the verdicts read from them."""

from __future__ import annotations

import inspect
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage

from chains.chunks import ChunkReader, answer_text
from chains.experiments.shapes import (
    JSON_JOKE_PROMPT,
    SHAPES,
    invoke_verdict,
    model_intervals,
    overlapped,
    shape_of,
    shape_stream_verdict,
    trace_verdict,
)
from chains.experiments.steps import trace_steps
from chains.modes import RunMeta, run_batch, run_invoke, run_stream
from chains.records.exchange import ExchangeError, parse_runs, runs_to_json
from chains.simulation.simulator import SimulatedChatModel, SimulatedRateLimitError
from chains.timing import CSV_COLUMNS, RunRecord

LOCALES = Path(__file__).resolve().parents[3] / "ui" / "locales"
TOPIC = "ice cream"


def fast() -> SimulatedChatModel:
    """A quick simulator whose tokens still come one by one (10 ms apart), with no jitter."""
    return SimulatedChatModel(ttft_s=0.02, tokens_per_s=100.0, jitter=0.0, seed=7)


def stream_of(shape_id: str) -> RunRecord:
    shape = SHAPES[shape_id]
    return run_stream(shape.build(fast()), TOPIC, chunks=shape.chunks, keys=shape.keys, meta=RunMeta(shape=shape_id))


class ModelStarts(BaseCallbackHandler):
    """Counts the model calls of a run, and the tags each had."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[list[str]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, *, tags: list[str] | None = None, **kwargs: Any) -> None:
        self.tags.append(list(tags or []))


# ------------------------------------------------------------------ the registry
def test_the_select_box_offers_the_seed_first_and_the_blocking_step_second() -> None:
    assert list(SHAPES)[:2] == ["seed", "blocking"]
    assert set(SHAPES) == {"seed", "blocking", "streaming", "branches", "retry", "fallback", "json"}
    assert shape_of("no such shape").id == "seed" and shape_of(None).id == "seed"


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_shape_has_its_name_and_its_point_in_both_languages(language: str) -> None:
    strings = tomllib.loads((LOCALES / f"{language}.toml").read_text(encoding="utf-8"))
    for shape in SHAPES.values():
        section, _, name = shape.label_key.partition(".")
        assert strings[section][name].strip()
        assert strings[section][shape.lesson_key.partition(".")[2]].strip()


def test_the_code_shown_is_the_code_that_runs() -> None:
    for shape in SHAPES.values():
        assert inspect.getsource(shape.build) in shape.code
        compile(shape.code, shape.id, "exec")
    assert "RunnableLambda(shout)" in SHAPES["blocking"].code and "return text.upper()" in SHAPES["blocking"].code
    assert "RunnableGenerator(shout_as_it_comes" in SHAPES["streaming"].code and "yield chunk.upper()" in SHAPES["streaming"].code
    assert ".with_retry(" in SHAPES["retry"].code and "fail_first_attempt" in SHAPES["retry"].code
    assert ".with_fallbacks([model])" in SHAPES["fallback"].code
    assert "JsonOutputParser()" in SHAPES["json"].code and "RunnableParallel(joke=" in SHAPES["branches"].code


# ------------------------------------------------------------------ what each stream yields
@pytest.mark.parametrize("shape_id", ["seed", "streaming", "branches", "fallback", "json"])
def test_a_streaming_shape_yields_many_chunks_and_the_same_answer_as_invoke(shape_id: str) -> None:
    record = stream_of(shape_id)
    call = record.calls[0]
    assert call.ok, call.error
    assert len(call.chunks) > 5
    assert record.shape == shape_id
    invoked = run_invoke(SHAPES[shape_id].build(fast()), TOPIC).calls[0]
    assert invoked.output == call.output
    verdict = shape_stream_verdict(record)
    assert verdict is not None and verdict.key == "chain_verdicts.streams" and verdict.good


def test_the_blocking_step_yields_one_chunk_at_the_end_and_its_verdict_says_so() -> None:
    record = stream_of("blocking")
    call = record.calls[0]
    assert len(call.chunks) == 1
    assert call.output == run_invoke(SHAPES["seed"].build(fast()), TOPIC).outputs[0].upper()
    assert call.first_token_s == call.chunks[-1][0], "the first token is the last"
    verdict = shape_stream_verdict(record)
    assert verdict is not None and verdict.key == "chain_verdicts.blocked" and not verdict.good
    assert verdict.values["share"] >= 0.9 and verdict.values["chunks"] == 1


def test_the_branches_stream_interleaves_the_two_keys() -> None:
    chain = SHAPES["branches"].build(fast())
    keys = [next(iter(chunk)) for chunk in chain.stream(TOPIC)]
    assert set(keys) == {"joke", "haiku"}
    first_haiku, last_joke = keys.index("haiku"), len(keys) - 1 - keys[::-1].index("joke")
    assert first_haiku < last_joke, "a haiku chunk came before the joke's last one"


def test_the_json_stream_is_the_object_parsed_so_far_growing() -> None:
    chain = SHAPES["json"].build(fast())
    objects = list(chain.stream(TOPIC))
    assert len(objects) > 5
    assert all(isinstance(value, dict) for value in objects)
    assert set(objects[-1]) == {"setup", "punchline"}
    setups = [value.get("setup", "") for value in objects]
    assert all(later.startswith(earlier) for earlier, later in zip(setups, setups[1:]))
    assert chain.invoke(TOPIC) == objects[-1]


def test_keyed_pieces_reach_on_piece_with_their_key() -> None:
    pieces: list[tuple[str, str]] = []
    shape = SHAPES["branches"]
    record = run_stream(shape.build(fast()), TOPIC, chunks=shape.chunks, keys=shape.keys, on_piece=lambda _, key, text, __: pieces.append((key, text)))
    answer = json.loads(record.calls[0].output)
    assert list(answer) == ["joke", "haiku"], "the answer keeps invoke's key order"
    for key in ("joke", "haiku"):
        assert "".join(text for piece_key, text in pieces if piece_key == key) == answer[key]


# ------------------------------------------------------------------ retry and fallback
def test_the_injected_failure_fails_exactly_the_first_attempt_and_with_retry_recovers_invoke() -> None:
    starts = ModelStarts()
    answer = SHAPES["retry"].build(fast()).invoke(TOPIC, {"callbacks": [starts]})
    assert answer == run_invoke(SHAPES["seed"].build(fast()), TOPIC).outputs[0]
    assert len(starts.tags) == 2
    assert not any(tag.startswith("retry:attempt:") for tag in starts.tags[0])
    assert "retry:attempt:2" in starts.tags[1]
    record = run_batch(SHAPES["retry"].build(fast()), ["a", "b", "c"], meta=RunMeta(shape="retry"))
    assert record.error_count == 0 and [call.retries for call in record.calls] == [1, 1, 1]


def test_the_failure_switch_without_a_retry_always_fails() -> None:
    model = fast().model_copy(update={"fail_first_attempt": True})
    for _ in range(3):
        with pytest.raises(SimulatedRateLimitError):
            model.invoke([HumanMessage("Tell me a short joke about x")])


def test_with_retry_does_not_retry_a_stream_and_the_verdict_says_so() -> None:
    """LangChain's RunnableRetry has no ``transform``: ``stream`` goes to the model once (langchain#11551 was not merged)."""
    record = stream_of("retry")
    call = record.calls[0]
    assert not call.ok and call.error_kind == "rate_limit" and not call.chunks
    verdict = shape_stream_verdict(record)
    assert verdict is not None and verdict.key == "chain_verdicts.retry_not_in_stream"
    invoked = run_invoke(SHAPES["retry"].build(fast()), TOPIC, meta=RunMeta(shape="retry"))
    assert invoked.calls[0].ok and invoked.calls[0].retries == 1
    both = invoke_verdict([invoked, record])
    assert both is not None and both.key == "chain_verdicts.retry_invoke_not_stream"


def test_the_fallback_answers_from_the_second_model() -> None:
    starts = ModelStarts()
    chain = SHAPES["fallback"].build(fast())
    assert chain.invoke(TOPIC, {"callbacks": [starts]}) == run_invoke(SHAPES["seed"].build(fast()), TOPIC).outputs[0]
    assert len(starts.tags) == 2


# ------------------------------------------------------------------ the step view
EXPECTED_TOP_LEVEL = {
    "seed": ["RunnableParallel<topic>", "ChatPromptTemplate", "SimulatedChatModel", "StrOutputParser"],
    "blocking": ["RunnableParallel<topic>", "ChatPromptTemplate", "SimulatedChatModel", "StrOutputParser", "shout"],
    "streaming": ["RunnableParallel<topic>", "ChatPromptTemplate", "SimulatedChatModel", "StrOutputParser", "shout_as_it_comes"],
    "branches": ["RunnableSequence", "RunnableSequence"],
    "retry": ["RunnableParallel<topic>", "ChatPromptTemplate", "SimulatedChatModel"],
    "fallback": ["RunnableParallel<topic>", "ChatPromptTemplate", "RunnableWithFallbacks", "StrOutputParser"],
    "json": ["RunnableParallel<topic>", "ChatPromptTemplate", "SimulatedChatModel", "JsonOutputParser"],
}


@pytest.mark.parametrize("shape_id", list(SHAPES))
def test_the_step_view_traces_each_shapes_runnables(shape_id: str) -> None:
    trace = trace_steps(SHAPES[shape_id].build(fast()), TOPIC)
    assert [step.name for step in trace.top_level()] == EXPECTED_TOP_LEVEL[shape_id]
    assert trace.ok == (shape_id != "retry")


def test_the_blocking_step_is_where_the_chunks_stop() -> None:
    trace = trace_steps(SHAPES["blocking"].build(fast()), TOPIC)
    shout = trace.top_level()[-1]
    assert shout.chunks_in > 5 and shout.chunks_out == 1
    parser = trace.top_level()[-2]
    assert parser.chunks_out > 5
    verdict = trace_verdict(trace, "blocking")
    assert verdict is not None and verdict.key == "chain_verdicts.trace_blocked" and verdict.values["step"] == "shout"
    assert trace_verdict(trace_steps(SHAPES["streaming"].build(fast()), TOPIC), "streaming") is None


def test_two_branches_run_two_model_calls_that_overlap_inside_one_call() -> None:
    trace = trace_steps(SHAPES["branches"].build(fast()), TOPIC)
    intervals = model_intervals(trace)
    assert len(intervals) == 2 and overlapped(intervals)
    verdict = trace_verdict(trace, "branches")
    assert verdict is not None and verdict.key == "chain_verdicts.trace_overlapped" and verdict.values["calls"] == 2


def test_the_fallback_trace_shows_the_failed_model_and_the_one_that_answered() -> None:
    trace = trace_steps(SHAPES["fallback"].build(fast()), TOPIC)
    fallbacks = trace.top_level()[2]
    first, second = trace.children(fallbacks)
    assert not first.finished and second.finished and second.chunks_out > 5
    assert first.end_s == second.start_s, "the failed model ends where the second one takes over"
    assert trace.top_level()[3].chunks_in == second.chunks_out
    verdict = trace_verdict(trace, "fallback")
    assert verdict is not None and verdict.key == "chain_verdicts.trace_recovered" and verdict.values == {"attempts": 2, "failed": 1}


def test_the_retry_trace_shows_the_one_failed_attempt() -> None:
    trace = trace_steps(SHAPES["retry"].build(fast()), TOPIC)
    models = [step for step in trace.steps if step.kind == "model"]
    assert len(models) == 1 and not models[0].finished
    assert trace.error is not None and trace.error.kind == "rate_limit"
    verdict = trace_verdict(trace, "retry")
    assert verdict is not None and verdict.key == "chain_verdicts.trace_retry_not_in_stream"


# ------------------------------------------------------------------ the simulator's prompts, the reader, the records
def test_the_simulator_answers_a_json_prompt_in_json_and_a_haiku_prompt_in_three_lines() -> None:
    model = fast()
    answer = json.loads(model.invoke([HumanMessage(JSON_JOKE_PROMPT.format(topic="고양이"))]).content)
    assert set(answer) == {"setup", "punchline"} and "고양이" in answer["setup"]
    haiku = model.invoke([HumanMessage("Write a haiku about penguins")]).content
    assert len(haiku.splitlines()) == 3 and "penguins" in haiku


def test_the_reader_turns_partial_objects_into_new_text_per_field() -> None:
    reader = ChunkReader("partial_json", ("setup", "punchline"))
    assert reader.read({}) == []
    assert reader.read({"setup": "Why"}) == [("setup", "Why")]
    assert reader.read({"setup": "Why did"}) == [("setup", " did")]
    assert reader.read({"setup": "Why did", "punchline": "It"}) == [("punchline", "It")]
    assert json.loads(reader.answer()) == {"setup": "Why did", "punchline": "It"}
    assert answer_text({"a": "b"}) == answer_text(json.loads(answer_text({"a": "b"})))
    text = ChunkReader()
    assert text.read("Why") == [("", "Why")] and text.read("") == [] and text.answer() == "Why"


def test_the_shape_is_recorded_exported_and_imported_only_from_the_allow_list() -> None:
    record = stream_of("blocking")
    assert record.to_rows()[0]["shape"] == "blocking" and "shape" in CSV_COLUMNS
    assert parse_runs(runs_to_json([record]))[0].shape == "blocking"
    assert RunRecord.from_dict({k: v for k, v in record.to_dict().items() if k != "shape"}).shape == "seed"
    document = json.loads(runs_to_json([record]))
    for hostile in ("<script>", "Seed", "x" * 500, 3):
        document["runs"][0]["shape"] = hostile
        with pytest.raises(ExchangeError) as refused:
            parse_runs(json.dumps(document))
        assert refused.value.reason in ("unknown_shape", "schema", "too_long")
