"""The N-sweep: its maths on synthetic points, and a tiny real sweep on the simulator."""

from __future__ import annotations

import math

import pytest

from chains.experiments.sweep import (
    MAX_SWEEP_K,
    MAX_SWEEP_REPEATS,
    SweepPoint,
    SweepProgress,
    estimate_sweep_calls,
    estimate_sweep_seconds,
    expected_batch_waves,
    fit_slope,
    flat_until,
    observed_knee,
    run_sweep,
    summarize_sweep,
    summary_to_frame,
    sweep_pool_size,
    sweep_to_frame,
    sweep_topics,
)
from chains.joke import build_joke_chain
from chains.modes import RunMeta, default_pool_size
from chains.simulation.simulator import SimulatedChatModel
from tests.call_structure import assert_all_overlap, assert_sequential, waves

META = RunMeta(provider="simulator", model="simulated-test")


def synthetic(slope: float, intercept: float, mode: str, k: int, noise: tuple[float, ...] = (0.0,)) -> list[SweepPoint]:
    """Points on a known line, one per repeat, with symmetric noise that averages out."""
    return [
        SweepPoint(mode, n, repeat, slope * n + intercept + offset)
        for n in range(1, k + 1)
        for repeat, offset in enumerate(noise)
    ]


# ---------------------------------------------------------------------- maths
def test_fit_slope_recovers_a_known_line() -> None:
    points = synthetic(0.4, 0.1, "loop", 8, noise=(-0.05, 0.0, 0.05)) + synthetic(0.0, 0.45, "batch", 8, (-0.02, 0.02))
    summary = summarize_sweep(points)
    slope, intercept = fit_slope(summary, "loop")
    assert slope == pytest.approx(0.4)
    assert intercept == pytest.approx(0.1)
    batch_slope, batch_intercept = fit_slope(summary, "batch")
    assert batch_slope == pytest.approx(0.0, abs=1e-12)
    assert batch_intercept == pytest.approx(0.45)


def test_fit_slope_needs_two_distinct_n() -> None:
    summary = summarize_sweep([SweepPoint("loop", 1, 0, 0.3), SweepPoint("loop", 1, 1, 0.4)])
    with pytest.raises(ValueError):
        fit_slope(summary, "loop")
    with pytest.raises(ValueError):
        fit_slope(summary, "batch")


def test_summarize_mean_std_and_count() -> None:
    points = [
        SweepPoint("batch", 2, 0, 1.0),
        SweepPoint("loop", 1, 0, 2.0),
        SweepPoint("loop", 1, 1, 4.0),
        SweepPoint("loop", 1, 2, 6.0),
        SweepPoint("batch", 1, 0, 0.5),
    ]
    summary = summarize_sweep(points)
    assert [(row.mode, row.n) for row in summary] == [("loop", 1), ("batch", 1), ("batch", 2)]
    loop = summary[0]
    assert loop.mean_s == pytest.approx(4.0)
    assert loop.std_s == pytest.approx(2.0)  # sample std of 2, 4, 6
    assert loop.count == 3
    assert summary[1].std_s == 0.0 and summary[1].count == 1
    assert summary[2].std_s == 0.0 and summary[2].mean_s == 1.0


def test_std_is_zero_for_one_repeat() -> None:
    summary = summarize_sweep(synthetic(0.3, 0.0, "loop", 5))
    assert all(row.std_s == 0.0 and row.count == 1 for row in summary)


def test_expected_batch_waves() -> None:
    assert [expected_batch_waves(n, 6) for n in range(14)] == [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3]
    assert expected_batch_waves(8, 8) == 1
    assert expected_batch_waves(8, 2) == 4
    assert expected_batch_waves(5, 1) == 5
    for n in range(1, 40):
        assert expected_batch_waves(n, 7) == math.ceil(n / 7)
    with pytest.raises(ValueError):
        expected_batch_waves(3, 0)


def test_pool_size_and_flat_until() -> None:
    assert sweep_pool_size(None) == default_pool_size()
    assert sweep_pool_size(4) == 4
    # A synthetic batch that is flat up to 6 and then steps up by one call per wave.
    points = [SweepPoint("batch", n, 0, 0.5 * expected_batch_waves(n, 6)) for n in range(1, 13)]
    summary = summarize_sweep(points)
    assert flat_until(summary, 6) == 6
    assert flat_until(summary, 16) == 12
    assert flat_until(summarize_sweep([SweepPoint("batch", 9, 0, 1.0)]), 6) is None
    assert observed_knee(summary) == 7
    assert observed_knee(summarize_sweep(synthetic(0.0, 0.5, "batch", 5))) is None
    assert observed_knee([]) is None


def test_estimates() -> None:
    assert estimate_sweep_calls(1, 1) == 2
    assert estimate_sweep_calls(3, 1) == 2 * (1 + 2 + 3)
    assert estimate_sweep_calls(8, 3) == 3 * 2 * 36
    assert estimate_sweep_calls(MAX_SWEEP_K, MAX_SWEEP_REPEATS) == MAX_SWEEP_REPEATS * 2 * sum(range(1, MAX_SWEEP_K + 1))
    assert estimate_sweep_calls(0, 3) == 0
    # k=3, pool 2: loop 1+2+3 calls, batch 1+1+2 waves.
    assert estimate_sweep_seconds(3, 2, 0.5, 2) == pytest.approx(2 * (6 + 4) * 0.5)


def test_sweep_topics_are_distinct_and_cycle_the_pool() -> None:
    topics = sweep_topics(["cats", "고양이"], 5, 1)
    assert len(topics) == 5 == len(set(topics))
    assert topics[0].startswith("cats") and topics[1].startswith("고양이") and topics[2].startswith("cats")
    all_topics = [t for n in range(1, 4) for r in range(2) for t in sweep_topics(["cats"], n, r)]
    assert len(all_topics) == len(set(all_topics))
    with pytest.raises(ValueError):
        sweep_topics(["  ", ""], 2, 0)


def test_frames() -> None:
    points = synthetic(0.3, 0.1, "loop", 3, (0.0, 0.1)) + [SweepPoint("batch", 1, 0, 0.3, errors=1)]
    frame = sweep_to_frame(points)
    assert list(frame.columns) == ["mode", "n", "repeat", "wall_s", "errors"]
    assert len(frame) == 7
    assert frame["errors"].sum() == 1
    summary = summary_to_frame(summarize_sweep(points))
    assert list(summary.columns) == ["mode", "n", "mean_s", "std_s", "count"]
    assert len(summary) == 4
    assert list(sweep_to_frame([]).columns) == ["mode", "n", "repeat", "wall_s", "errors"]


@pytest.mark.parametrize(("k", "repeats"), [(0, 1), (MAX_SWEEP_K + 1, 1), (3, 0), (3, MAX_SWEEP_REPEATS + 1)])
def test_run_sweep_refuses_out_of_range(k: int, repeats: int) -> None:
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.01, tokens_per_s=1000))
    with pytest.raises(ValueError):
        run_sweep(chain, ["cats"], k, repeats, max_concurrency=None, meta=META)


# ------------------------------------------------------------------ real sweep
def test_tiny_real_sweep_reproduces_the_chart() -> None:
    # Calls of ~0.35 s: the N <= 3 calls of a batch are surely all started before one ends.
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.3, tokens_per_s=400, jitter=0.0, seed=42))
    progress: list[SweepProgress] = []
    points = run_sweep(chain, ["cats", "고양이"], 3, 1, max_concurrency=None, meta=META, on_progress=progress.append)

    assert [(p.mode, p.n, p.repeat) for p in points] == [
        (mode, n, 0) for n in (1, 2, 3) for mode in ("loop", "batch")
    ]
    assert all(p.errors == 0 for p in points)
    assert [update.done for update in progress] == list(range(1, 7))
    assert all(update.total == 6 for update in progress)
    assert progress[-1].fraction == 1.0
    assert progress[-1].record.mode == "batch" and progress[-1].record.n == 3
    assert progress[-1].record.label == "sweep N=3 repeat=1"

    # The chart's shape, asserted on the runs' structure rather than on measured slopes:
    # the loop makes N calls one after another; batch makes them in as many waves as the pool needs.
    pool = sweep_pool_size(None)
    for update in progress:
        record = update.record
        assert record.n == update.point.n and record.wall_s == update.point.wall_s
        if record.mode == "loop":
            assert_sequential(record.calls, in_input_order=True)
            assert waves(record.calls) == record.n
        else:
            assert expected_batch_waves(record.n, pool) == 1
            assert_all_overlap(record.calls)
            assert waves(record.calls) == 1
    summary = summarize_sweep(points)
    assert [(row.mode, row.n, row.count) for row in summary] == [(mode, n, 1) for mode in ("loop", "batch") for n in (1, 2, 3)]


def test_should_stop_stops_early() -> None:
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.02, tokens_per_s=2000, seed=1))
    calls = {"count": 0}

    def stop_after_three_runs() -> bool:
        calls["count"] += 1
        return calls["count"] > 3

    points = run_sweep(chain, ["cats"], 4, 2, max_concurrency=2, meta=META, should_stop=stop_after_three_runs)
    assert [(p.mode, p.n, p.repeat) for p in points] == [("loop", 1, 0), ("batch", 1, 0), ("loop", 1, 1)]


def test_should_stop_before_anything_runs() -> None:
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.02, tokens_per_s=2000, seed=1))
    assert run_sweep(chain, ["cats"], 2, 1, max_concurrency=None, meta=META, should_stop=lambda: True) == []
