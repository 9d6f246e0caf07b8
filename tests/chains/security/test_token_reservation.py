"""Reserve before sending: the token caps hold against concurrent calls (issue 25, item 4).

The attack: a Batch of 5 whose answers each reported 50,000 tokens passed the
pre-request check five times (tokens were counted only after each answer), so
250,036 tokens were counted against a cap of 150,000, and every request carried
``max_tokens=None``. Now every host-paid request carries ``max_tokens`` (the per-call
cap) and reserves it, plus its prompt, before it is sent; the answer's usage settles it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.security.policy import EgressPolicy, bind_host_key
from chains.security.quota import HostKeyLimits, HostKeyMeter, InMemoryLedger
from tests.chains.security.test_egress_http import HOST_KEY, RecordingServer

CAP, PER_CALL, REPORTED = 150_000, 50_000, 50_007


def chat_answer(total_tokens: int) -> bytes:
    return json.dumps({
        "id": "c1", "object": "chat.completion", "created": 0, "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "a joke"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": total_tokens - 7, "total_tokens": total_tokens},
    }).encode()


@pytest.fixture
def host() -> Iterator[RecordingServer]:
    server = RecordingServer()
    server.status, server.body, server.delay_s = 200, chat_answer(REPORTED), 0.5
    yield server
    server.close()


def policy_for(server: RecordingServer, ledger: InMemoryLedger) -> EgressPolicy:
    bind_host_key(HOST_KEY, server.origin + "/v1")
    limits = HostKeyLimits(tokens_per_hour=CAP, tokens_per_day=10 * CAP, max_tokens_per_call=PER_CALL, visitor_requests_per_hour=100)
    return EgressPolicy(
        host_key=HOST_KEY, host_base_url=server.origin + "/v1", host_models=frozenset({"test-model"}), public=True,
        meter=HostKeyMeter(ledger, limits, "192.0.2.1"),
    )


def test_a_concurrent_batch_cannot_pass_the_token_cap_and_every_request_carries_max_tokens(host: RecordingServer) -> None:
    ledger = InMemoryLedger()
    policy = policy_for(host, ledger)
    settings = ModelSettings(provider="openai", model="test-model", api_key=HOST_KEY, base_url=host.origin + "/v1", timeout_s=10.0, max_retries=0)
    chain = build_joke_chain(make_model(settings, policy))
    results = chain.batch(["a", "b", "c", "d", "e"], config={"max_concurrency": 5}, return_exceptions=True)
    sent = [json.loads(body) for body in host.bodies]
    assert all((body.get("max_tokens") or body.get("max_completion_tokens")) == PER_CALL for body in sent), sent
    assert len(sent) == 2 and sum(not isinstance(result, Exception) for result in results) == 2
    used = ledger.used(policy.meter.limits.token_limits()[0])
    assert used == 2 * REPORTED <= CAP  # settled to the real usage, within the cap
    assert policy.meter.calls_left() == 0  # the next call's reservation does not fit


def test_a_reservation_is_settled_to_the_real_usage() -> None:
    ledger = InMemoryLedger()
    meter = HostKeyMeter(ledger, HostKeyLimits(tokens_per_hour=10_000, max_tokens_per_call=1_000), "192.0.2.9")
    for _ in range(3):
        meter.before_request(prompt_tokens=20)
    hour = meter.limits.token_limits()[0]
    assert ledger.used(hour) == 3 * 1_020  # reserved while in flight
    for actual in (100, 200, 300):
        meter.add_tokens(actual)
    assert ledger.used(hour) == 600
    visitor = next(limit for limit in meter.limits.request_limits("192.0.2.9") if limit.window == "hour" and limit.bucket != "deployment")
    assert ledger.used(type(hour)(visitor.bucket, "hour", "tokens", 0)) == 600  # the visitor's bucket too
