"""Inside the chain: where the time of one call goes, step by step, from LangChain's own events.

``trace_steps`` streams one topic through a chain with ``astream_events(version="v2")``
(run with ``asyncio.run`` in the caller's thread) and turns the events into a
``StepTrace``: one ``Step`` per runnable below the chain's root (for the seed:
the ``{"topic": RunnablePassthrough()}`` map and its passthrough, the prompt, the
model and the parser), each with its start, end, first chunk, how many chunks
it received and emitted, the first few chunks, and short previews of its input
and output.

``astream_events`` carries no timestamps, so each event is stamped when it is
received; the event stream is consumed in the same event loop that runs the
chain, so the stamp is within a scheduling step of the real moment.

Previews are plain text, truncated; they hold untrusted words (the topic, the
model's answer), so a page must show them as text (``st.code``, ``st.dataframe``)
or through ``chains.security.safe_text.inert_markdown``, never as HTML.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable

from chains.errors import ErrorInfo, classify_error

#: Characters kept of an input or output preview.
PREVIEW_CHARS = 160
#: Characters kept of each chunk in ``Step.first_chunks``.
CHUNK_PREVIEW_CHARS = 40
#: How many chunks ``Step.first_chunks`` keeps.
FIRST_CHUNKS_KEPT = 5

#: Event families of ``astream_events`` v2 (``on_<family>_<start|stream|end>``).
_FAMILIES = ("chat_model", "llm", "prompt", "parser", "chain", "retriever", "tool")


@dataclass
class Step:
    """One runnable's part of one call.

    Attributes:
        run_id: LangChain's run id of this runnable.
        parent_id: The run id of the runnable that called it (the chain's root for a top-level step).
        name: LangChain's name for it (``RunnableParallel<topic>``, ``ChatPromptTemplate``...).
        kind: ``parallel``, ``passthrough``, ``prompt``, ``model``, ``parser``, ``chain`` or ``other``.
        depth: 0 for a step of the chain's sequence, 1 for a runnable inside one, and so on.
        start_s: When it started, in seconds from the chain's start.
        end_s: When it ended (or when the call failed, if it never ended).
        first_chunk_s: When it emitted its first non-empty chunk, or ``None`` if it did not stream.
        chunks_in: How many chunks it received (the previous step's output chunks).
        chunks_out: How many chunks it streamed out (0 when it only returned a final output).
        first_chunks: The first few chunks it emitted, each truncated.
        input_preview: Its input as short plain text.
        output_preview: Its output as short plain text.
        finished: False when the call failed before this step ended.
    """

    run_id: str
    parent_id: str | None
    name: str
    kind: str
    depth: int
    start_s: float
    end_s: float = 0.0
    first_chunk_s: float | None = None
    chunks_in: int = 0
    chunks_out: int = 0
    first_chunks: list[str] = field(default_factory=list)
    input_preview: str = ""
    output_preview: str = ""
    finished: bool = False

    @property
    def duration_s(self) -> float:
        """Seconds from its start to its end."""
        return max(self.end_s - self.start_s, 0.0)

    @property
    def streamed(self) -> bool:
        """True when it passed chunks on as they came, rather than one output at its end."""
        return self.chunks_out > 0


@dataclass
class StepTrace:
    """The steps of one call, in the order they started.

    Attributes:
        topic: The topic that was sent.
        root_name: The chain's own name (``RunnableSequence`` for the seed).
        root_id: The run id of the chain's root.
        total_s: The whole call, from the root's start to its end.
        steps: Every runnable below the root, in start order.
        output: The chain's final output (complete, not truncated).
        error: What went wrong, or ``None``.
    """

    topic: str
    root_name: str = ""
    root_id: str = ""
    total_s: float = 0.0
    steps: list[Step] = field(default_factory=list)
    output: str = ""
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        """True when the call finished without an error."""
        return self.error is None

    def top_level(self) -> list[Step]:
        """The steps of the chain's own sequence (the seed: map, prompt, model, parser)."""
        return [step for step in self.steps if step.parent_id == self.root_id]

    def children(self, step: Step) -> list[Step]:
        """The runnables that ``step`` called (the map's ``RunnablePassthrough``)."""
        return [child for child in self.steps if child.parent_id == step.run_id]

    def number(self, step: Step) -> str:
        """The step's place in the chain: ``"3"`` for the sequence's third step, ``"1.1"`` for the map's first child."""
        siblings = [other for other in self.steps if other.parent_id == step.parent_id]
        own = str(siblings.index(step) + 1)
        parent = next((other for other in self.steps if other.run_id == step.parent_id), None)
        return own if parent is None else f"{self.number(parent)}.{own}"

    def share(self, step: Step) -> float:
        """The step's duration as a fraction of the whole call (0 when the call took no time)."""
        return step.duration_s / self.total_s if self.total_s > 0 else 0.0

    def seconds_before(self, step: Step) -> float:
        """The time the sequence's steps that ended before ``step`` began took together (the map and the prompt before the model)."""
        return sum(other.duration_s for other in self.top_level() if other.end_s <= step.start_s)

    def model_step(self) -> Step | None:
        """The model's step, or ``None`` when the chain has none."""
        return next((step for step in self.steps if step.kind == "model"), None)


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """Short plain text for any input or output a runnable sees.

    Messages show their content, prompt values their messages (``human: ...``),
    dicts and lists are shown as JSON of their previews. Longer text is cut to
    ``limit`` characters, ending in ``…``; NUL bytes are dropped.

    Args:
        value: A string, message, prompt value, dict, list or anything else.
        limit: The most characters to keep.

    Returns:
        The preview.
    """
    text = _plain(value)
    text = text.replace("\x00", "")
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        return value.content if isinstance(value.content, str) else json.dumps(value.content, ensure_ascii=False, default=str)
    if isinstance(value, PromptValue):
        return "\n".join(f"{message.type}: {_plain(message)}" for message in value.to_messages())
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return repr(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, BaseMessage):
        return f"{value.type}: {_plain(value)}"
    return _plain(value)


def _kind(family: str, name: str) -> str:
    if family in ("chat_model", "llm"):
        return "model"
    if family in ("prompt", "parser"):
        return family
    if family == "chain" and name.startswith("RunnableParallel"):
        return "parallel"
    if family == "chain" and name.startswith("RunnablePassthrough"):
        return "passthrough"
    return "chain" if family == "chain" else "other"


def _chunk_text(chunk: Any) -> str:
    if isinstance(chunk, BaseMessage):
        return chunk.content if isinstance(chunk.content, str) else _plain(chunk.content)
    return _plain(chunk)


class _Tracer:
    """Folds ``astream_events`` v2 events into a ``StepTrace``."""

    def __init__(self, topic: str, clock: Callable[[], float]) -> None:
        self.trace = StepTrace(topic=topic)
        self._clock = clock
        self._origin = clock()
        self._by_id: dict[str, Step] = {}
        self._depth: dict[str, int] = {}

    def now(self) -> float:
        return self._clock() - self._origin

    def add(self, event: dict[str, Any]) -> None:
        at = self.now()
        family, _, phase = event["event"][3:].rpartition("_")
        if family not in _FAMILIES:
            return
        run_id = str(event["run_id"])
        parents = [str(parent) for parent in event.get("parent_ids", [])]
        data = event.get("data", {})
        if not parents:
            self._root(phase, event["name"], run_id, data, at)
            return
        step = self._by_id.get(run_id)
        if phase == "start" and step is None:
            parent_id = parents[-1]
            depth = self._depth.get(parent_id, -1) + 1
            self._depth[run_id] = depth
            step = Step(run_id=run_id, parent_id=parent_id, name=event["name"], kind=_kind(family, event["name"]), depth=depth, start_s=at)
            if "input" in data:
                step.input_preview = preview(data["input"])
            self._by_id[run_id] = step
            self.trace.steps.append(step)
        elif step is None:
            return
        elif phase == "stream":
            text = _chunk_text(data.get("chunk"))
            step.chunks_out += 1
            if text and step.first_chunk_s is None:
                step.first_chunk_s = at
            if len(step.first_chunks) < FIRST_CHUNKS_KEPT:
                step.first_chunks.append(preview(text, CHUNK_PREVIEW_CHARS))
        elif phase == "end":
            step.end_s = at
            step.finished = True
            if "input" in data and not step.input_preview:
                step.input_preview = preview(data["input"])
            if "output" in data:
                step.output_preview = preview(data["output"])

    def _root(self, phase: str, name: str, run_id: str, data: dict[str, Any], at: float) -> None:
        if phase == "start" and not self.trace.root_id:
            self.trace.root_id = run_id
            self.trace.root_name = name
            self._depth[run_id] = -1
            self._origin += at  # From here on, times count from the chain's start.
        elif phase == "stream":
            self.trace.output += _chunk_text(data.get("chunk"))
        elif phase == "end":
            if "output" in data:
                self.trace.output = _chunk_text(data["output"])
            self._finish(at)

    def _finish(self, at: float) -> None:
        """Close the trace: times from the root's start, unfinished steps end, chunk counts in.

        ``astream_events`` sends no event for a runnable that failed. A failed step that a
        sibling took over from (a fallback's second model, a retry's next attempt) ended
        when that sibling started; any other unfinished step ends now.
        """
        self.trace.total_s = max(at, 0.0)
        for step in self.trace.steps:
            if not step.finished:
                later = [other.start_s for other in self.trace.steps if other.parent_id == step.parent_id and other.start_s > step.start_s]
                step.end_s = min(later) if later else at
        self._count_chunks_in()

    def _emitted(self, step: Step) -> int:
        """What a step passed on: its own chunks, else its last finished child's (a fallback's model), else one output."""
        if step.chunks_out:
            return step.chunks_out
        finished = [child.chunks_out for child in self.trace.children(step) if child.finished and child.chunks_out]
        return finished[-1] if finished else (1 if step.finished else 0)

    def _count_chunks_in(self) -> None:
        """Each step of a sequence receives what the step before it emitted; a nested step, its parent's input."""
        emitted = 1  # The chain's input is one value.
        for step in self.trace.top_level():
            step.chunks_in = emitted
            emitted = self._emitted(step)
        for step in self.trace.steps:
            if step.depth > 0 and step.parent_id in self._by_id:
                step.chunks_in = self._by_id[step.parent_id].chunks_in

    def fail(self, exc: BaseException, secrets: tuple[str, ...]) -> None:
        self.trace.error = classify_error(exc, *secrets)
        self._finish(self.now())


async def atrace_steps(
    chain: Runnable[Any, Any],
    topic: str,
    *,
    secrets: tuple[str, ...] = (),
    clock: Callable[[], float] = time.perf_counter,
) -> StepTrace:
    """Stream one topic through ``chain`` and trace its steps from ``astream_events`` v2.

    Never raises for a failed call: the trace keeps the steps seen so far and
    an ``error`` (scrubbed of ``secrets``).

    Args:
        chain: Any runnable (the seed's chain).
        topic: The input.
        secrets: Exact secrets to scrub from an error message.
        clock: Seconds, monotonic (a fake clock in tests).

    Returns:
        The trace.
    """
    tracer = _Tracer(topic, clock)
    try:
        async for event in chain.astream_events(topic, version="v2"):
            tracer.add(event)
    except Exception as exc:  # noqa: BLE001 - kept in the trace, shown as a message
        tracer.fail(exc, secrets)
    return tracer.trace


def trace_steps(
    chain: Runnable[Any, Any],
    topic: str,
    *,
    secrets: tuple[str, ...] = (),
    clock: Callable[[], float] = time.perf_counter,
) -> StepTrace:
    """``atrace_steps`` (same arguments, same trace) on a fresh event loop in the calling thread (a Streamlit script's thread)."""
    return asyncio.run(atrace_steps(chain, topic, secrets=secrets, clock=clock))
