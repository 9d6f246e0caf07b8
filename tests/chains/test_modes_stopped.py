"""A run cut short from outside keeps what arrived: every runner hands over a record marked stopped.

Streamlit stops a script for a rerun by raising a ``BaseException`` subclass from
inside an element update, which is inside the runners' ``on_chunk``/``on_result``
callbacks. ``StopRun`` below plays that part; chains/ never sees Streamlit.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chains.joke import build_joke_chain
from chains.modes import (
    STOPPED_KIND,
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
from chains.simulation.simulator import SimulatedChatModel
from chains.timing import RunRecord

META = RunMeta(provider="simulator", model="simulated-test")
TOPICS = ["cats", "dogs", "pizza", "robots"]


class StopRun(BaseException):
    """Like Streamlit's StopException/RerunException: a BaseException, not an Exception."""


def chain(**overrides: Any) -> Any:
    fields: dict[str, Any] = {"ttft_s": 0.01, "tokens_per_s": 2000.0, "jitter": 0.0, "seed": 7, "min_output_tokens": 40}
    fields.update(overrides)
    return build_joke_chain(SimulatedChatModel(**fields))


def stop_after(count: int) -> Any:
    """A callback (any signature) that raises ``StopRun`` on its ``count``-th call."""
    seen: list[int] = []

    def callback(*_: Any) -> None:
        seen.append(1)
        if len(seen) >= count:
            raise StopRun

    return callback


def test_stream_stopped_mid_way_hands_over_the_text_so_far() -> None:
    kept: list[RunRecord] = []
    with pytest.raises(StopRun):
        run_stream(chain(), "cats", meta=META, on_chunk=stop_after(5), on_stopped=kept.append)
    assert len(kept) == 1
    record = kept[0]
    assert record.stopped and record.mode == "stream" and record.provider == "simulator"
    call = record.calls[0]
    assert len(call.chunks) == 5
    assert call.output == "".join(text for _, text in call.chunks) and call.output
    assert call.interrupted and call.error_kind == STOPPED_KIND and not call.ok
    assert call.end_s >= call.first_token_s >= call.start_s


def test_loop_stopped_after_two_calls_keeps_two_answers_and_marks_the_rest() -> None:
    kept: list[RunRecord] = []
    with pytest.raises(StopRun):
        run_loop(chain(), TOPICS, meta=META, on_result=stop_after(2), on_stopped=kept.append)
    record = kept[0]
    assert record.stopped and record.n == len(TOPICS)
    assert [call.ok for call in record.calls] == [True, True, False, False]
    assert all(call.output for call in record.calls[:2])
    assert all(call.error_kind == STOPPED_KIND and call.output == "" for call in record.calls[2:])
    assert all(call.end_s >= call.start_s for call in record.calls)


def test_batch_stopped_after_the_first_result_keeps_it() -> None:
    kept: list[RunRecord] = []
    with pytest.raises(StopRun):
        run_batch(chain(), TOPICS, max_concurrency=2, meta=META, on_result=stop_after(1), on_stopped=kept.append)
    record = kept[0]
    assert record.stopped and record.pool_size == 2
    assert sum(call.ok for call in record.calls) == 1
    assert sum(call.error_kind == STOPPED_KIND for call in record.calls) == len(TOPICS) - 1


def test_invoke_stopped_in_its_result_callback_is_complete_but_stopped() -> None:
    kept: list[RunRecord] = []
    with pytest.raises(StopRun):
        run_invoke(chain(), "cats", meta=META, on_result=stop_after(1), on_stopped=kept.append)
    assert kept[0].stopped and kept[0].mode == "invoke" and kept[0].calls[0].ok


def test_async_runners_hand_over_their_partial_records() -> None:
    kept: list[RunRecord] = []
    with pytest.raises(StopRun):
        asyncio.run(run_astream(chain(), TOPICS[:3], meta=META, on_chunk=stop_after(7), on_stopped=kept.append))
    with pytest.raises(StopRun):
        asyncio.run(run_abatch(chain(), TOPICS, meta=META, on_result=stop_after(2), on_stopped=kept.append))
    with pytest.raises(StopRun):
        asyncio.run(run_ainvoke(chain(), "cats", meta=META, on_result=stop_after(1), on_stopped=kept.append))
    astream, abatch, ainvoke = kept
    assert [record.mode for record in kept] == ["astream", "abatch", "ainvoke"]
    assert all(record.stopped for record in kept)
    # The other streams may each get a chunk in before gather() sees the stop.
    assert sum(len(call.chunks) for call in astream.calls) >= 7
    assert all(call.error_kind == STOPPED_KIND for call in astream.calls)
    assert all(call.output == "".join(text for _, text in call.chunks) for call in astream.calls)
    assert sum(call.ok for call in abatch.calls) == 2
    assert ainvoke.calls[0].ok


def test_race_hands_over_the_stream_side() -> None:
    kept: list[RunRecord] = []
    with pytest.raises(StopRun):
        run_race(chain(), "cats", meta=META, on_event=stop_after(3), on_stopped=kept.append)
    assert kept and kept[0].mode == "stream" and kept[0].stopped


def test_a_run_that_completes_is_not_stopped_and_calls_no_on_stopped() -> None:
    kept: list[RunRecord] = []
    record = run_stream(chain(), "cats", meta=META, on_stopped=kept.append)
    assert not kept and not record.stopped and record.calls[0].ok


def test_a_stopped_record_survives_a_dict_round_trip() -> None:
    kept: list[RunRecord] = []
    with pytest.raises(StopRun):
        run_stream(chain(), "cats", meta=META, on_chunk=stop_after(3), on_stopped=kept.append)
    again = RunRecord.from_dict(kept[0].to_dict())
    assert again.to_dict() == kept[0].to_dict()


class CountingChatModel(SimulatedChatModel):
    """The simulator, counting the tokens its stream actually produced."""

    produced: list[int] = []

    def _stream(self, *args: Any, **kwargs: Any) -> Any:
        for chunk in super()._stream(*args, **kwargs):
            self.produced.append(1)
            yield chunk

    async def _astream(self, *args: Any, **kwargs: Any) -> Any:
        async for chunk in super()._astream(*args, **kwargs):
            self.produced.append(1)
            yield chunk


def test_a_stopped_stream_stops_the_model_instead_of_reading_it_to_the_end() -> None:
    """LangChain drains a closed stream's input for tracing; a stopped run must end it at once."""
    model = CountingChatModel(ttft_s=0.0, tokens_per_s=5000.0, jitter=0.0, seed=7, min_output_tokens=400, produced=[])
    with pytest.raises(StopRun):
        run_stream(build_joke_chain(model), "cats", meta=META, on_chunk=stop_after(5), on_stopped=lambda _: None)
    assert len(model.produced) <= 7, f"the model went on for {len(model.produced)} tokens after the stop"


def test_stopped_async_streams_stop_their_models_too() -> None:
    model = CountingChatModel(ttft_s=0.0, tokens_per_s=5000.0, jitter=0.0, seed=7, min_output_tokens=400, produced=[])
    with pytest.raises(StopRun):
        asyncio.run(run_astream(build_joke_chain(model), TOPICS[:3], meta=META, on_chunk=stop_after(6), on_stopped=lambda _: None))
    assert len(model.produced) <= 6 + 2 * 3, f"the models went on for {len(model.produced)} tokens after the stop"
