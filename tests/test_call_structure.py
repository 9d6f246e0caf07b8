"""The structure helpers that replace wall-clock assertions, on synthetic intervals."""

from __future__ import annotations

from chains.timing import CallTiming
from tests.call_structure import max_overlap, waves


def calls(*intervals: tuple[float, float]) -> list[CallTiming]:
    return [CallTiming(index, f"t{index}", start, end) for index, (start, end) in enumerate(intervals)]


def test_a_loop_is_n_waves_of_one() -> None:
    loop = calls((0.0, 1.0), (1.0, 2.0), (2.0, 3.5))
    assert max_overlap(loop) == 1
    assert waves(loop) == 3


def test_one_wave_of_a_batch() -> None:
    batch = calls((0.0, 1.0), (0.01, 1.2), (0.02, 0.9))
    assert max_overlap(batch) == 3
    assert waves(batch) == 1


def test_a_pool_of_two_runs_five_calls_in_three_waves() -> None:
    pooled = calls((0.0, 1.0), (0.0, 1.1), (1.0, 2.0), (1.1, 2.1), (2.0, 3.0))
    assert max_overlap(pooled) == 2
    assert waves(pooled) == 3


def test_empty_run() -> None:
    assert max_overlap([]) == 0
    assert waves([]) == 0
