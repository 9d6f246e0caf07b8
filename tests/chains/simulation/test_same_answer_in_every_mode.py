"""One topic, one answer: the simulator's reply never depends on the mode or the call's position."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from chains.joke import JOKE_PROMPT, build_joke_chain
from chains.modes import (
    RunMeta,
    run_abatch,
    run_ainvoke,
    run_astream,
    run_batch,
    run_invoke,
    run_loop,
    run_race,
    run_stream,
)
from chains.simulation.joke_book import write_joke
from chains.simulation.simulator import SimulatedChatModel
from chains.simulation.tokens import count_tokens

META = RunMeta(provider="simulator", model="simulated-test")
TOPICS = ["ice cream", "chocolate", "vanilla", "아이스크림", "고양이"]


def fast(**overrides: Any) -> SimulatedChatModel:
    fields: dict[str, Any] = {"ttft_s": 0.01, "tokens_per_s": 4000.0, "jitter": 0.3, "seed": 42}
    fields.update(overrides)
    return SimulatedChatModel(**fields)


def outputs_by_mode(chain: Any, topics: list[str]) -> dict[str, list[str]]:
    """Every mode's answers for ``topics``, all on the same chain (and the same model object)."""
    return {
        "invoke": [run_invoke(chain, topic, meta=META).outputs[0] for topic in topics],
        "loop": run_loop(chain, topics, meta=META).outputs,
        "batch": run_batch(chain, topics, meta=META).outputs,
        "stream": [run_stream(chain, topic, meta=META).outputs[0] for topic in topics],
        "ainvoke": [asyncio.run(run_ainvoke(chain, topic, meta=META)).outputs[0] for topic in topics],
        "abatch": asyncio.run(run_abatch(chain, topics, meta=META)).outputs,
        "astream": asyncio.run(run_astream(chain, topics, meta=META)).outputs,
    }


@pytest.mark.parametrize("min_tokens", [None, 120])
def test_every_mode_gives_the_same_text_for_a_topic(min_tokens: int | None) -> None:
    chain = build_joke_chain(fast(min_output_tokens=min_tokens))
    answers = outputs_by_mode(chain, TOPICS)
    reference = answers["invoke"]
    assert all(reference), reference
    for mode, texts in answers.items():
        assert texts == reference, mode
        assert [count_tokens(text) for text in texts] == [count_tokens(text) for text in reference], mode


def test_asking_the_same_topic_again_gives_the_same_answer_and_planned_latency() -> None:
    model = fast()
    prompt = [HumanMessage(JOKE_PROMPT.format(topic="ice cream"))]
    plans = [model._plan(prompt) for _ in range(5)]
    assert len({"".join(plan.tokens) for plan in plans}) == 1
    assert len({(plan.ttft_s, tuple(plan.gaps_s)) for plan in plans}) == 1


def test_a_loop_over_one_repeated_topic_repeats_the_answer() -> None:
    record = run_loop(build_joke_chain(fast()), ["cats"] * 4, meta=META)
    assert len(set(record.outputs)) == 1


def test_race_gives_invoke_and_stream_the_same_answer() -> None:
    invoke_record, stream_record = run_race(build_joke_chain(fast()), "아이스크림", meta=META)
    assert invoke_record.outputs == stream_record.outputs
    assert invoke_record.calls[0].output


def test_failures_are_per_topic_and_the_same_in_every_mode() -> None:
    chain = build_joke_chain(fast(failure_rate=0.5, seed=3))
    topics = [f"topic {i}" for i in range(10)]
    loop = run_loop(chain, topics, meta=META)
    batch = run_batch(chain, topics, max_concurrency=10, meta=META)
    failed_loop = [call.ok for call in loop.calls]
    assert not all(failed_loop) and any(failed_loop), "seed 3 fails some of ten topics"
    assert [call.ok for call in batch.calls] == failed_loop


def test_seed_changes_the_answer_for_some_topics() -> None:
    topics = [f"topic {i}" for i in range(8)]
    first = run_loop(build_joke_chain(fast(seed=1)), topics, meta=META).outputs
    second = run_loop(build_joke_chain(fast(seed=2)), topics, meta=META).outputs
    assert first != second


@pytest.mark.parametrize("stop", [["\n"], ["?"], ["zzz", "\n\n"]])
def test_stop_cuts_the_reply_at_the_first_stop_sequence(stop: list[str]) -> None:
    model = fast()
    full = model.invoke(JOKE_PROMPT.format(topic="ice cream")).content
    cut = model.invoke(JOKE_PROMPT.format(topic="ice cream"), stop=stop).content
    streamed = "".join(str(chunk.content) for chunk in model.stream(JOKE_PROMPT.format(topic="ice cream"), stop=stop))
    first = min(full.find(s) for s in stop if s in full)
    assert cut == full[:first] == streamed
    assert not any(s in cut for s in stop)


def test_stop_that_never_occurs_keeps_the_reply() -> None:
    model = fast()
    prompt = JOKE_PROMPT.format(topic="cats")
    assert model.invoke(prompt, stop=["@@@"]).content == model.invoke(prompt).content


@pytest.mark.parametrize("topic", ["the moon", "The Moon", "a cat", "an owl"])
@pytest.mark.parametrize("variant", range(16))
def test_a_leading_article_is_not_doubled(topic: str, variant: int) -> None:
    text = write_joke(topic, variant).lower()
    for doubled in ("the the ", "the a ", "the an ", " a a ", " a an "):
        assert doubled not in text, text
    assert topic.split(" ", 1)[1].lower() in text


def test_a_word_that_only_starts_like_an_article_is_kept() -> None:
    assert "theory" in write_joke("theory", 0).lower()
    assert "anchors" in write_joke("anchors", 0).lower()
