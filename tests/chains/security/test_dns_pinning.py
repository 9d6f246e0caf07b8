"""DNS rebinding: on a public deployment a visitor's endpoint is looked up once, and the request goes to that address.

The guard checks every address a host name resolves to. Without pinning, the
HTTP library would look the name up again to connect, and a hostile DNS server
could answer a public address to the check and ``127.0.0.1`` to the connection.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpx2
import pytest

from chains.security.egress import AsyncGuardedTransport, GuardedTransport, _pin
from chains.security.policy import EgressPolicy
from tests.chains.security.test_egress_http import RecordingServer

PUBLIC_ADDRESS = "93.184.216.34"


class RebindingResolver:
    """A DNS double that answers a public address first and loopback afterwards, and counts lookups."""

    def __init__(self) -> None:
        self.lookups = 0

    def __call__(self, host: str, port: int, **_: object) -> list[tuple]:
        self.lookups += 1
        address = PUBLIC_ADDRESS if self.lookups == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def recording_transport(seen: list[httpx2.Request]) -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"ok": True})

    return httpx2.MockTransport(handler)


def test_a_public_deployment_sends_to_the_address_it_checked_with_the_hosts_name() -> None:
    seen: list[httpx2.Request] = []
    resolver = RebindingResolver()
    policy = EgressPolicy(public=True, resolver=resolver)
    with httpx2.Client(transport=GuardedTransport(recording_transport(seen), policy, dict)) as client:
        assert client.post("https://llm.visitor.example/v1/chat/completions", json={}).status_code == 200
    (request,) = seen
    assert resolver.lookups == 1, "one lookup: the one that was checked"
    assert request.url.host == PUBLIC_ADDRESS, "the connection goes to the checked address, not to a second lookup"
    assert request.headers["host"] == "llm.visitor.example"
    assert request.extensions["sni_hostname"] == "llm.visitor.example", "TLS still checks the host's certificate"
    assert request.url.path == "/v1/chat/completions"


def test_each_request_is_checked_and_pinned_again_so_a_rebound_name_is_refused() -> None:
    seen: list[httpx2.Request] = []
    policy = EgressPolicy(public=True, resolver=RebindingResolver())
    with httpx2.Client(transport=GuardedTransport(recording_transport(seen), policy, dict)) as client:
        first = client.post("http://llm.visitor.example:8000/v1/chat/completions", json={})
        second = client.post("http://llm.visitor.example:8000/v1/chat/completions", json={})
    assert first.status_code == 200 and second.status_code == 403, "the second answer (127.0.0.1) is refused"
    assert [request.url.host for request in seen] == [PUBLIC_ADDRESS]
    assert "sni_hostname" not in seen[0].extensions, "plain HTTP has no TLS name"
    assert seen[0].headers["host"] == "llm.visitor.example:8000"


def test_the_async_transport_pins_too() -> None:
    seen: list[httpx2.Request] = []
    policy = EgressPolicy(public=True, resolver=RebindingResolver())

    async def send() -> int:
        async with httpx2.AsyncClient(transport=AsyncGuardedTransport(recording_transport(seen), policy, dict)) as client:
            return (await client.post("https://llm.visitor.example/v1/chat/completions", json={})).status_code

    assert asyncio.run(send()) == 200
    assert seen[0].url.host == PUBLIC_ADDRESS and seen[0].extensions["sni_hostname"] == "llm.visitor.example"


@pytest.mark.parametrize(
    "policy",
    [EgressPolicy(public=False), EgressPolicy(public=True, allowed_base_urls=("https://llm.visitor.example/v1",))],
    ids=["laptop", "allow-listed"],
)
def test_no_lookup_and_no_pin_where_nothing_is_checked(policy: EgressPolicy) -> None:
    def no_dns(host: str, port: int, **_: object) -> list[tuple]:
        raise AssertionError("no lookup expected")

    seen: list[httpx2.Request] = []
    policy = EgressPolicy(public=policy.public, allowed_base_urls=policy.allowed_base_urls, resolver=no_dns)
    with httpx2.Client(transport=GuardedTransport(recording_transport(seen), policy, dict)) as client:
        assert client.post("https://llm.visitor.example/v1/chat/completions", json={}).status_code == 200
    assert seen[0].url.host == "llm.visitor.example" and "sni_hostname" not in seen[0].extensions


@pytest.fixture
def host_header_server() -> Iterator[RecordingServer]:
    """A local HTTP server that records each request (its Host header among them) and answers 204."""
    server = RecordingServer()
    server.status, server.body = 204, b""
    yield server
    server.close()


def test_a_pinned_request_really_connects_to_the_address_and_names_the_host(host_header_server: RecordingServer) -> None:
    """Through the real HTTP transport: the name does not resolve at all, so only the pinned address can answer."""
    port = int(host_header_server.origin.rsplit(":", 1)[1])
    request = httpx2.Request("GET", f"http://never-resolves.invalid:{port}/v1/models")
    _pin(request, "127.0.0.1")
    with httpx2.HTTPTransport() as transport:
        response = transport.handle_request(request)
        response.read()
    assert response.status_code == 204
    assert [headers["host"] for headers in host_header_server.headers] == [f"never-resolves.invalid:{port}"]
