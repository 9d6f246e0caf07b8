"""``ui.deployment.store.once_per_process``: the stores a Run press looks up, made once, found without hashing."""

from __future__ import annotations

import threading
import time

import pytest

from chains.records.store import StoreLimits
from ui.deployment.store import once_per_process


def test_one_result_per_arguments_made_once_even_when_sessions_ask_together() -> None:
    made: list[tuple[str, StoreLimits]] = []

    @once_per_process
    def open_store(url: str, limits: StoreLimits) -> object:
        made.append((url, limits))
        time.sleep(0.05)  # long enough for every thread to ask before the first one is done
        return object()

    limits = StoreLimits()
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(open_store("sqlite:///a", limits))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and len({id(result) for result in results}) == 1
    assert open_store("sqlite:///a", StoreLimits()) is results[0], "equal arguments find the same store"
    assert open_store("sqlite:///b", limits) is not results[0] and len(made) == 2
    assert open_store("sqlite:///a", StoreLimits(max_entries_per_set=3)) is not results[0]


def test_clear_forgets_what_was_made() -> None:
    calls: list[int] = []

    @once_per_process
    def make(value: int) -> list[int]:
        calls.append(value)
        return [value]

    first = make(1)
    make.clear()  # type: ignore[attr-defined]
    assert make(1) is not first and calls == [1, 1]


def test_a_failure_is_not_kept() -> None:
    attempts: list[int] = []

    @once_per_process
    def flaky(value: int) -> int:
        attempts.append(value)
        if len(attempts) == 1:
            raise OSError("disk full")
        return value

    with pytest.raises(OSError):
        flaky(1)
    assert flaky(1) == 1 and attempts == [1, 1]
