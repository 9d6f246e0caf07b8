"""The app's runners against a real ``ChatOpenAI`` talking to a local OpenAI-compatible server.

Everything goes through the app's own path: ``ModelSettings`` → ``make_model`` →
``build_joke_chain`` → a runner in ``chains.modes``. The server
(``devtools/openai_server.py``) listens on 127.0.0.1 only and marks every reply
with ``[test-server]``, so a passing test proves the text came over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence

import openai
import pytest
from langchain_core.runnables import Runnable

from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.modes import RunMeta, run_abatch, run_ainvoke, run_astream, run_batch, run_invoke, run_stream
from chains.timing import CallTiming, RunRecord, records_to_csv, records_to_json
from devtools.openai_server import REPLY_MARKER, OpenAICompatibleServer, ServerProcess, split_reply, write_joke

MODES = ("invoke", "batch", "stream")


def make_chain(
    base_url: str,
    api_key: str,
    *,
    provider: str = "compatible",
    timeout_s: float = 5.0,
    max_retries: int = 0,
) -> Runnable[str, str]:
    """Build the app's joke chain on ``ChatOpenAI`` pointed at ``base_url``."""
    settings = ModelSettings(
        provider=provider,  # type: ignore[arg-type]
        model="test-model",
        base_url=base_url,
        api_key=api_key,
        timeout_s=timeout_s,
        max_retries=max_retries,
    )
    return build_joke_chain(make_model(settings))


def run_mode(mode: str, chain: Runnable[str, str], topics: Sequence[str], meta: RunMeta | None = None) -> RunRecord:
    """Run ``mode`` with the app's runner: one topic for invoke/stream, all of them for batch."""
    meta = meta or RunMeta(provider="compatible", model="test-model")
    if mode == "invoke":
        return run_invoke(chain, topics[0], meta=meta)
    if mode == "stream":
        return run_stream(chain, topics[0], meta=meta)
    return run_batch(chain, topics, max_concurrency=len(topics), meta=meta)


def joke_tokens(topic: str) -> list[str]:
    """The tokens the server sends for ``topic``."""
    return split_reply(write_joke(topic))


# ----------------------------------------------------------------------------- happy path
@pytest.mark.parametrize("provider", ["compatible", "openai"])
def test_invoke_returns_the_servers_reply_with_usage(openai_server: OpenAICompatibleServer, fake_api_key: str, provider: str) -> None:
    chain = make_chain(openai_server.base_url, fake_api_key, provider=provider)

    record = run_invoke(chain, "penguins")

    call = record.calls[0]
    assert call.ok, call.error
    assert call.output == write_joke("penguins")
    assert REPLY_MARKER in call.output
    assert call.output_tokens == len(joke_tokens("penguins"))
    assert call.input_tokens and call.input_tokens > 0
    assert record.output_tokens == call.output_tokens
    assert call.chunks == [] and call.first_token_s is None  # invoke does not stream
    assert [(r.stream, r.topic) for r in openai_server.requests] == [(False, "penguins")]


def test_batch_returns_every_reply_in_input_order(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    topics = ["cats", "owls", "dogs", "bats"]
    seen: list[int] = []

    record = run_batch(make_chain(openai_server.base_url, fake_api_key), topics, max_concurrency=4, on_result=lambda t: seen.append(t.index))

    assert record.error_count == 0
    assert record.outputs == [write_joke(topic) for topic in topics]
    assert sorted(seen) == [0, 1, 2, 3]
    assert record.output_tokens == sum(len(joke_tokens(topic)) for topic in topics)
    assert openai_server.requests_total == 4


def test_stream_gives_many_timed_chunks_and_usage(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.ttft_s = 0.1
    received: list[str] = []

    record = run_stream(make_chain(openai_server.base_url, fake_api_key), "penguins", on_chunk=lambda _, text, __: received.append(text))

    call = record.calls[0]
    expected = joke_tokens("penguins")
    assert call.ok and not call.interrupted, call.error
    assert [text for _, text in call.chunks] == expected == received
    assert len(call.chunks) >= 15
    assert call.output == write_joke("penguins") and REPLY_MARKER in call.output
    # A lower bound set by the server's 0.1 s sleep: a busy machine can only make it longer.
    assert call.ttft_s is not None and 0.09 <= call.ttft_s < call.latency_s
    times = [t for t, _ in call.chunks]
    assert times == sorted(times)
    assert call.output_tokens == len(expected)  # from the usage chunk (stream_options.include_usage)
    request = openai_server.requests[0]
    assert request.stream and request.include_usage


# ------------------------------------------------------------------------------- faults
#: The error kind each fault must produce, per mode. A dropped or truncated plain reply is
#: a connection error (nothing usable arrived, and the SDK may retry it); a dropped or
#: truncated *stream* is "interrupted" and keeps the text that did arrive.
EXPECTED_KIND: dict[str, dict[str, str]] = {
    "401": dict.fromkeys(MODES, "auth"),
    "429": dict.fromkeys(MODES, "rate_limit"),
    "500": dict.fromkeys(MODES, "server"),
    "slow": dict.fromkeys(MODES, "timeout"),
    "down": dict.fromkeys(MODES, "connection"),
    "drop": {"invoke": "connection", "batch": "connection", "stream": "interrupted"},
    "truncate": {"invoke": "connection", "batch": "connection", "stream": "interrupted"},
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", list(EXPECTED_KIND))
def test_each_fault_gives_its_error_kind_without_raising(
    openai_server: OpenAICompatibleServer, down_base_url: str, fake_api_key: str, fault: str, mode: str
) -> None:
    base_url = down_base_url if fault == "down" else openai_server.base_url
    if fault != "down":
        openai_server.fault = fault
    # Only the "slow" case needs a short client timeout; the others get a generous one,
    # so that a busy machine cannot turn them into timeouts.
    chain = make_chain(base_url, fake_api_key, timeout_s=0.3 if fault == "slow" else 5.0, max_retries=0)
    topics = ["cats", "owls"]

    record = run_mode(mode, chain, topics)  # must not raise

    expected = EXPECTED_KIND[fault][mode]
    assert record.error_count == len(record.calls) == (2 if mode == "batch" else 1)
    for call in record.calls:
        assert not call.ok
        assert call.error_kind == expected, call.error
        assert call.error is not None and call.error.startswith(f"{expected}:")
        assert call.end_s >= call.start_s
        if expected == "interrupted":
            cut = joke_tokens(call.topic)[: openai_server.drop_after]
            assert call.interrupted
            assert [text for _, text in call.chunks] == cut
            assert call.output == "".join(cut)
        else:
            assert not call.interrupted
            assert call.output == ""
        if fault == "slow":
            # The client gave up at its own 0.3 s timeout ("timeout" above), not when the server
            # answered; the lower bound is the timeout itself, which load can only lengthen.
            assert call.latency_s >= 0.25


def test_wrong_key_is_an_auth_error_and_right_key_works(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.require_key = fake_api_key

    wrong = run_invoke(make_chain(openai_server.base_url, "sk-test-wrong-key-000"), "cats").calls[0]
    right = run_invoke(make_chain(openai_server.base_url, fake_api_key), "cats").calls[0]

    assert wrong.error_kind == "auth"
    assert right.ok and REPLY_MARKER in right.output


# ------------------------------------------------------------------------------ retries
@pytest.mark.parametrize("mode", MODES)
def test_429_with_retry_after_is_retried_and_the_retry_is_visible(
    openai_server: OpenAICompatibleServer, fake_api_key: str, mode: str
) -> None:
    openai_server.retry_after_s = 0.2
    openai_server.set_fault("429", times=1)
    topics = ["cats", "owls", "dogs"]
    n = 3 if mode == "batch" else 1

    record = run_mode(mode, make_chain(openai_server.base_url, fake_api_key, max_retries=2), topics)

    assert record.error_count == 0, [call.error for call in record.calls]
    assert all(REPLY_MARKER in output for output in record.outputs)
    assert openai_server.requests_total == n + 1
    retried = [call for call in record.calls if call.retries]
    assert len(retried) == 1 and retried[0].retries == 1  # attributed to the call that got the 429
    assert retried[0].latency_s >= 0.2  # the client honoured Retry-After (a sleep: load only lengthens it)


def test_retries_are_counted_when_they_all_fail(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.fault = "429"

    call = run_invoke(make_chain(openai_server.base_url, fake_api_key, max_retries=2), "cats").calls[0]

    assert call.error_kind == "rate_limit"
    assert call.retries == 2
    assert openai_server.requests_total == 3


def test_no_retries_without_max_retries(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.set_fault("429", times=1)

    call = run_invoke(make_chain(openai_server.base_url, fake_api_key, max_retries=0), "cats").calls[0]

    assert call.error_kind == "rate_limit" and call.retries == 0
    assert openai_server.requests_total == 1


# ------------------------------------------------------------------------ dropped streams
def test_what_langchain_openai_does_with_a_cut_stream(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    """Pin down the library behaviour that ``chains.modes`` has to handle.

    - The body ends cleanly but early (no ``finish_reason``, no ``[DONE]``): no error at all,
      just fewer chunks.
    - The socket closes mid-body: ``openai.APIConnectionError`` (wrapped by langchain-openai)
      after the chunks that did arrive.
    """
    chain = make_chain(openai_server.base_url, fake_api_key)
    prefix = joke_tokens("cats")[: openai_server.drop_after]

    openai_server.fault = "truncate"
    assert [text for text in chain.stream("cats") if text] == prefix

    openai_server.fault = "drop"
    got: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        for text in chain.stream("cats"):
            if text:
                got.append(text)
    assert got == prefix


@pytest.mark.parametrize("runner", ["stream", "astream"])
@pytest.mark.parametrize("fault", ["drop", "truncate"])
def test_a_cut_stream_keeps_its_text_and_counts_as_an_error(
    openai_server: OpenAICompatibleServer, fake_api_key: str, fault: str, runner: str
) -> None:
    openai_server.fault = fault
    openai_server.drop_after = 5
    chain = make_chain(openai_server.base_url, fake_api_key)
    finished: list[CallTiming] = []

    if runner == "stream":
        record = run_stream(chain, "cats", on_result=finished.append)
    else:
        record = asyncio.run(run_astream(chain, "cats", on_result=finished.append))

    call = record.calls[0]
    assert call.output == "".join(joke_tokens("cats")[:5])
    assert call.interrupted and not call.ok
    assert call.error_kind == "interrupted"
    assert record.error_count == 1
    assert finished == [call]


def test_sdk_retries_a_dropped_reply_but_not_a_dropped_stream(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    chain = make_chain(openai_server.base_url, fake_api_key, max_retries=1)

    openai_server.set_fault("drop", times=1)
    invoked = run_invoke(chain, "cats").calls[0]
    assert invoked.ok and invoked.retries == 1
    assert openai_server.requests_total == 2

    openai_server.reset_counters()
    openai_server.set_fault("drop", times=1)
    streamed = run_stream(chain, "cats").calls[0]
    assert streamed.interrupted and streamed.retries == 0
    assert openai_server.requests_total == 1


# ---------------------------------------------------------------------------------- batch
def test_partial_failure_in_batch_keeps_the_other_results(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.set_fault("500", match="FAIL")
    topics = ["cats", "FAIL dogs", "owls", "FAIL bats", "fish"]
    seen: list[int] = []

    record = run_batch(make_chain(openai_server.base_url, fake_api_key), topics, max_concurrency=5, on_result=lambda t: seen.append(t.index))

    assert sorted(seen) == list(range(5))
    assert record.error_count == 2
    for call in record.calls:
        assert call.end_s > call.start_s >= 0.0
        if "FAIL" in call.topic:
            assert call.error_kind == "server" and call.output == ""
        else:
            assert call.ok and call.output == write_joke(call.topic)
            assert call.output_tokens == len(joke_tokens(call.topic))
    assert openai_server.faults_served == 2


@pytest.mark.parametrize(("max_concurrency", "bounded"), [(3, True), (8, False)])
def test_max_concurrency_bounds_requests_in_flight(
    openai_server: OpenAICompatibleServer, fake_api_key: str, max_concurrency: int, bounded: bool
) -> None:
    openai_server.ttft_s = 0.4  # long enough for every call of a wave to be in flight together
    topics = [f"topic {i}" for i in range(8)]

    record = run_batch(make_chain(openai_server.base_url, fake_api_key), topics, max_concurrency=max_concurrency)

    assert record.error_count == 0
    assert record.pool_size == max_concurrency
    assert openai_server.requests_total == 8
    if bounded:
        assert openai_server.peak_in_flight == 3
    else:
        assert openai_server.peak_in_flight > 3


# ---------------------------------------------------------------------------------- async
def test_async_runners_survive_fresh_event_loops(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    """Each async run gets its own ``asyncio.run``; pooled connections must not cross loops."""
    chain = make_chain(openai_server.base_url, fake_api_key)

    records = [
        asyncio.run(run_astream(chain, ["cats", "owls"])),
        asyncio.run(run_ainvoke(chain, "cats")),
        asyncio.run(run_abatch(chain, ["cats", "owls", "dogs"], max_concurrency=2)),
        asyncio.run(run_ainvoke(chain, "owls")),
    ]

    for record in records:
        assert record.error_count == 0, [call.error for call in record.calls]
        assert all(REPLY_MARKER in output for output in record.outputs)


# ------------------------------------------------------------------------------- secrets
def test_the_api_key_never_leaks(
    openai_server: OpenAICompatibleServer, down_base_url: str, fake_api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "openai._base_client", "httpx2", "httpcore2", "langchain_openai", "devtools.openai_server"):
        caplog.set_level(logging.DEBUG, logger=name)
    openai_server.echo_key_in_errors = True  # a careless server that quotes the key back
    meta = RunMeta(provider="compatible", model="test-model")  # no explicit secrets: the patterns must do
    records: list[RunRecord] = []
    for fault in ("none", "401", "429", "500", "slow", "drop", "truncate", "down"):
        base_url = down_base_url if fault == "down" else openai_server.base_url
        openai_server.fault = "none" if fault == "down" else fault
        timeout_s = 0.3 if fault == "slow" else 5.0
        chain = make_chain(base_url, fake_api_key, timeout_s=timeout_s, max_retries=1 if fault == "429" else 0)
        records.extend(run_mode(mode, chain, ["cats", "owls"], meta) for mode in MODES)

    auth_errors = [call.error for record in records for call in record.calls if call.error_kind == "auth"]
    assert len(auth_errors) == 4 and all("[redacted]" in error for error in auth_errors)  # the key was echoed, then scrubbed
    texts = [
        *(call.error or "" for record in records for call in record.calls),
        *(json.dumps(record.to_dict()) for record in records),
        records_to_csv(records),
        records_to_json(records),
        *(record.getMessage() for record in caplog.records),
        repr(openai_server.requests),
    ]
    leaks = [text for text in texts if fake_api_key in text or fake_api_key[8:] in text]
    assert not leaks


def test_a_key_without_the_sk_prefix_is_scrubbed_through_run_meta(openai_server: OpenAICompatibleServer) -> None:
    key = "local-LEAKCANARY-1234567890abcdef"
    openai_server.echo_key_in_errors = True
    openai_server.fault = "401"

    record = run_invoke(make_chain(openai_server.base_url, key), "cats", meta=RunMeta(secrets=(key,)))

    assert record.calls[0].error_kind == "auth"
    assert "[redacted]" in (record.calls[0].error or "")
    assert key not in records_to_json([record]) and key not in records_to_csv([record])


# ------------------------------------------------------------------------------- server
def test_server_speaks_openais_wire_format(openai_server: OpenAICompatibleServer) -> None:
    with urllib.request.urlopen(f"{openai_server.base_url}/models", timeout=5) as response:
        models = json.load(response)
    assert models["data"][0]["id"] == "test-model"

    openai_server.fault = "429"
    request = urllib.request.Request(
        f"{openai_server.base_url}/chat/completions",
        data=json.dumps({"model": "m", "messages": [{"role": "user", "content": "Tell me a short joke about owls"}]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test-x"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 429
    assert refused.value.headers["Retry-After"] == "0.05"
    assert json.load(refused.value)["error"]["code"] == "rate_limit_exceeded"

    openai_server.fault = "none"
    body = json.dumps(
        {"model": "m", "stream": True, "stream_options": {"include_usage": True}, "messages": [{"role": "user", "content": "Tell me a short joke about owls"}]}
    ).encode()
    request = urllib.request.Request(f"{openai_server.base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        events = [line[6:] for line in response.read().decode().split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == len(joke_tokens("owls"))
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == write_joke("owls")


def test_server_runs_as_a_separate_process(fake_api_key: str) -> None:
    with ServerProcess("--fault", "500", "--ttft", "0", "--token-delay", "0") as server:
        chain = make_chain(server.base_url, fake_api_key)

        failed = run_invoke(chain, "kiwis").calls[0]
        server.set_fault("none")
        answered = run_invoke(chain, "kiwis").calls[0]

        assert failed.error_kind == "server"
        assert answered.ok and answered.output == write_joke("kiwis")
        assert server.stats()["requests_total"] == 2
