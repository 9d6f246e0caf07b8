"""The HTTP layer under every remote model: where requests may go, and counting the host's key.

``make_model`` gives ``ChatOpenAI`` a sync and an async client built here. Their
transports see every HTTP request the OpenAI SDK sends, retries included, so the
rules hold for every page and mode:

- a request carrying the host's key goes only to the host's origin;
- each such request is counted in the ledger *before* it is sent, and refused
  when a limit is reached (``chains.security.quota``); so is every request to the host's
  endpoint when that is not OpenAI's, whatever key it carries
  (``chains.security.netguard.counts_for_the_host``);
- on a public deployment, no request goes to a loopback, private, link-local
  or metadata address unless allow-listed (``chains.security.netguard``), and every
  answer that is not a 2xx (errors and redirects) is reduced to its type and code;
- on a public deployment, a request without the host's key carries no
  ``OpenAI-Organization`` or ``OpenAI-Project`` header (the host's ids);
- no cookie is kept; redirects are not followed.

A refusal is a response made up locally (403 or 429 with
``x-should-retry: false``), so the SDK raises its usual error without retrying
and nothing leaves the machine.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx2  # The HTTP library the installed OpenAI SDK is built on (``openai._base_client``).

from chains.retry_counts import anote_request, note_request
from chains.security.netguard import UnsafeURLError, checked_address, origin_of
from chains.security.policy import DEFAULT_TIMEOUT_S, EgressPolicy
from chains.security.quota import QuotaExceededError

if TYPE_CHECKING:
    from chains.local.supervisor import SlotGate

#: The ``code`` of a local refusal in the error body (``chains.errors`` maps it to a kind).
GUARD_CODES: dict[str, str] = {"host_key_refused": "host_key_refused", "url_refused": "url_refused", "budget": "budget"}


def http_clients(
    policy: EgressPolicy, bound_keys: Callable[[], dict[str, str]], *, gate: SlotGate | None = None
) -> tuple[httpx2.Client, httpx2.AsyncClient]:
    """A sync and an async client for one model: guarded, cookie-free, no redirects.

    The async client keeps no idle connection: every async run here gets a
    fresh event loop (``asyncio.run`` in the script thread), and a pooled
    connection from a closed loop fails with ``RuntimeError: Event loop is
    closed``. Cookies are refused, so an endpoint cannot tie one visitor's
    requests to another's. Redirects are not followed (an open redirect must
    not lead a request, or the key, to another host).

    Args:
        policy: The rules the transport enforces.
        bound_keys: Returns the process-wide host key bindings (key -> origin).
        gate: Bounds the requests in flight (the local model's slots on a public deployment), or ``None``.

    Returns:
        ``(sync_client, async_client)`` of the HTTP library the OpenAI SDK uses.
    """
    sync_inner: httpx2.BaseTransport = httpx2.HTTPTransport(limits=httpx2.Limits(max_connections=100, max_keepalive_connections=20))
    async_inner: httpx2.AsyncBaseTransport = httpx2.AsyncHTTPTransport(limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=0))
    if gate is not None:
        sync_inner, async_inner = GatedTransport(sync_inner, gate), AsyncGatedTransport(async_inner, gate)
    sync_transport = GuardedTransport(sync_inner, policy, bound_keys)
    async_transport = AsyncGuardedTransport(async_inner, policy, bound_keys)
    # Every attempt the SDK makes is one request: the hook counts them, so retries show in the run's record.
    sync_client = httpx2.Client(
        transport=sync_transport, follow_redirects=False, timeout=DEFAULT_TIMEOUT_S, event_hooks={"request": [note_request]}
    )
    async_client = httpx2.AsyncClient(
        transport=async_transport, follow_redirects=False, timeout=DEFAULT_TIMEOUT_S, event_hooks={"request": [anote_request]}
    )
    for client in (sync_client, async_client):
        client.cookies.jar.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return sync_client, async_client


_GUARD_CODES = {
    "host_key_refused": 403,
    "url_refused": 403,
    "budget": 429,
    "busy": 429,  # the local model's slots: read as a rate limit ("wait a moment, lower max_concurrency")
}
_KEPT_ERROR_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry", "content-type")  # the SDK paces retries by them
#: Headers that name the host's OpenAI organization and project; never sent without the host's key on a public deployment.
_HOST_ACCOUNT_HEADERS = ("openai-organization", "openai-project")
_SHORT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _refusal(request: httpx2.Request, code: str, message: str) -> httpx2.Response:
    """A response made up locally instead of sending ``request``; the SDK must not retry it."""
    body = {"error": {"message": message, "type": "app_guard", "code": code}}
    return httpx2.Response(
        _GUARD_CODES[code], headers={"x-should-retry": "false", "content-type": "application/json"}, content=json.dumps(body).encode(), request=request
    )


def _carried_keys(request: httpx2.Request, policy: EgressPolicy, bound: dict[str, str]) -> list[tuple[str, str]]:
    """The bound host keys (with their origins) found anywhere in ``request``'s headers or URL."""
    if policy.host_key:
        bound.setdefault(policy.host_key, origin_of(policy.host_base_url))
    haystack = " ".join([str(request.url), *request.headers.values()])
    return [(key, origin) for key, origin in bound.items() if key and key in haystack]


def _admit(request: httpx2.Request, policy: EgressPolicy, bound: dict[str, str]) -> httpx2.Response | None:
    """Decide whether ``request`` may go out, count it when it carries the host's key, and pin it.

    On a public deployment, a visitor's endpoint is looked up once, here, and the
    request is sent to the very address that passed the check (``_pin``): a DNS
    answer that changes between the check and the connection (DNS rebinding)
    cannot lead it to a private address.

    Returns:
        ``None`` to send it, or the local refusal to return instead.
    """
    url = str(request.url)
    try:
        origin = origin_of(url)
        address = checked_address(url, public=policy.public, allowed=policy.trusted_base_urls, resolver=policy.resolver)
    except UnsafeURLError:
        return _refusal(request, "url_refused", "This deployment does not send requests to that address.")
    carried = _carried_keys(request, policy, bound)
    for _key, bound_origin in carried:
        if origin != bound_origin:
            return _refusal(request, "host_key_refused", "The deployment's key is only sent to the deployment's endpoint.")
    if policy.public and not carried:
        # The SDK adds these from the host's environment (OPENAI_ORG_ID, OPENAI_PROJECT_ID) to every client.
        for name in _HOST_ACCOUNT_HEADERS:
            request.headers.pop(name, None)
    if carried or policy.counts_requests_to(url):
        if policy.meter is None:
            return _refusal(request, "host_key_refused", "The deployment's key is not metered for this run.")
        try:
            policy.meter.before_request(prompt_tokens=_prompt_tokens(request))
        except QuotaExceededError as exc:
            return _refusal(request, "budget", str(exc))
    if address is not None:
        _pin(request, address)
    return None


def _prompt_tokens(request: httpx2.Request) -> int:
    """A generous estimate of a request's prompt tokens, for its reservation: its body's bytes / 4 (JSON included)."""
    try:
        return len(request.content) // 4
    except httpx2.RequestNotRead:  # a streamed body: the reservation is then the per-call cap alone
        return 0


def _pin(request: httpx2.Request, address: str) -> None:
    """Send ``request`` to ``address`` while it still names its host (``Host`` header, TLS SNI and certificate check).

    The ``Host`` header already holds the host's name: the HTTP library sets it
    when the request is built, and rewriting the URL afterwards leaves it alone.
    """
    host = request.url.host
    if host == address:
        return
    if request.url.scheme == "https":
        # httpcore's documented ``sni_hostname`` extension: the TLS handshake and the
        # certificate check use the host's name, not the address connected to.
        request.extensions = {**request.extensions, "sni_hostname": host}
    request.url = request.url.copy_with(host=address)


def _sanitised_error(request: httpx2.Request, response: httpx2.Response, body: bytes) -> httpx2.Response:
    """On a public deployment, replace a provider's non-2xx body by its type and code only.

    An error body may quote anything the server knows (an internal service's
    configuration, a proxy's secrets); visitors see a classified message instead.
    A redirect is never followed, and its ``Location`` and body are dropped too:
    they may name an internal address.
    """
    error: dict[str, Any] = {"message": f"The provider answered with HTTP {response.status_code}."}
    try:
        original = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        original = {}
    if isinstance(original, dict):
        for name in ("type", "code"):
            value = original.get(name)
            if isinstance(value, str) and _SHORT_ID.match(value):
                error[name] = value
    headers = {name: response.headers[name] for name in _KEPT_ERROR_HEADERS if name in response.headers}
    headers["content-type"] = "application/json"
    return httpx2.Response(
        response.status_code, headers=headers, content=json.dumps({"error": error}).encode(), request=request
    )


class _Guard:
    """What both guarded transports hold: the transport that really sends, the rules and the key bindings."""

    def __init__(self, inner: Any, policy: EgressPolicy, bound_keys: Callable[[], dict[str, str]]) -> None:
        """Wrap ``inner``.

        Args:
            inner: The transport that really sends (sync or async, matching the subclass).
            policy: The rules.
            bound_keys: Returns the process-wide host key bindings.
        """
        self._inner = inner
        self._policy = policy
        self._bound_keys = bound_keys


class GuardedTransport(_Guard, httpx2.BaseTransport):
    """A sync transport that enforces an ``EgressPolicy`` on every request (retries included)."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Refuse, or send and (on a public deployment) sanitise an error reply."""
        refusal = _admit(request, self._policy, self._bound_keys())
        if refusal is not None:
            return refusal
        response = self._inner.handle_request(request)
        if self._policy.public and not response.is_success:
            try:
                body = b"".join(response.stream)
            finally:
                response.close()
            return _sanitised_error(request, response, body)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


class AsyncGuardedTransport(_Guard, httpx2.AsyncBaseTransport):
    """The async twin of ``GuardedTransport``."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Refuse, or send and (on a public deployment) sanitise an error reply."""
        refusal = _admit(request, self._policy, self._bound_keys())
        if refusal is not None:
            return refusal
        response = await self._inner.handle_async_request(request)
        if self._policy.public and not response.is_success:
            try:
                body = b"".join([chunk async for chunk in response.stream])
            finally:
                await response.aclose()
            return _sanitised_error(request, response, body)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()




#: How long a request waits for a free slot of the local model before it is refused as busy.
SLOT_WAIT_S = 60.0


class _ReleasingStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body that gives its slot back when it is closed (or collected), once."""

    def __init__(self, inner: Any, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release
        self._released = False

    def _give_back(self) -> None:
        if not self._released:
            self._released = True
            self._release()

    def __iter__(self) -> Any:
        yield from self._inner

    async def __aiter__(self) -> Any:
        async for chunk in self._inner:
            yield chunk

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._give_back()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._give_back()

    def __del__(self) -> None:
        self._give_back()


def _holding(request: httpx2.Request, response: httpx2.Response, gate: SlotGate) -> httpx2.Response:
    return httpx2.Response(
        response.status_code,
        headers=response.headers,
        stream=_ReleasingStream(response.stream, gate.release),
        extensions=response.extensions,
        request=request,
    )


class GatedTransport(httpx2.BaseTransport):
    """Holds one of the gate's places from before a request is sent until its response is closed."""

    def __init__(self, inner: httpx2.BaseTransport, gate: SlotGate) -> None:
        """Wrap ``inner``."""
        self._inner = inner
        self._gate = gate

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Wait for a place (refused as busy after ``SLOT_WAIT_S``), then send."""
        if not self._gate.acquire(SLOT_WAIT_S):
            return _refusal(request, "busy", "The local model's slots are all busy; try again.")
        try:
            response = self._inner.handle_request(request)
        except BaseException:
            self._gate.release()
            raise
        return _holding(request, response, self._gate)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


class AsyncGatedTransport(httpx2.AsyncBaseTransport):
    """The async twin of ``GatedTransport`` (it polls for a place, never blocking the event loop)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, gate: SlotGate) -> None:
        """Wrap ``inner``."""
        self._inner = inner
        self._gate = gate

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Wait for a place (refused as busy after ``SLOT_WAIT_S``), then send."""
        import asyncio
        import time

        deadline = time.monotonic() + SLOT_WAIT_S
        while not self._gate.try_acquire():
            if time.monotonic() > deadline:
                return _refusal(request, "busy", "The local model's slots are all busy; try again.")
            await asyncio.sleep(0.02)
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._gate.release()
            raise
        return _holding(request, response, self._gate)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()
