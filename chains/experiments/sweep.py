"""The N-sweep: a ``for`` loop of ``invoke`` against ``batch`` as the number of topics grows.

This reproduces the seed post's chart. For every N from 1 to k, and for every
repeat, it times ``chains.modes.run_loop`` and ``chains.modes.run_batch`` on N
topics. The loop grows linearly with N (one call after another); batch stays
flat while all N calls fit in one wave of the thread pool, then steps up by one
call's time per extra wave.

Everything here is plain Python. ``SweepState`` is the one engine: typed,
resumable, one run per ``run_next``; the Lab page keeps it in the session and
drives it through ``ui.sections.lab`` (which only draws), and ``run_sweep`` runs one to
the end for the tests and the benchmarks.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from langchain_core.runnables import Runnable

from chains.modes import OnResult, OnStopped, RunMeta, default_pool_size, run_batch, run_loop
from chains.timing import LAB_SWEEP_ORIGIN, RunRecord

if TYPE_CHECKING:  # pandas is imported lazily, inside sweep_to_frame.
    import pandas as pd

MAX_SWEEP_K = 16
"""The largest N a sweep may reach."""

MAX_SWEEP_REPEATS = 5
"""The largest number of repeats per N."""

SWEEP_MODES: tuple[str, ...] = ("loop", "batch")
"""The modes a sweep compares, in the order they run for each (N, repeat)."""


@dataclass(frozen=True)
class SweepPoint:
    """One timed run of the sweep.

    Attributes:
        mode: ``loop`` or ``batch``.
        n: Number of topics in the run.
        repeat: The repeat's index, from 0.
        wall_s: Wall time of the whole run, seconds.
        errors: Number of calls of the run that failed or were interrupted.
    """

    mode: str
    n: int
    repeat: int
    wall_s: float
    errors: int = 0


@dataclass(frozen=True)
class SweepProgress:
    """How far a sweep has got, reported after every run.

    Attributes:
        done: Runs finished so far.
        total: Runs the whole sweep makes (``2 * k * repeats``).
        point: The point just measured.
        record: The run record behind ``point`` (for a timeline or the history).
    """

    done: int
    total: int
    point: SweepPoint
    record: RunRecord

    @property
    def fraction(self) -> float:
        """Progress between 0.0 and 1.0."""
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class SweepSummary:
    """The statistics of one (mode, N) cell of a sweep.

    Attributes:
        mode: ``loop`` or ``batch``.
        n: Number of topics.
        mean_s: Mean wall time over the repeats, seconds.
        std_s: Sample standard deviation over the repeats (0.0 for one repeat).
        count: Number of repeats measured.
    """

    mode: str
    n: int
    mean_s: float
    std_s: float
    count: int


def _check_limits(k: int, repeats: int) -> None:
    if not 1 <= k <= MAX_SWEEP_K:
        raise ValueError(f"k must be between 1 and {MAX_SWEEP_K}, got {k}")
    if not 1 <= repeats <= MAX_SWEEP_REPEATS:
        raise ValueError(f"repeats must be between 1 and {MAX_SWEEP_REPEATS}, got {repeats}")


def estimate_sweep_calls(k: int, repeats: int) -> int:
    """Count the model calls a sweep makes: loop and batch together.

    For each N, the loop makes N calls and batch makes N calls, so the total is
    ``2 * repeats * (1 + 2 + ... + k) = repeats * k * (k + 1)``. Show it to the
    user before a sweep on a paid model.

    Args:
        k: The largest N.
        repeats: Repeats per N.

    Returns:
        The number of calls (0 when ``k`` or ``repeats`` is below 1).

    Example:
        >>> estimate_sweep_calls(8, 3)
        216
    """
    if k < 1 or repeats < 1:
        return 0
    return repeats * k * (k + 1)


def sweep_pool_size(max_concurrency: int | None) -> int:
    """The number of calls one wave of ``batch`` holds.

    Args:
        max_concurrency: The ``max_concurrency`` passed to ``batch``, or ``None``.

    Returns:
        ``max_concurrency`` when set, otherwise LangChain's default thread-pool size
        (``chains.modes.default_pool_size()``).
    """
    return max_concurrency if max_concurrency else default_pool_size()


def expected_batch_waves(n: int, pool_size: int) -> int:
    """How many waves ``batch`` needs for ``n`` calls on a pool of ``pool_size`` threads.

    Args:
        n: Number of calls.
        pool_size: Calls in flight at once.

    Returns:
        ``ceil(n / pool_size)``; 0 for no calls.

    Raises:
        ValueError: When ``pool_size`` is below 1.

    Example:
        >>> [expected_batch_waves(n, 6) for n in (1, 6, 7, 12, 13)]
        [1, 1, 2, 2, 3]
    """
    if pool_size < 1:
        raise ValueError(f"pool_size must be at least 1, got {pool_size}")
    if n <= 0:
        return 0
    return math.ceil(n / pool_size)


def estimate_sweep_seconds(k: int, repeats: int, call_s: float, pool_size: int) -> float:
    """Roughly how long a sweep takes, if every call takes ``call_s`` seconds.

    Args:
        k: The largest N.
        repeats: Repeats per N.
        call_s: The time of one call, seconds.
        pool_size: The batch pool size (see ``sweep_pool_size``).

    Returns:
        The estimated seconds: the loop's N calls plus batch's waves, for every N and repeat.
    """
    if k < 1 or repeats < 1:
        return 0.0
    per_repeat = sum(n + expected_batch_waves(n, pool_size) for n in range(1, k + 1))
    return repeats * per_repeat * call_s


def sweep_topics(topics_pool: Sequence[str], n: int, repeat: int) -> list[str]:
    """The N topics of one sweep run.

    The pool is cycled when it is shorter than N. Every topic gets a suffix that
    names N and the repeat (and the cycle, when the pool wraps), so each run asks
    about different topics and the simulator, which seeds each reply from its
    topic, does not replay the same latencies run after run.

    Args:
        topics_pool: The topics to draw from (at least one).
        n: Number of topics wanted.
        repeat: The repeat's index, from 0.

    Returns:
        N distinct topics.

    Raises:
        ValueError: When the pool is empty.

    Example:
        >>> sweep_topics(["cats", "dogs"], 3, 0)
        ['cats #3.1', 'dogs #3.1', 'cats #3.1.2']
    """
    pool = [topic.strip() for topic in topics_pool if topic and topic.strip()]
    if not pool:
        raise ValueError("topics_pool must contain at least one non-blank topic")
    topics = []
    for index in range(n):
        cycle, position = divmod(index, len(pool))
        suffix = f"#{n}.{repeat + 1}" + (f".{cycle + 1}" if cycle else "")
        topics.append(f"{pool[position]} {suffix}")
    return topics


@dataclass(frozen=True)
class SweepStep:
    """One planned run of a sweep: ``mode`` on ``n`` topics, for repeat ``repeat``."""

    n: int
    repeat: int
    mode: str


def plan_sweep(k: int, repeats: int) -> list[SweepStep]:
    """The runs of a sweep, in order: for each N and repeat, the loop first and batch second."""
    return [SweepStep(n, repeat, mode) for n in range(1, k + 1) for repeat in range(repeats) for mode in SWEEP_MODES]


def _new_group_id() -> str:
    return "g" + uuid.uuid4().hex[:11]


@dataclass
class SweepState:
    """A sweep that runs one step at a time and can be resumed: the one sweep engine.

    The Lab page keeps it in the session and calls ``run_next`` until
    ``finished``; a click that stops the script between two steps loses nothing,
    and the next run of the page goes on. ``run_sweep`` runs one to the end.

    Attributes:
        k: The largest N (1 to ``MAX_SWEEP_K``).
        repeats: Repeats per N (1 to ``MAX_SWEEP_REPEATS``).
        max_concurrency: Passed to ``batch``, or ``None`` (LangChain's default pool).
        topics: The topics to draw from (see ``sweep_topics``).
        chain: The chain to time; dropped (it may hold a key) once the sweep ends.
        meta: Labels for the run records.
        points: The points measured so far, in the order they ran.
        running: True until the sweep is finished or stopped.
        stopped: True when it was stopped before the end.
        restored: True when it was rebuilt from History (``from_records``).
        group_id: Shared by every run of the sweep: History shows them as one entry.
        started_at: ISO-8601 UTC time the sweep started.
        provider: Who answered.
        model: The model name.
    """

    k: int
    repeats: int
    max_concurrency: int | None = None
    topics: list[str] = field(default_factory=list)
    chain: Runnable[str, str] | None = field(default=None, repr=False)
    meta: RunMeta | None = None
    points: list[SweepPoint] = field(default_factory=list)
    running: bool = False
    stopped: bool = False
    restored: bool = False
    group_id: str = field(default_factory=_new_group_id)
    started_at: str = ""
    provider: str = ""
    model: str = ""

    @classmethod
    def start(
        cls, chain: Runnable[str, str], topics: Sequence[str], k: int, repeats: int, *, max_concurrency: int | None, meta: RunMeta
    ) -> SweepState:
        """A new sweep, ready to run.

        Raises:
            ValueError: When ``k`` or ``repeats`` is out of range, or there is no topic.
        """
        _check_limits(k, repeats)
        sweep_topics(topics, 1, 0)  # refuses an empty pool now, not at the first step
        return cls(
            k=k,
            repeats=repeats,
            max_concurrency=max_concurrency,
            topics=list(topics),
            chain=chain,
            meta=meta,
            running=True,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            provider=meta.provider,
            model=meta.model,
        )

    @classmethod
    def from_records(cls, records: Sequence[RunRecord]) -> SweepState | None:
        """The latest sweep among ``records`` (after a reload), finished or stopped, without its chain.

        Its points are its completed runs, read from their fields (``origin``,
        ``group_id``, mode, n, wall time, errors; the repeat is their order),
        never from their labels. A run stopped half-way is no point.

        Args:
            records: This browser's runs, oldest first.

        Returns:
            The sweep, or ``None`` if no completed run of a sweep is there.
        """
        group = next((record.group_id for record in reversed(records) if record.origin == LAB_SWEEP_ORIGIN and record.group_id), None)
        if group is None:
            return None
        runs = [record for record in records if record.group_id == group]
        points: list[SweepPoint] = []
        seen: dict[tuple[str, int], int] = {}
        for record in runs:
            if record.stopped:
                continue
            repeat = seen.get((record.mode, record.n), 0)
            seen[(record.mode, record.n)] = repeat + 1
            points.append(SweepPoint(record.mode, record.n, repeat, record.wall_s, record.error_count))
        if not points:
            return None
        state = cls(
            k=max(point.n for point in points),
            repeats=max(seen.values()),
            max_concurrency=next((record.max_concurrency for record in runs if record.mode == "batch"), None),  # the loop has none
            points=points,
            restored=True,
            group_id=group,
            started_at=runs[0].started_at,
            provider=runs[0].provider,
            model=runs[0].model,
        )
        state.stopped = any(record.stopped for record in runs) or not state.finished
        return state

    @property
    def pool(self) -> int:
        """Calls in one wave of ``batch`` (see ``sweep_pool_size``)."""
        return sweep_pool_size(self.max_concurrency)

    @property
    def steps(self) -> list[SweepStep]:
        """Every run the sweep makes, in order."""
        return plan_sweep(self.k, self.repeats)

    @property
    def total(self) -> int:
        """How many runs the whole sweep makes."""
        return len(SWEEP_MODES) * self.k * self.repeats

    @property
    def done(self) -> int:
        """How many runs are measured."""
        return len(self.points)

    @property
    def finished(self) -> bool:
        """True when every run is measured."""
        return self.done >= self.total

    @property
    def next_step(self) -> SweepStep | None:
        """The run ``run_next`` makes, or ``None`` when finished."""
        return None if self.finished else self.steps[self.done]

    def stop(self) -> None:
        """End the sweep now (Stop): its points so far stay; its chain goes."""
        if self.running:
            self.running = False
            self.stopped = True
        self.chain = None

    def _tag(self, record: RunRecord, step: SweepStep) -> RunRecord:
        record.origin = LAB_SWEEP_ORIGIN
        record.group_id = self.group_id
        record.label = f"sweep N={step.n} repeat={step.repeat + 1}"  # for people; nothing parses it
        return record

    def run_next(self, *, on_call: OnResult | None = None, on_stopped: OnStopped | None = None) -> tuple[SweepPoint, RunRecord]:
        """Run the next step (a loop or a batch of N topics), and add its point.

        Args:
            on_call: Called as each call of the step finishes (in the caller's thread).
            on_stopped: Called with the step's partial record, tagged as the sweep's,
                if the step is cut short from outside (the step is then not counted,
                and runs again on resume).

        Returns:
            The point measured and the run record behind it (tagged with the sweep's
            ``origin`` and ``group_id``).

        Raises:
            RuntimeError: When the sweep is not running, or has no chain.
        """
        step = self.next_step
        if not self.running or step is None or self.chain is None or self.meta is None:
            raise RuntimeError("This sweep is not running.")
        topics = sweep_topics(self.topics, step.n, step.repeat)

        def keep_stopped(record: RunRecord) -> None:
            if on_stopped is not None:
                on_stopped(self._tag(record, step))

        if step.mode == "loop":
            record = run_loop(self.chain, topics, meta=self.meta, on_result=on_call, on_stopped=keep_stopped)
        else:
            record = run_batch(
                self.chain, topics, max_concurrency=self.max_concurrency, meta=self.meta, on_result=on_call, on_stopped=keep_stopped
            )
        self._tag(record, step)
        point = SweepPoint(step.mode, step.n, step.repeat, record.wall_s, record.error_count)
        self.points.append(point)
        if self.finished:
            self.running = False
            self.chain = None
        return point, record


def run_sweep(
    chain: Runnable[str, str],
    topics_pool: list[str],
    k: int,
    repeats: int,
    *,
    max_concurrency: int | None,
    meta: RunMeta,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[SweepProgress], None] | None = None,
) -> list[SweepPoint]:
    """Time a ``for`` loop of ``invoke`` against ``batch`` for N = 1..k, to the end (a ``SweepState``).

    For each N and each repeat, the loop runs first and batch second, on the same
    N topics (see ``sweep_topics``). ``should_stop`` is checked before every run,
    so a Stop button ends the sweep after the run in progress.

    Args:
        chain: The joke chain.
        topics_pool: Topics to draw from; cycled when shorter than k.
        k: The largest N (1 to ``MAX_SWEEP_K``).
        repeats: Repeats per N (1 to ``MAX_SWEEP_REPEATS``).
        max_concurrency: Passed to ``batch``; ``None`` uses LangChain's default pool,
            so batch runs in waves of ``default_pool_size()``.
        meta: Labels for the run records.
        should_stop: Returns True to stop the sweep early.
        on_progress: Called in the caller's thread after every run.

    Returns:
        The points measured, in the order they ran (fewer than ``2 * k * repeats``
        when stopped early).

    Raises:
        ValueError: When ``k`` or ``repeats`` is out of range, or the pool is empty.
    """
    state = SweepState.start(chain, topics_pool, k, repeats, max_concurrency=max_concurrency, meta=meta)
    while state.running:
        if should_stop is not None and should_stop():
            state.stop()
            break
        point, record = state.run_next()
        if on_progress is not None:
            on_progress(SweepProgress(state.done, state.total, point, record))
    return state.points


def summarize_sweep(points: Sequence[SweepPoint]) -> list[SweepSummary]:
    """Mean, sample standard deviation and count of wall times per (mode, N).

    Args:
        points: The sweep's points.

    Returns:
        One summary per (mode, N), loop before batch (other modes after, by name),
        then by N.
    """
    groups: dict[tuple[str, int], list[float]] = {}
    for point in points:
        groups.setdefault((point.mode, point.n), []).append(point.wall_s)

    def order(key: tuple[str, int]) -> tuple[int, str, int]:
        mode, n = key
        rank = SWEEP_MODES.index(mode) if mode in SWEEP_MODES else len(SWEEP_MODES)
        return rank, mode, n

    summaries = []
    for mode, n in sorted(groups, key=order):
        values = groups[(mode, n)]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        summaries.append(SweepSummary(mode, n, statistics.fmean(values), std, len(values)))
    return summaries


def fit_slope(summary: Sequence[SweepSummary], mode: str) -> tuple[float, float]:
    """Fit ``mean_s = slope * N + intercept`` by least squares for one mode.

    For the loop, the slope is the time of one call; for batch within one wave it
    is close to 0.

    Args:
        summary: The output of ``summarize_sweep``.
        mode: ``loop`` or ``batch``.

    Returns:
        ``(slope_s_per_call, intercept_s)``.

    Raises:
        ValueError: When the mode has fewer than two distinct N.
    """
    rows = [row for row in summary if row.mode == mode]
    if len({row.n for row in rows}) < 2:
        raise ValueError(f"fit_slope needs at least two distinct N for mode {mode!r}")
    fit = statistics.linear_regression([float(row.n) for row in rows], [row.mean_s for row in rows])
    return fit.slope, fit.intercept


def flat_until(summary: Sequence[SweepSummary], pool_size: int) -> int | None:
    """The largest measured N that batch runs in a single wave.

    Up to this N, batch's time should stay flat (about one call); from the next N
    on, a second wave starts and the time steps up.

    Args:
        summary: The output of ``summarize_sweep``.
        pool_size: The batch pool size (see ``sweep_pool_size``).

    Returns:
        That N, or ``None`` when no batch row fits in one wave.
    """
    flat = [row.n for row in summary if row.mode == "batch" and expected_batch_waves(row.n, pool_size) == 1]
    return max(flat) if flat else None


@dataclass(frozen=True)
class BatchKnee:
    """Where batch's *measured* time leaves the flat line: one answer for the metric and the text.

    Attributes:
        flat_until: The largest measured N before the knee (the largest N when batch
            stayed flat), or ``None`` when batch was not measured.
        leaves_at: The first N whose batch mean exceeds ``ratio`` times the mean at
            the smallest N, or ``None`` when batch stayed flat.
    """

    flat_until: int | None
    leaves_at: int | None


def batch_knee(summary: Sequence[SweepSummary], ratio: float = 1.5) -> BatchKnee:
    """Find where batch's measured time leaves the flat line.

    The Lab's metric ("leaves the flat line at N = …") and its sentence ("flat up
    to N = …") both read this, so they can never disagree.

    Args:
        summary: The output of ``summarize_sweep``.
        ratio: How many times the smallest-N batch time counts as "no longer flat".

    Returns:
        The knee.
    """
    rows = sorted((row for row in summary if row.mode == "batch"), key=lambda row: row.n)
    if not rows:
        return BatchKnee(flat_until=None, leaves_at=None)
    base = rows[0].mean_s
    flat = rows[0].n
    for row in rows[1:]:
        if row.mean_s > ratio * base:
            return BatchKnee(flat_until=flat, leaves_at=row.n)
        flat = row.n
    return BatchKnee(flat_until=flat, leaves_at=None)


def observed_knee(summary: Sequence[SweepSummary], ratio: float = 1.5) -> int | None:
    """The first N at which batch's measured time leaves the flat line (``batch_knee(...).leaves_at``).

    Args:
        summary: The output of ``summarize_sweep``.
        ratio: How many times the smallest-N batch time counts as "no longer flat".

    Returns:
        The first N whose batch mean exceeds ``ratio`` times the mean at the
        smallest N, or ``None`` when batch stays flat (or was not measured).
    """
    return batch_knee(summary, ratio).leaves_at


def sweep_to_frame(points: Sequence[SweepPoint]) -> pd.DataFrame:
    """The sweep's points as a DataFrame, one row per run.

    Args:
        points: The sweep's points.

    Returns:
        A DataFrame with columns ``mode``, ``n``, ``repeat``, ``wall_s`` and ``errors``.
    """
    import pandas as pd

    columns = ["mode", "n", "repeat", "wall_s", "errors"]
    rows = [[p.mode, p.n, p.repeat, p.wall_s, p.errors] for p in points]
    return pd.DataFrame(rows, columns=columns)


def summary_to_frame(summary: Sequence[SweepSummary]) -> pd.DataFrame:
    """The sweep's summary as a DataFrame, one row per (mode, N), for an error-bar chart.

    Args:
        summary: The output of ``summarize_sweep``.

    Returns:
        A DataFrame with columns ``mode``, ``n``, ``mean_s``, ``std_s`` and ``count``.
    """
    import pandas as pd

    columns = ["mode", "n", "mean_s", "std_s", "count"]
    rows = [[s.mode, s.n, s.mean_s, s.std_s, s.count] for s in summary]
    return pd.DataFrame(rows, columns=columns)
