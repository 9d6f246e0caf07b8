"""The mode runners on the simulator: real concurrency, consistent timings, kept failures.

No assertion here compares durations: the test machine may have two busy cores.
Concurrency is asserted on its structure instead: the simulator's peak number of
calls in flight, and how the calls' ``start_s``/``end_s`` intervals overlap
(``tests.call_structure``). Where a test needs every call of a wave in flight at
once, the model is a ``RendezvousChatModel``: its calls wait for each other (a
barrier with a generous timeout), so a busy machine that starts them slowly only
makes them wait longer, and only a runner that does not run them together fails.
"""

from __future__ import annotations

import asyncio
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
from chains.simulation.simulator import SimulatedChatModel
from chains.timing import RunRecord
from tests.call_structure import RendezvousChatModel, assert_all_overlap, assert_sequential, max_overlap, waves

EPS = 0.02  # slack for the order of a callback's clock reading and the runner's (not a duration)
TOPICS8 = ["cats", "dogs", "pizza", "robots", "coffee", "trains", "고양이", "아이스크림"]
META = RunMeta(provider="simulator", model="simulated-test")


def together(calls: int, **overrides: Any) -> RendezvousChatModel:
    """A fast simulator whose calls wait until ``calls`` of them are in flight together."""
    fields: dict[str, Any] = {"ttft_s": 0.05, "tokens_per_s": 400.0, "jitter": 0.0, "seed": 42}
    fields.update(overrides)
    return RendezvousChatModel(rendezvous=calls, **fields)


def fast(**overrides: Any) -> SimulatedChatModel:
    """A simulator whose calls take about 0.1 s."""
    fields: dict[str, Any] = {"ttft_s": 0.05, "tokens_per_s": 400.0, "jitter": 0.05, "seed": 42}
    fields.update(overrides)
    return SimulatedChatModel(**fields)


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


# -------------------------------------------------------------- loop vs batch
def test_batch_is_one_wave_and_loop_is_n_calls_in_a_row() -> None:
    loop_model, batch_model = fast(), together(8)

    before = datetime.now(UTC).replace(microsecond=0)
    loop = run_loop(build_joke_chain(loop_model), TOPICS8, meta=META)
    after_loop = datetime.now(UTC)
    batch = run_batch(build_joke_chain(batch_model), TOPICS8, max_concurrency=8, meta=META)

    assert loop.error_count == 0 and batch.error_count == 0
    assert_sequential(loop.calls, in_input_order=True)
    assert waves(loop.calls) == 8 and loop_model.peak_in_flight == 1
    assert_all_overlap(batch.calls)
    assert waves(batch.calls) == 1 and batch_model.peak_together == 8
    assert loop.pool_size == 1
    assert batch.pool_size == 8
    assert batch.max_concurrency == 8
    # started_at is the start of the run, not its end: the run's whole wall time fits after it
    # (10 ms for the two clocks, the system's and perf_counter; the loop itself takes seconds).
    started_at = datetime.fromisoformat(loop.started_at)
    latest_start = after_loop - timedelta(seconds=loop.wall_s) + timedelta(milliseconds=10)
    assert before <= started_at <= latest_start, (before, started_at, after_loop, loop.wall_s)


def test_batch_without_max_concurrency_uses_the_default_pool() -> None:
    pool = min(8, default_pool_size())
    sim = together(pool)
    chain = build_joke_chain(sim)
    record = run_batch(chain, TOPICS8, meta=META)
    assert record.pool_size == pool
    assert record.max_concurrency is None
    assert effective_concurrency(8, None) == pool
    assert sim.peak_together == pool
    assert sim.peak_in_flight <= pool
    assert max_overlap(record.calls) == pool
    # Fewer threads than calls: the calls that did not fit waited for a free thread.
    assert waves(record.calls) >= -(-8 // pool)
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


def test_a_streams_usage_is_summed_without_the_chain_steps_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """The usage handler reads the model's end only: the passthrough, prompt, parser and sequence events skip it."""
    from chains.modes import ModelUsage

    events: list[str] = []
    for name in ("on_chain_start", "on_chain_end", "on_llm_end"):
        real = getattr(ModelUsage, name)

        def counting(self: Any, *args: Any, _name: str = name, _real: Any = real, **kwargs: Any) -> Any:
            events.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(ModelUsage, name, counting)
    record = run_stream(build_joke_chain(fast()), "cats", meta=META)
    assert events == ["on_llm_end"]
    assert record.input_tokens and record.output_tokens and record.calls[0].output


# ---------------------------------------------------------------------- async
def test_abatch_concurrency_follows_max_concurrency() -> None:
    wide_model, narrow_model = together(8), together(2)

    wide = asyncio.run(run_abatch(build_joke_chain(wide_model), TOPICS8, max_concurrency=8, meta=META))
    narrow = asyncio.run(run_abatch(build_joke_chain(narrow_model), TOPICS8, max_concurrency=2, meta=META))

    assert wide.error_count == 0 and narrow.error_count == 0
    assert wide_model.peak_together == 8
    assert_all_overlap(wide.calls)
    assert narrow_model.peak_together == 2 and narrow_model.peak_in_flight <= 2
    assert max_overlap(narrow.calls) == 2
    assert waves(narrow.calls) >= 4, "8 calls, 2 at a time"
    assert wide.pool_size == 8 and narrow.pool_size == 2


def test_abatch_with_max_concurrency_one_runs_one_call_at_a_time() -> None:
    sim = fast()
    record = asyncio.run(run_abatch(build_joke_chain(sim), TOPICS8[:4], max_concurrency=1, meta=META))
    assert record.error_count == 0
    assert sim.peak_in_flight == 1
    assert max_overlap(record.calls) == 1 and waves(record.calls) == 4


def test_abatch_without_max_concurrency_is_unbounded() -> None:
    sim = together(8)
    record = asyncio.run(run_abatch(build_joke_chain(sim), TOPICS8, meta=META))
    assert record.pool_size == 8
    assert sim.peak_together == 8
    assert_all_overlap(record.calls)


def test_astream_streams_several_topics_concurrently() -> None:
    # 100 tokens/s: each stream lasts well over 0.1 s after its first token.
    sim = together(3, tokens_per_s=100.0)
    chain = build_joke_chain(sim)
    streamed: dict[int, list[str]] = {}
    record = asyncio.run(
        run_astream(
            chain,
            ["cats", "고양이", "coffee"],
            meta=META,
            on_chunk=lambda index, text, _t: streamed.setdefault(index, []).append(text),
        )
    )
    assert record.pool_size == 3
    assert sim.peak_together == 3
    assert_all_overlap(record.calls)
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
    # The concurrent modes' calls wait for each other, so that all four are surely in flight together.
    chain = build_joke_chain(together(4) if mode in ("batch", "abatch", "astream") else fast())
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
        assert_sequential(record.calls, in_input_order=True)
    if mode in ("batch", "abatch", "astream"):
        assert_all_overlap(record.calls)


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
    # Both calls start together (a rendezvous), then the first chunk comes 0.1 s in while
    # invoke needs the whole answer (about 1 s more at 20 tokens/s): a margin no load erases.
    sim = together(2, ttft_s=0.1, tokens_per_s=20.0)
    events: list[RaceEvent] = []
    invoke_record, stream_record = run_race(build_joke_chain(sim), "penguins", meta=META, on_event=events.append)
    kinds = [event.kind for event in events]
    assert kinds.count("invoke_done") == 1
    assert kinds[0] == "chunk"
    assert kinds.index("chunk") < kinds.index("invoke_done")
    assert [event.t_s for event in events] == sorted(event.t_s for event in events)
    assert invoke_record.mode == "invoke" and stream_record.mode == "stream"
    assert invoke_record.calls[0].ok and stream_record.calls[0].ok
    assert sim.peak_together == 2, "invoke and stream ran at the same time"
    assert stream_record.calls[0].first_token_s < stream_record.calls[0].end_s
    done = events[kinds.index("invoke_done")]
    assert done.text == invoke_record.outputs[0]


# ------------------------------------------------------------ the runners' hooks
def test_a_runner_refuses_a_hook_it_does_not_take() -> None:
    """``**hooks`` is typed (``RunHooks``/``StreamHooks``) and checked: a misspelt or wrong hook is an error, not ignored."""
    chain = build_joke_chain(fast())
    with pytest.raises(TypeError, match="on_chunk"):
        run_loop(chain, ["cats"], on_chunk=lambda *_: None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="on_reslut"):
        run_stream(chain, "cats", on_reslut=lambda *_: None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="on_chunk"):
        asyncio.run(run_abatch(chain, ["cats"], on_chunk=lambda *_: None))  # type: ignore[call-arg]


def test_every_hook_reaches_a_streaming_runner() -> None:
    """``meta``, ``on_chunk`` and ``on_result`` given as keywords all arrive, sync and async."""
    chain = build_joke_chain(fast())
    sync_chunks: list[str] = []
    sync_results: list[str] = []
    sync = run_stream(chain, "cats", meta=META, on_chunk=lambda _i, text, _t: sync_chunks.append(text), on_result=lambda c: sync_results.append(c.output))
    async_chunks: list[str] = []
    async_results: list[str] = []
    hooks: dict[str, Any] = {"on_chunk": lambda _i, text, _t: async_chunks.append(text), "on_result": lambda c: async_results.append(c.output)}
    together_ = asyncio.run(run_astream(chain, "cats", meta=META, **hooks))
    for record, chunks, results in ((sync, sync_chunks, sync_results), (together_, async_chunks, async_results)):
        assert record.model == META.model
        assert chunks and "".join(chunks) == record.outputs[0] == results[0]
