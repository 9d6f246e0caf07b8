"""Every verdict of ``chains.experiments.verdicts`` on synthetic records: the case, and the figures that decided it."""

from __future__ import annotations

import pytest

from chains.experiments.sweep import SweepPoint
from chains.experiments.verdicts import (
    DIFFERENT_TOTAL,
    FAILED,
    FLAT,
    FLAT_BEYOND_POOL,
    FLAT_WITHIN_CALLS,
    NOT_ENOUGH_DATA,
    QUEUED,
    SAME_TOTAL,
    SERVER_LIMITED,
    SHARED_COMPUTE,
    STOPPED,
    THROTTLED,
    WAVES,
    async_verdict,
    batch_verdict,
    compare_verdict,
    first_token_share,
    lab_verdict,
    peak_overlap,
    stream_verdict,
)
from chains.timing import CallTiming, RunRecord

ONE_CALL_S = 1.0


def call(index: int, start: float, end: float, *, first_token: float | None = None, error: str | None = None, retries: int = 0) -> CallTiming:
    """One call; ``error`` is an error kind (``auth``, ``rate_limit``...)."""
    return CallTiming(
        index=index,
        topic=f"t{index}",
        start_s=start,
        end_s=end,
        first_token_s=first_token,
        chunks=[(first_token, "x")] if first_token is not None else [],
        output="" if error else "joke",
        error=f"{error}: failed" if error else None,
        error_kind=error,
        retries=retries,
    )


def record(mode: str, calls: list[CallTiming], *, pool: int | None = None, max_concurrency: int | None = None, stopped: bool = False) -> RunRecord:
    wall = max((c.end_s for c in calls), default=0.0)
    return RunRecord(mode, len(calls), wall, max_concurrency, "compatible", "m", calls, pool_size=pool, stopped=stopped)


def loop_of(n: int, *, each: float = ONE_CALL_S, errors: dict[int, str] | None = None) -> RunRecord:
    errors = errors or {}
    return record("loop", [call(i, i * each, (i + 1) * each, error=errors.get(i)) for i in range(n)])


def batch_of(intervals: list[tuple[float, float]], *, pool: int | None = None, errors: dict[int, str] | None = None, retries: int = 0) -> RunRecord:
    errors = errors or {}
    calls = [call(i, start, end, error=errors.get(i), retries=retries if i == 0 else 0) for i, (start, end) in enumerate(intervals)]
    return record("batch", calls, pool=pool or len(intervals))


# ------------------------------------------------------------------------------ helpers
def test_peak_overlap_counts_open_intervals_and_the_margin_separates_touching_ones() -> None:
    assert peak_overlap([(0, 1), (0, 1), (0, 1)]) == 3
    assert peak_overlap([(0, 1), (1, 2), (2, 3)], margin_s=0.1) == 1
    assert peak_overlap([(0, 1), (0.5, 1.5), (2, 3)]) == 2
    assert peak_overlap([]) == 0


def test_first_token_share_is_the_wait_over_the_total() -> None:
    assert first_token_share(call(0, 0.0, 2.0, first_token=0.5)) == pytest.approx(0.25)
    assert first_token_share(call(0, 0.0, 2.0)) is None


# ------------------------------------------------------------------------ loop vs batch
def test_flat_when_batch_takes_about_one_call() -> None:
    verdict = batch_verdict(batch_of([(0.0, 1.05), (0.01, 1.1), (0.01, 0.98)]), loop_of(3))
    assert verdict.case == FLAT
    assert verdict.speedup == pytest.approx(3.0 / 1.1)
    assert verdict.server_at_once == 3
    assert not verdict.partial


def test_waves_when_the_client_pool_is_smaller_than_n() -> None:
    intervals = [(0.0, 1.0)] * 2 + [(1.0, 2.0)] * 2 + [(2.0, 3.0)]
    verdict = batch_verdict(batch_of(intervals, pool=2), loop_of(5))
    assert verdict.case == WAVES
    assert (verdict.pool, verdict.waves, verdict.server_at_once) == (2, 3, 2)


def test_queued_when_the_calls_start_together_and_end_one_after_another() -> None:
    verdict = batch_verdict(batch_of([(0.0, 1.0), (0.01, 2.0), (0.01, 3.0)]), loop_of(3))
    assert verdict.case == QUEUED
    assert verdict.server_at_once == 1
    assert verdict.start_spread_s == pytest.approx(0.01)
    assert verdict.end_spread_s == pytest.approx(2.0)
    assert verdict.times_one_call == pytest.approx(3.0)


def test_queued_from_staggered_first_tokens_when_the_calls_streamed() -> None:
    calls = [call(i, 0.0, 1.0 + i * 1.3, first_token=0.17 + i * 1.3) for i in range(3)]  # the llama.cpp -np 1 figures
    verdict = batch_verdict(record("astream", calls, pool=3), loop_of(3, each=1.0))
    assert verdict.case == QUEUED
    assert verdict.server_at_once == 1
    assert verdict.first_token_spread_s == pytest.approx(2.6)


def test_two_slots_of_three_calls_is_queued_at_two() -> None:
    verdict = batch_verdict(batch_of([(0.0, 1.0), (0.0, 1.0), (0.0, 2.0)]), loop_of(3))
    assert verdict.case == QUEUED
    assert verdict.server_at_once == 2


def test_shared_compute_when_the_calls_ran_together_but_each_took_much_longer() -> None:
    verdict = batch_verdict(batch_of([(0.0, 3.4), (0.0, 3.5), (0.01, 3.5)]), loop_of(3))
    assert verdict.case == SHARED_COMPUTE
    assert verdict.server_at_once == 3
    assert verdict.slowdown == pytest.approx(3.45, abs=0.05)


def test_throttled_when_the_client_retried_or_was_refused() -> None:
    assert batch_verdict(batch_of([(0.0, 2.0), (0.0, 1.0)], retries=1), loop_of(2)).case == THROTTLED
    refused = batch_verdict(batch_of([(0.0, 1.0), (0.0, 0.1), (0.0, 1.0)], errors={1: "rate_limit"}), loop_of(3))
    assert refused.case == THROTTLED
    assert refused.rate_limited == 1
    assert refused.partial and refused.compared == 2


def test_all_failed_gives_no_speed_up_and_says_what_failed() -> None:
    errors = dict.fromkeys(range(5), "auth")
    verdict = batch_verdict(batch_of([(0.0, 0.02)] * 5, errors=errors), loop_of(5, each=0.04, errors=errors))
    assert verdict.case == FAILED
    assert not verdict.teaches
    assert verdict.speedup is None and verdict.times_one_call is None
    assert verdict.kinds == ("auth",)
    assert verdict.failed == 5


def test_a_failed_loop_alone_also_means_no_speed_up() -> None:
    verdict = batch_verdict(batch_of([(0.0, 1.0)] * 3), loop_of(3, errors=dict.fromkeys(range(3), "timeout")))
    assert verdict.case == FAILED
    assert verdict.speedup is None


def test_some_failed_compares_only_what_both_sides_finished() -> None:
    batch = batch_of([(0.0, 1.0), (0.0, 0.1), (0.0, 1.0), (0.0, 9.0)], errors={1: "server"})
    loop = loop_of(4, errors={3: "server"})  # call 3 failed in the loop: batch's slow call 3 is left out too
    verdict = batch_verdict(batch, loop)
    assert verdict.partial
    assert (verdict.compared, verdict.failed) == (2, 2)
    assert verdict.case == FLAT
    assert verdict.loop_s == pytest.approx(2.0)
    assert verdict.batch_s == pytest.approx(1.0)
    assert verdict.kinds == ("server",)


def test_stopped_runs_draw_no_lesson() -> None:
    stopped = record("batch", [call(0, 0.0, 1.0), call(1, 0.0, 0.5, error="stopped")], pool=2, stopped=True)
    verdict = batch_verdict(stopped, loop_of(2))
    assert verdict.case == STOPPED
    assert verdict.speedup is None


def test_one_call_is_not_enough_for_a_batch_lesson() -> None:
    assert batch_verdict(batch_of([(0.0, 1.0)]), loop_of(1)).case == NOT_ENOUGH_DATA


def test_without_a_loop_one_call_is_batchs_fastest_call() -> None:
    verdict = batch_verdict(batch_of([(0.0, 1.0), (0.0, 2.0), (0.0, 3.0)]))
    assert verdict.case == QUEUED
    assert verdict.reference == "batch"
    assert verdict.speedup is None


# ---------------------------------------------------------------------- stream vs invoke
def test_stream_takes_as_long_as_invoke_and_shows_its_first_token_early() -> None:
    verdict = stream_verdict(record("stream", [call(0, 0.0, 1.3, first_token=0.4)]), record("invoke", [call(0, 0.0, 1.25)]))
    assert verdict.case == SAME_TOTAL
    assert verdict.first_token_share == pytest.approx(0.4 / 1.3)


def test_stream_that_differs_says_so_and_a_raced_queue_is_named() -> None:
    stream, invoke = record("stream", [call(0, 0.0, 2.6, first_token=1.5)]), record("invoke", [call(0, 0.0, 1.3)])
    assert stream_verdict(stream, invoke).case == DIFFERENT_TOTAL
    assert stream_verdict(stream, invoke, raced=True).case == QUEUED


def test_stream_failed_or_tokenless_draws_no_lesson() -> None:
    assert stream_verdict(record("stream", [call(0, 0.0, 0.1, error="auth")]), record("invoke", [call(0, 0.0, 1.0)])).case == FAILED
    assert stream_verdict(record("stream", [call(0, 0.0, 1.0)])).case == NOT_ENOUGH_DATA


# ----------------------------------------------------------------------------- async
def test_async_overlap_with_and_without_max_concurrency() -> None:
    open_ = record("abatch", [call(i, 0.0, 1.0) for i in range(4)], pool=4)
    capped = record("abatch", [call(i, (i // 2) * 1.0, (i // 2 + 1) * 1.0) for i in range(4)], pool=2, max_concurrency=2)
    verdict = async_verdict(record("ainvoke", [call(0, 0.0, 1.02)]), open_, capped, record("invoke", [call(0, 0.0, 1.0)]))
    assert verdict.teaches and verdict.ainvoke_same
    assert (verdict.open_at_once, verdict.capped_at_once, verdict.capped_waves) == (4, 2, 2)
    assert verdict.case == FLAT


def test_async_on_a_queueing_server_is_queued_and_failures_draw_no_lesson() -> None:
    open_ = record("abatch", [call(i, 0.0, (i + 1) * 1.0) for i in range(3)], pool=3)
    capped = record("abatch", [call(i, 0.0, (i + 1) * 1.0) for i in range(3)], pool=3, max_concurrency=3)
    assert async_verdict(record("ainvoke", [call(0, 0.0, 1.0)]), open_, capped).case == QUEUED
    failed = record("ainvoke", [call(0, 0.0, 0.1, error="auth")])
    assert async_verdict(failed, open_, capped).case == FAILED


# -------------------------------------------------------------------------------- Lab
def points(loop_s: dict[int, float], batch_s: dict[int, float], errors: int = 0) -> list[SweepPoint]:
    return [SweepPoint("loop", n, 0, s, errors) for n, s in loop_s.items()] + [SweepPoint("batch", n, 0, s, errors) for n, s in batch_s.items()]


def test_lab_knee_past_the_pool_is_waves_and_at_or_below_it_the_server() -> None:
    loop = {n: float(n) for n in range(1, 9)}
    waves = lab_verdict(points(loop, {n: 1.0 if n <= 6 else 2.0 for n in range(1, 9)}), pool=6)
    assert (waves.case, waves.flat_until, waves.leaves_at) == (WAVES, 6, 7)
    server = lab_verdict(points(loop, {n: float(n) for n in range(1, 9)}), pool=6)
    assert (server.case, server.leaves_at) == (SERVER_LIMITED, 2)


def test_lab_flat_within_and_beyond_the_pool_and_all_failed() -> None:
    assert lab_verdict(points({1: 1.0, 2: 2.0}, {1: 1.0, 2: 1.0}), pool=6).case == FLAT
    assert lab_verdict(points({1: 1.0, 8: 8.0}, {1: 1.0, 8: 1.1}), pool=6).case == FLAT_BEYOND_POOL
    all_failed = [SweepPoint(mode, n, 0, 0.01, n) for mode in ("loop", "batch") for n in (1, 2)]
    assert lab_verdict(all_failed, pool=6).case == FAILED
    assert lab_verdict(points({1: 1.0}, {1: 1.0}), pool=6).case == NOT_ENOUGH_DATA


# ---------------------------------------------------------------------------- Compare
def test_compare_decides_each_claim() -> None:
    invoke = record("invoke", [call(0, 0.0, 1.0)])
    stream = record("stream", [call(0, 0.0, 1.05, first_token=0.3)])
    verdict = compare_verdict(invoke, loop_of(3), batch_of([(0.0, 1.0), (0.0, 2.0), (0.0, 3.0)]), stream)
    assert verdict.teaches
    assert verdict.loop_times_invoke == pytest.approx(3.0)
    assert verdict.batch.case == QUEUED
    assert verdict.stream.case == SAME_TOTAL


def test_compare_with_every_call_failed_teaches_nothing() -> None:
    failed = {0: "auth", 1: "auth", 2: "auth"}
    verdict = compare_verdict(
        record("invoke", [call(0, 0.0, 0.01, error="auth")]),
        loop_of(3, each=0.01, errors=failed),
        batch_of([(0.0, 0.01)] * 3, errors=failed),
        record("stream", [call(0, 0.0, 0.01, error="auth")]),
    )
    assert not verdict.teaches
    assert verdict.batch.case == FAILED and verdict.stream.case == FAILED
    assert verdict.kinds == ("auth",)


def test_queued_even_when_the_first_served_call_was_slowed_by_a_busy_machine() -> None:
    # One slot, and the first call took twice its time: the ends still come one call apart.
    verdict = batch_verdict(batch_of([(0.0, 2.0), (0.0, 3.0), (0.0, 4.0)]), loop_of(3))
    assert verdict.case == QUEUED and verdict.server_at_once == 1


def test_shared_compute_whose_ends_spread_with_the_answers_lengths() -> None:
    verdict = batch_verdict(batch_of([(0.0, 3.0), (0.0, 3.3), (0.0, 3.6)]), loop_of(3))
    assert verdict.case == SHARED_COMPUTE and verdict.server_at_once == 3


def test_queued_beats_flat_when_a_slow_loop_call_makes_the_total_look_flat() -> None:
    """Measured on llama.cpp with 2 slots and SmolLM2: answers differ in length, so one long loop call
    (7.5 s) put batch's 4.3 s "within 1.5x the slowest call", while the third call's first token
    came only after another call had ended: the server ran 2 at a time, and the page must say so."""
    loop = record("loop", [call(0, 0.0, 1.1), call(1, 1.1, 8.6), call(2, 8.6, 11.1)])
    batch = record(
        "batch",
        [call(0, 0.0, 4.01, first_token=1.13), call(1, 0.0, 2.81, first_token=1.08), call(2, 0.0, 4.30, first_token=2.92)],
        pool=3,
    )
    verdict = batch_verdict(batch, loop)
    assert verdict.batch_s is not None and verdict.slowest_call_s is not None
    assert verdict.batch_s <= FLAT_WITHIN_CALLS * verdict.slowest_call_s  # the totals alone would read "flat"
    assert verdict.case == QUEUED and verdict.server_at_once == 2
