"""A simulated chat model: a real LangChain ``BaseChatModel`` with seeded latency.

It needs no key and no network. Every call sleeps for real (``time.sleep`` in the
sync methods, ``asyncio.sleep`` in the async ones) for a time to first token (TTFT)
plus a delay per token, so LangChain's own ``batch`` (a thread pool), ``abatch``
(``asyncio.gather``) and ``stream`` behave exactly as they do against a hosted API.
Batch is deliberately *not* overridden, and ``invoke`` is the stream joined by
LangChain's ``generate_from_stream``: one code path for the text, the timing,
the usage and the injected faults.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from chains.errors import StreamInterruptedError
from chains.retry_counts import is_retry_attempt
from chains.simulation.joke_book import write_haiku, write_json_joke, write_reply
from chains.simulation.profiles import PROFILES, LatencyProfile
from chains.simulation.tokens import count_tokens, split_tokens


def _cut_at_stop(text: str, stop: list[str] | None) -> str:
    """Cut ``text`` before the earliest stop sequence, as a provider does."""
    cuts = [text.find(sequence) for sequence in stop or () if sequence]
    cuts = [cut for cut in cuts if cut >= 0]
    return text[: min(cuts)] if cuts else text


class SimulatedProviderError(Exception):
    """Base class of the simulator's injected failures."""

    status_code: int = 500


class SimulatedRateLimitError(SimulatedProviderError):
    """The simulated provider refused the call: too many requests (HTTP 429)."""

    status_code = 429


class SimulatedConnectionError(SimulatedProviderError, StreamInterruptedError):
    """The simulated connection dropped before the answer was complete."""

    status_code = 0


class _LocalServer:
    """A simulated local server's slots: requests beyond them wait in a first-come queue.

    Shared by every call of one model instance, so that ``batch``'s threads and
    ``abatch``'s tasks queue behind each other as they do at llama.cpp's server.
    Sync calls block on a condition; async calls poll it, so the event loop stays free.

    Attributes:
        slots: Requests served at once, or ``None`` for no limit.
    """

    POLL_S = 0.005

    def __init__(self, slots: int | None) -> None:
        self.slots = slots
        self.active = 0
        self._next_ticket = 0
        self._serving_ticket = 0
        self._abandoned: set[int] = set()
        self._condition = threading.Condition()

    def _take_ticket(self) -> int:
        with self._condition:
            ticket = self._next_ticket
            self._next_ticket += 1
            return ticket

    def _try_enter(self, ticket: int) -> bool:
        """Enter if ``ticket`` is next in the queue and a slot is free (call with the condition held)."""
        while self._serving_ticket in self._abandoned:  # a call that gave up waiting holds no place
            self._abandoned.discard(self._serving_ticket)
            self._serving_ticket += 1
        if ticket != self._serving_ticket or (self.slots is not None and self.active >= self.slots):
            return False
        self._serving_ticket += 1
        self.active += 1
        self._condition.notify_all()
        return True

    def leave(self) -> None:
        """Free the slot of a request that is done."""
        with self._condition:
            self.active -= 1
            self._condition.notify_all()

    def _give_up(self, ticket: int) -> None:
        """A call that stopped waiting (cancelled) must not block the queue behind it."""
        with self._condition:
            if ticket >= self._serving_ticket:
                self._abandoned.add(ticket)
            self._condition.notify_all()

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Wait for a slot (blocking the thread), hold it for the block."""
        ticket = self._take_ticket()
        try:
            with self._condition:
                while not self._try_enter(ticket):
                    self._condition.wait(self.POLL_S * 10)
        except BaseException:
            self._give_up(ticket)
            raise
        try:
            yield
        finally:
            self.leave()

    async def aenter(self) -> None:
        """Wait for a slot without blocking the event loop."""
        ticket = self._take_ticket()
        try:
            while True:
                with self._condition:
                    if self._try_enter(ticket):
                        return
                await asyncio.sleep(self.POLL_S)
        except BaseException:
            self._give_up(ticket)
            raise

    def slowdown(self) -> float:
        """How many times slower a request decodes now: the requests running share the compute."""
        return float(max(1, self.active))


#: How often a call on shared compute looks again at how many requests are running.
SHARED_COMPUTE_SLICE_S = 0.02

_TOPIC_IN_PROMPT = re.compile(r"joke about (?P<topic>.+)$", re.DOTALL | re.IGNORECASE)
_HAIKU_IN_PROMPT = re.compile(r"haiku about (?P<topic>.+)$", re.DOTALL | re.IGNORECASE)
_ASKS_FOR_JSON = re.compile(r"\bJSON\b")


def _is_retry(run_manager: Any) -> bool:
    """True when this call is a retry of ``with_retry`` (its run carries the ``retry:attempt:N`` tag)."""
    return is_retry_attempt(getattr(run_manager, "tags", None))


@dataclass
class _CallPlan:
    """Everything one simulated call will do, decided up front from the seed."""

    tokens: list[str]
    ttft_s: float
    gaps_s: list[float]
    input_tokens: int
    failure: SimulatedProviderError | None
    interrupt_after: int | None


class SimulatedChatModel(BaseChatModel):
    """A chat model that tells short jokes with realistic, reproducible latency.

    Example:
        >>> model = SimulatedChatModel(ttft_s=0.05, tokens_per_s=400)
        >>> model.invoke("Tell me a short joke about ice cream").content[:7]
        'Why did'
    """

    model_name: str = Field(default="simulated-gpt-4o-mini", alias="model")
    ttft_s: float = 0.40
    tokens_per_s: float = 60.0
    jitter: float = 0.25
    seed: int = 42
    failure_rate: float = 0.0
    interrupt_rate: float = 0.0
    max_in_flight: int | None = None
    min_output_tokens: int | None = None
    #: A ``chains.simulation.replay.ReplayProfile``: when set, each call replays a recorded call's
    #: tokens, time to first token and inter-token delays (no jitter) instead of writing a joke.
    replay: Any = Field(default=None, exclude=True)
    output_shape: str = "paragraphs"
    #: The failure switch of the "retry" chain shape: every first attempt fails (a 429 after half
    #: the TTFT), and a retry by ``with_retry`` (tagged ``retry:attempt:2``...) answers. Deterministic.
    fail_first_attempt: bool = False
    #: Requests the simulated server runs at once; the others queue (``None``: no queue, as a hosted API).
    server_slots: int | None = None
    #: The running requests share the server's compute: each one decodes slower while others run.
    shared_compute: bool = False

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _server: _LocalServer | None = PrivateAttr(default=None)
    _in_flight: int = PrivateAttr(default=0)
    _peak_in_flight: int = PrivateAttr(default=0)

    model_config = {"populate_by_name": True}

    @classmethod
    def from_profile(cls, profile: str | LatencyProfile, **overrides: Any) -> SimulatedChatModel:
        """Build a simulator from a named latency profile.

        Args:
            profile: A key of ``PROFILES`` or a ``LatencyProfile``.
            **overrides: Any other field (``seed``, ``failure_rate``...).

        Returns:
            The model.
        """
        chosen = PROFILES[profile] if isinstance(profile, str) else profile
        fields = {
            "ttft_s": chosen.ttft_s,
            "tokens_per_s": chosen.tokens_per_s,
            "jitter": chosen.jitter,
            "server_slots": chosen.slots,
            "shared_compute": chosen.shared_compute,
        }
        fields.update(overrides)
        return cls(**fields)

    @property
    def _llm_type(self) -> str:
        return "simulated-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "ttft_s": self.ttft_s,
            "tokens_per_s": self.tokens_per_s,
            "jitter": self.jitter,
            "seed": self.seed,
            **({"server_slots": self.server_slots} if self.server_slots is not None else {}),
            **({"shared_compute": True} if self.shared_compute else {}),
            **({"replay": self.replay.name} if self.replay is not None else {}),
        }

    @property
    def peak_in_flight(self) -> int:
        """The largest number of calls that were in flight at the same time."""
        return self._peak_in_flight

    # ----------------------------------------------------------------- planning
    def _plan(self, messages: list[BaseMessage], stop: list[str] | None = None, *, retry: bool = False) -> _CallPlan:
        """Decide the reply, its latency and any injected failure for one call.

        The text comes from ``seed`` and the topic (so from its language); the
        latency jitter and any injected fault from one generator seeded with
        ``seed``, the model's name (so the profile) and the topic; nothing else.
        The same question therefore gets the same answer, the same planned latency
        and the same injected fault in every mode (invoke, each call of a loop,
        batch, stream and the async twins) and at every position in a run.

        Args:
            messages: The prompt.
            stop: Stop sequences; the reply ends before the first one, as an API's does.
            retry: True for a retry by ``with_retry`` (``fail_first_attempt`` lets it through).

        Returns:
            The plan.
        """
        prompt = "\n".join(str(message.content) for message in messages)
        haiku = _HAIKU_IN_PROMPT.search(prompt.strip())
        match = haiku or _TOPIC_IN_PROMPT.search(prompt.strip())
        topic = match.group("topic").strip() if match else prompt.strip()
        rng = random.Random(zlib.crc32(f"{self.seed}|{self.model_name}|{topic}".encode()))
        if haiku:
            reply = write_haiku(topic, zlib.crc32(f"{self.seed}:{topic}".encode()))
        elif _ASKS_FOR_JSON.search(prompt):
            reply = write_json_joke(topic, self.seed)
        else:
            reply = write_reply(topic, self.seed, self.min_output_tokens, count_tokens, self.output_shape)
        text = _cut_at_stop(reply, stop)
        tokens = split_tokens(text)
        mean_gap = 1.0 / self.tokens_per_s if self.tokens_per_s > 0 else 0.0
        ttft = max(0.0, self.ttft_s * (1.0 + self.jitter * rng.gauss(0.0, 1.0)))
        ttft = max(ttft, self.ttft_s * 0.3)
        gaps = [max(0.0, mean_gap * (1.0 + self.jitter * rng.gauss(0.0, 1.0))) for _ in tokens[1:]]
        if self.replay is not None:
            recorded = self.replay.call_for(topic)
            tokens, ttft, gaps = list(recorded.tokens), recorded.ttft_s, list(recorded.gaps_s)
        failure: SimulatedProviderError | None = None
        if rng.random() < self.failure_rate or (self.fail_first_attempt and not retry):
            failure = SimulatedRateLimitError(
                "Simulated 429: rate limit reached for requests. Please retry after 1 second."
            )
        interrupt_after = None
        if rng.random() < self.interrupt_rate and len(tokens) > 2:
            interrupt_after = len(tokens) // 2
        return _CallPlan(tokens, ttft, gaps, count_tokens(prompt), failure, interrupt_after)

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """Count this call as in flight; refuse it (429) beyond ``max_in_flight``."""
        with self._lock:
            if self.max_in_flight is not None and self._in_flight >= self.max_in_flight:
                raise SimulatedRateLimitError(
                    f"Simulated 429: the provider allows {self.max_in_flight} concurrent requests."
                )
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _local_server(self) -> _LocalServer | None:
        """This model's simulated server (its slots and who is running), or ``None`` for a hosted API."""
        if self.server_slots is None and not self.shared_compute:
            return None
        with self._lock:
            if self._server is None:
                self._server = _LocalServer(self.server_slots)
            return self._server

    def _metadata(self, finished: bool) -> dict[str, Any]:
        metadata: dict[str, Any] = {"model_name": self.model_name}
        if finished:
            metadata["finish_reason"] = "stop"
        return metadata

    def _usage(self, plan: _CallPlan, emitted: int) -> dict[str, int]:
        return {
            "input_tokens": plan.input_tokens,
            "output_tokens": emitted,
            "total_tokens": plan.input_tokens + emitted,
        }

    def _final_chunk(self, plan: _CallPlan, emitted: int, finished: bool) -> ChatGenerationChunk:
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=self._usage(plan, emitted),
                response_metadata=self._metadata(finished),
            )
        )

    def _token_chunk(self, token: str) -> ChatGenerationChunk:
        return ChatGenerationChunk(message=AIMessageChunk(content=token))

    def _schedule(self, plan: _CallPlan, server: _LocalServer | None = None) -> Iterator[float | ChatGenerationChunk]:
        """Play ``plan`` as steps: a wait (seconds to sleep) or a chunk to send.

        Each wait runs to a deadline counted from the call's start (the TTFT, then the
        token gaps added up) and is measured when the step is asked for, so the time
        spent between steps (LangChain's, the reader's) does not add up over hundreds
        of tokens: a call takes its planned time, streamed or not. An injected failure
        is raised after half the TTFT; an injected interrupt ends the stream early with
        a last chunk that has no finish reason.

        With ``shared_compute``, the plan's times are work, not wall time: the
        call advances through them at ``1 / running requests`` of real time,
        measured in short slices, so every call slows while others run and speeds
        up again when they end, as requests sharing one CPU do.

        Args:
            plan: The call's plan.
            server: The simulated local server, when the model has one.

        Yields:
            The waits and the chunks, in order.
        """
        shared = server if server is not None and self.shared_compute else None
        started = time.monotonic()
        done_s = 0.0  # planned seconds of work done (shared compute)
        checked = started
        rate = 1.0 / shared.slowdown() if shared is not None else 1.0

        def waits_until(at_s: float) -> Iterator[float]:
            nonlocal done_s, checked, rate
            if shared is None:
                yield max(0.0, started + at_s - time.monotonic())
                return
            while True:
                now = time.monotonic()
                done_s += (now - checked) * rate
                checked, rate = now, 1.0 / shared.slowdown()
                if done_s >= at_s:
                    return
                yield min(SHARED_COMPUTE_SLICE_S, (at_s - done_s) / rate)

        if plan.failure is not None:
            yield from waits_until(plan.ttft_s / 2)
            raise plan.failure
        at_s = plan.ttft_s
        for position, token in enumerate(plan.tokens):
            at_s += plan.gaps_s[position - 1] if position else 0.0
            yield from waits_until(at_s)
            if plan.interrupt_after is not None and position >= plan.interrupt_after:
                yield self._final_chunk(plan, position, finished=False)
                return
            yield self._token_chunk(token)
        yield self._final_chunk(plan, len(plan.tokens), finished=True)

    @staticmethod
    def _complete(result: ChatResult) -> ChatResult:
        """``result``, or the error a non-streaming client raises for a reply cut off before its finish reason."""
        if "finish_reason" not in result.generations[0].message.response_metadata:
            raise SimulatedConnectionError("Simulated connection drop before the response was complete.")
        return result

    # --------------------------------------------------------------------- sync
    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        server = self._local_server()
        with self._slot(), server.serving() if server is not None else nullcontext():
            for step in self._schedule(self._plan(messages, stop, retry=_is_retry(run_manager)), server):
                if isinstance(step, float):
                    time.sleep(step)
                else:
                    yield step

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        """The stream, joined by LangChain's ``generate_from_stream``: the same sleeps, text and usage."""
        return self._complete(generate_from_stream(self._stream(messages, stop, run_manager, **kwargs)))

    # -------------------------------------------------------------------- async
    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        server = self._local_server()
        with self._slot():
            if server is not None:
                await server.aenter()
            try:
                for step in self._schedule(self._plan(messages, stop, retry=_is_retry(run_manager)), server):
                    if isinstance(step, float):
                        await asyncio.sleep(step)
                    else:
                        yield step
            finally:
                if server is not None:
                    server.leave()

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        """The async stream, joined like ``_generate``.

        LangChain's ``agenerate_from_stream`` would join the chunks in a worker thread;
        joining them here keeps ``ainvoke``/``abatch`` on the event loop alone, as the
        async lesson says (the join takes about 0.3 ms for a short joke, 3 ms for 2,000 tokens).
        """
        chunks = [chunk async for chunk in self._astream(messages, stop, run_manager, **kwargs)]
        return self._complete(generate_from_stream(iter(chunks)))
