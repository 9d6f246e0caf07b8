"""SweepState: the one sweep engine, one run per step, resumable, typed; no label is parsed."""

from __future__ import annotations

import pytest

from chains.experiments.sweep import SweepState, SweepStep, plan_sweep
from chains.joke import build_joke_chain
from chains.modes import RunMeta
from chains.simulation.simulator import SimulatedChatModel
from chains.timing import LAB_SWEEP_ORIGIN, RunRecord

META = RunMeta(provider="simulator", model="sim-test")


def fast_chain():
    return build_joke_chain(SimulatedChatModel(ttft_s=0.0, tokens_per_s=50_000.0, jitter=0.0, seed=3))


def test_a_sweep_runs_one_step_at_a_time_in_plan_order() -> None:
    sweep = SweepState.start(fast_chain(), ["cats", "owls"], 2, 1, max_concurrency=None, meta=META)
    assert sweep.running and sweep.total == 4 and sweep.next_step == SweepStep(1, 0, "loop")
    records: list[RunRecord] = []
    while sweep.running:
        step = sweep.next_step
        point, record = sweep.run_next()
        assert (point.mode, point.n, point.repeat) == (step.mode, step.n, step.repeat)
        records.append(record)
    assert [(point.mode, point.n) for point in sweep.points] == [("loop", 1), ("batch", 1), ("loop", 2), ("batch", 2)]
    assert not sweep.stopped and sweep.chain is None, "the chain (which may hold a key) goes when the sweep ends"
    assert {record.origin for record in records} == {LAB_SWEEP_ORIGIN}
    assert {record.group_id for record in records} == {sweep.group_id}
    with pytest.raises(RuntimeError):
        sweep.run_next()


def test_a_paused_sweep_resumes_where_it_was() -> None:
    sweep = SweepState.start(fast_chain(), ["cats"], 2, 2, max_concurrency=2, meta=META)
    for _ in range(3):
        sweep.run_next()
    assert sweep.done == 3 and sweep.next_step == plan_sweep(2, 2)[3]
    while sweep.running:
        sweep.run_next()
    assert sweep.done == sweep.total == 8


def test_stop_keeps_the_points_and_drops_the_chain() -> None:
    sweep = SweepState.start(fast_chain(), ["cats"], 3, 1, max_concurrency=None, meta=META)
    sweep.run_next()
    sweep.stop()
    assert sweep.stopped and not sweep.running and sweep.chain is None and sweep.done == 1


def test_a_sweep_comes_back_from_its_records_without_reading_labels() -> None:
    sweep = SweepState.start(fast_chain(), ["cats"], 2, 1, max_concurrency=3, meta=META)
    records = []
    while sweep.running:
        records.append(sweep.run_next()[1])
    for record in records:
        record.label = "renamed by someone"
    other = RunRecord(mode="batch", n=9, wall_s=1.0, max_concurrency=None, provider="simulator", model="m", calls=[])
    restored = SweepState.from_records([*records, other])
    assert restored is not None and restored.restored and not restored.running and not restored.stopped
    assert restored.group_id == sweep.group_id and restored.max_concurrency == 3
    assert restored.points == sweep.points


def test_a_sweep_cut_short_comes_back_stopped() -> None:
    sweep = SweepState.start(fast_chain(), ["cats"], 2, 1, max_concurrency=None, meta=META)
    records = [sweep.run_next()[1] for _ in range(3)]
    restored = SweepState.from_records(records)
    assert restored is not None and restored.stopped and restored.done == 3


@pytest.mark.parametrize(("k", "repeats", "topics"), [(0, 1, ["a"]), (2, 0, ["a"]), (2, 1, ["  "])])
def test_start_refuses_a_bad_plan(k: int, repeats: int, topics: list[str]) -> None:
    with pytest.raises(ValueError):
        SweepState.start(fast_chain(), topics, k, repeats, max_concurrency=None, meta=META)
