"""Make the OpenAI client's silent retries visible.

``ChatOpenAI`` retries failed requests inside the OpenAI SDK (``max_retries``),
which only logs them. This module listens to that log and records each retry,
with the index of the call it belongs to, for the run that is capturing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from langchain_core.runnables.config import var_child_runnable_config

_OPENAI_CLIENT_LOGGER = "openai._base_client"
_captured: ContextVar[list[RetryEvent] | None] = ContextVar("captured_retries", default=None)


@dataclass(frozen=True)
class RetryEvent:
    """One retry made by the OpenAI client.

    Attributes:
        call_index: The index of the call in its run, when known.
        message: The client's log line (it names no URL and no key).
    """

    call_index: int | None
    message: str


class _RetryLogHandler(logging.Handler):
    """Appends every "Retrying request" log record to the capturing run's list."""

    def emit(self, record: logging.LogRecord) -> None:
        events = _captured.get()
        if events is None:
            return
        message = record.getMessage()
        if not message.startswith("Retrying request"):
            return
        config = var_child_runnable_config.get() or {}
        index = (config.get("metadata") or {}).get("call_index")
        events.append(RetryEvent(call_index=index, message=message))


_handler = _RetryLogHandler(level=logging.INFO)


def _install() -> None:
    logger = logging.getLogger(_OPENAI_CLIENT_LOGGER)
    if _handler not in logger.handlers:
        logger.addHandler(_handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


@contextmanager
def capture_retries() -> Iterator[list[RetryEvent]]:
    """Collect the OpenAI client's retries made inside this block.

    Worker threads started by LangChain copy the context, so the retries of a
    ``batch`` are collected too.

    Yields:
        The list that fills with ``RetryEvent`` objects.
    """
    _install()
    events: list[RetryEvent] = []
    token = _captured.set(events)
    try:
        yield events
    finally:
        _captured.reset(token)
