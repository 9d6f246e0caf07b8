"""The simulator's local-server profiles: slots that queue, and compute that running requests share.

Asserted through the call intervals and the verdicts, never through wall-clock ratios
of the machine: a queue shows as calls that end one after another, shared compute as
calls that overlap the whole time.
"""

from __future__ import annotations

import asyncio

import pytest

from chains.experiments.verdicts import QUEUED, SHARED_COMPUTE, batch_verdict, peak_overlap
from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.modes import run_abatch, run_batch, run_loop
from chains.simulation.profiles import PROFILES
from chains.simulation.simulator import SimulatedChatModel

TOPICS = ["cats", "dogs", "owls"]
QUICK = {"ttft_s": 0.15, "tokens_per_s": 150.0, "jitter": 0.0}


def chain_of(**fields: object):
    return build_joke_chain(SimulatedChatModel(**{**QUICK, **fields}))


def test_one_slot_serves_one_request_at_a_time_sync() -> None:
    chain = chain_of(server_slots=1)
    loop, batch = run_loop(chain, TOPICS), run_batch(chain, TOPICS)
    assert batch.error_count == 0
    ends = sorted(call.end_s for call in batch.calls)
    assert all(later - earlier > 0.1 for earlier, later in zip(ends, ends[1:])), ends  # one after another
    verdict = batch_verdict(batch, loop)
    assert verdict.case == QUEUED and verdict.server_at_once == 1


def test_one_slot_serves_one_request_at_a_time_async() -> None:
    chain = chain_of(server_slots=1)
    loop, abatch = run_loop(chain, TOPICS), asyncio.run(run_abatch(chain, TOPICS))
    verdict = batch_verdict(abatch, loop)
    assert verdict.case == QUEUED and verdict.server_at_once == 1


@pytest.mark.parametrize("use_async", [False, True], ids=["batch", "abatch"])
def test_shared_compute_runs_together_but_each_call_slower(use_async: bool) -> None:
    chain = chain_of(server_slots=8, shared_compute=True)
    loop = run_loop(chain, TOPICS)
    batch = asyncio.run(run_abatch(chain, TOPICS)) if use_async else run_batch(chain, TOPICS)
    assert peak_overlap([(call.start_s, call.end_s) for call in batch.calls]) == 3
    verdict = batch_verdict(batch, loop)
    assert verdict.case == SHARED_COMPUTE, verdict
    assert verdict.server_at_once == 3


def test_the_profiles_carry_their_server_into_the_model() -> None:
    one_slot = make_model(ModelSettings.simulator("llama-cpp-cpu-1-slot"))
    shared = make_model(ModelSettings.simulator("llama-cpp-cpu-8-slots"))
    assert (one_slot.server_slots, one_slot.shared_compute) == (1, False)
    assert (shared.server_slots, shared.shared_compute) == (8, True)
    assert make_model(ModelSettings.simulator()).server_slots is None
    assert PROFILES["gpt-4o-mini-like"].slots is None


def test_a_hosted_profile_has_no_queue() -> None:
    chain = chain_of()
    batch = run_batch(chain, TOPICS)
    assert peak_overlap([(call.start_s, call.end_s) for call in batch.calls]) == 3


def test_the_test_servers_slots_queue_requests_beyond_them() -> None:
    """``OpenAICompatibleServer(slots=1)`` serves one reply at a time: three requests sent together end one after another."""
    import json
    import threading
    import time
    import urllib.request

    from devtools.openai_server import OpenAICompatibleServer

    with OpenAICompatibleServer(ttft_s=0.2, token_delay_s=0.0, slots=1) as server:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        ends: list[float] = []
        origin = time.monotonic()

        def ask(topic: str) -> None:
            body = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"Tell me a short joke about {topic}"}]}).encode()
            request = urllib.request.Request(f"{server.base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"})
            with opener.open(request, timeout=10) as response:
                json.load(response)
            ends.append(time.monotonic() - origin)

        threads = [threading.Thread(target=ask, args=(topic,)) for topic in TOPICS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert server.peak_in_flight == 3, "all three were received together"
        ends.sort()
        assert all(later - earlier >= 0.15 for earlier, later in zip(ends, ends[1:])), ends  # and answered one by one
