"""Errors are recognised by their type, never by their message or a class-name string."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from chains.errors import APP_GUARD_KINDS, AppGuardError, StreamInterruptedError, classify_error
from chains.joke import build_joke_chain
from chains.models import MissingKeyError, ModelSettings, make_model
from chains.modes import RunMeta, run_astream, run_invoke, run_stream
from chains.security.netguard import UnsafeURLError
from chains.security.policy import HostKeyRefusedError
from chains.security.quota import QuotaExceededError
from chains.simulation.simulator import SimulatedConnectionError
from devtools.openai_server import OpenAICompatibleServer, split_reply, write_joke

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_key_is_a_missing_key_error() -> None:
    with pytest.raises(MissingKeyError) as caught:
        make_model(ModelSettings(provider="openai", model="gpt-4o-mini", api_key=None))
    assert classify_error(caught.value).kind == "missing_key"


def test_a_value_error_that_says_missing_key_is_not_one() -> None:
    assert classify_error(ValueError("missing_key")).kind == "unknown"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (MissingKeyError(), "missing_key"),
        (QuotaExceededError("visitor", "hour", "requests"), "budget"),
        (HostKeyRefusedError("another endpoint"), "host_key_refused"),
        (UnsafeURLError("private"), "url_refused"),
    ],
)
def test_the_apps_own_refusals_are_classified_by_type(error: AppGuardError, kind: str) -> None:
    assert isinstance(error, AppGuardError) and error.kind == kind and kind in APP_GUARD_KINDS
    assert classify_error(error).kind == kind
    wrapped = RuntimeError("the SDK wrapped it")
    wrapped.__cause__ = error
    assert classify_error(wrapped).kind == kind


def test_a_subclass_with_another_name_is_still_recognised() -> None:
    class RenamedQuotaError(QuotaExceededError):
        pass

    assert classify_error(RenamedQuotaError("visitor", "hour", "requests")).kind == "budget"


def test_interrupted_streams_are_recognised_by_type() -> None:
    assert classify_error(StreamInterruptedError("no finish reason")).kind == "interrupted"
    assert classify_error(SimulatedConnectionError("dropped")).kind == "interrupted"


def test_a_corrupt_json_chunk_is_a_broken_connection_with_a_human_detail() -> None:
    try:
        json.loads('{"choices": [{"delta": {"cont')
    except json.JSONDecodeError as error:
        info = classify_error(error)
    assert info.kind == "connection"  # and "interrupted" once text had arrived (the tests below)
    assert "Expecting" not in info.detail and "char" not in info.detail


def _compatible_chain(server: OpenAICompatibleServer, api_key: str):
    settings = ModelSettings(provider="compatible", model="test-model", base_url=server.base_url, api_key=api_key, timeout_s=5.0, max_retries=0)
    return build_joke_chain(make_model(settings))


def test_a_corrupt_chunk_mid_stream_keeps_the_text_and_counts_as_interrupted(
    openai_server: OpenAICompatibleServer, fake_api_key: str
) -> None:
    openai_server.set_fault("corrupt")
    openai_server.drop_after = 3
    meta = RunMeta(provider="compatible", model="test-model")

    record = run_stream(_compatible_chain(openai_server, fake_api_key), "cats", meta=meta)

    call = record.calls[0]
    assert call.output == "".join(split_reply(write_joke("cats"))[:3])
    assert call.interrupted and not call.ok
    assert call.error_kind == "interrupted"
    assert "Expecting" not in (call.error or "") and "char " not in (call.error or "")
    assert openai_server.requests_total == 1


def test_a_corrupt_chunk_in_astream_is_interrupted_too(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.set_fault("corrupt")
    openai_server.drop_after = 2
    record = asyncio.run(run_astream(_compatible_chain(openai_server, fake_api_key), ["cats", "owls"]))
    assert [call.error_kind for call in record.calls] == ["interrupted", "interrupted"]
    assert all(call.interrupted and call.output for call in record.calls)


def test_a_corrupt_plain_reply_is_not_classified_unknown(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.set_fault("corrupt")
    record = run_invoke(_compatible_chain(openai_server, fake_api_key), "cats")
    call = record.calls[0]
    assert not call.ok
    assert call.error_kind == "connection", call.error  # nothing had arrived: like a plain reply cut mid-body
    assert "Expecting" not in (call.error or "")
