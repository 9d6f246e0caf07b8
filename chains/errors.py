"""Turn any provider exception into a short, key-free, categorised description.

The UI maps ``ErrorInfo.kind`` to a human message in the user's language; this
module stays free of any UI code and never imports the OpenAI SDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

ERROR_KINDS: tuple[str, ...] = (
    "auth",
    "rate_limit",
    "timeout",
    "connection",
    "not_found",
    "bad_request",
    "server",
    "interrupted",
    "missing_key",
    "budget",
    "host_key_refused",
    "url_refused",
    "local_model",
    "unknown",
)

#: Error kinds decided by this app (not by a provider): their detail is never a provider's body.
APP_GUARD_KINDS = frozenset({"budget", "host_key_refused", "url_refused", "missing_key", "local_model"})

_SECRET_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-\*]{4,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.]{8,}"),
    re.compile(r"(?i)(api[_-]?key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]{4,}"),
)
_MAX_DETAIL = 300


@dataclass(frozen=True)
class ErrorInfo:
    """A categorised, key-free description of a failure.

    Attributes:
        kind: One of ``ERROR_KINDS``.
        detail: The provider's own message, scrubbed of secrets and shortened.
        status_code: The HTTP status, when there was one.
        retry_after_s: The server's ``Retry-After`` hint, when there was one.
    """

    kind: str
    detail: str
    status_code: int | None = None
    retry_after_s: float | None = None

    def summary(self) -> str:
        """One line for timing records and exports: ``kind: detail``."""
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


def scrub_secrets(text: str, *secrets: str | None) -> str:
    """Remove API keys and bearer tokens from ``text``.

    Args:
        text: Any text that may quote a request or a header.
        *secrets: Exact values to remove as well (for example the session's key).

    Returns:
        The text with every secret replaced by ``[redacted]``.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return text


class AppGuardError(Exception):
    """A refusal decided by this app, not by a provider (a budget, a URL, a key).

    Each subclass names its ``kind`` (one of ``APP_GUARD_KINDS``); ``classify_error``
    finds it with ``isinstance``, also when an SDK wraps it (``__cause__``).
    """

    kind: ClassVar[str] = "unknown"


class StreamInterruptedError(Exception):
    """A stream ended without a finish reason: the answer is incomplete."""


#: What a stream cut in the middle of a chunk looks like from the SDK's SSE decoder.
_BROKEN_CHUNK_ERRORS: tuple[type[BaseException], ...] = (json.JSONDecodeError, UnicodeDecodeError)
_BROKEN_CHUNK_DETAIL = "a chunk of the answer arrived corrupt or cut off, so the stream could not go on"


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then its causes and contexts (an SDK wraps the error it caught), each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _guard_kind(exc: BaseException) -> str | None:
    """The kind of a refusal made by this app's HTTP guard or model factory, if ``exc`` is one.

    The guard answers locally with an error body whose ``code`` names the
    refusal (``chains.security.egress``); the app's own refusals are ``AppGuardError``s.
    Causes and contexts are followed too.
    """
    for current in _causes(exc):
        if isinstance(current, AppGuardError):
            return current.kind
        body = getattr(current, "body", None)
        if isinstance(body, dict) and body.get("type") == "app_guard" and body.get("code") in ("budget", "host_key_refused", "url_refused"):
            return str(body["code"])
    return None


def _broken_chunk(exc: BaseException) -> bool:
    """True when ``exc`` comes from a chunk that could not be decoded: a corrupt or truncated stream."""
    return any(isinstance(current, _BROKEN_CHUNK_ERRORS) for current in _causes(exc))


def classify_error(exc: BaseException, *secrets: str | None) -> ErrorInfo:
    """Categorise an exception raised by a chain call.

    Args:
        exc: The exception (from OpenAI's SDK, httpx, the simulator, or anything else).
        *secrets: Exact secrets to scrub from the message.

    Returns:
        The categorised, scrubbed description.
    """
    names = _class_names(exc)
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int) or status == 0:
        status = None
    message = str(exc) or type(exc).__name__
    guard_kind = _guard_kind(exc)
    if guard_kind is not None:
        kind = guard_kind
    elif _broken_chunk(exc):
        # Like a connection cut mid-body; a stream that had already shown text is "interrupted" (chains.modes).
        kind, message = "connection", _BROKEN_CHUNK_DETAIL
    elif "AuthenticationError" in names or "PermissionDeniedError" in names or status in (401, 403):
        kind = "auth"
    elif "RateLimitError" in names or status == 429:
        kind = "rate_limit"
    elif names & {"APITimeoutError", "TimeoutException", "TimeoutError", "ReadTimeout"}:
        kind = "timeout"
    elif isinstance(exc, StreamInterruptedError):
        kind = "interrupted"
    elif names & {"APIConnectionError", "ConnectError", "ConnectionError", "RemoteProtocolError"}:
        kind = "connection"
    elif "NotFoundError" in names or status == 404:
        kind = "not_found"
    elif "BadRequestError" in names or status in (400, 413, 422):
        kind = "bad_request"
    elif status is not None and status >= 500:
        kind = "server"
    else:
        kind = "unknown"
    detail = scrub_secrets(" ".join(message.split()), *secrets)
    if len(detail) > _MAX_DETAIL:
        detail = detail[: _MAX_DETAIL - 1] + "…"
    return ErrorInfo(kind=kind, detail=detail, status_code=status, retry_after_s=_retry_after(exc))

