"""The mode runners on the simulator: real concurrency, consistent timings, kept failures.

Timing assertions use generous ratios against a reference call measured in the
same test, never absolute tight times: the test machine may have two noisy cores.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from chains.joke import JOKE_PROMPT, build_joke_chain
from chains.modes import (
    RaceEvent,
    RunMeta,
    default_pool_size,
    effective_concurrency,
    run_abatch,
    run_ainvoke,
    run_astream,
    run_batch,
    run_invoke,
    run_loop,
    run_race,
    run_stream,
)
from chains.simulator import SimulatedChatModel
from chains.timing import CallTiming, RunRecord

EPS = 0.02  # seconds of slack between a callback's clock reading and the runner's
TOPICS8 = ["cats", "dogs", "pizza", "robots", "coffee", "trains", "고양이", "아이스크림"]
META = RunMeta(provider="simulator", model="simulated-test")


def model(**overrides: Any) -> SimulatedChatModel:
    """A simulator whose calls (about 0.3 s) are dominated by a steady TTFT."""
    fields: dict[str, Any] = {"ttft_s": 0.25, "tokens_per_s": 400.0, "jitter": 0.05, "seed": 42}
    fields.update(overrides)
    return SimulatedChatModel(**fields)


def fast(**overrides: Any) -> SimulatedChatModel:
    """A simulator whose calls take about 0.1 s."""
    fields: dict[str, Any] = {"ttft_s": 0.05, "tokens_per_s": 400.0, "jitter": 0.05, "seed": 42}
    fields.update(overrides)
    return SimulatedChatModel(**fields)


def reference_invoke_s(chain: Any, prefix: str = "reference") -> float:
    """The median wall time of three single invokes, on topics no other run uses."""
    return statistics.median(run_invoke(chain, f"{prefix} {i}", meta=META).wall_s for i in range(3))


def assert_consistent(record: RunRecord) -> None:
    """Every call's times are ordered and inside the run's wall time."""
    assert record.n == len(record.calls)
    for call in record.calls:
        assert call.start_s >= 0.0, call
        assert call.start_s <= call.end_s, call
        assert call.end_s <= record.wall_s + EPS, (call, record.wall_s)
        if call.first_token_s is not None:
            assert call.start_s <= call.first_token_s <= call.end_s + EPS, call
            chunk_times = [t for t, _ in call.chunks]
            assert chunk_times == sorted(chunk_times)
            assert chunk_times[0] == call.first_token_s
            assert chunk_times[-1] <= call.end_s + EPS


def assert_sequential(calls: list[CallTiming]) -> None:
    ordered = sorted(calls, key=lambda call: call.index)
    for previous, following in zip(ordered, ordered[1:]):
        assert previous.end_s <= following.start_s + EPS, (previous, following)


def assert_overlapping(calls: list[CallTiming]) -> None:
    assert max(call.start_s for call in calls) < min(call.end_s for call in calls)


# -------------------------------------------------------------- loop vs batch
def test_batch_is_about_one_call_and_loop_is_n_calls() -> None:
    chain = build_joke_chain(model())
    reference = reference_invoke_s(chain)

    before = datetime.now(UTC).replace(microsecond=0)
    loop = run_loop(chain, TOPICS8, meta=META)
    batch = run_batch(chain, TOPICS8, max_concurrency=8, meta=META)

    assert loop.error_count == 0 and batch.error_count == 0
    assert loop.wall_s > 5 * reference, (loop.wall_s, reference)
    assert batch.wall_s < 1.5 * reference, (batch.wall_s, reference)
    assert loop.pool_size == 1
    assert batch.pool_size == 8
    assert batch.max_concurrency == 8
    # started_at is the start of the run (a loop of 8 takes seconds), not its end.
    assert timedelta(0) <= datetime.fromisoformat(loop.started_at) - before <= timedelta(seconds=1)


def test_batch_without_max_concurrency_uses_the_default_pool() -> None:
    sim = fast(ttft_s=0.1)
    chain = build_joke_chain(sim)
    record = run_batch(chain, TOPICS8, meta=META)
    pool = min(8, default_pool_size())
    assert record.pool_size == pool
    assert record.max_concurrency is None
    assert effective_concurrency(8, None) == pool
    assert sim.peak_in_flight <= pool
    assert record.error_count == 0


def test_batch_reports_results_in_the_callers_thread() -> None:
    caller = threading.get_ident()
    seen: list[tuple[int, int]] = []
    record = run_batch(
        build_joke_chain(fast()),
        TOPICS8[:4],
        max_concurrency=4,
        meta=META,
        on_result=lambda timing: seen.append((timing.index, threading.get_ident())),
    )
    assert sorted(index for index, _ in seen) == [0, 1, 2, 3]
    assert {thread for _, thread in seen} == {caller}
    assert [call.index for call in record.calls] == [0, 1, 2, 3]
    assert all(call.output for call in record.calls)


def test_loop_reports_each_call_in_order() -> None:
    seen: list[int] = []
    record = run_loop(build_joke_chain(fast()), TOPICS8[:3], meta=META, on_result=lambda t: seen.append(t.index))
    assert seen == [0, 1, 2]
    assert record.mode == "loop"
    assert record.input_tokens and record.output_tokens
    assert record.provider == "simulator" and record.model == "simulated-test"


# ---------------------------------------------------------------------- async
def test_abatch_concurrency_follows_max_concurrency() -> None:
    chain = build_joke_chain(model())
    reference = statistics.median(asyncio.run(run_ainvoke(chain, f"reference {i}", meta=META)).wall_s for i in range(3))

    wide = asyncio.run(run_abatch(chain, TOPICS8, max_concurrency=8, meta=META))
    narrow = asyncio.run(run_abatch(chain, [f"{topic} again" for topic in TOPICS8], max_concurrency=2, meta=META))

    assert wide.error_count == 0 and narrow.error_count == 0
    assert wide.wall_s < 1.6 * reference, (wide.wall_s, reference)
    assert 3.0 * reference < narrow.wall_s < 5.5 * reference, (narrow.wall_s, reference)
    assert wide.pool_size == 8 and narrow.pool_size == 2


def test_abatch_without_max_concurrency_is_unbounded() -> None:
    sim = fast()
    record = asyncio.run(run_abatch(build_joke_chain(sim), TOPICS8, meta=META))
    assert record.pool_size == 8
    assert sim.peak_in_flight == 8


def test_astream_streams_several_topics_concurrently() -> None:
    chain = build_joke_chain(model())
    single = asyncio.run(run_astream(chain, "reference topic", meta=META))
    streamed: dict[int, list[str]] = {}
    record = asyncio.run(
        run_astream(
            chain,
            ["cats", "고양이", "coffee"],
            meta=META,
            on_chunk=lambda index, text, _t: streamed.setdefault(index, []).append(text),
        )
    )
    assert record.wall_s < 1.5 * single.wall_s, (record.wall_s, single.wall_s)
    assert record.pool_size == 3
    assert_overlapping(record.calls)
    for call in record.calls:
        assert call.ok
        assert "".join(streamed[call.index]) == call.output
        assert len(call.chunks) >= 10
    # The streams interleave: every first token arrives before any stream ends.
    assert max(call.first_token_s for call in record.calls) < min(call.end_s for call in record.calls)


def test_astream_accepts_a_single_topic_string() -> None:
    record = asyncio.run(run_astream(build_joke_chain(fast()), "고양이", meta=META))
    assert record.n == 1
    assert record.calls[0].topic == "고양이"
    assert "고양이" in record.calls[0].output


# ------------------------------------------------------------------ streaming
def test_stream_gives_many_chunks_that_add_up_to_the_output() -> None:
    seen: list[tuple[int, str, float]] = []
    record = run_stream(build_joke_chain(fast(seed=5)), "ice cream", meta=META, on_chunk=lambda *a: seen.append(a))
    call = record.calls[0]
    invoked = build_joke_chain(fast(seed=5)).invoke("ice cream")

    assert len(call.chunks) >= 10
    assert "".join(text for _, text in call.chunks) == call.output == invoked
    assert [(text, t) for _, text, t in seen] == [(text, t) for t, text in call.chunks]
    assert call.first_token_s is not None
    assert call.first_token_s < call.end_s
    assert call.ttft_s is not None and call.ttft_s > 0
    assert call.ok and not call.interrupted
    assert call.output_tokens == len(call.chunks)


def test_interrupted_stream_is_marked_and_keeps_its_partial_text() -> None:
    topic = "cats"
    full = "".join(fast(seed=4)._plan([HumanMessage(JOKE_PROMPT.format(topic=topic))]).tokens)
    record = run_stream(build_joke_chain(fast(seed=4, interrupt_rate=1.0)), topic, meta=META)
    call = record.calls[0]
    assert call.interrupted
    assert call.error_kind == "interrupted"
    assert not call.ok
    assert record.error_count == 1
    assert call.output and full.startswith(call.output) and len(call.output) < len(full)


def test_interrupted_astream_is_marked_too() -> None:
    record = asyncio.run(run_astream(build_joke_chain(fast(interrupt_rate=1.0)), ["cats", "dogs"], meta=META))
    for call in record.calls:
        assert call.interrupted and call.error_kind == "interrupted"
        assert call.output


def test_failed_stream_records_its_error() -> None:
    record = run_stream(build_joke_chain(fast(failure_rate=1.0)), "cats", meta=META)
    call = record.calls[0]
    assert call.error_kind == "rate_limit"
    assert call.output == ""
    assert not call.interrupted


# -------------------------------------------------------------- consistency
def _run_mode(mode: str) -> RunRecord:
    chain = build_joke_chain(fast())
    topics = ["cats", "dogs", "고양이", "coffee"]
    if mode == "invoke":
        return run_invoke(chain, "cats", meta=META)
    if mode == "loop":
        return run_loop(chain, topics, meta=META)
    if mode == "batch":
        return run_batch(chain, topics, max_concurrency=4, meta=META)
    if mode == "stream":
        return run_stream(chain, "cats", meta=META)
    if mode == "ainvoke":
        return asyncio.run(run_ainvoke(chain, "cats", meta=META))
    if mode == "abatch":
        return asyncio.run(run_abatch(chain, topics, max_concurrency=4, meta=META))
    if mode == "astream":
        return asyncio.run(run_astream(chain, topics, meta=META))
    raise AssertionError(mode)


@pytest.mark.parametrize("mode", ["invoke", "loop", "batch", "stream", "ainvoke", "abatch", "astream"])
def test_recorded_timings_are_consistent(mode: str) -> None:
    record = _run_mode(mode)
    assert record.mode == mode
    assert record.error_count == 0
    assert all(call.output for call in record.calls)
    assert_consistent(record)
    streamed = mode in ("stream", "astream")
    assert all((call.first_token_s is not None) is streamed for call in record.calls)
    if mode == "loop":
        assert_sequential(record.calls)
    if mode in ("batch", "abatch", "astream"):
        assert_overlapping(record.calls)


# ------------------------------------------------------------------- failures
@pytest.mark.parametrize("runner", ["batch", "loop", "abatch"])
def test_partial_failure_keeps_the_other_results(runner: str) -> None:
    chain = build_joke_chain(fast(seed=3, failure_rate=0.5))
    if runner == "batch":
        record = run_batch(chain, TOPICS8, max_concurrency=8, meta=META)
    elif runner == "loop":
        record = run_loop(chain, TOPICS8, meta=META)
    else:
        record = asyncio.run(run_abatch(chain, TOPICS8, max_concurrency=8, meta=META))
    failed = [call for call in record.calls if call.error]
    succeeded = [call for call in record.calls if call.ok]
    assert failed, "expected some simulated 429s"
    assert succeeded, "expected some answers"
    assert len(failed) + len(succeeded) == 8
    assert record.error_count == len(failed)
    for call in failed:
        assert call.error_kind == "rate_limit"
        assert call.output == ""
        assert call.error.startswith("rate_limit:")
    for call in succeeded:
        assert call.output and call.error is None


def test_errors_are_scrubbed_of_secrets() -> None:
    class Leaky(SimulatedChatModel):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("bad key sk-test-SECRET123456 for user")

    meta = RunMeta(provider="openai", model="x", secrets=("SECRET123456",))
    record = run_invoke(build_joke_chain(Leaky(ttft_s=0.01)), "cats", meta=meta)
    assert record.calls[0].error
    assert "SECRET123456" not in record.calls[0].error
    assert "SECRET" not in repr(meta)


# ----------------------------------------------------------------------- race
def test_race_reports_a_chunk_before_invoke_is_done() -> None:
    events: list[RaceEvent] = []
    invoke_record, stream_record = run_race(build_joke_chain(model()), "penguins", meta=META, on_event=events.append)
    kinds = [event.kind for event in events]
    assert kinds.count("invoke_done") == 1
    assert kinds[0] == "chunk"
    assert kinds.index("chunk") < kinds.index("invoke_done")
    assert [event.t_s for event in events] == sorted(event.t_s for event in events)
    assert invoke_record.mode == "invoke" and stream_record.mode == "stream"
    assert invoke_record.calls[0].ok and stream_record.calls[0].ok
    assert 0.5 < invoke_record.wall_s / stream_record.wall_s < 2.0
    done = events[kinds.index("invoke_done")]
    assert done.text == invoke_record.outputs[0]
