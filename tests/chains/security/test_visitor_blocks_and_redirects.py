"""A visitor cannot get a fresh budget from their IPv6 block, and a redirect's target never reaches the page."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest

from chains.security.egress import GuardedTransport
from chains.security.policy import EgressPolicy
from chains.security.quota import HostKeyLimits, InMemoryLedger, QuotaExceededError, visitor_bucket
from tests.chains.security.test_guards import resolver_to

#: Every host name resolves to this public address (no DNS, no network: the transport is a mock).
PUBLIC_DNS = resolver_to("93.184.216.34")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe"),  # one client's /64
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4-mapped IPv6 is its IPv4 address
        ("2001:DB8:1:2::1", "2001:db8:1:2:0:0:0:9"),  # spellings of the same network
    ],
)
def test_addresses_of_one_client_share_one_budget(first: str, second: str) -> None:
    assert visitor_bucket(first) == visitor_bucket(second)


def test_other_networks_and_plain_ipv4_addresses_stay_apart() -> None:
    assert visitor_bucket("2001:db8:1:2::1") != visitor_bucket("2001:db8:1:3::1")
    assert visitor_bucket("203.0.113.7") != visitor_bucket("203.0.113.8")
    assert visitor_bucket(None) == visitor_bucket("  ") == "visitor:unknown"


@pytest.mark.parametrize("text", ["not an address", "2001:db8::1::2", "203.0.113.7:443", "[2001:db8::1]", "unknown"])
def test_a_string_that_is_no_address_counts_in_the_stricter_shared_bucket(text: str) -> None:
    assert visitor_bucket(text) == visitor_bucket(None) == "visitor:unknown"


def test_made_up_visitor_strings_do_not_each_get_a_fresh_budget() -> None:
    limits = HostKeyLimits(visitor_requests_per_hour=30, unknown_requests_per_hour=2)
    ledger = InMemoryLedger()
    ledger.reserve(limits.request_limits("client-1"))
    ledger.reserve(limits.request_limits("client-2"))
    with pytest.raises(QuotaExceededError):
        ledger.reserve(limits.request_limits("client-3"))


def test_rotating_through_a_64_does_not_reset_the_per_visitor_limit() -> None:
    limits = HostKeyLimits(visitor_requests_per_hour=3)
    ledger = InMemoryLedger()
    for suffix in range(3):
        ledger.reserve(limits.request_limits(f"2001:db8:5:6::{suffix + 1:x}"))
    with pytest.raises(QuotaExceededError):
        ledger.reserve(limits.request_limits("2001:db8:5:6::abcd"))


def _send_through_guard(answer: Callable[[httpx2.Request], httpx2.Response], policy: EgressPolicy, url: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    """POST ``url`` through the guarding transport, with ``answer`` standing in for the server."""
    transport = GuardedTransport(httpx2.MockTransport(answer), policy, dict)
    with httpx2.Client(transport=transport, follow_redirects=False) as client:
        return client.post(url, json={}, headers=headers)


def _recording(seen: list[httpx2.Headers]) -> Callable[[httpx2.Request], httpx2.Response]:
    """A server that keeps the headers of each request it gets and answers ``{}``."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers)
        return httpx2.Response(200, content=b"{}")

    return answer


@pytest.mark.parametrize("status", [301, 302, 307, 308, 304, 101])
def test_a_redirect_on_a_public_deployment_keeps_no_location_and_no_body(status: int) -> None:
    def internal_redirect(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            status,
            headers={"location": "http://10.0.0.5/admin?token=s3cret", "x-internal": "s3cret"},
            content=b'{"error": {"message": "moved to 10.0.0.5 s3cret", "type": "moved"}}',
        )

    policy = EgressPolicy(public=True, resolver=PUBLIC_DNS)
    response = _send_through_guard(internal_redirect, policy, "https://models.example.com/v1/chat/completions")
    assert response.status_code == status
    assert "location" not in response.headers and "x-internal" not in response.headers
    assert b"s3cret" not in response.content and b"10.0.0.5" not in response.content
    assert response.json()["error"]["type"] == "moved"


def test_a_success_on_a_public_deployment_is_passed_through_untouched() -> None:
    def ok(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"x-request-id": "abc"}, content=b'{"ok": true}')

    response = _send_through_guard(ok, EgressPolicy(public=True, resolver=PUBLIC_DNS), "https://models.example.com/v1/chat/completions")
    assert response.json() == {"ok": True} and response.headers["x-request-id"] == "abc"


@pytest.mark.parametrize("public", [True, False])
def test_the_hosts_organization_and_project_ids_never_reach_a_visitors_endpoint(public: bool) -> None:
    seen: list[httpx2.Headers] = []
    headers = {"OpenAI-Organization": "org-host", "OpenAI-Project": "proj_host", "Authorization": "Bearer visitor-key"}
    policy = EgressPolicy(public=public, resolver=PUBLIC_DNS)
    _send_through_guard(_recording(seen), policy, "https://visitor.example.com/v1/chat/completions", headers)
    sent = seen[0]
    assert sent["authorization"] == "Bearer visitor-key"
    if public:
        assert "openai-organization" not in sent and "openai-project" not in sent
    else:  # a laptop: the owner's own settings, for the owner's own calls
        assert sent["openai-organization"] == "org-host" and sent["openai-project"] == "proj_host"


def test_the_host_key_keeps_the_hosts_organization_header() -> None:
    seen: list[httpx2.Headers] = []

    class Meter:
        def before_request(self, prompt_tokens: int = 0) -> None:
            return None

    policy = EgressPolicy(
        host_key="sk-host-test",
        host_base_url="https://models.example.com/v1",
        public=True,
        meter=Meter(),  # type: ignore[arg-type]
        resolver=PUBLIC_DNS,
    )
    headers = {"Authorization": "Bearer sk-host-test", "OpenAI-Organization": "org-host"}
    _send_through_guard(_recording(seen), policy, "https://models.example.com/v1/chat/completions", headers)
    assert seen[0]["openai-organization"] == "org-host"
