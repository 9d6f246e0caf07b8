"""Replay profiles (chains/simulation/replay.py) and the simulator's ``replay`` option: schema, caps, and timing.

Timing is checked on the planned sleeps, recorded with a fake sleep, never on wall time.
"""

from __future__ import annotations

import asyncio
import json
import types
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

import chains.simulation.simulator as simulator_module
from chains.joke import build_joke_chain
from chains.models import REPLAY_ID, ModelSettings, make_model
from chains.modes import RunMeta, run_stream
from chains.records.replay_recording import profile_from_records
from chains.simulation.replay import (
    FORMAT,
    MAX_CALLS,
    MAX_FILE_BYTES,
    MAX_TOKENS_PER_CALL,
    ReplayCall,
    ReplayFormatError,
    ReplayProfile,
    example_profiles,
    parse_profile,
    profile_to_dict,
    profile_to_json,
)
from chains.simulation.simulator import SimulatedChatModel
from devtools.openai_server import OpenAICompatibleServer

RECORDED = ReplayProfile(
    name="unit",
    calls=(
        ReplayCall("cats", 0.8, (0.05, 0.2, 0.01), ("Why", " cats", "?", "!")),
        ReplayCall("dogs", 1.5, (0.3,), ("Wo", "of")),
    ),
    source_provider="openai",
    source_model="gpt-4o-mini",
)


def valid_document() -> dict[str, Any]:
    return profile_to_dict(RECORDED)


def refused(document: Any) -> str:
    data = document if isinstance(document, (bytes, str)) else json.dumps(document)
    with pytest.raises(ReplayFormatError) as caught:
        parse_profile(data)
    return caught.value.reason


@pytest.fixture
def planned_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep the simulator asks for (sync and async), without sleeping; its clock moves by them alone."""
    sleeps: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def monotonic() -> float:
        return 1000.0 + sum(sleeps)

    monkeypatch.setattr(simulator_module, "time", types.SimpleNamespace(sleep=sleeps.append, monotonic=monotonic))
    monkeypatch.setattr(simulator_module, "asyncio", types.SimpleNamespace(sleep=fake_async_sleep))
    return sleeps


# ------------------------------------------------------------------ schema
def test_a_profile_survives_its_own_json() -> None:
    assert parse_profile(profile_to_json(RECORDED)) == RECORDED
    assert parse_profile(profile_to_json(RECORDED).encode()) == RECORDED


def test_the_shipped_examples_are_valid_and_say_they_are_examples() -> None:
    examples = example_profiles()
    assert len(examples) == 2
    for profile in examples.values():
        assert profile.example
        assert profile.name.startswith("Example") and "illustrative" in profile.name
        assert profile.note.startswith("EXAMPLE, not a measurement")
        assert "example" in profile.source_model
        assert profile.label.startswith("replay: Example")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(format="something-else"), "format"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.update(version="1"), "version"),
        (lambda d: d.update(version=True), "version"),
        (lambda d: d.update(extra="x"), "schema"),
        (lambda d: d.pop("note"), "schema"),
        (lambda d: d.update(example="yes"), "schema"),
        (lambda d: d.update(source={"provider": "openai"}), "schema"),
        (lambda d: d.update(name="   "), "schema"),
        (lambda d: d.update(name=123), "schema"),
        (lambda d: d.update(name="n" * 81), "too_long"),
        (lambda d: d.update(note="<script>" * 100), "too_long"),
        (lambda d: d.update(calls=[]), "empty"),
        (lambda d: d.update(calls={"topic": "x"}), "schema"),
        (lambda d: d.update(calls=d["calls"] * (MAX_CALLS // 2 + 1)), "too_many"),
        (lambda d: d["calls"][0].update(tokens=["a"] * (MAX_TOKENS_PER_CALL + 1), gaps_s=[0.0] * MAX_TOKENS_PER_CALL), "too_many"),
        (lambda d: d["calls"][0].update(tokens=[]), "empty"),
        (lambda d: d["calls"][0]["tokens"].__setitem__(0, "x" * 201), "too_long"),
        (lambda d: d["calls"][0]["tokens"].__setitem__(0, 7), "schema"),
        (lambda d: d["calls"][0].update(topic="t" * 401), "too_long"),
        (lambda d: d["calls"][0].update(gaps_s=[0.1]), "schema"),
        (lambda d: d["calls"][0]["gaps_s"].__setitem__(1, -0.1), "bad_number"),
        (lambda d: d["calls"][0]["gaps_s"].__setitem__(1, 1e9), "bad_number"),
        (lambda d: d["calls"][0]["gaps_s"].__setitem__(1, True), "schema"),
        (lambda d: d["calls"][0].update(ttft_s="0.5"), "schema"),
        (lambda d: d["calls"][0].update(ttft_s=500.0), "bad_number"),
        (lambda d: d["calls"][0].update(evil="__import__('os')"), "schema"),
    ],
)
def test_a_malformed_profile_is_refused_with_its_reason(change: Any, reason: str) -> None:
    document = valid_document()
    change(document)
    assert refused(document) == reason


def test_hostile_files_are_refused_before_anything_is_built() -> None:
    assert refused(b"\xff\xfe not utf-8") == "not_json"
    assert refused("{not json") == "not_json"
    assert refused("[1, 2, 3]") == "schema"
    assert refused("[" * 100_000 + "]" * 100_000) in ("too_large", "not_json")
    assert refused("[" * 50_000) == "not_json"
    assert refused(json.dumps(valid_document()).replace("0.8", "NaN", 1)) == "bad_number"
    assert refused(json.dumps(valid_document()).replace("0.8", "Infinity", 1)) == "bad_number"
    ten_mb = valid_document()
    ten_mb["calls"][0]["tokens"][0] = "x" * 10_000_000
    assert refused(ten_mb) == "too_large"
    assert len(json.dumps(valid_document())) < MAX_FILE_BYTES


def test_markup_in_a_profile_stays_data() -> None:
    document = valid_document()
    document["name"] = "<script>alert(1)</script>"
    document["calls"][0]["tokens"][0] = "[x](javascript:alert(1)) ![i](http://evil.example/i.png)"
    profile = parse_profile(json.dumps(document))
    assert profile.name == "<script>alert(1)</script>"  # kept as text; the UI never renders it as HTML
    assert profile.label == "replay: scriptalert(1)/script"  # the label travels into captions: no markup left


@pytest.mark.parametrize(
    "name",
    ["![p](http://evil.example/p.png)", "[click](javascript:alert(1))", "<img src=x onerror=alert(1)>", "**bold** `code` _x_ # h | t ~ \\ {}"],
)
def test_a_replays_model_label_holds_no_markup(name: str) -> None:
    label = ReplayProfile(name=name, calls=RECORDED.calls).label
    assert label.startswith("replay: ")
    assert not set(label) & set("<>[]!*`_#|~\\{}=&;\"")


# ------------------------------------------------------------------ replay timing
def test_the_simulator_replays_the_recorded_tokens_and_delays_sync(planned_sleeps: list[float]) -> None:
    model = SimulatedChatModel(replay=RECORDED, ttft_s=0.01, tokens_per_s=1000.0, jitter=0.5)
    chunks = list(build_joke_chain(model).stream("cats"))
    assert "".join(chunks) == "Why cats?!"
    recorded = RECORDED.calls[0]
    assert planned_sleeps[0] == pytest.approx(recorded.ttft_s, rel=0.10)
    assert planned_sleeps[1:] == pytest.approx(list(recorded.gaps_s), rel=0.10)


def test_the_simulator_replays_the_recorded_tokens_and_delays_async(planned_sleeps: list[float]) -> None:
    model = SimulatedChatModel(replay=RECORDED)

    async def collect() -> list[str]:
        return [chunk async for chunk in build_joke_chain(model).astream("dogs")]

    assert "".join(asyncio.run(collect())) == "Woof"
    recorded = RECORDED.calls[1]
    assert planned_sleeps == pytest.approx([recorded.ttft_s, *recorded.gaps_s], rel=0.10)


def test_invoke_on_a_replay_waits_the_whole_recording(planned_sleeps: list[float]) -> None:
    answer = SimulatedChatModel(replay=RECORDED).invoke([HumanMessage("Tell me a short joke about cats")])
    assert answer.content == "Why cats?!"
    recorded = RECORDED.calls[0]
    # invoke is the stream joined: the same waits, the TTFT then each recorded gap.
    assert planned_sleeps == pytest.approx([recorded.ttft_s, *recorded.gaps_s], rel=0.10)
    assert sum(planned_sleeps) == pytest.approx(recorded.ttft_s + sum(recorded.gaps_s), rel=0.10)


def test_an_unrecorded_topic_gets_the_same_recorded_call_every_time() -> None:
    first = RECORDED.call_for("penguins")
    assert all(RECORDED.call_for(" Penguins ") is first for _ in range(3))
    assert RECORDED.call_for("DOGS") is RECORDED.calls[1]


def test_record_on_a_real_server_then_replay_its_ttft(planned_sleeps: list[float]) -> None:
    with OpenAICompatibleServer(ttft_s=0.3, token_delay_s=0.02) as server:
        settings = ModelSettings(provider="compatible", model="test-model", base_url=server.base_url, api_key="not-needed", max_retries=0)
        record = run_stream(build_joke_chain(make_model(settings)), "penguins", meta=RunMeta("compatible", "test-model"))
    call = record.calls[0]
    assert call.ok and call.ttft_s is not None
    profile = profile_from_records([record], "recorded here")
    replayed = profile.calls[0]
    assert replayed.text == call.output
    assert replayed.ttft_s == pytest.approx(call.ttft_s, rel=0.01)
    # Replay through the app's own factory: the planned first sleep is the recorded TTFT.
    model = make_model(ModelSettings.simulator("fast", sim_replay=profile))
    assert "".join(build_joke_chain(model).stream("penguins")) == call.output
    assert planned_sleeps[0] == pytest.approx(call.ttft_s, rel=0.10)
    recorded_gaps = [later - earlier for (earlier, _), (later, _) in zip(call.chunks, call.chunks[1:]) if _]
    assert len(planned_sleeps) - 1 == len(replayed.gaps_s)
    assert sum(planned_sleeps[1:]) == pytest.approx(sum(replayed.gaps_s), rel=0.10)
    assert recorded_gaps  # the recording had inter-token delays to replay


def test_simulator_runs_cannot_be_recorded_as_real_timing() -> None:
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.01, tokens_per_s=2000.0))
    record = run_stream(chain, "cats", meta=RunMeta("simulator", "simulated"))
    with pytest.raises(ReplayFormatError) as caught:
        profile_from_records([record], "nope")
    assert caught.value.reason == "empty"
    assert REPLAY_ID == "replay" and FORMAT in profile_to_json(RECORDED)


def test_the_shipped_recording_is_a_measurement_and_says_of_what() -> None:
    from chains.simulation.replay import recorded_profiles

    recordings = recorded_profiles()
    assert recordings, "chains/simulation/replays/ ships the local model's recording"
    for profile in recordings.values():
        assert not profile.example
        assert profile.name.startswith("SmolLM2-135M-Instruct, llama.cpp, 1 thread, this machine class, 2026-")
        assert profile.source_provider == "local" and profile.source_model.startswith("SmolLM2-135M-Instruct")
        assert 3 <= len(profile.calls) <= 5
        assert all(call.tokens and len(call.gaps_s) == len(call.tokens) - 1 for call in profile.calls)
    assert set(recordings).isdisjoint(example_profiles())
