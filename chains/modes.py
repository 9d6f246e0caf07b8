"""Runners for every call mode, each returning a ``RunRecord`` with real timings.

Each runner calls LangChain's own method (``invoke``, ``batch_as_completed``,
``stream``, ``ainvoke``, ``abatch_as_completed``, ``astream``) on the chain it is
given, and records per-call timings through a LangChain callback handler. Runners
take optional callbacks (``on_result``, ``on_chunk``) that are called in the
caller's thread: a Streamlit page passes ones that write to placeholders, a test
passes ones that collect.

Failures never raise out of a runner: each failed call is recorded with its
error, and the other calls keep their results (``return_exceptions=True``).

A run can also be cut short from outside: a callback may raise (Streamlit stops
a script for a rerun by raising a ``BaseException`` from inside an element
update). Every runner then hands what had arrived to ``on_stopped`` as a
``RunRecord`` marked ``stopped=True``, and re-raises. The runners do not know
which exceptions a UI uses: any exit before the run completes means stopped.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler, UsageMetadataCallbackHandler
from langchain_core.outputs import LLMResult
from langchain_core.runnables import Runnable, RunnableConfig

from chains.chunks import ChunkKind, ChunkReader, answer_text
from chains.errors import APP_GUARD_KINDS, StreamInterruptedError, classify_error
from chains.models import DEFAULT_PROVIDER_ID
from chains.retry_counts import RetryEvent, capture_retries, is_retry_attempt
from chains.timing import CallTiming, RunClock, RunRecord

OnResult = Callable[[CallTiming], None]
OnChunk = Callable[[int, str, float], None]
OnPiece = Callable[[int, str, str, float], None]
OnStopped = Callable[[RunRecord], None]

STOPPED_KIND = "stopped"
"""The ``error_kind`` of a call that a stopped run left unfinished."""


class RunCancelled(GeneratorExit):
    """Raised from a stopped run's callbacks to end its model streams at their next token.

    Closing a LangChain stream does not stop the model: ``chain.stream()`` catches
    the ``GeneratorExit`` and then reads the rest of its input for tracing, so a
    stream cut short would run to the end (spending its tokens) in the stopped
    thread. Once a run is cancelled, its recorders raise this on the next token.
    It is a ``GeneratorExit``, so every generator that is being closed takes it
    as the end of its close (no "exception ignored" noise), and LangChain's
    ``except Exception`` handlers let it through.
    """


@dataclass(frozen=True)
class RunMeta:
    """Labels copied into every ``RunRecord``: who answered.

    Attributes:
        provider: The id of a provider in ``chains.models.PROVIDERS``.
        model: The model name.
        secrets: Exact secrets to scrub from error messages (never stored).
        shape: The id of the chain's shape in ``chains.experiments.shapes.SHAPES`` (``seed``: the seed's chain).
        provider_words: Keep the provider's own error text in the records. False on a public
            deployment: a failed call keeps only its classified kind, whatever answer it came
            from (a 200 with an error body, an error event in a stream), so no export or share
            view can carry what the server said.
    """

    provider: str = DEFAULT_PROVIDER_ID
    model: str = "simulated"
    secrets: tuple[str, ...] = ()
    shape: str = "seed"
    provider_words: bool = True

    def __repr__(self) -> str:
        return f"RunMeta(provider={self.provider!r}, model={self.model!r}, shape={self.shape!r})"


def default_pool_size() -> int:
    """The thread-pool size LangChain's ``batch`` uses when ``max_concurrency`` is unset.

    LangChain uses a plain ``ThreadPoolExecutor``, whose default is
    ``min(32, cpu_count + 4)``: 6 threads on a 2-core machine.
    """
    count_cpus = getattr(os, "process_cpu_count", os.cpu_count)
    return min(32, (count_cpus() or 1) + 4)


def effective_concurrency(n: int, max_concurrency: int | None, *, is_async: bool = False) -> int:
    """How many of ``n`` calls a batch runs at once.

    Args:
        n: Number of inputs.
        max_concurrency: The ``max_concurrency`` passed, or ``None``.
        is_async: ``abatch`` is unbounded ``gather`` when ``max_concurrency`` is unset.

    Returns:
        The number of calls in flight at the same time.
    """
    if n <= 1:
        return n
    if max_concurrency:
        return min(n, max_concurrency)
    return n if is_async else min(n, default_pool_size())


COMPARE_PLAN: tuple[tuple[str, bool], ...] = (("invoke", False), ("loop", True), ("batch", True), ("stream", False))
"""The Compare page's steps, in order: ``(mode, takes every topic)``; the others take the first topic only."""


def planned_calls(plan: tuple[tuple[str, bool], ...], topics: int) -> int:
    """How many model calls ``plan`` makes for ``topics`` topics: the page's budget check and its steps read the same plan."""
    return sum(topics if every_topic else 1 for _, every_topic in plan)


def async_comparison_calls(topics: int, *, with_sync: bool) -> int:
    """How many model calls the Async page's comparison makes for ``topics`` topics (for the budget).

    ``ainvoke`` of the first topic, ``abatch`` unbounded and capped, and ``astream``
    of every topic: 3n + 1; with the sync twins, ``invoke`` and ``stream`` of the
    first topic and ``batch`` of all: n + 2 more.
    """
    return 3 * topics + 1 + (topics + 2 if with_sync else 0)


class CallRecorder(BaseCallbackHandler):
    """Records the start, first token, end, usage and finish reason of one call.

    It is attached to one call's config only, so it needs no run-id bookkeeping
    beyond recognising the root run.
    """

    run_inline = True  # Record times in the calling thread, even under asyncio.

    def __init__(self, index: int, topic: str, clock: RunClock) -> None:
        """Create a recorder for call ``index`` about ``topic``."""
        super().__init__()
        self.timing = CallTiming(index=index, topic=topic, start_s=clock.now(), end_s=0.0)
        self._clock = clock
        self._root: UUID | None = None
        self.finish_reason: str | None = None
        self.model_finished = False
        self.cancelled = False
        #: When a model that streams inside ``invoke`` (``streaming=True``) sent its first text, else ``None``.
        self.model_first_token_s: float | None = None

    def on_chat_model_start(self, serialized: Any, messages: Any, *, tags: list[str] | None = None, **kwargs: Any) -> None:
        self._count_retry(tags)

    def on_llm_start(self, serialized: Any, prompts: Any, *, tags: list[str] | None = None, **kwargs: Any) -> None:
        self._count_retry(tags)

    def _count_retry(self, tags: list[str] | None) -> None:
        """A model call that ``with_retry`` made again carries ``retry:attempt:N``: count it as a retry."""
        if is_retry_attempt(tags):
            self.timing.retries += 1

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        if self.cancelled:
            raise RunCancelled("The run was stopped.")
        if token and self.model_first_token_s is None:
            self.model_first_token_s = self._clock.now()

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        if parent_run_id is None and self._root is None:
            self._root = run_id
            self.timing.start_s = self._clock.now()

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.model_finished = True
        try:
            generation = response.generations[0][0]
        except IndexError:
            return
        message = getattr(generation, "message", None)
        metadata = dict(getattr(message, "response_metadata", None) or {})
        metadata.update(generation.generation_info or {})
        self.finish_reason = metadata.get("finish_reason") or metadata.get("done_reason")
        usage = getattr(message, "usage_metadata", None)
        if usage:
            self.timing.input_tokens = usage.get("input_tokens")
            self.timing.output_tokens = usage.get("output_tokens")

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if run_id == self._root:
            self.timing.end_s = self._clock.now()

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        if run_id == self._root:
            self.timing.end_s = self._clock.now()


class ModelUsage(UsageMetadataCallbackHandler):
    """LangChain's usage handler, minus the chain events it never reads (it sums ``on_llm_end``'s usage).

    A chain's every step (the passthrough, the prompt, the parser, the sequence)
    starts and ends with an event for each handler; this one skips them, so a
    stream's set-up before its first token costs that much less.
    """

    @property
    def ignore_chain(self) -> bool:
        """Skip ``on_chain_start`` and ``on_chain_end``."""
        return True


class RunHooks(TypedDict, total=False):
    """The keyword arguments that every runner takes, all optional.

    Attributes:
        meta: Labels for the record (``RunMeta()`` when left out).
        on_result: Called with each call's ``CallTiming`` as the call ends, in the
            caller's thread (or on the event loop's thread for the async runners).
        on_stopped: Called with the partial record if the run is cut short.
    """

    meta: RunMeta
    on_result: OnResult | None
    on_stopped: OnStopped | None


class StreamHooks(RunHooks, total=False):
    """``RunHooks``, plus the streaming runners' chunk callback.

    Attributes:
        on_chunk: Called with ``(call_index, text, t_s)`` for every non-empty chunk.
        on_piece: Called with ``(call_index, key, text, t_s)`` for every non-empty piece,
            with the key of its branch or JSON field (``""`` for a plain text stream).
    """

    on_chunk: OnChunk | None
    on_piece: OnPiece | None


class _Run:
    """Shared bookkeeping of one run: clock, recorders, usage, retries and the caller's hooks."""

    def __init__(
        self,
        mode: str,
        topics: Sequence[str],
        hooks: StreamHooks,
        *,
        accepts: type[RunHooks] = RunHooks,
        max_concurrency: int | None = None,
        pool_size: int | None = 1,
        chunks: ChunkKind = "text",
        keys: tuple[str, ...] = (),
    ) -> None:
        unknown = set(hooks) - accepts.__optional_keys__  # a TypedDict's keys include its parents'
        if unknown:
            raise TypeError(f"run_{mode}() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
        self.mode = mode
        self.topics = list(topics)
        self.meta = hooks.get("meta") or RunMeta()
        self.on_result = hooks.get("on_result")
        self.on_chunk = hooks.get("on_chunk")
        self.on_piece = hooks.get("on_piece")
        self.on_stopped = hooks.get("on_stopped")
        self.max_concurrency = max_concurrency
        self.pool_size = pool_size
        self.retries: list[RetryEvent] = []
        self.clock = RunClock()
        # Taken now: a RunRecord built at the end would otherwise stamp the finish time.
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.usage = ModelUsage()
        self.recorders = [CallRecorder(i, topic, self.clock) for i, topic in enumerate(self.topics)]
        self.readers = [ChunkReader(chunks, keys) for _ in self.topics]
        self.finished: set[int] = set()

    def config(self, index: int) -> RunnableConfig:
        """The config of call ``index``: its recorder, shared usage, and the concurrency cap."""
        config: RunnableConfig = {
            "callbacks": [self.recorders[index], self.usage],
            "metadata": {"call_index": index, "call_mode": self.mode},
            "run_name": f"{self.mode}[{index}]",
        }
        if self.max_concurrency:
            config["max_concurrency"] = self.max_concurrency
        return config

    def configs(self) -> list[RunnableConfig]:
        return [self.config(i) for i in range(len(self.topics))]

    def finish_call(self, index: int, output: Any, *, streamed: bool = False) -> CallTiming:
        """Store the result (or the exception) of call ``index`` and return its timing."""
        recorder = self.recorders[index]
        timing = recorder.timing
        self.finished.add(index)
        if timing.end_s <= timing.start_s:
            timing.end_s = self.clock.now()
        if isinstance(output, BaseException):
            info = classify_error(output, *self.meta.secrets)
            cut_short = streamed and bool(timing.chunks)
            if cut_short and info.kind == "connection":
                # The OpenAI SDK reports a connection dropped mid-stream as a plain
                # APIConnectionError; text had already arrived, so the answer is cut, not missing.
                info = replace(info, kind="interrupted")
            keep_words = self.meta.provider_words or info.kind in APP_GUARD_KINDS  # the app's own refusals name no secret
            timing.error, timing.error_kind = (info.summary() if keep_words else info.kind), info.kind
            timing.interrupted = info.kind == "interrupted" or cut_short
        if not streamed and timing.first_token_s is None and recorder.model_first_token_s is not None:
            timing.first_token_s = recorder.model_first_token_s  # a model that streams inside invoke/batch
        if not isinstance(output, BaseException):
            if output is not None and not streamed:
                timing.output = answer_text(output)  # branches and JSON answers return a dict
            model_streamed = streamed or recorder.model_first_token_s is not None
            if model_streamed and recorder.model_finished and recorder.finish_reason is None:
                timing.interrupted = True
                info = classify_error(StreamInterruptedError("The stream ended without a finish reason."))
                timing.error, timing.error_kind = info.summary(), info.kind
        return timing

    def record(self, wall_s: float) -> RunRecord:
        """Build the finished ``RunRecord``."""
        for event in self.retries:
            if event.call_index is not None and 0 <= event.call_index < len(self.recorders):
                self.recorders[event.call_index].timing.retries += 1
        input_total = sum(u.get("input_tokens", 0) for u in self.usage.usage_metadata.values())
        output_total = sum(u.get("output_tokens", 0) for u in self.usage.usage_metadata.values())
        has_usage = bool(self.usage.usage_metadata) or any(r.timing.output_tokens is not None for r in self.recorders)
        if not self.usage.usage_metadata and has_usage:
            input_total = sum(r.timing.input_tokens or 0 for r in self.recorders)
            output_total = sum(r.timing.output_tokens or 0 for r in self.recorders)
        return RunRecord(
            mode=self.mode,
            n=len(self.topics),
            wall_s=wall_s,
            max_concurrency=self.max_concurrency,
            provider=self.meta.provider,
            model=self.meta.model,
            calls=[recorder.timing for recorder in self.recorders],
            started_at=self.started_at,
            pool_size=self.pool_size,
            shape=self.meta.shape,
            input_tokens=input_total if has_usage else None,
            output_tokens=output_total if has_usage else None,
        )


    def stopped_record(self) -> RunRecord:
        """Build the record of a run cut short: finished calls as they are, the others kept partial.

        A call that had started keeps the chunks that had arrived as its output; a
        call that had not started gets an empty interval at the stop time. Both are
        marked interrupted, with the error kind ``stopped``.
        """
        now = self.clock.now()
        for index, recorder in enumerate(self.recorders):
            if index in self.finished:
                continue
            timing = recorder.timing
            if recorder._root is None and not timing.chunks:
                timing.start_s = now
            timing.end_s = max(now, timing.start_s)
            timing.output = self.readers[index].answer()
            timing.interrupted = True
            timing.error_kind = STOPPED_KIND
            timing.error = "stopped: the run was stopped before this call finished."
        record = copy.deepcopy(self.record(now))  # other calls may still write to theirs
        record.stopped = True
        return record

    def cancel(self) -> None:
        """Make every call's stream end at its next token (see ``RunCancelled``)."""
        for recorder in self.recorders:
            recorder.cancelled = True

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Count the block's HTTP retries into this run, and keep what a cut-short run had.

        If the block exits by any exception, the run is cancelled, its partial
        record goes to ``on_stopped``, and the exception is re-raised.
        """
        with capture_retries() as self.retries:
            try:
                yield
            except BaseException:
                self.cancel()
                if self.on_stopped is not None:
                    self.on_stopped(self.stopped_record())
                raise

    def finished_record(self) -> RunRecord:
        """The record of the run that has just ended."""
        return self.record(self.clock.now())

    def complete(self, index: int, output: Any) -> None:
        """Call ``index`` has ended with ``output`` (its answer or its error): record it and tell ``on_result``."""
        self._notify(self.finish_call(index, output))

    def _notify(self, timing: CallTiming) -> None:
        if self.on_result is not None:
            self.on_result(timing)

    def record_chunk(self, index: int, text: str, key: str = "") -> None:
        """Time a chunk of call ``index``'s stream and pass it to ``on_chunk`` (and ``on_piece``, with its key)."""
        if not text:
            return
        now = self.clock.now()
        timing = self.recorders[index].timing
        if timing.first_token_s is None:
            timing.first_token_s = now
        timing.chunks.append((now, text))
        if self.on_chunk is not None:
            self.on_chunk(index, text, now)
        if self.on_piece is not None:
            self.on_piece(index, key, text, now)

    def record_value(self, index: int, chunk: Any) -> None:
        """Read one chunk of any kind (text, a branch's dict, a partial JSON object) and record its pieces."""
        for key, text in self.readers[index].read(chunk):
            self.record_chunk(index, text, key)

    @contextmanager
    def streaming(self, index: int) -> Iterator[None]:
        """Record the stream of call ``index`` that the block consumes, sync or async.

        An ``Exception`` ends the call with that error and keeps the text so far; any
        other exit (a stop from outside) cancels the run's streams and re-raises.
        The call's output is the chunks that arrived.
        """
        outcome: Any = None
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is lost
            outcome = exc
        except BaseException:
            self.cancel()  # every stream of the run ends at its next token
            raise
        timing = self.recorders[index].timing
        timing.output = self.readers[index].answer()
        self._notify(self.finish_call(index, outcome, streamed=True))


# --------------------------------------------------------------------------- sync
def run_invoke(chain: Runnable[str, str], topic: str, **hooks: Unpack[RunHooks]) -> RunRecord:
    """Run ``chain.invoke(topic)`` once and time it: ``run_loop`` of one topic, recorded as ``invoke``."""
    return run_loop(chain, [topic], mode="invoke", **hooks)


def run_loop(chain: Runnable[str, str], topics: Sequence[str], *, mode: str = "loop", **hooks: Unpack[RunHooks]) -> RunRecord:
    """Call ``chain.invoke`` once per topic, one after another, as the seed's ``for`` loop does.

    Args:
        chain: The joke chain.
        topics: The topics, in order.
        mode: The mode name to record.
        **hooks: ``meta``, ``on_result`` (after each call) and ``on_stopped``; see ``RunHooks``.

    Returns:
        The run record; failed calls carry their error, the others their output.
    """
    run = _Run(mode, topics, hooks)
    with run.recording():
        for index, topic in enumerate(run.topics):
            try:
                output: Any = chain.invoke(topic, run.config(index))
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is lost
                output = exc
            run.complete(index, output)
    return run.finished_record()


def run_batch(
    chain: Runnable[str, str], topics: Sequence[str], *, max_concurrency: int | None = None, **hooks: Unpack[RunHooks]
) -> RunRecord:
    """Run ``chain.batch_as_completed(topics)``: LangChain's thread pool, results as they finish.

    ``on_result`` is called in the caller's thread as each call completes, so a
    Streamlit page can update its placeholders safely.

    Args:
        chain: The joke chain.
        topics: The topics.
        max_concurrency: LangChain's ``max_concurrency``; ``None`` uses the default pool.
        **hooks: ``meta``, ``on_result`` and ``on_stopped``; see ``RunHooks``.

    Returns:
        The run record; failed calls carry their error, the others their output.
    """
    pool = effective_concurrency(len(topics), max_concurrency)
    run = _Run("batch", topics, hooks, max_concurrency=max_concurrency, pool_size=pool)
    with run.recording():
        for index, output in chain.batch_as_completed(run.topics, run.configs(), return_exceptions=True):
            run.complete(index, output)
    return run.finished_record()


def run_stream(
    chain: Runnable[str, Any],
    topic: str,
    *,
    mode: str = "stream",
    chunks: ChunkKind = "text",
    keys: tuple[str, ...] = (),
    **hooks: Unpack[StreamHooks],
) -> RunRecord:
    """Run ``chain.stream(topic)`` and time every chunk.

    Args:
        chain: The joke chain (or another chain shape, ``chains.experiments.shapes``).
        topic: The topic.
        mode: The mode name to record.
        chunks: What the chain streams (``chains.chunks.ChunkKind``): text, branches'
            dicts or partial JSON objects; each becomes text pieces, by key.
        keys: The answer's keys in ``invoke``'s order (a keyed stream's answer is written in it).
        **hooks: ``meta``, ``on_chunk``, ``on_result`` (once the stream ends) and
            ``on_stopped`` (with the text so far); see ``StreamHooks``.

    Returns:
        The run record (one call), with ``first_token_s`` and every chunk. A stream
        that stops without a finish reason is marked interrupted and keeps its text.
    """
    run = _Run(mode, [topic], hooks, accepts=StreamHooks, chunks=chunks, keys=keys)
    with run.recording(), _closing_quietly(chain.stream(topic, run.config(0))) as stream, run.streaming(0):
        for value in stream:
            run.record_value(0, value)
    return run.finished_record()


@contextmanager
def _closing_quietly(stream: Iterator[str]) -> Iterator[Iterator[str]]:
    """Close the stream on the way out: a stopped run's model then ends at its next token, not its last."""
    try:
        yield stream
    finally:
        with suppress(Exception, GeneratorExit):  # RunCancelled, or the model's own error on the way out
            stream.close()  # type: ignore[attr-defined]


@asynccontextmanager
async def _aclosing_quietly(stream: AsyncIterator[str]) -> AsyncIterator[AsyncIterator[str]]:
    """``_closing_quietly`` for an async stream."""
    try:
        yield stream
    finally:
        with suppress(Exception, GeneratorExit):
            await stream.aclose()  # type: ignore[attr-defined]


@dataclass
class RaceEvent:
    """What happened in an invoke-against-stream race, as it happened.

    Attributes:
        kind: ``chunk`` (a streamed chunk) or ``invoke_done``.
        text: The chunk, or the whole invoke answer.
        t_s: Seconds since the race started.
        key: The chunk's branch or JSON field (``""`` for plain text and for ``invoke_done``).
    """

    kind: str
    text: str
    t_s: float
    key: str = ""


def run_race(
    chain: Runnable[str, str],
    topic: str,
    *,
    meta: RunMeta = RunMeta(),
    on_event: Callable[[RaceEvent], None] | None = None,
    on_stopped: OnStopped | None = None,
    chunks: ChunkKind = "text",
    keys: tuple[str, ...] = (),
) -> tuple[RunRecord, RunRecord]:
    """Race ``invoke`` against ``stream`` on the same topic, started together.

    ``invoke`` runs in a worker thread; the stream is consumed in the caller's
    thread, which also reports when ``invoke`` finishes, so every callback runs
    in the caller's thread.

    Args:
        chain: The joke chain.
        topic: The topic for both.
        meta: Labels for the records.
        on_event: Called with each ``RaceEvent``.
        on_stopped: Called with the stream's partial record if the race is cut short.
        chunks: What the chain streams (see ``run_stream``).
        keys: The answer's keys in ``invoke``'s order (see ``run_stream``).

    Returns:
        ``(invoke_record, stream_record)``; each on its own clock, both started together.
    """
    clock = RunClock()
    reported = threading.Event()

    def emit(kind: str, text: str, key: str = "") -> None:
        if on_event is not None:
            on_event(RaceEvent(kind, text, clock.now(), key))

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(run_invoke, chain, topic, meta=meta)

        def on_piece(_: int, key: str, text: str, __: float) -> None:
            if future.done() and not reported.is_set():
                reported.set()
                emit("invoke_done", future.result().outputs[0])
            emit("chunk", text, key)

        stream_record = run_stream(
            chain, topic, meta=meta, on_piece=on_piece, on_stopped=on_stopped, chunks=chunks, keys=keys
        )
        invoke_record = future.result()
        if not reported.is_set():
            emit("invoke_done", invoke_record.outputs[0])
    return invoke_record, stream_record


# -------------------------------------------------------------------------- async
async def run_ainvoke(chain: Runnable[str, str], topic: str, **hooks: Unpack[RunHooks]) -> RunRecord:
    """Run ``await chain.ainvoke(topic)`` once and time it (see ``run_invoke``)."""
    run = _Run("ainvoke", [topic], hooks)
    with run.recording():
        try:
            output: Any = await chain.ainvoke(topic, run.config(0))
        except Exception as exc:  # noqa: BLE001
            output = exc
        run.complete(0, output)
    return run.finished_record()


async def run_abatch(
    chain: Runnable[str, str], topics: Sequence[str], *, max_concurrency: int | None = None, **hooks: Unpack[RunHooks]
) -> RunRecord:
    """Run ``chain.abatch_as_completed(topics)``: ``asyncio`` tasks, results as they finish.

    With ``max_concurrency`` unset, every call is in flight at once (unbounded
    ``gather``); with it set, a semaphore bounds them. The arguments and the
    record are ``run_batch``'s; ``on_result`` is called on the event loop's thread.
    """
    pool = effective_concurrency(len(topics), max_concurrency, is_async=True)
    run = _Run("abatch", topics, hooks, max_concurrency=max_concurrency, pool_size=pool)
    with run.recording():
        async for index, output in chain.abatch_as_completed(run.topics, run.configs(), return_exceptions=True):
            run.complete(index, output)
    return run.finished_record()


async def run_astream(chain: Runnable[str, str], topics: Sequence[str] | str, **hooks: Unpack[StreamHooks]) -> RunRecord:
    """Stream one or several topics at once with ``chain.astream``.

    Each topic gets its own ``astream`` task; all run concurrently on the event
    loop, and ``on_chunk`` is called with the topic's index, so each can render
    into its own placeholder.

    Args:
        chain: The joke chain.
        topics: One topic, or several.
        **hooks: ``meta``, ``on_chunk``, ``on_result`` (as each stream ends) and
            ``on_stopped`` (with the text so far); see ``StreamHooks``.

    Returns:
        The run record, one call per topic.
    """
    topic_list = [topics] if isinstance(topics, str) else list(topics)
    run = _Run("astream", topic_list, hooks, accepts=StreamHooks, pool_size=len(topic_list))

    async def consume(index: int) -> None:
        async with _aclosing_quietly(chain.astream(run.topics[index], run.config(index))) as stream:
            with run.streaming(index):
                async for value in stream:
                    run.record_value(index, value)

    with run.recording():
        await asyncio.gather(*(consume(i) for i in range(len(topic_list))))
    return run.finished_record()


# ------------------------------------------------------------------------ registry
@dataclass(frozen=True)
class Mode:
    """One call mode: everything the app needs to run it, show it and explain it.

    Attributes:
        id: The stable id, stored in ``RunRecord.mode`` (``invoke``, ``batch``...).
        runner: The function that runs it and returns a ``RunRecord`` (a coroutine function for an async mode).
        colour: Its colour on every chart (never ``FAILURE_COLOUR``, which means a failure).
        example: The LangChain call shown in "Show the code" (``code`` adds the import an async call needs).
    """

    id: str
    runner: Callable[..., Any]
    colour: str
    example: str

    @property
    def is_async(self) -> bool:
        """Whether ``runner`` must be awaited (``asyncio.run`` in a Streamlit script)."""
        return inspect.iscoroutinefunction(self.runner)

    @property
    def code(self) -> str:
        """The code shown for it: the example, run with ``asyncio.run`` when the mode is async."""
        return f"import asyncio\n\n{self.example}" if self.is_async else self.example

    @property
    def label_key(self) -> str:
        """The locale key of its short name (``modes.<id>``)."""
        return f"modes.{self.id}"

    @property
    def table_keys(self) -> tuple[str, str, str]:
        """The locale keys of its row in Home's table: input → output, how it runs, when to use it."""
        return (f"house.{self.id}_io", f"house.{self.id}_how", f"house.{self.id}_when")


def _mode_table(*modes: Mode) -> dict[str, Mode]:
    return {mode.id: mode for mode in modes}


MODES: dict[str, Mode] = _mode_table(
    Mode(
        id="invoke",
        runner=run_invoke,
        colour="#7b61ff",
        example='answer = chain.invoke("ice cream")',
    ),
    Mode(
        id="loop",
        runner=run_loop,
        colour="#ff8c42",
        example='''answers = []
for topic in ["ice cream", "chocolate", "vanilla"]:
    answers.append(chain.invoke(topic))  # one after another: time grows linearly''',
    ),
    Mode(
        id="batch",
        runner=run_batch,
        colour="#3d9df3",
        example='''topics = ["ice cream", "chocolate", "vanilla"]
answers = chain.batch(topics, config={"max_concurrency": 8}, return_exceptions=True)

# or, to use each answer as soon as it is ready:
for index, answer in chain.batch_as_completed(topics, return_exceptions=True):
    print(index, answer)''',
    ),
    Mode(
        id="stream",
        runner=run_stream,
        colour="#21a366",
        example='''for chunk in chain.stream("ice cream"):
    print(chunk, end="!!", flush=True)  # the seed's chunk separator''',
    ),
    Mode(
        id="ainvoke",
        runner=run_ainvoke,
        colour="#b3a4ff",
        example='answer = asyncio.run(chain.ainvoke("ice cream"))',
    ),
    Mode(
        id="abatch",
        runner=run_abatch,
        colour="#92c9f9",
        example='''answers = asyncio.run(chain.abatch(topics))                                 # all at once (gather)
answers = asyncio.run(chain.abatch(topics, config={"max_concurrency": 2}))  # 2 at a time''',
    ),
    Mode(
        id="astream",
        runner=run_astream,
        colour="#8fd6ac",
        example='''async def stream_one(topic: str) -> str:
    text = ""
    async for chunk in chain.astream(topic):
        text += chunk
    return text

async def stream_all(topics: list[str]) -> list[str]:
    return await asyncio.gather(*(stream_one(topic) for topic in topics))

answers = asyncio.run(stream_all(["ice cream", "chocolate", "vanilla"]))''',
    ),
)
"""Every call mode, in the order the app teaches them. Adding a mode: a runner, an entry here,
its strings (``modes.<id>`` and its ``house.<id>_*`` row) in both locale files, and at most one page."""


def run_title(record: RunRecord, name: str | None = None) -> str:
    """A run's mode, with ``max_concurrency`` when it was set: ``abatch (max_concurrency=2)``.

    Args:
        record: The run.
        name: The mode's name to show (a translated label); its id by default.
    """
    title = name if name is not None else record.mode
    return title + (f" (max_concurrency={record.max_concurrency})" if record.max_concurrency else "")


def find_record(records: Sequence[RunRecord], mode: str, *, capped: bool | None = None) -> RunRecord | None:
    """The first record of ``mode`` among ``records``, whatever their order or count.

    Args:
        records: The runs of one page run.
        mode: A mode id.
        capped: ``True`` for a run with ``max_concurrency`` set, ``False`` for one without it,
            ``None`` for either.

    Returns:
        The record, or ``None`` when there is none (a run that was stopped early).
    """
    for record in records:
        if record.mode == mode and (capped is None or bool(record.max_concurrency) == capped):
            return record
    return None
