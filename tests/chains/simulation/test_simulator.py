"""The simulated chat model: seeded, bilingual, realistic latency, injected failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage

import chains.simulation.simulator
from chains.errors import classify_error
from chains.simulation.joke_book import _has_final_consonant
from chains.simulation.simulator import (
    PROFILES,
    SimulatedChatModel,
    SimulatedConnectionError,
    SimulatedRateLimitError,
)
from chains.simulation.tokens import contains_korean, count_tokens
from tests.call_structure import RendezvousChatModel

PROMPT = "Tell me a short joke about {topic}"


def fast_model(**overrides: Any) -> SimulatedChatModel:
    """A simulator quick enough for functional tests."""
    fields: dict[str, Any] = {"ttft_s": 0.02, "tokens_per_s": 2000.0, "jitter": 0.1, "seed": 7}
    fields.update(overrides)
    return SimulatedChatModel(**fields)


def ask(topic: str) -> str:
    return PROMPT.format(topic=topic)


def plan_of(model: SimulatedChatModel, topic: str):
    return model._plan([HumanMessage(ask(topic))])


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, float]]]:
    """A fake clock for the simulator: its ``time.sleep(s)`` calls are recorded as ``("sleep", s)``, not slept.

    The fake ``time.monotonic()`` moves only by the recorded sleeps, so the
    simulator's deadlines see no real time pass. Only the simulator's own
    reference to ``time`` is replaced, so nothing else in the process (LangChain,
    pytest) is affected. A test may append its own events to the same list to
    check their order against the sleeps.
    """
    events: list[tuple[str, float]] = []
    fake_time = SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    slept = [0.0]

    def sleep(seconds: float) -> None:
        events.append(("sleep", seconds))
        slept[0] += seconds

    fake_time.sleep = sleep
    fake_time.monotonic = lambda: 1000.0 + slept[0]
    monkeypatch.setattr(chains.simulation.simulator, "time", fake_time)
    yield events


def join_chunks(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


# ------------------------------------------------------------------ seeding
@pytest.mark.parametrize("topic", ["cats", "ice cream", "고양이", "아이스크림"])
def test_same_seed_and_topic_give_same_text_and_latency(topic: str) -> None:
    first, second = plan_of(fast_model(seed=11), topic), plan_of(fast_model(seed=11), topic)
    assert first.tokens == second.tokens
    assert first.ttft_s == second.ttft_s
    assert first.gaps_s == second.gaps_s


def test_same_seed_gives_same_invoke_output() -> None:
    a = fast_model(seed=5).invoke(ask("penguins")).content
    b = fast_model(seed=5).invoke(ask("penguins")).content
    assert a == b


def test_different_seeds_may_differ() -> None:
    topics = ["cats", "dogs", "pizza", "robots", "고양이", "바다"]
    plans_a = [plan_of(fast_model(seed=1), topic) for topic in topics]
    plans_b = [plan_of(fast_model(seed=2), topic) for topic in topics]
    differences = [
        (a.tokens != b.tokens) or (a.ttft_s != b.ttft_s) for a, b in zip(plans_a, plans_b, strict=True)
    ]
    assert any(differences)


def test_asking_again_gives_the_same_reply() -> None:
    """One topic, one answer: a second call must not get another joke (issue 12)."""
    model = fast_model(seed=3)
    replies = {model.invoke(ask("weather")).content for _ in range(6)}
    assert len(replies) == 1


def test_profiles_build_models() -> None:
    for name, profile in PROFILES.items():
        model = SimulatedChatModel.from_profile(name, seed=9)
        assert model.ttft_s == profile.ttft_s
        assert model.tokens_per_s == profile.tokens_per_s
        assert model.seed == 9


# ----------------------------------------------------------------- language
@pytest.mark.parametrize("seed", range(6))
def test_english_topic_gives_english_joke(seed: int) -> None:
    text = fast_model(seed=seed).invoke(ask("ice cream")).content
    assert "ice cream" in text
    assert not contains_korean(text)


@pytest.mark.parametrize(
    ("topic", "batchim"),
    [("고양이", False), ("강아지", False), ("아이스크림", True), ("책", True), ("바다", False), ("사람", True)],
)
@pytest.mark.parametrize("seed", range(4))
def test_korean_topic_gives_korean_joke_with_correct_particle(topic: str, batchim: bool, seed: int) -> None:
    text = fast_model(seed=seed).invoke(ask(topic)).content
    assert contains_korean(text)
    assert _has_final_consonant(topic) is batchim
    subject = ("이", "은") if batchim else ("가", "는")
    wrong = ("가", "는") if batchim else ("이", "은")
    assert any(text.startswith(topic + particle) for particle in subject), text
    assert not any(text.startswith(topic + particle) for particle in wrong), text


# ------------------------------------------------------------------ latency
def test_invoke_time_is_ttft_plus_tokens_over_speed(recorded_sleeps: list[tuple[str, float]]) -> None:
    ttft, speed = 0.15, 100.0
    model = SimulatedChatModel(ttft_s=ttft, tokens_per_s=speed, jitter=0.0, seed=1)
    message = model.invoke(ask("cats"))
    tokens = message.usage_metadata["output_tokens"]
    assert tokens > 5
    assert sum(seconds for _, seconds in recorded_sleeps) == pytest.approx(ttft + (tokens - 1) / speed)


def test_jitter_keeps_ttft_positive_and_near_the_mean() -> None:
    model = SimulatedChatModel(ttft_s=0.4, tokens_per_s=60, jitter=0.25, seed=4)
    ttfts = [plan_of(model, f"topic {i}").ttft_s for i in range(200)]
    assert min(ttfts) >= 0.4 * 0.3
    assert 0.3 < sum(ttfts) / len(ttfts) < 0.5
    assert len(set(ttfts)) > 100


# ---------------------------------------------------------------- streaming
def test_stream_yields_many_chunks_that_join_to_the_invoke_output() -> None:
    streamed = list(fast_model(seed=21).stream(ask("ice cream")))
    invoked = fast_model(seed=21).invoke(ask("ice cream")).content
    texts = [chunk.content for chunk in streamed if chunk.content]
    assert len(texts) >= 10
    assert "".join(texts) == invoked
    assert join_chunks(streamed).content == invoked


def test_korean_stream_joins_to_the_invoke_output() -> None:
    streamed = list(fast_model(seed=8).stream(ask("아이스크림")))
    invoked = fast_model(seed=8).invoke(ask("아이스크림")).content
    assert "".join(chunk.content for chunk in streamed) == invoked
    assert len([chunk for chunk in streamed if chunk.content]) >= 10


def test_stream_sleeps_between_chunks(recorded_sleeps: list[tuple[str, float]]) -> None:
    model = SimulatedChatModel(ttft_s=0.1, tokens_per_s=100, jitter=0.0, seed=2)
    events = recorded_sleeps
    for chunk in model.stream(ask("dogs")):
        if chunk.content:
            events.append(("chunk", 0.0))
    kinds = [kind for kind, _ in events]
    # The TTFT is slept before the first chunk, then one token gap before every other chunk.
    assert events[0] == ("sleep", pytest.approx(0.1))
    assert kinds[1] == "chunk"
    assert kinds[1:] == ["chunk"] + ["sleep", "chunk"] * (kinds.count("chunk") - 1)
    assert all(seconds == pytest.approx(1 / 100) for kind, seconds in events[2:] if kind == "sleep")


def test_ainvoke_and_astream_work() -> None:
    async def go() -> tuple[str, list[str]]:
        invoked = await fast_model(seed=13).ainvoke(ask("coffee"))
        chunks = [chunk.content async for chunk in fast_model(seed=13).astream(ask("coffee"))]
        return invoked.content, chunks

    invoked, chunks = asyncio.run(go())
    assert "coffee" in invoked
    assert "".join(chunks) == invoked
    assert len([c for c in chunks if c]) >= 10


def test_ainvoke_runs_concurrently_on_one_loop() -> None:
    # The calls wait for each other (a barrier), so a slow start cannot serialize them.
    model = RendezvousChatModel(rendezvous=5, ttft_s=0.05, tokens_per_s=1000, jitter=0.0, seed=1)

    async def go() -> list[Any]:
        return await asyncio.gather(*(model.ainvoke(ask(f"topic {i}")) for i in range(5)))

    answers = asyncio.run(go())
    assert len(answers) == 5 and all(answer.content for answer in answers)
    assert model.peak_together == 5


def test_usage_metadata_on_invoke_and_stream() -> None:
    message = fast_model().invoke(ask("trains"))
    usage = message.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] == count_tokens(ask("trains"))
    assert usage["output_tokens"] == count_tokens(message.content)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert message.response_metadata["finish_reason"] == "stop"

    streamed = join_chunks(list(fast_model().stream(ask("trains"))))
    assert streamed.usage_metadata is not None
    assert streamed.usage_metadata["output_tokens"] == count_tokens(streamed.content)
    assert streamed.response_metadata.get("finish_reason") == "stop"


# ----------------------------------------------------------------- failures
def test_failure_rate_one_raises_rate_limit() -> None:
    model = fast_model(failure_rate=1.0)
    with pytest.raises(SimulatedRateLimitError) as caught:
        model.invoke(ask("cats"))
    assert caught.value.status_code == 429
    assert classify_error(caught.value).kind == "rate_limit"
    with pytest.raises(SimulatedRateLimitError):
        list(model.stream(ask("cats")))
    with pytest.raises(SimulatedRateLimitError):
        asyncio.run(model.ainvoke(ask("cats")))


def test_failure_rate_zero_never_fails() -> None:
    model = fast_model(ttft_s=0.001, tokens_per_s=100000, failure_rate=0.0)
    for i in range(20):
        model.invoke(ask(f"topic {i}"))


def test_max_in_flight_refuses_with_429() -> None:
    # The three calls meet first (a barrier), then race for the one slot, which the
    # winner holds for ~0.5 s: the other two surely arrive while it does.
    model = RendezvousChatModel(rendezvous=3, ttft_s=0.5, tokens_per_s=1000, jitter=0.0, seed=1, max_in_flight=1)
    results = model.batch([ask("a"), ask("b"), ask("c")], config={"max_concurrency": 3}, return_exceptions=True)
    errors = [result for result in results if isinstance(result, Exception)]
    assert len(errors) >= 1
    assert all(isinstance(error, SimulatedRateLimitError) for error in errors)
    assert all(error.status_code == 429 for error in errors)
    assert "concurrent" in str(errors[0])
    assert len(errors) < len(results)
    assert model.peak_in_flight == 1


def test_max_in_flight_allows_sequential_calls() -> None:
    model = fast_model(max_in_flight=1)
    for topic in ("a", "b", "c"):
        model.invoke(ask(topic))
    assert model.peak_in_flight == 1


def test_interrupted_stream_ends_without_finish_reason() -> None:
    full = "".join(plan_of(fast_model(seed=4), "cats").tokens)
    chunks = list(fast_model(seed=4, interrupt_rate=1.0).stream(ask("cats")))
    merged = join_chunks(chunks)
    assert "finish_reason" not in merged.response_metadata
    assert merged.content
    assert full.startswith(merged.content)
    assert len(merged.content) < len(full)
    assert merged.usage_metadata["output_tokens"] == count_tokens(merged.content)


def test_interrupted_astream_ends_without_finish_reason() -> None:
    async def go() -> AIMessageChunk:
        chunks = [chunk async for chunk in fast_model(seed=4, interrupt_rate=1.0).astream(ask("cats"))]
        return join_chunks(chunks)

    merged = asyncio.run(go())
    assert "finish_reason" not in merged.response_metadata
    assert merged.content


def test_interrupted_invoke_raises_connection_error() -> None:
    with pytest.raises(SimulatedConnectionError) as caught:
        fast_model(interrupt_rate=1.0).invoke(ask("cats"))
    assert classify_error(caught.value).kind == "interrupted"


# -------------------------------------------------------------- long output
@pytest.mark.parametrize("topic", ["ice cream", "아이스크림"])
def test_min_output_tokens_makes_long_replies_with_paragraphs(topic: str) -> None:
    model = fast_model(ttft_s=0.001, tokens_per_s=100000, min_output_tokens=200)
    text = model.invoke(ask(topic)).content
    assert count_tokens(text) >= 200
    paragraphs = text.split("\n\n")
    assert len(paragraphs) >= 8
    assert all(paragraph.strip() for paragraph in paragraphs)
    short = fast_model(ttft_s=0.001, tokens_per_s=100000).invoke(ask(topic)).content
    assert count_tokens(short) < 60


# -------------------------------------------------------------- answer shapes
@pytest.mark.parametrize("topic", ["ice cream", "아이스크림"])
def test_output_shapes_lay_out_the_same_jokes(topic: str) -> None:
    def reply(shape: str) -> str:
        model = fast_model(ttft_s=0.001, tokens_per_s=100000, min_output_tokens=300, output_shape=shape)
        return model.invoke(ask(topic)).content

    paragraph, listed, code = reply("paragraph"), reply("list"), reply("code")
    assert "\n" not in paragraph and count_tokens(paragraph) >= 300
    lines = listed.split("\n")
    assert len(lines) >= 8 and all(line.startswith("- ") for line in lines)
    assert code.startswith("```python\n") and code.endswith("\n```") and code.count("```") == 2
    assert count_tokens(code) >= 300
    # The default shape is unchanged: paragraphs separated by blank lines.
    assert reply("paragraphs").count("\n\n") >= 8


def test_unknown_output_shape_is_refused() -> None:
    with pytest.raises(ValueError):
        fast_model(output_shape="poem").invoke(ask("cats"))
