"""Verdicts: what a run's own timings say, so that no page states a lesson its numbers contradict.

Each function takes the run's ``RunRecord``s (``chains.timing``) and returns a
frozen dataclass: which case holds (a stable id such as ``flat`` or ``queued``)
and the figures that decided it. The pages print the verdict (``ui.elements.verdicts``);
nothing here knows about Streamlit or about languages.

Batch is flat only when the *server* runs the calls together. A local server
queues requests beyond its slots (llama.cpp ``--parallel``, Ollama
``OLLAMA_NUM_PARALLEL``), and on a small CPU its slots share the compute, so each
call decodes slower while the others run. The server's concurrency is read from
the call intervals: streamed calls are served from their first token to their
end, and the peak overlap of those windows is the most the server ran at once;
of plain calls, those that ended within about one call of the first start are
the ones the server took at once (none: they all shared it the whole time).

The thresholds are named below and quoted in the README.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from statistics import fmean, median

from chains.experiments.sweep import SweepPoint, SweepSummary, batch_knee, expected_batch_waves, summarize_sweep
from chains.timing import CallTiming, RunRecord

#: Batch is flat when its calls took at most this many times the slowest single call.
FLAT_WITHIN_CALLS = 1.5
#: The calls shared the server's compute when each took more than this many times one call alone.
SHARED_SLOWDOWN = 1.5
#: Two totals are "the same" (stream and invoke, ainvoke and invoke) within this fraction of the larger one.
SAME_TOTAL_TOLERANCE = 0.25
#: Streamed calls' service windows (first token to end) are trimmed by this share of one call at both
#: ends before their overlap is counted, so that one call ending as the next starts does not count as two.
OVERLAP_MARGIN_SHARE = 0.2
#: Plain calls that ended within this share of one call after the first end were served together.
END_CLUSTER_SHARE = 0.5
#: Ends that come at least this share of one call apart (the median gap) came one after another: a queue.
QUEUE_GAP_SHARE = 0.75
#: A verdict about running calls together needs at least this many finished calls.
MIN_CALLS_TOGETHER = 2
#: Error kinds that say the provider limited the rate.
RATE_LIMIT_KINDS = frozenset({"rate_limit"})

# The cases. A case in NO_LESSON draws no lesson and shows no speed-up.
FLAT = "flat"
WAVES = "waves"
QUEUED = "queued"
SHARED_COMPUTE = "shared_compute"
STAGGERED = "staggered"
THROTTLED = "throttled"
FAILED = "failed"
NOT_ENOUGH_DATA = "not_enough_data"
STOPPED = "stopped"
SAME_TOTAL = "same_total"
DIFFERENT_TOTAL = "different_total"
SERVER_LIMITED = "server_limited"
FLAT_BEYOND_POOL = "flat_beyond_pool"
NO_LESSON = frozenset({FAILED, NOT_ENOUGH_DATA, STOPPED})


# ----------------------------------------------------------------------------- helpers
def peak_overlap(intervals: Iterable[tuple[float, float]], margin_s: float = 0.0) -> int:
    """The most intervals that were open at the same moment.

    Args:
        intervals: ``(start, end)`` pairs on one clock.
        margin_s: Trim each interval by this much at both ends (at most a quarter of
            its length), so that intervals that only touch do not count as overlapping.

    Returns:
        The peak count; 0 for no intervals.
    """
    trimmed = []
    for start, end in intervals:
        cut = min(margin_s, max(0.0, end - start) / 4)
        trimmed.append((start + cut, max(start + cut, end - cut)))
    peak = 0
    for start, _ in trimmed:
        peak = max(peak, sum(1 for other_start, other_end in trimmed if other_start <= start and (start < other_end or other_start == other_end == start)))
    return peak


def first_token_share(call: CallTiming) -> float | None:
    """The share of a streamed call's total time spent waiting for its first token (``None`` if it never came)."""
    if call.ttft_s is None or call.latency_s <= 0:
        return None
    return call.ttft_s / call.latency_s


def same_total(first_s: float, second_s: float, tolerance: float = SAME_TOTAL_TOLERANCE) -> bool:
    """True when two durations differ by at most ``tolerance`` of the larger one."""
    larger = max(first_s, second_s)
    return larger <= 0 or abs(first_s - second_s) <= tolerance * larger


def failed_kinds(*records: RunRecord | None) -> tuple[str, ...]:
    """The error kinds of the failed calls of ``records``, sorted, each once."""
    kinds = {
        "interrupted" if call.interrupted and not call.error_kind else (call.error_kind or "unknown")
        for record in records
        if record is not None
        for call in record.calls
        if not call.ok
    }
    return tuple(sorted(kinds))


def _span(calls: Sequence[CallTiming]) -> float:
    return max(call.end_s for call in calls) - min(call.start_s for call in calls) if calls else 0.0


def _server_at_once(calls: Sequence[CallTiming], one_call_s: float, slowest_s: float) -> int:
    """The most calls the timings show the server working on at once.

    Streamed calls show it directly: the server works on a call from its first
    token to its end, so the peak overlap of those windows counts it (first
    tokens that come one after another are a queue). Plain calls show only their
    ends. A server that takes k at once finishes k of them together, within
    about one call of the first start (or, on a busy machine, close to the first
    end), and the others about one call apart after them. When the first call
    was slow *and* the ends did not come one call apart, the calls ran together
    the whole time (they shared the compute): the overlap of the whole calls counts it.
    """
    if all(call.first_token_s is not None for call in calls):
        windows = [(call.first_token_s or call.start_s, call.end_s) for call in calls]
        return max(1, peak_overlap(windows, OVERLAP_MARGIN_SHARE * one_call_s))
    ends = sorted(call.end_s for call in calls)
    first = min(calls, key=lambda call: call.end_s)
    horizon = max(min(call.start_s for call in calls) + FLAT_WITHIN_CALLS * slowest_s, ends[0] + END_CLUSTER_SHARE * one_call_s)
    early = sum(1 for end in ends if end <= horizon)
    gaps = [later - earlier for earlier, later in zip(ends, ends[1:])]
    one_by_one = bool(gaps) and median(gaps) >= QUEUE_GAP_SHARE * one_call_s
    if first.latency_s <= FLAT_WITHIN_CALLS * slowest_s or one_by_one:
        return max(1, early)
    return max(1, peak_overlap((call.start_s, call.end_s) for call in calls))


# ------------------------------------------------------------------------ loop vs batch
@dataclass(frozen=True)
class BatchVerdict:
    """What a batch (or abatch) run says about running calls together.

    Attributes:
        case: ``flat``, ``waves``, ``queued``, ``shared_compute``, ``staggered``,
            ``throttled``, ``failed``, ``not_enough_data`` or ``stopped``.
        mode: The run's mode (``batch`` or ``abatch``).
        n: Calls in the run.
        compared: Calls that finished on both sides; every figure uses only these.
        failed: Calls that failed on either side.
        kinds: The error kinds of the failed calls.
        reference: What "one call" was measured on: ``loop``, ``invoke`` (or any
            one-call mode), or ``batch`` (its own fastest call) when nothing else ran.
        one_call_s: The median time of one call alone.
        slowest_call_s: The slowest single call alone (of the compared topics).
        batch_s: From the first compared call's start to the last one's end.
        loop_s: The loop's time for the compared calls (``None`` without a loop).
        pool: The calls the client ran at once (its thread pool, ``max_concurrency``).
        waves: ``ceil(compared / pool)``.
        server_at_once: The most calls the timings show the server ran at once.
        start_spread_s: From the first compared call's start to the last one's start.
        end_spread_s: From the first compared call's end to the last one's end.
        mean_call_s: The mean time of the compared calls inside the run.
        first_token_spread_s: From the first first token to the last one, when streamed.
        retries: Retries the client made.
        rate_limited: Calls refused with a rate limit (429).
    """

    case: str
    mode: str = "batch"
    n: int = 0
    compared: int = 0
    failed: int = 0
    kinds: tuple[str, ...] = ()
    reference: str = ""
    one_call_s: float | None = None
    slowest_call_s: float | None = None
    batch_s: float | None = None
    loop_s: float | None = None
    pool: int = 1
    waves: int = 1
    server_at_once: int | None = None
    start_spread_s: float = 0.0
    end_spread_s: float = 0.0
    mean_call_s: float | None = None
    first_token_spread_s: float | None = None
    retries: int = 0
    rate_limited: int = 0

    @property
    def teaches(self) -> bool:
        """True when the run draws a lesson (its calls finished, and there were enough)."""
        return self.case not in NO_LESSON

    @property
    def partial(self) -> bool:
        """True when some calls failed and the figures use only the calls both sides finished."""
        return self.teaches and self.compared < self.n

    @property
    def speedup(self) -> float | None:
        """The loop's time over batch's, on the compared calls; ``None`` when there is no lesson or no loop."""
        if not self.teaches or self.loop_s is None or not self.batch_s:
            return None
        return self.loop_s / self.batch_s

    @property
    def times_one_call(self) -> float | None:
        """Batch's time in units of one call alone (1.0 is perfectly flat)."""
        if not self.teaches or not self.one_call_s or self.batch_s is None:
            return None
        return self.batch_s / self.one_call_s

    @property
    def slowdown(self) -> float | None:
        """How many times longer each call took inside the run than alone."""
        if not self.one_call_s or self.mean_call_s is None:
            return None
        return self.mean_call_s / self.one_call_s


def batch_verdict(batch: RunRecord, reference: RunRecord | None = None) -> BatchVerdict:
    """Decide what a batch run shows, against a loop of the same topics or one call alone.

    Args:
        batch: A ``batch`` or ``abatch`` run.
        reference: The ``loop`` of the same topics (its calls give one call's time
            per topic, and the speed-up), or a one-call run such as ``invoke``;
            ``None`` when neither ran (one call's time is then batch's fastest call).

    Returns:
        The verdict.
    """
    base = {"mode": batch.mode, "n": batch.n, "pool": max(1, batch.pool_size or batch.n or 1)}
    if batch.stopped or (reference is not None and reference.stopped):
        return BatchVerdict(STOPPED, **base)
    is_loop = reference is not None and reference.n == batch.n and reference.n > 1
    reference_ok = {call.index: call for call in reference.calls if call.ok} if reference is not None else {}
    both = [call for call in batch.calls if call.ok and (not is_loop or call.index in reference_ok)]
    failed = sum(1 for call in batch.calls if not call.ok or (is_loop and call.index not in reference_ok))
    kinds = failed_kinds(batch, reference)
    retries = sum(call.retries for record in (batch, reference) if record is not None for call in record.calls)
    rate_limited = sum(
        1 for record in (batch, reference) if record is not None for call in record.calls if call.error_kind in RATE_LIMIT_KINDS
    )
    base |= {"failed": failed, "kinds": kinds, "retries": retries, "rate_limited": rate_limited, "compared": len(both)}
    if not both or (reference is not None and not reference_ok):
        return BatchVerdict(FAILED, **base)
    if batch.n < MIN_CALLS_TOGETHER or len(both) < MIN_CALLS_TOGETHER:
        return BatchVerdict(NOT_ENOUGH_DATA, **base)

    if is_loop:
        alone = [reference_ok[call.index].latency_s for call in both]
        reference_name, loop_s = "loop", sum(alone)
    elif reference_ok:
        alone = [call.latency_s for call in reference_ok.values()]
        reference_name, loop_s = reference.mode if reference is not None else "", None
    else:
        alone = [min(call.latency_s for call in both)]
        reference_name, loop_s = "batch", None
    one_call_s = median(alone)
    slowest_s = max(alone)
    pool = min(base["pool"], len(both))
    batch_s = _span(both)
    starts = sorted(call.start_s for call in both)
    ends = sorted(call.end_s for call in both)
    first_tokens = sorted(call.first_token_s for call in both if call.first_token_s is not None)
    server_at_once = min(pool, _server_at_once(both, one_call_s, slowest_s))
    figures = BatchVerdict(
        "",
        **base | {"pool": pool},
        reference=reference_name,
        one_call_s=one_call_s,
        slowest_call_s=slowest_s,
        batch_s=batch_s,
        loop_s=loop_s,
        waves=expected_batch_waves(len(both), pool),
        server_at_once=server_at_once,
        start_spread_s=starts[-1] - starts[0],
        end_spread_s=ends[-1] - ends[0],
        mean_call_s=fmean(call.latency_s for call in both),
        first_token_spread_s=first_tokens[-1] - first_tokens[0] if len(first_tokens) >= MIN_CALLS_TOGETHER else None,
    )
    return replace(figures, case=_batch_case(figures))


def _batch_case(v: BatchVerdict) -> str:
    """The case, from the figures (the order of the checks is the order of the explanations)."""
    assert v.one_call_s is not None and v.batch_s is not None and v.slowest_call_s is not None
    if v.retries or v.rate_limited:
        return THROTTLED
    # The calls' own intervals come first: a server that ran fewer at once than the client sent queued
    # the rest, even when a slow call alone (a real model's answers differ in length) makes the total look flat.
    if v.server_at_once is not None and v.server_at_once < min(v.pool, v.compared):
        return QUEUED
    if v.batch_s <= FLAT_WITHIN_CALLS * v.slowest_call_s:
        return FLAT
    if v.mean_call_s is not None and v.mean_call_s > SHARED_SLOWDOWN * v.one_call_s:
        return SHARED_COMPUTE
    if v.waves > 1:
        return WAVES
    return STAGGERED


# ---------------------------------------------------------------------- stream vs invoke
@dataclass(frozen=True)
class StreamVerdict:
    """``stream`` against ``invoke`` (or any streamed call against a plain one) on the same topic.

    Attributes:
        case: ``same_total``, ``different_total``, ``queued`` (raced together on a
            server that served one after the other), ``failed``, ``not_enough_data`` or ``stopped``.
        plain_s: The plain call's total (``invoke``); ``None`` when it did not run.
        stream_s: The streamed call's total.
        ttft_s: The streamed call's time to first token.
        first_token_share: ``ttft_s / stream_s``.
        ratio: ``stream_s / plain_s``.
        kinds: The error kinds of the failed calls.
    """

    case: str
    plain_s: float | None = None
    stream_s: float | None = None
    ttft_s: float | None = None
    first_token_share: float | None = None
    ratio: float | None = None
    kinds: tuple[str, ...] = ()

    @property
    def teaches(self) -> bool:
        """True when the calls finished and can be compared."""
        return self.case not in NO_LESSON


def stream_verdict(stream: RunRecord, plain: RunRecord | None = None, *, raced: bool = False) -> StreamVerdict:
    """Decide whether streaming took as long as the plain call, and how early its first token came.

    Args:
        stream: A one-call ``stream`` (or ``astream``) run.
        plain: The ``invoke`` of the same topic, or ``None`` (then only the first
            token's share is decided: ``same_total`` stands for "nothing to contradict").
        raced: True when both ran at the same time (the Stream page's race): then a
            total about twice the other's, with the later first token after the
            other call ended, means the server served them one after the other.

    Returns:
        The verdict.
    """
    if stream.stopped or (plain is not None and plain.stopped):
        return StreamVerdict(STOPPED)
    kinds = failed_kinds(stream, plain)
    call = stream.calls[0] if stream.calls else None
    plain_call = plain.calls[0] if plain is not None and plain.calls else None
    if call is None or not call.ok or (plain is not None and (plain_call is None or not plain_call.ok)):
        return StreamVerdict(FAILED, kinds=kinds)
    if call.ttft_s is None:
        return StreamVerdict(NOT_ENOUGH_DATA)
    share = first_token_share(call)
    if plain_call is None:
        return StreamVerdict(SAME_TOTAL, stream_s=call.latency_s, ttft_s=call.ttft_s, first_token_share=share)
    ratio = call.latency_s / plain_call.latency_s if plain_call.latency_s > 0 else None
    if same_total(call.latency_s, plain_call.latency_s):
        case = SAME_TOTAL
    elif raced and _served_one_after_the_other(call, plain_call):
        case = QUEUED
    else:
        case = DIFFERENT_TOTAL
    return StreamVerdict(case, plain_call.latency_s, call.latency_s, call.ttft_s, share, ratio, kinds)


def _served_one_after_the_other(stream_call: CallTiming, plain_call: CallTiming) -> bool:
    """Two calls started together, and the longer took about the shorter's time more (both records start at 0)."""
    shorter, longer = sorted((stream_call.latency_s, plain_call.latency_s))
    return longer >= (2 - SAME_TOTAL_TOLERANCE) * shorter


# ----------------------------------------------------------------------------- async
@dataclass(frozen=True)
class AsyncVerdict:
    """The Async page's claims: ``ainvoke`` against ``invoke``, and ``abatch``'s overlap with and without a cap.

    Attributes:
        case: ``failed`` or ``stopped`` when the runs draw no lesson, else the
            open ``abatch``'s server case (``flat``, ``queued``, ``shared_compute``...).
        ainvoke_s: ``ainvoke``'s total.
        invoke_s: ``invoke``'s total, when the sync twins ran.
        ainvoke_same: True when the two are the same within ``SAME_TOTAL_TOLERANCE``.
        n: Calls in each ``abatch``.
        open_at_once: The most calls the unset ``abatch`` had in flight at once.
        max_concurrency: The capped ``abatch``'s ``max_concurrency``.
        capped_at_once: The most calls the capped ``abatch`` had in flight at once.
        capped_waves: ``ceil(n / max_concurrency)``.
        server: The unset ``abatch`` against one call alone.
        astream_s: ``astream`` of every topic, when it ran.
        stream_s: ``stream`` of the first topic, when the sync twins ran.
        astream_same: True when the two are the same within ``SAME_TOTAL_TOLERANCE``.
        kinds: The error kinds of the failed calls.
    """

    case: str
    ainvoke_s: float | None = None
    invoke_s: float | None = None
    ainvoke_same: bool | None = None
    n: int = 0
    open_at_once: int = 0
    max_concurrency: int | None = None
    capped_at_once: int = 0
    capped_waves: int = 0
    server: BatchVerdict | None = None
    astream_s: float | None = None
    stream_s: float | None = None
    astream_same: bool | None = None
    kinds: tuple[str, ...] = ()

    @property
    def teaches(self) -> bool:
        """True when every run's calls finished."""
        return self.case not in NO_LESSON


def async_verdict(
    ainvoke: RunRecord,
    abatch_open: RunRecord,
    abatch_capped: RunRecord,
    invoke: RunRecord | None = None,
    *,
    astream: RunRecord | None = None,
    stream: RunRecord | None = None,
) -> AsyncVerdict:
    """Decide the Async page's lesson from its runs.

    Args:
        ainvoke: The ``ainvoke`` of the first topic.
        abatch_open: ``abatch`` with no ``max_concurrency``.
        abatch_capped: ``abatch`` with ``max_concurrency``.
        invoke: The sync ``invoke`` of the same topic, when the sync twins ran.
        astream: ``astream`` of every topic, when it ran.
        stream: The sync ``stream`` of the first topic, when the sync twins ran.

    Returns:
        The verdict.
    """
    records = [record for record in (ainvoke, abatch_open, abatch_capped, invoke, astream, stream) if record is not None]
    kinds = failed_kinds(*records)
    if any(record.stopped for record in records):
        return AsyncVerdict(STOPPED, kinds=kinds)
    if any(record.error_count for record in records):
        return AsyncVerdict(FAILED, kinds=kinds)
    one_call = invoke if invoke is not None else ainvoke
    server = batch_verdict(abatch_open, one_call)
    ainvoke_s = ainvoke.calls[0].latency_s
    invoke_s = invoke.calls[0].latency_s if invoke is not None else None
    cap = abatch_capped.max_concurrency
    astream_s = astream.wall_s if astream is not None else None
    stream_s = stream.wall_s if stream is not None else None
    return AsyncVerdict(
        case=server.case,
        ainvoke_s=ainvoke_s,
        invoke_s=invoke_s,
        ainvoke_same=same_total(ainvoke_s, invoke_s) if invoke_s is not None else None,
        n=abatch_open.n,
        open_at_once=peak_overlap((call.start_s, call.end_s) for call in abatch_open.calls),
        max_concurrency=cap,
        capped_at_once=peak_overlap((call.start_s, call.end_s) for call in abatch_capped.calls),
        capped_waves=expected_batch_waves(abatch_capped.n, cap or abatch_capped.n or 1),
        server=server,
        astream_s=astream_s,
        stream_s=stream_s,
        astream_same=same_total(astream_s, stream_s) if astream_s is not None and stream_s is not None else None,
        kinds=kinds,
    )


# -------------------------------------------------------------------------------- Lab
@dataclass(frozen=True)
class LabVerdict:
    """What the Lab's sweep shows about batch's flat line.

    Attributes:
        case: ``waves`` (batch leaves the flat line past the client's pool),
            ``server_limited`` (it leaves it at or below the pool: the server ran
            fewer at once, or they shared its compute), ``flat`` (every N fits in
            one wave), ``flat_beyond_pool`` (flat even past the pool), ``failed``
            or ``not_enough_data``.
        pool: The client's pool.
        flat_until: The last N on the flat line.
        leaves_at: The first N off it, or ``None``.
        largest_n: The largest N measured.
        errors: Failed calls over the whole sweep.
    """

    case: str
    pool: int
    flat_until: int | None = None
    leaves_at: int | None = None
    largest_n: int = 0
    errors: int = 0

    @property
    def teaches(self) -> bool:
        """True when the sweep draws a lesson."""
        return self.case not in NO_LESSON


def lab_verdict(points: Sequence[SweepPoint], pool: int, summary: Sequence[SweepSummary] | None = None) -> LabVerdict:
    """Decide the sweep's lesson from the knee (``chains.experiments.sweep.batch_knee``, the one the chart draws).

    Args:
        points: The sweep's measured points.
        pool: The client's pool (``SweepState.pool``).
        summary: ``summarize_sweep(points)``, if already computed.

    Returns:
        The verdict.
    """
    errors = sum(point.errors for point in points)
    if points and all(point.errors >= point.n for point in points):
        return LabVerdict(FAILED, pool, errors=errors)
    summary = summarize_sweep(points) if summary is None else summary
    batch_ns = sorted(row.n for row in summary if row.mode == "batch")
    if len(batch_ns) < MIN_CALLS_TOGETHER:
        return LabVerdict(NOT_ENOUGH_DATA, pool, largest_n=max(batch_ns, default=0), errors=errors)
    knee = batch_knee(summary)
    largest = batch_ns[-1]
    if knee.leaves_at is not None:
        case = SERVER_LIMITED if knee.leaves_at <= pool else WAVES
    elif largest > pool:
        case = FLAT_BEYOND_POOL
    else:
        case = FLAT
    return LabVerdict(case, pool, knee.flat_until, knee.leaves_at, largest, errors)


# ---------------------------------------------------------------------------- Compare
@dataclass(frozen=True)
class CompareVerdict:
    """The Compare page's three claims, each from its own verdict.

    Attributes:
        loop_s: The loop's total.
        invoke_s: One ``invoke``'s total.
        n: Topics in the loop.
        loop_times_invoke: ``loop_s / invoke_s`` (about ``n`` when the loop is linear).
        batch: Batch against the loop.
        stream: Stream against invoke.
        kinds: The error kinds of every failed call.
    """

    loop_s: float | None
    invoke_s: float | None
    n: int
    loop_times_invoke: float | None
    batch: BatchVerdict
    stream: StreamVerdict
    kinds: tuple[str, ...] = ()

    @property
    def teaches(self) -> bool:
        """True when the loop and invoke finished, so that there is a lesson to draw."""
        return self.loop_s is not None and self.invoke_s is not None


def compare_verdict(invoke: RunRecord, loop: RunRecord, batch: RunRecord, stream: RunRecord) -> CompareVerdict:
    """Decide each of the Compare page's claims from its four runs.

    Args:
        invoke: ``invoke`` of the first topic.
        loop: The ``for`` loop over every topic.
        batch: ``batch`` over every topic.
        stream: ``stream`` of the first topic.

    Returns:
        The verdict.
    """
    kinds = failed_kinds(invoke, loop, batch, stream)
    usable = not (invoke.stopped or loop.stopped) and not invoke.error_count and not loop.error_count
    loop_s = loop.wall_s if usable else None
    invoke_s = invoke.wall_s if usable else None
    return CompareVerdict(
        loop_s=loop_s,
        invoke_s=invoke_s,
        n=loop.n,
        loop_times_invoke=loop_s / invoke_s if loop_s is not None and invoke_s else None,
        batch=batch_verdict(batch, loop),
        stream=stream_verdict(stream, invoke),
        kinds=kinds,
    )
