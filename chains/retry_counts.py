"""Make the OpenAI client's silent retries visible.

``ChatOpenAI`` retries failed requests inside the OpenAI SDK (``max_retries``).
Every attempt is a new HTTP request, and every request of a remote model goes
through the HTTP clients of ``chains.security.egress``, whose request hook calls
``note_request``. The request knows which call it belongs to (LangChain's
config, with the runner's ``call_index``, is in the context): a second request
for the same call of a run is a retry. Nothing parses the SDK's log text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config

RETRY_ATTEMPT_TAG = "retry:attempt:"
"""The tag LangChain's ``with_retry`` puts on every model call after the first attempt (``retry:attempt:2``...).

A callback handler sees it in a model start's ``tags``; the simulator, in its run manager's."""


def is_retry_attempt(tags: object) -> bool:
    """True when a run's tags say that ``with_retry`` is making it again."""
    return any(str(tag).startswith(RETRY_ATTEMPT_TAG) for tag in tags or ()) if isinstance(tags, (list, tuple, set)) else False


@dataclass(frozen=True)
class RetryEvent:
    """One retry made by the OpenAI client.

    Attributes:
        call_index: The index of the call in its run.
        attempt: The attempt it was (2 for the first retry); it names no URL and no key.
    """

    call_index: int | None
    attempt: int

    @property
    def message(self) -> str:
        """A short description, for logs and exports."""
        return f"call {self.call_index}: attempt {self.attempt}"


@dataclass
class _Capture:
    """The requests seen for each call of the run that is capturing."""

    events: list[RetryEvent]
    requests_per_call: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_captured: ContextVar[_Capture | None] = ContextVar("captured_retries", default=None)


def note_request(request: Any = None) -> None:
    """Count one HTTP request of the capturing run; a repeat for the same call is a retry.

    Registered as the HTTP clients' ``request`` event hook (``chains.security.egress``). It
    runs in the context of the call that sends the request, also in ``batch``'s
    worker threads (LangChain copies the context) and under ``asyncio``.

    Args:
        request: The HTTP request (unused: the call is known from the context).
    """
    capture = _captured.get()
    if capture is None:
        return
    config = var_child_runnable_config.get() or {}
    index = (config.get("metadata") or {}).get("call_index")
    if not isinstance(index, int):
        return
    with capture.lock:
        attempt = capture.requests_per_call.get(index, 0) + 1
        capture.requests_per_call[index] = attempt
        if attempt > 1:
            capture.events.append(RetryEvent(call_index=index, attempt=attempt))


async def anote_request(request: Any = None) -> None:
    """The async client's ``request`` event hook (see ``note_request``)."""
    note_request(request)


@contextmanager
def capture_retries() -> Iterator[list[RetryEvent]]:
    """Collect the retries of the requests sent inside this block.

    Worker threads started by LangChain copy the context, so the retries of a
    ``batch`` are collected too.

    Yields:
        The list that fills with ``RetryEvent`` objects.
    """
    capture = _Capture(events=[])
    token = _captured.set(capture)
    try:
        yield capture.events
    finally:
        _captured.reset(token)
