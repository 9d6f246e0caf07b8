"""The HTTP layer under every remote model, against local servers that record what they receive.

A "host" server plays the deployment's provider; a "capture" server plays a URL
a visitor typed. The tests drive ``make_model`` directly, sync and async, with
retries, and count what each server saw.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chains.errors import classify_error
from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.security.netguard import UnsafeURLError
from chains.security.policy import EgressPolicy, HostKeyRefusedError, bind_host_key
from chains.security.quota import HostKeyLimits, HostKeyMeter, InMemoryLedger
from devtools.openai_server import OpenAICompatibleServer, key_fingerprint

HOST_KEY = "host-secret-123-LEAKCANARY"
VISITOR_KEY = "sk-visitor-LEAKCANARY-5511"


@pytest.fixture
def capture() -> Iterator[OpenAICompatibleServer]:
    """A second local server: the URL a visitor typed."""
    with OpenAICompatibleServer(ttft_s=0.01, token_delay_s=0.001, retry_after_s=0.01) as server:
        yield server


def policy_for(host: OpenAICompatibleServer, *, limit: int = 100, public: bool = True, allowed: tuple[str, ...] = ()) -> EgressPolicy:
    """The deployment's rules, with a fresh ledger allowing ``limit`` requests per hour to this visitor."""
    bind_host_key(HOST_KEY, host.base_url)
    meter = HostKeyMeter(InMemoryLedger(), HostKeyLimits(visitor_requests_per_hour=limit, unknown_requests_per_hour=limit), "192.0.2.1")
    return EgressPolicy(
        host_key=HOST_KEY, host_base_url=host.base_url, host_models=frozenset({"test-model"}), public=public,
        allowed_base_urls=allowed, meter=meter,
    )


def host_settings(host: OpenAICompatibleServer, **overrides: object) -> ModelSettings:
    base = ModelSettings(provider="openai", model="test-model", api_key=HOST_KEY, base_url=host.base_url, timeout_s=5.0, max_retries=0)
    return ModelSettings(**{**base.__dict__, **overrides})


def call(chain: object, mode: str, topic: str = "cats") -> object:
    """One call of the chain in ``mode`` (sync or async, plain or streamed); exceptions are returned."""
    try:
        if mode == "invoke":
            return chain.invoke(topic)
        if mode == "stream":
            return "".join(chain.stream(topic))
        if mode == "ainvoke":
            return asyncio.run(chain.ainvoke(topic))

        async def collect() -> str:
            return "".join([piece async for piece in chain.astream(topic)])

        return asyncio.run(collect())
    except Exception as exc:  # noqa: BLE001 - the tests look at it
        return exc


MODES = ("invoke", "stream", "ainvoke", "astream")


# -------------------------------------------------------------- the host key stays home
@pytest.mark.parametrize("mode", MODES)
def test_the_host_key_never_reaches_another_origin_even_when_a_caller_forgets_the_policy(
    openai_server: OpenAICompatibleServer, capture: OpenAICompatibleServer, mode: str
) -> None:
    bind_host_key(HOST_KEY, openai_server.base_url)
    settings = ModelSettings(provider="compatible", model="test-model", api_key=HOST_KEY, base_url=capture.base_url, max_retries=3)
    result = call(build_joke_chain(make_model(settings)), mode)  # no policy at all: the transport still knows the key
    assert isinstance(result, Exception) and classify_error(result).kind == "host_key_refused"
    assert capture.requests_total == 0, "nothing was sent, and the refusal was not retried"


@pytest.mark.parametrize("mode", MODES)
def test_make_model_refuses_the_host_key_on_another_endpoint_or_model(
    openai_server: OpenAICompatibleServer, capture: OpenAICompatibleServer, mode: str
) -> None:
    policy = policy_for(openai_server, allowed=(capture.base_url,))
    with pytest.raises(HostKeyRefusedError):
        make_model(host_settings(openai_server, base_url=capture.base_url), policy)
    with pytest.raises(HostKeyRefusedError):
        make_model(host_settings(openai_server, model="o1-pro"), policy)
    assert openai_server.requests_total == capture.requests_total == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_visitor_url_without_a_key_gets_a_placeholder_never_the_host_key(
    openai_server: OpenAICompatibleServer, capture: OpenAICompatibleServer, mode: str
) -> None:
    policy = policy_for(openai_server, allowed=(capture.base_url,))
    settings = ModelSettings(provider="compatible", model="test-model", api_key=None, base_url=capture.base_url, max_retries=0)
    assert not isinstance(call(build_joke_chain(make_model(settings, policy)), mode), Exception)
    assert capture.requests_total == 1
    assert key_fingerprint(HOST_KEY) not in [request.key_fingerprint for request in capture.requests]


def test_on_a_public_deployment_a_private_visitor_url_is_refused_before_and_at_the_http_layer(
    openai_server: OpenAICompatibleServer, capture: OpenAICompatibleServer
) -> None:
    policy = policy_for(openai_server)  # capture (127.0.0.1) is not allow-listed
    settings = ModelSettings(provider="compatible", model="test-model", api_key=VISITOR_KEY, base_url=capture.base_url, max_retries=2)
    with pytest.raises(UnsafeURLError):
        make_model(settings, policy)
    laptop = make_model(settings, EgressPolicy(host_key=HOST_KEY, host_base_url=openai_server.base_url))
    laptop.http_client._transport._policy = policy  # a model built earlier, checked again per request
    laptop.http_async_client._transport._policy = policy
    for mode in MODES:
        result = call(build_joke_chain(laptop), mode)
        assert isinstance(result, Exception) and classify_error(result).kind == "url_refused"
    assert capture.requests_total == 0


# ------------------------------------------------------------ counting, retries included
@pytest.mark.parametrize("mode", MODES)
def test_every_retry_with_the_host_key_is_counted_and_the_limit_stops_sending(openai_server: OpenAICompatibleServer, mode: str) -> None:
    openai_server.fault = "500"
    openai_server.retry_after_ms_on_500 = 10  # count the retries without the SDK's backoff
    policy = policy_for(openai_server, limit=4)
    chain = build_joke_chain(make_model(host_settings(openai_server, max_retries=5), policy))
    result = call(chain, mode)
    assert isinstance(result, Exception)
    assert openai_server.requests_total == 4, "5 retries wanted, but the ledger allowed 4 requests in all"
    assert policy.meter.calls_left() == 0
    assert classify_error(result).kind == "budget"

    openai_server.fault = "none"
    assert isinstance(call(chain, mode), Exception)
    assert openai_server.requests_total == 4, "nothing more is sent once the budget is spent"


def test_tokens_of_each_answer_are_counted_after_the_fact(openai_server: OpenAICompatibleServer) -> None:
    policy = policy_for(openai_server)
    chain = build_joke_chain(make_model(host_settings(openai_server), policy))
    for mode in MODES:
        assert not isinstance(call(chain, mode), Exception)
    tokens = policy.meter.limits.token_limits()[0]
    assert policy.meter.ledger.used(tokens) > 4 * 10, "four answers, each with usage"


# --------------------------------------------------------------------- cookies and bodies
@pytest.mark.parametrize("mode", MODES)
def test_no_cookie_set_for_one_visitor_is_sent_for_another(openai_server: OpenAICompatibleServer, mode: str) -> None:
    openai_server.set_cookie = "session=visitor-a-secret; Path=/"
    settings = ModelSettings(provider="compatible", model="test-model", api_key=VISITOR_KEY, base_url=openai_server.base_url)
    alice = build_joke_chain(make_model(settings))
    bob = build_joke_chain(make_model(settings))
    for chain in (alice, alice, bob, bob):
        assert not isinstance(call(chain, mode), Exception)
    assert [request.cookie for request in openai_server.requests] == [""] * 4


@pytest.mark.parametrize("mode", MODES)
def test_a_public_deployment_never_passes_on_an_error_body(
    openai_server: OpenAICompatibleServer, capture: OpenAICompatibleServer, mode: str
) -> None:
    capture.error_body = (
        '{"error": {"message": "No route. db_password=hunter2-LEAK admin_token=tok-LEAK", "type": "invalid_request_error", "code": "not_found"}}'
    )
    policy = policy_for(openai_server, allowed=(capture.base_url,))
    settings = ModelSettings(provider="compatible", model="test-model", api_key=VISITOR_KEY, base_url=capture.base_url)
    result = call(build_joke_chain(make_model(settings, policy)), mode)
    info = classify_error(result)
    assert info.kind == "not_found" and "LEAK" not in info.detail and "LEAK" not in str(result)

    laptop = EgressPolicy()
    result = call(build_joke_chain(make_model(settings, laptop)), mode)
    assert "hunter2-LEAK" in str(result), "on a laptop the body still reaches the developer (the control case)"


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_tokens_of_a_host_key_stream_stopped_halfway_are_counted(openai_server: OpenAICompatibleServer, mode: str) -> None:
    openai_server.min_tokens = 200
    policy = policy_for(openai_server)
    model = make_model(host_settings(openai_server), policy)

    async def stop_async() -> int:
        stream = model.astream("Tell me a short joke about cats")
        pieces = [await anext(stream) for _ in range(40)]
        await stream.aclose()
        return len(pieces)

    if mode == "stream":
        stream = model.stream("Tell me a short joke about cats")
        received = len([next(stream) for _ in range(40)])
        stream.close()
    else:
        received = asyncio.run(stop_async())
    tokens = policy.meter.limits.token_limits()[0]
    assert policy.meter.ledger.used(tokens) >= received, "a stopped stream spends the host's token caps too"


@pytest.mark.parametrize("mode", MODES)
def test_a_visitors_key_on_the_hosts_own_endpoint_is_counted_and_capped(openai_server: OpenAICompatibleServer, mode: str) -> None:
    """The host's endpoint is not OpenAI's (a self-hosted server, a proxy with its own credentials): the host pays."""
    policy = policy_for(openai_server, limit=1)
    chain = build_joke_chain(make_model(host_settings(openai_server, api_key="x"), policy))
    assert not isinstance(call(chain, mode), Exception)
    result = call(chain, mode)
    assert isinstance(result, Exception) and classify_error(result).kind == "budget"
    assert openai_server.requests_total == 1
    assert policy.meter.ledger.used(policy.meter.limits.token_limits()[0]) > 0, "its tokens are counted too"


def test_a_visitors_key_on_an_endpoint_that_bills_it_is_not_counted(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    import chains.security.netguard

    monkeypatch.setattr(chains.security.netguard, "KEY_BILLED_BASE_URLS", (openai_server.base_url,))  # it plays OpenAI's API
    policy = policy_for(openai_server, limit=1)
    chain = build_joke_chain(make_model(host_settings(openai_server, api_key=VISITOR_KEY), policy))
    for _ in range(3):
        assert not isinstance(call(chain, "stream"), Exception)
    assert openai_server.requests_total == 3 and policy.meter.calls_left() == 1


# ------------------------------------------------------- an allow-listed internal server
class RecordingServer:
    """A local server on 127.0.0.1 that records every request and gives one fixed answer (404 JSON unless changed).

    Attributes:
        origin: ``http://127.0.0.1:PORT``.
        paths: The raw path of every request, in order.
        headers: The headers of every request, in order.
        status: The status of the answer.
        answer_headers: Extra headers of the answer.
        body: The body of the answer.
        bodies: The body of every request, in order.
        delay_s: How long each answer waits (so that concurrent requests are all in flight at once).
    """

    def __init__(self) -> None:
        """Start serving in a daemon thread."""
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self.delay_s = 0.0
        self.status = 404
        self.answer_headers: dict[str, str] = {}
        self.body = json.dumps({"error": {"message": "internal admin", "type": "invalid_request_error", "code": "not_found"}}).encode()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                owner.paths.append(self.path)
                owner.headers.append({name.lower(): value for name, value in self.headers.items()})
                owner.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                time.sleep(owner.delay_s)
                self.send_response(owner.status)
                for name, value in {"Content-Type": "application/json", **owner.answer_headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hangs up an idle connection is not a failure here

        self._server = Server(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def internal() -> Iterator[RecordingServer]:
    """An internal server on 127.0.0.1 that records every request."""
    server = RecordingServer()
    yield server
    server.close()


@pytest.mark.parametrize("mode", MODES)
def test_an_allow_listed_private_endpoint_is_reachable_only_under_its_path(
    openai_server: OpenAICompatibleServer, internal: RecordingServer, mode: str
) -> None:
    origin, paths = internal.origin, internal.paths
    policy = policy_for(openai_server, allowed=(f"{origin}/v1",))
    outside = (f"{origin}/admin/", f"{origin}/v10", f"{origin}/v1/../internal", f"{origin}/v1/%2e%2e/internal", f"{origin}/v1/%2E%2e%2fadmin")
    for url in outside:
        settings = ModelSettings(provider="compatible", model="test-model", api_key=VISITOR_KEY, base_url=url, max_retries=0)
        with pytest.raises(UnsafeURLError):
            make_model(settings, policy)
    for url in (f"{origin}/admin", f"{origin}/v1/%2e%2e/admin"):  # models built earlier: checked again per request
        settings = ModelSettings(provider="compatible", model="test-model", api_key=VISITOR_KEY, base_url=url, max_retries=2)
        laptop = make_model(settings, EgressPolicy(host_key=HOST_KEY, host_base_url=openai_server.base_url))
        laptop.http_client._transport._policy = policy
        laptop.http_async_client._transport._policy = policy
        result = call(build_joke_chain(laptop), mode)
        assert isinstance(result, Exception) and classify_error(result).kind == "url_refused"
    assert paths == [], "nothing reached the internal server outside the allow-listed path"

    settings = ModelSettings(provider="compatible", model="test-model", api_key=VISITOR_KEY, base_url=f"{origin}/v1", max_retries=0)
    result = call(build_joke_chain(make_model(settings, policy)), mode)
    assert classify_error(result).kind == "not_found" and paths == ["/v1/chat/completions"], "the allow-listed path still works"


# ---------------------------------------------------------------- redirects and org ids
LEAKY_REDIRECT_BODY = b'{"error": {"message": "moved to http://10.0.0.5/admin db_password=hunter2-LEAK", "type": "moved"}}'


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_never_shows_its_location_or_body_on_a_public_deployment(
    openai_server: OpenAICompatibleServer, internal: RecordingServer, mode: str, status: int
) -> None:
    internal.status = status
    internal.answer_headers = {"Location": "http://10.0.0.5:8080/admin?token=tok-LEAK", "X-Backend": "10.0.0.5 tok-LEAK"}
    internal.body = LEAKY_REDIRECT_BODY
    settings = ModelSettings(provider="compatible", model="test-model", api_key=VISITOR_KEY, base_url=f"{internal.origin}/v1", max_retries=0)
    policy = policy_for(openai_server, allowed=(f"{internal.origin}/v1",))
    result = call(build_joke_chain(make_model(settings, policy)), mode)
    assert isinstance(result, Exception) and internal.paths == ["/v1/chat/completions"], "not followed"
    info = classify_error(result)
    shown = " ".join([str(result), repr(result), info.detail, str(getattr(result, "body", "")), str(getattr(getattr(result, "response", None), "headers", ""))])
    for hidden in ("LEAK", "10.0.0.5", "admin"):
        assert hidden not in shown, hidden

    result = call(build_joke_chain(make_model(settings, EgressPolicy())), mode)
    assert "LEAK" in str(result) + str(getattr(result, "body", "")), "on a laptop the redirect reaches the developer (the control case)"


@pytest.mark.parametrize("mode", MODES)
def test_the_hosts_organization_and_project_ids_go_only_with_the_hosts_key(
    monkeypatch: pytest.MonkeyPatch, internal: RecordingServer, mode: str
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-HOSTLEAK")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_HOSTLEAK")
    host = RecordingServer()  # the deployment's own endpoint, recording headers too
    try:
        host.base_url = f"{host.origin}/v1"  # type: ignore[attr-defined]
        policy = policy_for(host, allowed=(f"{internal.origin}/v1",))  # type: ignore[arg-type]
        visitor = ModelSettings(provider="compatible", model="test-model", api_key=VISITOR_KEY, base_url=f"{internal.origin}/v1", max_retries=0)
        call(build_joke_chain(make_model(visitor, policy)), mode)
        call(build_joke_chain(make_model(host_settings(host), policy)), mode)  # type: ignore[arg-type]
    finally:
        host.close()
    (seen,) = internal.headers
    assert seen["authorization"] == f"Bearer {VISITOR_KEY}"
    assert "openai-organization" not in seen and "openai-project" not in seen, "the visitor's endpoint gets no host ids"
    assert not any("HOSTLEAK" in value for value in seen.values())
    (own,) = host.headers
    assert (own["openai-organization"], own["openai-project"]) == ("org-HOSTLEAK", "proj_HOSTLEAK"), "the host's own calls keep them"

    call(build_joke_chain(make_model(visitor, EgressPolicy())), mode)  # a laptop: the owner's settings for the owner's calls
    assert internal.headers[-1]["openai-organization"] == "org-HOSTLEAK", "the SDK does add them from the environment"
