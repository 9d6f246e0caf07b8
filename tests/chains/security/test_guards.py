"""Plain-Python security pieces: the URL guard, the request ledger, inert text and CSV cells, error kinds."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from chains.errors import classify_error
from chains.security.netguard import (
    UnsafeURLError,
    check_base_url,
    checked_address,
    is_forbidden_address,
    origin_of,
    same_endpoint,
)
from chains.security.quota import (
    HostKeyLimits,
    HostKeyMeter,
    QuotaExceededError,
    limits_from_mapping,
)
from chains.security.safe_text import csv_cell, inert_markdown


def resolver_to(*addresses: str):
    """A fake ``getaddrinfo`` that resolves every host to ``addresses``."""

    def resolve(host: str, port: int, **_: object) -> list[tuple]:
        family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
        return [(family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


def no_dns(host: str, port: int, **_: object) -> list[tuple]:
    raise socket.gaierror("no DNS in tests")


# ------------------------------------------------------------------------------ URL guard
@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "fd00:ec2::254", "::1", "0.0.0.0",
     "100.64.0.1", "::ffff:127.0.0.1", "fe80::1", "224.0.0.1", "240.0.0.1",
     # issue 25: 6to4 (2002::/16) and Teredo (2001::/32) addresses that carry a private IPv4 address
     "2002:a00:5::", "2002:7f00:1::1", "2002:a9fe:a9fe::", "2001:0:4136:e378::f5ff:fffa", "2001:0:a00:1::a247:27dd"],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused_on_a_public_deployment(address: str) -> None:
    assert is_forbidden_address(address)
    with pytest.raises(UnsafeURLError) as refused:
        check_base_url("http://attacker.example/v1", public=True, resolver=resolver_to("93.184.216.34", address))
    assert refused.value.reason == "private", "one bad address among several is enough to refuse"


def test_a_public_address_is_accepted_and_localhost_works_on_a_laptop() -> None:
    check_base_url("https://api.example.com/v1", public=True, resolver=resolver_to("93.184.216.34"))
    assert not is_forbidden_address("2002:5db8:d822::1")  # 6to4 of a public IPv4 address is a public address
    check_base_url("http://localhost:11434/v1", public=False, resolver=no_dns)  # Ollama on a laptop: no lookup at all


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme"),
        ("http://user:pass@api.example.com/v1", "credentials"),
        ("http://token@api.example.com/v1", "credentials"),
        ("http://:99999999/v1", "malformed"),
    ],
)
def test_bad_schemes_credentials_and_malformed_urls_are_refused_everywhere(url: str, reason: str) -> None:
    for public in (True, False):
        with pytest.raises(UnsafeURLError) as refused:
            check_base_url(url, public=public, resolver=resolver_to("93.184.216.34"))
        assert refused.value.reason == reason


def test_an_unresolvable_host_is_refused_on_a_public_deployment() -> None:
    with pytest.raises(UnsafeURLError) as refused:
        check_base_url("http://nowhere.invalid/v1", public=True, resolver=no_dns)
    assert refused.value.reason == "unresolvable"


def test_allowed_base_urls_pass_even_when_private() -> None:
    check_base_url("http://10.0.0.5:8000/v1", public=True, allowed=["http://10.0.0.5:8000/v1"], resolver=resolver_to("10.0.0.5"))
    with pytest.raises(UnsafeURLError):
        check_base_url("http://10.0.0.5:8001/v1", public=True, allowed=["http://10.0.0.5:8000/v1"], resolver=resolver_to("10.0.0.5"))


ALLOWED_PRIVATE = "http://10.0.0.5:8000/v1"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:8000/v1",
        "http://10.0.0.5:8000/v1/",
        "http://10.0.0.5:8000/v1/chat/completions",
        "http://10.0.0.5:8000/v1//chat/completions?api-version=1",
    ],
)
def test_an_allow_listed_private_endpoint_is_trusted_under_its_path(url: str) -> None:
    assert checked_address(url, public=True, allowed=[ALLOWED_PRIVATE], resolver=no_dns) is None, "trusted: no lookup"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:8000/admin/",
        "http://10.0.0.5:8000",
        "http://10.0.0.5:8000/",
        "http://10.0.0.5:8000/v10",  # a string prefix, not a segment prefix
        "http://10.0.0.5:8000/v1-internal/x",
        "http://10.0.0.5:8000/V1/chat/completions",
        "http://10.0.0.5:8000/v1/../internal",
        "http://10.0.0.5:8000/v1/./chat/completions",
        "http://10.0.0.5:8000/v1/..",
        "http://10.0.0.5:8000/v1/%2e%2e/internal",
        "http://10.0.0.5:8000/v1/%2E%2e/internal",
        "http://10.0.0.5:8000/v1/.%2E/internal",
        "http://10.0.0.5:8000/v1/%2e/chat",
        "http://10.0.0.5:8000/v1/..%2fadmin",
        "http://10.0.0.5:8000/v1/x%2F..%2F..%2Fadmin",
        "http://10.0.0.5:8000/v1/%252e%252e/admin",  # decoded twice by some proxies
        "http://10.0.0.5:8000/v1/..;/admin",  # a path parameter that Tomcat-like servers drop
        "http://10.0.0.5:8000/v1\\..\\admin",
        "http://10.0.0.5:8000/v1/..%5cadmin",
    ],
)
def test_an_allow_listed_private_endpoint_is_not_trusted_outside_its_path(url: str) -> None:
    with pytest.raises(UnsafeURLError) as refused:
        check_base_url(url, public=True, allowed=[ALLOWED_PRIVATE], resolver=resolver_to("10.0.0.5"))
    assert refused.value.reason == "private"


def test_the_hosts_own_private_endpoint_is_trusted_only_under_its_path_too() -> None:
    from chains.security.policy import EgressPolicy

    policy = EgressPolicy(host_base_url="http://10.0.0.7:9000/openai/v1", public=True)
    check_base_url("http://10.0.0.7:9000/openai/v1/chat/completions", public=True, allowed=policy.trusted_base_urls, resolver=no_dns)
    for url in ("http://10.0.0.7:9000/openai/admin", "http://10.0.0.7:9000/openai/v1/%2e%2e/%2e%2e/metrics"):
        with pytest.raises(UnsafeURLError):
            check_base_url(url, public=True, allowed=policy.trusted_base_urls, resolver=resolver_to("10.0.0.7"))


@pytest.mark.parametrize("url", ["https://llm.example.com/admin", "https://llm.example.com/v1/%2e%2e/x", "https://llm.example.com/v1/../x"])
def test_paths_on_public_addresses_are_unaffected(url: str) -> None:
    check_base_url(url, public=True, allowed=["https://llm.example.com/v1"], resolver=resolver_to("93.184.216.34"))
    check_base_url(url, public=True, resolver=resolver_to("93.184.216.34"))
    check_base_url("http://10.0.0.5:8000/admin/../x", public=False, resolver=no_dns)  # a laptop checks no path


def test_origins_and_endpoints_are_compared_normalised() -> None:
    assert origin_of(None) == origin_of("https://api.openai.com/v1") == "https://api.openai.com:443"
    assert origin_of("HTTP://LocalHost:8000/v1") == "http://localhost:8000"
    assert same_endpoint("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1")
    assert not same_endpoint("http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1")
    assert not same_endpoint("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/other")


# -------------------------------------------------------------------------------- ledger
class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def make_ledger(request: pytest.FixtureRequest, tmp_path) -> object:
    """A factory of empty ledgers on a clock, for each implementation (PostgreSQL when ``RUNS_DB_TEST_URL`` is set)."""
    from tests.ledger_backends import ledger_factory

    with ledger_factory(request.param, tmp_path) as factory:
        yield factory


def test_the_ledger_refuses_past_a_visitors_limit_and_frees_it_in_the_next_hour(make_ledger) -> None:
    clock = FakeClock(7200.0)
    meter = HostKeyMeter(make_ledger(clock), HostKeyLimits(visitor_requests_per_hour=3), "203.0.113.7")
    for _ in range(3):
        meter.before_request()
    assert meter.calls_left() == 0
    with pytest.raises(QuotaExceededError) as refused:
        meter.before_request()
    assert (refused.value.bucket, refused.value.window) == ("visitor", "hour")
    clock.now += 3600
    meter.before_request()
    assert meter.calls_left() == 2


def test_visitors_have_separate_budgets_and_the_deployment_one_caps_them_all(make_ledger) -> None:
    ledger = make_ledger(FakeClock())
    limits = HostKeyLimits(requests_per_hour=5, visitor_requests_per_hour=3)
    alice, bob = HostKeyMeter(ledger, limits, "198.51.100.1"), HostKeyMeter(ledger, limits, "198.51.100.2")
    for _ in range(3):
        alice.before_request()
    bob.before_request()
    bob.before_request()
    with pytest.raises(QuotaExceededError) as refused:
        bob.before_request()
    assert refused.value.bucket == "deployment"
    assert alice.calls_left() == bob.calls_left() == 0


def test_visitors_without_an_address_share_a_stricter_bucket(make_ledger) -> None:
    ledger = make_ledger(FakeClock())
    limits = HostKeyLimits(visitor_requests_per_hour=10, unknown_requests_per_hour=2)
    first, second = HostKeyMeter(ledger, limits, None), HostKeyMeter(ledger, limits, "")
    first.before_request()
    second.before_request()
    with pytest.raises(QuotaExceededError):
        first.before_request()
    assert HostKeyMeter(ledger, limits, "192.0.2.1").calls_left() == 10


def test_a_refused_reservation_counts_nothing_and_tokens_cap_requests(make_ledger) -> None:
    ledger = make_ledger(FakeClock())
    meter = HostKeyMeter(ledger, HostKeyLimits(visitor_requests_per_hour=1, tokens_per_hour=100, max_tokens_per_call=10), "192.0.2.9")
    meter.before_request()
    with pytest.raises(QuotaExceededError):
        meter.before_request()
    assert meter.ledger.used(meter.limits.request_limits("192.0.2.9")[0]) == 1, "the refused request was not counted"
    other = HostKeyMeter(ledger, meter.limits, "192.0.2.10")
    other.add_tokens(100)
    with pytest.raises(QuotaExceededError) as refused:
        other.before_request()
    assert refused.value.unit == "tokens"


def test_limits_are_read_from_strings_and_ints_with_defaults_for_bad_values() -> None:
    limits = limits_from_mapping({"HOST_KEY_REQUESTS_PER_HOUR": " 40 ", "HOST_KEY_TOKENS_PER_DAY": 9, "HOST_KEY_MAX_TOPICS": "x"})
    assert (limits.requests_per_hour, limits.tokens_per_day, limits.max_topics) == (40, 9, HostKeyLimits().max_topics)
    legacy = limits_from_mapping({"HOST_KEY_MAX_CALLS": "4"})
    assert legacy.visitor_requests_per_hour == 4 and legacy.unknown_requests_per_hour == 4


# ----------------------------------------------------------------------------- inert text
@pytest.mark.parametrize(
    "hostile",
    [
        "![x](http://127.0.0.1:9/leak?k=1)",
        "a joke ![x](<http://127.0.0.1:9/leak> \"t\") end",
        "![x][r]\n\n[r]: http://127.0.0.1:9/leak",
        "![r]\n\n[r]: http://127.0.0.1:9/leak",
        "![a ![b](http://127.0.0.1:9/in)](http://127.0.0.1:9/out)",
        "<img src=http://127.0.0.1:9/leak>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "<javascript:alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_inert_markdown_leaves_no_image_no_tag_and_no_dangerous_link(hostile: str) -> None:
    safe = inert_markdown(hostile)
    assert "![" not in safe, safe
    assert "<" not in safe, safe
    assert "javascript:" not in safe.lower() and "](data:" not in safe, safe
    assert "\n[r]: http" not in safe, "a reference definition cannot be used by an image"


def test_inert_markdown_keeps_ordinary_text_and_shows_link_addresses_as_code() -> None:
    text = "Why did the **cat** sit on the [keyboard](#top)?\n\n- one\n- two\n\n> a quote -> kept"
    assert inert_markdown(text) == text
    # A link to anywhere but the page itself keeps its words; its address is shown, not followed (issue 25).
    assert inert_markdown("the [keyboard](https://example.com)?") == "the keyboard (`https://example.com`)?"
    assert inert_markdown(None) == "" and inert_markdown("a\x00b") == "ab"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        (" =1+1", "' =1+1"),  # issue 25: a leading space, a line break or a full-width sign was not escaped
        ("\n=1+1", "'\n=1+1"),
        ("\uff1dSUM(1)", "'\uff1dSUM(1)"),
        ("\uff0b1", "'\uff0b1"),
        ("\u3000=1", "'\u3000=1"),
        ("a\x00b", "ab"),
        ("cats", "cats"),
        (3, 3),
        (-1.5, -1.5),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(cell: object, expected: object) -> None:
    assert csv_cell(cell) == expected


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (QuotaExceededError("visitor", "hour", "requests"), "budget"),
        (UnsafeURLError("private"), "url_refused"),
    ],
)
def test_guard_errors_have_their_own_kinds(exc: Exception, kind: str) -> None:
    assert classify_error(exc).kind == kind
    wrapped = RuntimeError("Connection error.")
    wrapped.__cause__ = exc
    assert classify_error(wrapped).kind == kind, "found through the cause chain too"


# ---------------------------------------------------------------------------- CSV export
def test_exported_csv_escapes_formula_topics_and_answers_and_drops_nul_bytes() -> None:
    import csv
    import io

    from chains.joke import build_joke_chain
    from chains.models import ModelSettings, make_model
    from chains.modes import run_batch
    from chains.timing import records_to_csv

    hostile = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "@SUM(1+1)", "+1", "-2", "nul\x00byte"]
    chain = build_joke_chain(make_model(ModelSettings.simulator("fast", sim_ttft_s=0.0, sim_tokens_per_s=1000.0, sim_jitter=0.0)))
    exported = records_to_csv([run_batch(chain, hostile)])
    assert "\x00" not in exported
    rows = list(csv.reader(io.StringIO(exported)))
    cells = [cell for row in rows[1:] for cell in row]
    assert {"'" + topic for topic in hostile[:5]} <= set(cells), "every formula-like topic is exported as text"
    risky = [cell for cell in cells if cell and (cell[0] in "=@\t\r" or (cell[0] in "+-" and not _is_number(cell)))]
    assert not risky


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_a_sanitised_error_keeps_the_headers_that_pace_the_sdks_retries() -> None:
    """The body is cut to its type and code, but the retry hints stay: without them the SDK falls back to its backoff."""
    import httpx2

    from chains.security.egress import _sanitised_error

    request = httpx2.Request("POST", "https://api.example.com/v1/chat/completions")
    headers = {"retry-after": "2", "retry-after-ms": "1500", "x-should-retry": "true", "x-internal-secret": "s3cret"}
    response = httpx2.Response(500, headers=headers, request=request)
    cleaned = _sanitised_error(request, response, b'{"error": {"message": "db at 10.0.0.5 down", "type": "server_error"}}')
    assert cleaned.headers["retry-after"] == "2" and cleaned.headers["retry-after-ms"] == "1500"
    assert cleaned.headers["x-should-retry"] == "true"
    assert "x-internal-secret" not in cleaned.headers and b"10.0.0.5" not in cleaned.content


# ------------------------------------------------------ tokens of stopped and failed streams
def _metered_simulator(**overrides: object) -> tuple[object, HostKeyMeter]:
    """A fast simulator with ``usage_recorder`` attached, and the meter it counts into."""
    from chains.security.quota import InMemoryLedger
    from chains.security.usage import usage_recorder
    from chains.simulation.simulator import SimulatedChatModel

    meter = HostKeyMeter(InMemoryLedger(), HostKeyLimits(), "192.0.2.44")
    fields = {"ttft_s": 0.0, "tokens_per_s": 0.0, "jitter": 0.0, "min_output_tokens": 200, **overrides}
    return SimulatedChatModel(callbacks=[usage_recorder(meter)], **fields), meter


def _tokens_counted(meter: HostKeyMeter) -> int:
    return meter.ledger.used(meter.limits.token_limits()[0])


def _full_usage(model: object) -> int:
    """The usage of a complete answer (counted with a meter of its own)."""
    from langchain_core.messages import AIMessageChunk

    whole: AIMessageChunk | None = None
    for chunk in model.stream("Tell me a short joke about cats"):
        whole = chunk if whole is None else whole + chunk
    return whole.usage_metadata["total_tokens"]


def test_a_stream_stopped_halfway_still_counts_its_tokens() -> None:
    model, meter = _metered_simulator()
    stream = model.stream("Tell me a short joke about cats")
    seen = [next(stream).content for _ in range(60)]
    stream.close()  # the visitor pressed Stop: GeneratorExit inside the model's stream
    assert all(seen)
    assert _tokens_counted(meter) >= 60, "the 60 tokens received (and the prompt) are counted"
    assert _tokens_counted(meter) < _full_usage(_metered_simulator()[0])


def test_an_async_stream_stopped_halfway_still_counts_its_tokens() -> None:
    import asyncio

    model, meter = _metered_simulator()

    async def stop_halfway() -> None:
        stream = model.astream("Tell me a short joke about cats")
        for _ in range(60):
            await anext(stream)
        await stream.aclose()

    asyncio.run(stop_halfway())
    assert _tokens_counted(meter) >= 60


def test_a_stream_cut_by_an_error_counts_what_came_and_a_whole_answer_is_counted_once() -> None:
    from chains.simulation.simulator import SimulatedChatModel

    class Dropping(SimulatedChatModel):
        def _stream(self, messages: list, stop: list[str] | None = None, **kwargs: object) -> Iterator:
            for position, chunk in enumerate(super()._stream(messages, stop, **kwargs)):
                if position == 50:
                    raise ConnectionError("the connection dropped")
                yield chunk

    from chains.security.quota import InMemoryLedger
    from chains.security.usage import usage_recorder

    meter = HostKeyMeter(InMemoryLedger(), HostKeyLimits(), "192.0.2.45")
    dropping = Dropping(ttft_s=0.0, tokens_per_s=0.0, jitter=0.0, min_output_tokens=200, callbacks=[usage_recorder(meter)])
    with pytest.raises(ConnectionError):
        for _ in dropping.stream("Tell me a short joke about cats"):
            pass
    assert _tokens_counted(meter) >= 50

    whole, whole_meter = _metered_simulator()
    expected = _full_usage(whole)
    assert _tokens_counted(whole_meter) == expected, "on_llm_end alone, not again as an error"


def test_a_run_stopped_from_the_page_counts_its_tokens() -> None:
    from chains.joke import build_joke_chain
    from chains.modes import run_stream

    class Stop(BaseException):
        pass

    model, meter = _metered_simulator()

    def stop_after_forty(index: int, text: str, t_s: float) -> None:
        if stop_after_forty.seen == 40:
            raise Stop
        stop_after_forty.seen += 1

    stop_after_forty.seen = 0
    with pytest.raises(Stop):
        run_stream(build_joke_chain(model), "cats", on_chunk=stop_after_forty)
    assert _tokens_counted(meter) >= 40
