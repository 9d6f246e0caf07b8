"""Chain shapes: the seed's chain and six variations that stream, block, branch, retry and fall back.

"Why does my chain not stream?" is the question LangChain's users ask most about
streaming (langchain-ai/langchain#13126). ``RunnableSequence`` streams only as far
as its steps do: a step that does not implement ``transform`` (a plain function,
``RunnableLambda``) waits for its whole input, and everything after it gets one
chunk at the end. Each shape here is one builder, ``builder(model) -> runnable``;
"Show the code" shows its source (``inspect.getsource``), so the code shown is the
code that runs.

The lesson each shape teaches is decided from what was measured, by the verdict
functions at the end of this module: they read ``RunRecord``s and ``StepTrace``s
and return a ``Verdict`` (a locale key and its numbers); the page only prints it.

Plain LangChain + Python: no Streamlit.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda, RunnableParallel, RunnablePassthrough

from chains.chunks import ChunkKind
from chains.experiments.steps import StepTrace
from chains.joke import JOKE_PROMPT, build_joke_chain
from chains.simulation.simulator import SimulatedChatModel
from chains.timing import RunRecord

HAIKU_PROMPT = "Write a haiku about {topic}"
JSON_JOKE_PROMPT = 'Answer in JSON with the keys "setup" and "punchline". Tell me a short joke about {topic}'


# ------------------------------------------------------------------ the steps the shapes add
def shout(text: str) -> str:
    """The blocking step's work: the whole answer in capitals (a plain function sees the whole input at once)."""
    return text.upper()


def shout_as_it_comes(chunks: Iterator[str]) -> Iterator[str]:
    """The same work as ``shout``, chunk by chunk: a generator over the stream keeps it streaming."""
    for chunk in chunks:
        yield chunk.upper()


async def ashout_as_it_comes(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """``shout_as_it_comes`` for ``astream`` and ``astream_events`` (``RunnableGenerator`` needs both)."""
    async for chunk in chunks:
        yield chunk.upper()


def failing_first_attempt(model: BaseChatModel) -> BaseChatModel:
    """The simulator with its failure switch on: every first attempt fails (a 429), a retry answers.

    Another model (a real API) is returned as it is: nothing is injected into it.
    """
    if isinstance(model, SimulatedChatModel):
        return model.model_copy(update={"fail_first_attempt": True})
    return model


def always_failing(model: BaseChatModel) -> BaseChatModel:
    """The simulator as a provider that is down (every call fails with a 429); another model as it is."""
    if isinstance(model, SimulatedChatModel):
        return model.model_copy(update={"failure_rate": 1.0, "model_name": f"{model.model_name}-down"})
    return model


# ------------------------------------------------------------------ the builders (their source is shown)
def seed_chain(model: BaseChatModel) -> Runnable[str, str]:
    """The seed's chain, as it is: ``{"topic": RunnablePassthrough()} | prompt | model | StrOutputParser()``."""
    return build_joke_chain(model)


def blocking_step(model: BaseChatModel) -> Runnable[str, str]:
    """The seed's chain and a plain function after the parser: the stream now arrives in one chunk, at the end."""
    return build_joke_chain(model) | RunnableLambda(shout)


def streaming_step(model: BaseChatModel) -> Runnable[str, str]:
    """The same work as ``blocking_step``, as a generator over the stream: it keeps streaming."""
    return build_joke_chain(model) | RunnableGenerator(shout_as_it_comes, ashout_as_it_comes)


def two_branches(model: BaseChatModel) -> Runnable[str, dict[str, str]]:
    """A joke and a haiku on the same topic: one ``invoke`` runs both model calls at once."""
    haiku = {"topic": RunnablePassthrough()} | ChatPromptTemplate.from_template(HAIKU_PROMPT) | model | StrOutputParser()
    return RunnableParallel(joke=build_joke_chain(model), haiku=haiku)


def retry(model: BaseChatModel) -> Runnable[str, str]:
    """``with_retry`` on the model, whose first attempt fails (the simulator's failure switch)."""
    prompt = ChatPromptTemplate.from_template(JOKE_PROMPT)
    flaky = failing_first_attempt(model).with_retry(stop_after_attempt=2, wait_exponential_jitter=False)
    return {"topic": RunnablePassthrough()} | prompt | flaky | StrOutputParser()


def fallback(model: BaseChatModel) -> Runnable[str, str]:
    """``with_fallbacks`` to a second model: the first one is down (the simulator's failure switch)."""
    prompt = ChatPromptTemplate.from_template(JOKE_PROMPT)
    first_then_second = always_failing(model).with_fallbacks([model])
    return {"topic": RunnablePassthrough()} | prompt | first_then_second | StrOutputParser()


def json_answer(model: BaseChatModel) -> Runnable[str, dict[str, Any]]:
    """The prompt asks for JSON and ``JsonOutputParser`` parses it: the stream is the object parsed so far."""
    prompt = ChatPromptTemplate.from_template(JSON_JOKE_PROMPT)
    return {"topic": RunnablePassthrough()} | prompt | model | JsonOutputParser()


# ------------------------------------------------------------------ the registry
@dataclass(frozen=True)
class ChainShape:
    """One chain shape.

    Attributes:
        id: The stable id (the select box's value, ``RunRecord.shape``).
        build: ``build(model) -> runnable``: the shape around any chat model.
        chunks: What its stream yields (``chains.chunks.ChunkKind``).
        keys: The answer's keys in ``invoke``'s order, for a keyed answer.
        model_calls: Model calls (attempts included) of one ``invoke`` on the simulator, for the budget.
        helpers: The functions it uses that are shown with it in "Show the code".
    """

    id: str
    build: Callable[[BaseChatModel], Runnable[str, Any]]
    chunks: ChunkKind = "text"
    keys: tuple[str, ...] = ()
    model_calls: int = 1
    helpers: tuple[Callable[..., Any], ...] = field(default=())

    @property
    def label_key(self) -> str:
        """The locale key of its name (``chain_shapes.<id>``)."""
        return f"chain_shapes.{self.id}"

    @property
    def lesson_key(self) -> str:
        """The locale key of what it shows, in one line (``chain_shapes.<id>_what``)."""
        return f"chain_shapes.{self.id}_what"

    @property
    def code(self) -> str:
        """The source of its builder and of the helpers it calls, as they run here."""
        return "\n\n".join(inspect.getsource(function) for function in (*self.helpers, self.build))


def _shape_table(*shapes: ChainShape) -> dict[str, ChainShape]:
    return {shape.id: shape for shape in shapes}


SHAPES: dict[str, ChainShape] = _shape_table(
    ChainShape("seed", seed_chain),
    ChainShape("blocking", blocking_step, helpers=(shout,)),
    ChainShape("streaming", streaming_step, helpers=(shout_as_it_comes, ashout_as_it_comes)),
    ChainShape("branches", two_branches, chunks="branches", keys=("joke", "haiku"), model_calls=2),
    ChainShape("retry", retry, model_calls=2, helpers=(failing_first_attempt,)),
    ChainShape("fallback", fallback, model_calls=2, helpers=(always_failing,)),
    ChainShape("json", json_answer, chunks="partial_json", keys=("setup", "punchline")),
)
"""Every chain shape, in the order the select box offers them: the seed's chain first, the blocking step second."""

DEFAULT_SHAPE = "seed"


def shape_of(shape_id: object) -> ChainShape:
    """The shape of ``shape_id``; the seed's chain for anything unknown (an old record, a hand-edited URL)."""
    return SHAPES.get(shape_id, SHAPES[DEFAULT_SHAPE]) if isinstance(shape_id, str) else SHAPES[DEFAULT_SHAPE]


# ------------------------------------------------------------------ verdicts: the lesson from the measurement
#: A first text later than this share of the whole call counts as "arrived with the last".
BLOCKED_SHARE = 0.9


@dataclass(frozen=True)
class Verdict:
    """What a measurement shows, as a locale key and the numbers it is written with.

    Attributes:
        key: The locale key (``chain_verdicts.<...>``).
        values: The named values the sentence is formatted with.
        good: True when it is the outcome one wants (a stream that streams).
    """

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    good: bool = True


def first_text_share(record: RunRecord) -> float | None:
    """When the stream's first text came, as a share of the whole call (``None`` with no text)."""
    call = record.calls[0] if record.calls else None
    if call is None or call.ttft_s is None or call.latency_s <= 0:
        return None
    return min(call.ttft_s / call.latency_s, 1.0)


def shape_stream_verdict(record: RunRecord) -> Verdict | None:
    """The lesson of one stream run, by its shape, from its timings.

    One chunk, or the first text at 90 % of the total or later: a step does not
    stream (the blocking step after the parser). A failed retry shape: ``with_retry``
    does not retry a stream (the error reached the caller). Otherwise: the first
    text at X % of the total, so the chain streams.

    Args:
        record: A ``stream`` (or ``astream``) run of one topic.

    Returns:
        The verdict, or ``None`` for a run with no call.
    """
    if not record.calls:
        return None
    call = record.calls[0]
    if record.shape == "retry" and not call.ok and call.error_kind != "stopped":
        return Verdict("chain_verdicts.retry_not_in_stream", {"kind": call.error_kind or "error"}, good=False)
    share = first_text_share(record)
    if share is None:
        return None
    values = {"share": share, "chunks": len(call.chunks), "ttft": call.ttft_s, "total": call.latency_s}
    if len(call.chunks) <= 1 or share >= BLOCKED_SHARE:
        return Verdict("chain_verdicts.blocked", values, good=False)
    return Verdict("chain_verdicts.streams", values)


@dataclass(frozen=True)
class Interval:
    """One model call's start and end, in seconds from the chain's start."""

    start_s: float
    end_s: float


def model_intervals(trace: StepTrace) -> list[Interval]:
    """Every model call of a traced chain (attempts and branches included), in start order."""
    return [Interval(step.start_s, step.end_s) for step in trace.steps if step.kind == "model"]


def overlapped(intervals: Sequence[Interval]) -> bool:
    """True when at least two of the intervals were running at the same moment."""
    ordered = sorted(intervals, key=lambda interval: interval.start_s)
    return any(later.start_s < earlier.end_s for earlier, later in zip(ordered, ordered[1:]))


def where_chunks_stop(trace: StepTrace) -> str | None:
    """The name of the first step of the sequence that received many chunks and passed on at most one."""
    for step in trace.top_level():
        if step.chunks_in > 1 and step.chunks_out <= 1:
            return step.name
    return None


def trace_verdict(trace: StepTrace, shape_id: str) -> Verdict | None:
    """The lesson of one traced call (Inside the chain), from its steps.

    Args:
        trace: The ``astream_events`` trace of one call.
        shape_id: The shape it ran.

    Returns:
        The verdict, or ``None`` when the trace has nothing to say beyond the usual.
    """
    models = [step for step in trace.steps if step.kind == "model"]
    failed = [step for step in models if not step.finished]
    stop = where_chunks_stop(trace)
    if stop is not None:
        return Verdict("chain_verdicts.trace_blocked", {"step": stop}, good=False)
    if failed and trace.ok and len(models) >= 2:
        return Verdict("chain_verdicts.trace_recovered", {"attempts": len(models), "failed": len(failed)})
    if len(models) >= 2 and overlapped(model_intervals(trace)):
        return Verdict("chain_verdicts.trace_overlapped", {"calls": len(models)})
    if shape_id == "retry" and not trace.ok:
        return Verdict("chain_verdicts.trace_retry_not_in_stream", {"attempts": len(models)}, good=False)
    return None


def invoke_verdict(records: Sequence[RunRecord]) -> Verdict | None:
    """The lesson of Compare's runs of one shape: its ``invoke`` against its ``stream``.

    Args:
        records: The runs of one Compare run (``invoke`` and ``stream`` among them).

    Returns:
        The stream's verdict; for the retry shape, whether ``invoke`` recovered while ``stream`` failed.
    """
    invoke = next((record for record in records if record.mode == "invoke"), None)
    stream = next((record for record in records if record.mode == "stream"), None)
    if stream is None:
        return None
    invoke_recovered = invoke is not None and bool(invoke.calls) and invoke.calls[0].ok
    if stream.shape == "retry" and invoke_recovered and stream.calls and not stream.calls[0].ok:
        return Verdict("chain_verdicts.retry_invoke_not_stream", {"retries": invoke.calls[0].retries}, good=False)
    return shape_stream_verdict(stream)
