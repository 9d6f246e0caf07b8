"""A visitor id that a header cannot forge (issue 25, item 3).

Streamlit 1.67 serves through uvicorn, whose ProxyHeadersMiddleware replaces the
connection's peer by an ``X-Forwarded-For`` entry whenever the peer is loopback
(``FORWARDED_ALLOW_IPS``' default), and ``st.context.ip_address`` reports that
entry. So a client on 127.0.0.1 (or behind any local proxy that passes the header
on) chose its own visitor id, and three spoofed "visitors" got a fresh budget each.
``chains.security.quota.client_address`` believes the header only as far as
``TRUSTED_PROXY_HOPS`` / ``TRUSTED_PROXIES`` say.
"""

from __future__ import annotations

import pytest

from chains.security.quota import HostKeyLimits, HostKeyMeter, InMemoryLedger, QuotaExceededError, client_address


def st_context_ip(peer: str, forwarded: str | None) -> str | None:
    """What Streamlit reports as ``st.context.ip_address``: uvicorn's rewrite for a loopback peer, then loopback as None."""
    if forwarded and peer in {"127.0.0.1", "::1"}:
        peer = [entry.strip() for entry in forwarded.split(",")][-1]
    return None if peer in {"127.0.0.1", "::1"} else peer


@pytest.mark.parametrize("spoofed", ["9.9.9.1", "9.9.9.2", "9.9.9.3, 9.9.9.4"])
def test_without_trusted_proxies_a_forwarded_header_from_loopback_buys_no_id(spoofed: str) -> None:
    assert client_address(st_context_ip("127.0.0.1", spoofed), [spoofed]) is None  # the real peer: loopback
    assert client_address(st_context_ip("127.0.0.1", None), []) is None


def test_a_direct_peer_is_itself_whatever_header_it_sends() -> None:
    assert client_address(st_context_ip("203.0.113.7", "9.9.9.1"), ["9.9.9.1"]) == "203.0.113.7"
    assert client_address(st_context_ip("203.0.113.7", "9.9.9.1"), ["9.9.9.1"], trusted_proxies=["10.0.0.0/8"]) == "203.0.113.7"


def test_one_trusted_hop_takes_what_that_proxy_appended() -> None:
    # nginx on the same machine appends the address it saw; the visitor's own header comes first.
    header = "9.9.9.9, 198.51.100.20"
    assert client_address(st_context_ip("127.0.0.1", header), [header], trusted_hops=1) == "198.51.100.20"
    assert client_address(st_context_ip("127.0.0.1", "198.51.100.20"), ["198.51.100.20"], trusted_hops=1) == "198.51.100.20"
    two = "9.9.9.9, 198.51.100.20, 10.0.0.7"  # a load balancer, then nginx
    assert client_address(st_context_ip("127.0.0.1", two), [two], trusted_hops=2) == "198.51.100.20"


def test_named_proxies_are_skipped_from_the_right_and_nothing_else() -> None:
    header = "9.9.9.9, 198.51.100.20, 10.0.0.7"
    ip = st_context_ip("127.0.0.1", header)
    assert client_address(ip, [header], trusted_proxies=["10.0.0.0/8"]) == "198.51.100.20"
    assert client_address(ip, [header], trusted_proxies=["10.0.0.7", "198.51.100.20"]) == "9.9.9.9"
    assert client_address(ip, ["[2001:db8::5]:443, 10.0.0.7:80"], trusted_proxies=["10.0.0.7"]) == "2001:db8::5"


def test_three_spoofed_visitors_share_the_real_visitors_bucket() -> None:
    """The attack: the real visitor had spent its calls; each spoofed header used to start from zero."""
    ledger = InMemoryLedger()
    limits = HostKeyLimits(visitor_requests_per_hour=6, unknown_requests_per_hour=6)
    real = HostKeyMeter(ledger, limits, client_address(st_context_ip("127.0.0.1", None), []))
    for _ in range(6):
        real.before_request()
    for spoofed in ("9.9.9.1", "9.9.9.2", "9.9.9.3"):
        forged = HostKeyMeter(ledger, limits, client_address(st_context_ip("127.0.0.1", spoofed), [spoofed]))
        assert forged.calls_left() == 0
        with pytest.raises(QuotaExceededError):
            forged.before_request()
