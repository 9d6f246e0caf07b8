"""A small, local, OpenAI-compatible chat server for tests, benchmarks and demos.

It uses only the standard library (``http.server.ThreadingHTTPServer`` in a
background thread), listens on loopback only, and serves:

- ``POST /v1/chat/completions``: a short joke about the topic found in the
  prompt ("Tell me a short joke about X"), either as one JSON body (with
  ``usage``) or, with ``"stream": true``, as server-sent events
  (``data: {...}`` chunks, a final chunk with ``finish_reason: "stop"``, a
  usage chunk when ``stream_options.include_usage`` is set, then
  ``data: [DONE]``).
- ``GET /v1/models``: one model.
- ``GET /_test/stats``, ``POST /_test/reset`` and ``POST /_test/fault``:
  counters, and a way to change the fault from another process (for browser
  tests and benchmarks).

Every reply contains ``REPLY_MARKER`` (``[test-server]``), so a test can prove
the text came from this server and not from the simulator.

The server can inject faults (see ``FAULTS``), optionally only for the first K
matching requests and only for prompts containing a given text. It counts
requests, the requests in flight, and the peak in flight. It never logs, stores
or echoes the ``Authorization`` header (unless ``echo_key_in_errors`` is set on
purpose, to play a careless server that quotes the key in its 401 message).

Example:
    >>> with OpenAICompatibleServer(ttft_s=0.2, token_delay_s=0.01) as server:
    ...     server.base_url  # doctest: +SKIP
    'http://127.0.0.1:40123/v1'

Run it by hand (then point the app at it with ``OPENAI_BASE_URL``)::

    python -m devtools.openai_server --port 8765 --fault none
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import re
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "FAULTS",
    "REPLY_MARKER",
    "OpenAICompatibleServer",
    "RequestInfo",
    "ServerProcess",
    "unused_base_url",
]

#: Present in every reply, so a test can tell this server's text from the simulator's.
REPLY_MARKER = "[test-server]"

#: The faults the server can inject.
#:
#: - ``none``: answer normally.
#: - ``401``: refuse with an OpenAI-style "invalid_api_key" error.
#: - ``429``: refuse with "rate_limit_exceeded" and a ``Retry-After`` header.
#: - ``500``: fail with an OpenAI-style "server_error".
#: - ``slow``: wait ``slow_s`` before the first token (beyond a client's timeout).
#:   Streams send their headers at once and then stall; plain requests stall
#:   before the headers.
#: - ``drop``: close the socket in the middle of the body. A stream sends
#:   ``drop_after`` content chunks first; a plain request sends half its JSON.
#:   The HTTP body is left incomplete, so the client sees a protocol error.
#: - ``truncate``: end the body cleanly but early: a stream sends ``drop_after``
#:   content chunks and then the end of the HTTP body, with no ``finish_reason``
#:   and no ``[DONE]`` (what a proxy that loses its upstream may do). A plain
#:   request behaves as ``drop``.
#: - ``corrupt``: a stream sends ``drop_after`` content chunks, then one event whose
#:   JSON is cut in the middle (what a broken proxy or a bad byte may produce), then
#:   ends the body. A plain request gets a complete HTTP body that is cut-off JSON.
FAULTS: tuple[str, ...] = ("none", "401", "429", "500", "slow", "drop", "truncate", "corrupt")

#: The event that the ``corrupt`` fault sends: valid SSE framing around JSON cut in the middle.
CORRUPT_EVENT = b'data: {"id": "chatcmpl-test", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"cont\n\n'

log = logging.getLogger("devtools.openai_server")

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback must not go through a proxy
_TOPIC = re.compile(r"joke about (?P<topic>.+)$", re.IGNORECASE | re.DOTALL)
_TOKEN = re.compile(r"\s*\S+")
_WORD = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class RequestInfo:
    """What the server saw of one chat request (never any header).

    Attributes:
        number: 1-based arrival order.
        model: The requested model.
        stream: Whether a stream was requested.
        include_usage: Whether ``stream_options.include_usage`` was set.
        topic: The topic found in the prompt.
        fault: The fault that was applied to this request (``none`` if none).
        key_fingerprint: ``key_fingerprint()`` of the bearer key, so that tests can
            tell whose key paid for a call without the server keeping any key.
        cookie: The ``Cookie`` header the client sent (empty for none), to test
            that no cookie travels from one visitor to another.
    """

    number: int
    model: str
    stream: bool
    include_usage: bool
    topic: str
    fault: str
    key_fingerprint: str = ""
    cookie: str = ""


def key_fingerprint(key: str) -> str:
    """A short one-way fingerprint of an API key (empty for no key)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12] if key else ""


def unused_base_url(host: str = "127.0.0.1") -> str:
    """Return a ``/v1`` base URL on a loopback port where nothing listens.

    Use it for the "server is down" case: connecting there is refused at once.

    Args:
        host: The loopback address.

    Returns:
        ``http://HOST:PORT/v1`` for a port that was free a moment ago.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    return f"http://{host}:{port}/v1"


def split_reply(text: str) -> list[str]:
    """Split a reply into word tokens that keep their leading whitespace.

    Args:
        text: The reply.

    Returns:
        Tokens whose concatenation is ``text`` (up to trailing whitespace).
    """
    return _TOKEN.findall(text)


def write_joke(topic: str, min_tokens: int | None = None) -> str:
    """Write this server's (deterministic) joke about ``topic``.

    Args:
        topic: The topic.
        min_tokens: Pad the reply to at least this many tokens, or ``None``.

    Returns:
        The reply, which always contains ``REPLY_MARKER``.
    """
    text = (
        f"{REPLY_MARKER} Why did the {topic} sit on the test bench? "
        f"Because it wanted to be served locally, one token at a time!"
    )
    if min_tokens:
        filler = " And then it streamed some more."
        while len(split_reply(text)) < min_tokens:
            text += filler
    return text


def _prompt_text(messages: Any) -> str:
    """Join the text of every message (string or content-part list)."""
    parts: list[str] = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "\n".join(parts)


def _mask(key: str) -> str:
    """Mask a key the way OpenAI does in its 401 message: first 3 and last 4 characters."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}{'*' * (len(key) - 7)}{key[-4:]}"


class _Server(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` with a deep backlog and a link back to its owner."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # The default (5) drops SYNs under batch(32).
    owner: OpenAICompatibleServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up (an idle keep-alive connection reset); report anything else."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Serves one connection (HTTP/1.1, keep-alive)."""

    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "OpenAICompatibleTestServer/1.0"

    # --------------------------------------------------------------- plumbing
    def setup(self) -> None:
        super().setup()
        # Small SSE writes must not wait for Nagle's algorithm and delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._track(self.connection, opened=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.owner._track(self.connection, opened=False)

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds the method and path only; headers are never logged.
        log.debug("%s %s", self.address_string(), format % args)

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_test_{self.server.owner.requests_total}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str, kind: str, code: str | None, headers: dict[str, str] | None = None) -> None:
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self._send_json(status, body, headers)

    def end_headers(self) -> None:
        """Add the ``Set-Cookie`` header of ``set_cookie`` to every reply, when it is set."""
        cookie = self.server.owner.set_cookie
        if cookie:
            self.send_header("Set-Cookie", cookie)
        super().end_headers()

    def _bearer(self) -> str:
        value = self.headers.get("Authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else ""

    def _refuse_key(self) -> bool:
        """Send a 401 when a required key is missing or wrong; return True if refused."""
        owner = self.server.owner
        if owner.require_key is None or self._bearer() == owner.require_key:
            return False
        self._send_401()
        return True

    def _send_401(self) -> None:
        key = self._bearer()
        shown = key if self.server.owner.echo_key_in_errors else _mask(key)
        self._send_error(
            401,
            f"Incorrect API key provided: {shown}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )

    # ------------------------------------------------------------------ routes
    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            if self._refuse_key():
                return
            self._send_json(
                200,
                {"object": "list", "data": [{"id": owner.model, "object": "model", "created": 0, "owned_by": "test-server"}]},
            )
        elif path == "/_test/stats":
            self._send_json(200, owner.stats())
        else:
            self._send_error(404, f"Unknown path {path}", "invalid_request_error", "not_found")

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_error(400, "The request body is not valid JSON.", "invalid_request_error", None)
            return
        if path == "/v1/chat/completions":
            self._chat(body)
        elif path == "/_test/reset":
            self.server.owner.reset_counters()
            self._send_json(200, self.server.owner.stats())
        elif path == "/_test/fault":
            try:
                self.server.owner.set_fault(
                    str(body.get("fault", "none")), times=body.get("times"), match=body.get("match")
                )
            except ValueError as exc:
                self._send_error(400, str(exc), "invalid_request_error", None)
                return
            self._send_json(200, self.server.owner.stats())
        else:
            self._send_error(404, f"Unknown path {path}", "invalid_request_error", "not_found")

    # ------------------------------------------------------------------- chat
    def _chat(self, body: dict[str, Any]) -> None:
        owner = self.server.owner
        prompt = _prompt_text(body.get("messages"))
        match = _TOPIC.search(prompt.strip())
        topic = match.group("topic").strip() if match else (prompt.strip() or "nothing")
        stream = bool(body.get("stream"))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        model = str(body.get("model") or owner.model)
        number, fault = owner._begin(prompt)
        owner._log_request(
            RequestInfo(
                number=number,
                model=model,
                stream=stream,
                include_usage=include_usage,
                topic=topic,
                fault=fault,
                key_fingerprint=key_fingerprint(self._bearer()),
                cookie=self.headers.get("Cookie", ""),
            )
        )
        released = False

        def release() -> None:
            # Called just before the last bytes go out, so that a client that starts its
            # next request on receiving them can never be counted twice.
            nonlocal released
            if not released:
                released = True
                owner._end()

        try:
            if owner.error_body is not None:
                release()
                data = owner.error_body.encode("utf-8")
                self.send_response(owner.error_status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if fault == "none" and self._refuse_key():
                return
            if fault == "401":
                release()
                self._send_401()
            elif fault == "429":
                release()
                self._send_error(
                    429,
                    f"Rate limit reached for requests on {model} in organization org-test: "
                    f"Limit 3, Used 3. Please try again in {owner.retry_after_s:g}s.",
                    "requests",
                    "rate_limit_exceeded",
                    headers={"Retry-After": f"{owner.retry_after_s:g}"},
                )
            elif fault == "500":
                release()
                self._send_error(
                    500,
                    "The server had an error while processing your request. Sorry about that!",
                    "server_error",
                    None,
                    headers=None if owner.retry_after_ms_on_500 is None else {"retry-after-ms": f"{owner.retry_after_ms_on_500:g}"},
                )
            else:
                prompt_tokens = len(_WORD.findall(prompt))
                tokens = split_reply(write_joke(topic, owner.min_tokens))
                with owner._slot():
                    if stream:
                        self._stream(model, number, tokens, prompt_tokens, include_usage, fault, release)
                    else:
                        self._complete(model, number, tokens, prompt_tokens, fault, release)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # The client gave up (for example, it timed out).
        finally:
            release()

    def _complete(self, model: str, number: int, tokens: list[str], prompt_tokens: int, fault: str, release: Any) -> None:
        owner = self.server.owner
        wait = owner.slow_s if fault == "slow" else owner.ttft_s + owner.token_delay_s * len(tokens)
        if self._wait(wait):
            return
        body = {
            "id": f"chatcmpl-test-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(tokens), "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(tokens),
                "total_tokens": prompt_tokens + len(tokens),
            },
        }
        if fault == "corrupt":
            data = json.dumps(body).encode("utf-8")[:-7]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            release()
            self.wfile.write(data)
            return
        if fault in ("drop", "truncate"):
            data = json.dumps(body).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            release()
            self.wfile.write(data[: len(data) // 2])
            self._hang_up()
            return
        release()
        self._send_json(200, body)

    def _stream(
        self,
        model: str,
        number: int,
        tokens: list[str],
        prompt_tokens: int,
        include_usage: bool,
        fault: str,
        release: Any,
    ) -> None:
        owner = self.server.owner
        created = int(time.time())
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_test_{number}")
        self.end_headers()

        def event(delta: dict[str, Any], finish_reason: str | None = None, usage: dict[str, int] | None = None) -> bytes:
            chunk: dict[str, Any] = {
                "id": f"chatcmpl-test-{number}",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": None,
                "choices": [] if usage else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if usage:
                chunk["usage"] = usage
            return b"data: " + json.dumps(chunk).encode("utf-8") + b"\n\n"

        if self._wait(owner.slow_s if fault == "slow" else owner.ttft_s):
            return
        self._write_chunk(event({"role": "assistant", "content": "", "refusal": None}))
        cut = owner.drop_after if fault in ("drop", "truncate", "corrupt") else None
        for position, token in enumerate(tokens):
            if position and self._wait(owner.token_delay_s):
                return
            if cut is not None and position >= cut:
                release()
                if fault == "drop":
                    self._hang_up()
                elif fault == "corrupt":
                    self._write_chunk(CORRUPT_EVENT)
                    self._write_chunk(b"")
                else:
                    self._write_chunk(b"")  # A clean end of the HTTP body, but no finish_reason/[DONE].
                return
            self._write_chunk(event({"content": token}))
        tail = event({}, finish_reason="stop")
        if include_usage:
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens), "total_tokens": prompt_tokens + len(tokens)}
            tail += event({}, usage=usage)
        release()
        self._write_chunk(tail + b"data: [DONE]\n\n")
        self._write_chunk(b"")

    def _wait(self, seconds: float) -> bool:
        """Wait ``seconds``; return True (stop replying) if the server stops or the client hangs up.

        A client that times out closes its socket; noticing that ends the request
        at once, so it no longer counts as in flight.
        """
        owner = self.server.owner
        deadline = time.perf_counter() + seconds
        while True:
            if owner._stopping.is_set():
                return True
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.05))
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        self.close_connection = True
                        return True  # The client closed the connection.
                except OSError:
                    self.close_connection = True
                    return True
                # Unexpected early bytes (a pipelined request): just sleep out the rest.
                return owner._sleep(deadline - time.perf_counter())

    def _write_chunk(self, data: bytes) -> None:
        """Write one HTTP/1.1 chunk (an empty one ends the body)."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _hang_up(self) -> None:
        """Close the socket now, leaving the HTTP body incomplete."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class OpenAICompatibleServer:
    """A local OpenAI-compatible chat server running in a background thread.

    Use it as a context manager; ``base_url`` is ready for ``ChatOpenAI``. All
    settings are plain attributes and may be changed while it runs.

    Attributes:
        ttft_s: Seconds before the first token (or before a plain reply's body).
        token_delay_s: Seconds between tokens.
        fault: The fault to inject, one of ``FAULTS`` (set it at any time).
        fault_times: Apply the fault to this many (matching) requests only, then
            answer normally; ``None`` means always.
        fault_match: Apply the fault only when the prompt contains this text;
            ``None`` means every request.
        retry_after_s: The ``Retry-After`` value sent with a 429 (floats are accepted
            by the OpenAI SDK, which keeps tests fast).
        slow_s: How long the ``slow`` fault waits before the first token.
        drop_after: Content chunks sent before ``drop``/``truncate``/``corrupt`` cut a stream.
        min_tokens: Pad replies to at least this many tokens, or ``None``.
        model: The model name served by ``/v1/models`` (requests may name any model).
        require_key: When set, any other bearer key gets a 401.
        echo_key_in_errors: Quote the full key in 401 messages, like a careless
            server, to test that the app scrubs it. Off by default (OpenAI masks it).
        slots: How many replies the server generates at once, like llama.cpp's
            ``--parallel`` or Ollama's ``OLLAMA_NUM_PARALLEL``: further requests
            wait in a queue for a free slot. ``None`` (the default): no limit.
            Set it when the server is built; ``1`` serves one request at a time.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ttft_s: float = 0.05,
        token_delay_s: float = 0.005,
        fault: str = "none",
        fault_times: int | None = None,
        fault_match: str | None = None,
        retry_after_s: float = 1.0,
        slow_s: float = 5.0,
        drop_after: int = 3,
        min_tokens: int | None = None,
        model: str = "test-model",
        require_key: str | None = None,
        echo_key_in_errors: bool = False,
        slots: int | None = None,
    ) -> None:
        """Configure the server; ``start()`` (or ``with``) binds and serves.

        Args:
            host: The address to bind; keep it on loopback.
            port: The port, or 0 for any free port.
            ttft_s: See the class attributes.
            token_delay_s: See the class attributes.
            fault: See the class attributes.
            fault_times: See the class attributes.
            fault_match: See the class attributes.
            retry_after_s: See the class attributes.
            slow_s: See the class attributes.
            drop_after: See the class attributes.
            min_tokens: See the class attributes.
            model: See the class attributes.
            require_key: See the class attributes.
            echo_key_in_errors: See the class attributes.
            slots: See the class attributes.
        """
        if slots is not None and slots < 1:
            raise ValueError("slots must be at least 1 (or None for no limit).")
        self.host = host
        self._port = port
        self.ttft_s = ttft_s
        self.token_delay_s = token_delay_s
        self.fault_times = fault_times
        self.fault_match = fault_match
        self.retry_after_s = retry_after_s
        self.slow_s = slow_s
        self.drop_after = drop_after
        self.min_tokens = min_tokens
        self.model = model
        self.require_key = require_key
        self.echo_key_in_errors = echo_key_in_errors
        self.slots = slots
        self._slots = threading.Semaphore(slots) if slots is not None else None
        #: When set, every reply carries this ``Set-Cookie`` header (a cookie-setting endpoint).
        self.set_cookie: str | None = None
        #: When set, every chat request gets this raw body with ``error_status`` (an internal
        #: service that answers with its own error page).
        self.error_body: str | None = None
        self.error_status = 404
        #: When set, a ``500`` carries ``retry-after-ms`` with this value: the OpenAI SDK
        #: then waits that long before a retry instead of its exponential backoff
        #: (0.5 s, 1 s, ...), so tests that count retries do not spend seconds waiting.
        self.retry_after_ms_on_500: float | None = None
        self._fault = "none"
        self.fault = fault
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RequestInfo] = []
        self.requests_total = 0
        self.faults_served = 0
        self.in_flight = 0
        self.peak_in_flight = 0

    # --------------------------------------------------------------- settings
    @property
    def fault(self) -> str:
        """The fault to inject, one of ``FAULTS``."""
        return self._fault

    @fault.setter
    def fault(self, value: str) -> None:
        if value not in FAULTS:
            raise ValueError(f"Unknown fault {value!r}; choose one of {', '.join(FAULTS)}.")
        self._fault = value

    def set_fault(self, fault: str, *, times: int | None = None, match: str | None = None) -> None:
        """Change the fault, how many requests get it, and which ones.

        Args:
            fault: One of ``FAULTS``.
            times: Apply it to the next ``times`` matching requests only; ``None`` means always.
            match: Apply it only to prompts containing this text; ``None`` means all.
        """
        self.fault = fault
        with self._lock:
            self.fault_times = times
            self.fault_match = match

    # ------------------------------------------------------------------ state
    @property
    def port(self) -> int:
        """The bound port (after ``start()``)."""
        if self._httpd is None:
            raise RuntimeError("The server is not running.")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``: the value for ``OPENAI_BASE_URL`` or ``base_url``."""
        return f"{self.url}/v1"

    def stats(self) -> dict[str, Any]:
        """Counters and the current fault, as a JSON-ready dict."""
        with self._lock:
            return {
                "requests_total": self.requests_total,
                "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
                "faults_served": self.faults_served,
                "fault": self._fault,
                "fault_times": self.fault_times,
                "fault_match": self.fault_match,
            }

    def reset_counters(self) -> None:
        """Zero the request counters and forget the recorded requests."""
        with self._lock:
            self.requests = []
            self.requests_total = 0
            self.faults_served = 0
            self.peak_in_flight = self.in_flight

    def _begin(self, prompt: str) -> tuple[int, str]:
        """Count a new chat request in flight and decide its fault."""
        with self._lock:
            self.requests_total += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            fault = self._fault
            if fault != "none" and self.fault_match is not None and self.fault_match not in prompt:
                fault = "none"
            if fault != "none" and self.fault_times is not None:
                if self.fault_times <= 0:
                    fault = "none"
                else:
                    self.fault_times -= 1
            if fault != "none":
                self.faults_served += 1
            return self.requests_total, fault

    @contextlib.contextmanager
    def _slot(self) -> Any:
        """Hold one of the server's ``slots`` while a reply is generated; wait in the queue for one."""
        if self._slots is None:
            yield
            return
        while not self._slots.acquire(timeout=0.05):
            if self._stopping.is_set():
                raise ConnectionAbortedError("the server is stopping")
        try:
            yield
        finally:
            self._slots.release()

    def _end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _log_request(self, info: RequestInfo) -> None:
        with self._lock:
            self.requests.append(info)
        log.debug("chat #%d stream=%s fault=%s topic=%r", info.number, info.stream, info.fault, info.topic)

    def _sleep(self, seconds: float) -> bool:
        """Sleep, waking early when the server stops; return True if it is stopping."""
        if seconds <= 0:
            return self._stopping.is_set()
        return self._stopping.wait(seconds)

    def _track(self, connection: socket.socket, *, opened: bool) -> None:
        with self._lock:
            if opened:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    # -------------------------------------------------------------- lifecycle
    def start(self) -> OpenAICompatibleServer:
        """Bind and serve in a daemon thread.

        Returns:
            The server itself.
        """
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _Server((self.host, self._port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=f"openai-test-server:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any stalled reply, and close every open connection."""
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> OpenAICompatibleServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._httpd is not None else "stopped"
        return f"OpenAICompatibleServer({where}, fault={self._fault!r})"


class ServerProcess:
    """This file run as a separate process: no shared GIL with the client under test.

    Use it for benchmarks and browser tests. It is controlled over HTTP
    (``/_test/...``), so it offers the counters and fault switch of
    ``OpenAICompatibleServer`` as methods.

    Example:
        >>> with ServerProcess("--ttft", "0.4") as server:  # doctest: +SKIP
        ...     server.set_fault("429", times=1)
    """

    def __init__(self, *options: str, port: int | None = None, startup_timeout_s: float = 15.0) -> None:
        """Prepare the command line.

        Args:
            *options: Extra command-line options (``"--ttft", "0.4"``...).
            port: The port, or ``None`` for a free one.
            startup_timeout_s: How long to wait for the server to answer.
        """
        self.port = port or int(unused_base_url().rsplit(":", 1)[1].split("/", 1)[0])
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.url}/v1"
        self._command = [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port), *options]
        self._startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(f"{self.url}{path}", data=data, method="GET" if data is None else "POST")
        with _NO_PROXY.open(request, timeout=5) as response:
            return json.load(response)

    def stats(self) -> dict[str, Any]:
        """The server's counters (see ``OpenAICompatibleServer.stats``)."""
        return self._call("/_test/stats")

    def reset_counters(self) -> dict[str, Any]:
        """Zero the counters; return them."""
        return self._call("/_test/reset", {})

    def set_fault(self, fault: str, *, times: int | None = None, match: str | None = None) -> dict[str, Any]:
        """Change the fault (see ``OpenAICompatibleServer.set_fault``)."""
        return self._call("/_test/fault", {"fault": fault, "times": times, "match": match})

    def __enter__(self) -> ServerProcess:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self._startup_timeout_s
        while True:
            try:
                self.stats()
                return self
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"The test server did not start: {' '.join(self._command)}") from None
                time.sleep(0.05)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def main(argv: list[str] | None = None) -> None:
    """Run the server in the foreground until Ctrl-C.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).
    """
    parser = argparse.ArgumentParser(description="A local OpenAI-compatible test server (loopback only).")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (keep it on loopback)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--fault-times", type=int, default=None, help="apply the fault to the first K requests only")
    parser.add_argument("--fault-match", default=None, help="apply the fault only to prompts containing this text")
    parser.add_argument("--ttft", type=float, default=0.4, help="seconds to first token")
    parser.add_argument("--token-delay", type=float, default=1 / 60, help="seconds between tokens")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After of a 429, seconds")
    parser.add_argument("--slow", type=float, default=60.0, help="first-token delay of the 'slow' fault")
    parser.add_argument("--drop-after", type=int, default=3, help="chunks sent before 'drop'/'truncate'")
    parser.add_argument("--min-tokens", type=int, default=None, help="pad replies to this many tokens")
    parser.add_argument("--require-key", default=None, help="refuse any other bearer key with a 401")
    parser.add_argument("--slots", type=int, default=None, help="generate at most this many replies at once; queue the rest (1: one at a time)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests (never their headers)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    server = OpenAICompatibleServer(
        args.host,
        args.port,
        ttft_s=args.ttft,
        token_delay_s=args.token_delay,
        fault=args.fault,
        fault_times=args.fault_times,
        fault_match=args.fault_match,
        retry_after_s=args.retry_after,
        slow_s=args.slow,
        drop_after=args.drop_after,
        min_tokens=args.min_tokens,
        require_key=args.require_key,
        slots=args.slots,
    )
    with server:
        print(f"OpenAI-compatible test server on {server.base_url} (fault={server.fault})", flush=True)
        print(f"  export OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY=sk-test-local", flush=True)
        print(f"  change the fault: curl -s -X POST {server.url}/_test/fault -d '{{\"fault\": \"429\", \"times\": 1}}'", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping", flush=True)


if __name__ == "__main__":
    main()
