"""Speed-independent views of a run's ``CallTiming`` intervals, for assertions.

Tests must hold however fast or slow the machine is, so they never compare
durations. They compare the *structure* of a run instead, computed from each
call's ``start_s``/``end_s`` on the run's one clock:

* ``max_overlap``: the most calls that were in flight at the same instant
  (1 for a sequential loop, ``n`` when every call of a batch ran together);
* ``waves``: the longest chain of calls each of which started after the
  previous one ended (``n`` for a loop, 1 for one wave of a batch, about
  ``ceil(n / pool)`` for a batch on a pool of ``pool`` threads).

Two intervals that only touch (one ends exactly when the next starts) do not
overlap. By Mirsky's theorem ``waves`` is also the fewest groups of mutually
overlapping calls the run can be split into, so ``max_overlap <= k`` implies
``waves >= ceil(n / k)``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

from pydantic import PrivateAttr

from chains.simulation.simulator import SimulatedChatModel
from chains.timing import CallTiming


def max_overlap(calls: Sequence[CallTiming]) -> int:
    """The largest number of calls whose ``[start_s, end_s)`` intervals share an instant.

    Args:
        calls: The calls of one run (one clock).

    Returns:
        0 for no calls, 1 when no two calls overlap, ``len(calls)`` when all do.
    """
    # At equal times an end (-1) sorts before a start (+1): touching is not overlapping.
    events = sorted([(call.start_s, 1) for call in calls] + [(call.end_s, -1) for call in calls])
    in_flight = peak = 0
    for _, change in events:
        in_flight += change
        peak = max(peak, in_flight)
    return peak


def waves(calls: Sequence[CallTiming]) -> int:
    """The longest chain of calls where each starts at or after the previous one's end.

    Args:
        calls: The calls of one run (one clock).

    Returns:
        0 for no calls; ``len(calls)`` for a strictly sequential run; 1 when every call overlaps every other.
    """
    ordered = sorted(calls, key=lambda call: (call.end_s, call.start_s))
    longest: list[int] = []
    for position, call in enumerate(ordered):
        before = [longest[i] for i in range(position) if ordered[i].end_s <= call.start_s]
        longest.append(1 + max(before, default=0))
    return max(longest, default=0)


def assert_sequential(calls: Sequence[CallTiming], *, in_input_order: bool = False) -> None:
    """Every call started at or after the previous one ended: one at a time.

    Args:
        calls: The calls of one run.
        in_input_order: Also require that they ran in input order (a ``for`` loop
            does; ``abatch(max_concurrency=1)`` may start them in any order).
    """
    ordered = sorted(calls, key=lambda call: call.index if in_input_order else call.start_s)
    for previous, following in pairwise(ordered):
        assert previous.end_s <= following.start_s, (previous, following)
    assert max_overlap(calls) == min(1, len(calls))


def assert_all_overlap(calls: Sequence[CallTiming]) -> None:
    """Every call was in flight at one shared instant: the latest start precedes the earliest end."""
    assert max(call.start_s for call in calls) < min(call.end_s for call in calls), [
        (call.index, round(call.start_s, 3), round(call.end_s, 3)) for call in calls
    ]
    assert max_overlap(calls) == len(calls)


def calls_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[CallTiming]:
    """Rebuild the calls of one run from exported rows (``RunRecord.to_rows`` or the History CSV)."""
    return [
        CallTiming(index=int(row["index"]), topic=str(row["topic"]), start_s=float(row["start_s"]), end_s=float(row["end_s"]))
        for row in rows
    ]


class RendezvousChatModel(SimulatedChatModel):
    """A simulator whose calls wait for each other: a barrier, so concurrency never depends on speed.

    Each call enters a counted region around the simulator's own stream (its
    ``invoke`` is built from that stream, so every call counts once) and, while
    fewer than ``rendezvous`` calls have ever been in that region together, waits
    for more to arrive (polling every 5 ms, for at most ``rendezvous_timeout_s``).
    A runner that really runs ``k`` calls at once fills the region with ``k``
    calls however slowly a busy machine starts them, so ``peak_together == k`` and
    the calls' ``CallTiming`` intervals all share that instant. A runner that runs
    fewer at once never reaches ``rendezvous``: its calls wait out the timeout,
    then run, and ``peak_together`` shows the concurrency it really had.
    """

    rendezvous: int = 1
    rendezvous_timeout_s: float = 30.0

    _together: int = PrivateAttr(default=0)
    _peak_together: int = PrivateAttr(default=0)

    @property
    def peak_together(self) -> int:
        """The most calls that were inside the counted region at the same time."""
        return self._peak_together

    def _arrive(self) -> None:
        with self._lock:
            self._together += 1
            self._peak_together = max(self._peak_together, self._together)

    def _leave(self) -> None:
        with self._lock:
            self._together -= 1

    def _released(self, deadline: float) -> bool:
        return self._peak_together >= self.rendezvous or time.monotonic() >= deadline

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self._arrive()
        try:
            deadline = time.monotonic() + self.rendezvous_timeout_s
            while not self._released(deadline):
                time.sleep(0.005)
            yield from super()._stream(*args, **kwargs)
        finally:
            self._leave()

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        self._arrive()
        try:
            deadline = time.monotonic() + self.rendezvous_timeout_s
            while not self._released(deadline):
                await asyncio.sleep(0.005)
            async for chunk in super()._astream(*args, **kwargs):
                yield chunk
        finally:
            self._leave()
