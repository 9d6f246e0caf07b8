"""The runs exchange format: History's JSON export read back strictly, whatever a file holds."""

from __future__ import annotations

import json

import pytest

from chains.records.exchange import (
    CALL_FIELDS,
    FORMAT,
    MAX_CALLS_PER_RUN,
    MAX_FILE_BYTES,
    MAX_OWNER_CHARS,
    MAX_RUNS_PER_FILE,
    RUN_FIELDS,
    VERSION,
    ExchangeError,
    call_fields,
    clean_owner,
    fresh_copies,
    parse_runs,
    record_fields,
    runs_to_dict,
    runs_to_json,
)
from chains.security.safe_text import inert_markdown
from chains.timing import CallTiming, RunRecord, records_to_json

HOSTILE_TOPIC = "<script>alert(1)</script> [click](javascript:alert(1)) ![x](https://evil.example/p.png)"


def run(mode: str = "stream", *, owner: str = "Min", provider: str = "simulator", topic: str = "ice cream", answer: str = "a joke", group_id: str | None = None) -> RunRecord:
    call = CallTiming(index=0, topic=topic, start_s=0.0, end_s=1.2, first_token_s=0.3, chunks=[(0.3, "a "), (0.5, "joke")], output=answer)
    return RunRecord(mode=mode, n=1, wall_s=1.25, max_concurrency=None, provider=provider, model="gpt-4o-mini", calls=[call], owner=owner, group_id=group_id)


def document(*records: RunRecord) -> dict:
    return json.loads(runs_to_json(list(records)))


def refused(data: bytes | str | dict | list, reason: str) -> ExchangeError:
    raw = json.dumps(data) if isinstance(data, (dict, list)) else data
    with pytest.raises(ExchangeError) as caught:
        parse_runs(raw)
    assert caught.value.reason == reason, caught.value
    return caught.value


def test_an_export_round_trips_with_its_owner_and_marker() -> None:
    records = [run(owner="Min"), run("batch", owner="Ana", provider="compatible"), run("invoke", owner="")]
    text = runs_to_json(records)
    assert json.loads(text)["format"] == FORMAT and json.loads(text)["version"] == VERSION
    assert parse_runs(text) == records
    assert parse_runs(text.encode()) == records


def test_the_older_bare_array_export_is_still_accepted_and_old_records_have_no_owner() -> None:
    legacy = json.loads(records_to_json([run(owner="")]))
    for item in legacy:
        item.pop("owner")  # an export made before owners existed
    (parsed,) = parse_runs(json.dumps(legacy))
    assert parsed.owner == "" and parsed.mode == "stream" and parsed.calls[0].chunks == [(0.3, "a "), (0.5, "joke")]


def test_every_record_field_is_validated() -> None:
    """A field added to RunRecord or CallTiming must get a check here, or imports would refuse it (or trust it)."""
    assert record_fields() == set(RUN_FIELDS) | {"mode", "provider", "calls"}
    assert call_fields() == set(CALL_FIELDS)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"format": FORMAT, "version": 2, "runs": []}, "version"),
        ({"format": FORMAT, "version": "1", "runs": []}, "version"),
        ({"format": "langchain-call-modes-replay", "version": 1, "calls": []}, "format"),
        ({"format": FORMAT, "version": VERSION, "runs": [], "extra": 1}, "schema"),
        ({"format": FORMAT, "version": VERSION, "runs": []}, "empty"),
        ("not json at all {", "not_json"),
        (b"\xff\xfe\x00garbage", "not_json"),
        ("42", "format"),
        ("[" * 100_000 + "]" * 100_000, "not_json"),
    ],
)
def test_wrong_version_format_or_not_json_is_refused(data, reason) -> None:
    refused(data, reason)


def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed() -> None:
    big = document(run())
    big["runs"][0]["calls"][0]["output"] = "x" * (10 * 1024 * 1024)  # a 10 MB answer
    refused(json.dumps(big), "too_large")
    refused(b" " * (MAX_FILE_BYTES + 1), "too_large")


def test_too_many_runs_or_calls_is_refused() -> None:
    one = document(run())["runs"][0]
    refused({"format": FORMAT, "version": VERSION, "runs": [one] * (MAX_RUNS_PER_FILE + 1)}, "too_many")
    crowded = dict(one, calls=[one["calls"][0]] * (MAX_CALLS_PER_RUN + 1))
    refused({"format": FORMAT, "version": VERSION, "runs": [crowded]}, "too_many")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("calls", 0, "topic"), "t" * 100_000),
        (("calls", 0, "output"), "o" * 1_000_000),
        (("owner",), "n" * (MAX_OWNER_CHARS + 1)),
        (("model",), "m" * 10_000),
        (("label",), "l" * 10_000),
    ],
)
def test_every_string_has_a_length_cap(path, value) -> None:
    data = document(run())
    target = data["runs"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    error = refused(data, "too_long")
    assert path[-1] in error.where


def test_markup_in_topic_answer_and_owner_is_kept_as_inert_text() -> None:
    hostile_owner = "<b>Min</b> [me](javascript:x)"
    (parsed,) = parse_runs(runs_to_json([run(topic=HOSTILE_TOPIC, answer=HOSTILE_TOPIC, owner=hostile_owner)]))
    assert parsed.calls[0].topic == HOSTILE_TOPIC and parsed.calls[0].output == HOSTILE_TOPIC  # text, unchanged
    assert parsed.owner == hostile_owner
    shown = inert_markdown(parsed.calls[0].output)
    assert "<script" not in shown and "javascript:" not in shown and "![" not in shown


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinite_times_are_refused(constant) -> None:
    text = runs_to_json([run()]).replace('"wall_s": 1.25', f'"wall_s": {constant}')
    assert constant in text
    refused(text, "bad_number")


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("wall_s",), -1.0, "bad_number"),
        (("wall_s",), 1e308, "bad_number"),
        (("calls", 0, "start_s"), -0.5, "bad_number"),
        (("calls", 0, "end_s"), 1e400, "bad_number"),  # json reads it as inf
        (("calls", 0, "chunks", 0, 0), -3, "bad_number"),
        (("calls", 0, "first_token_s"), "soon", "schema"),
        (("n",), True, "schema"),
        (("n",), -1, "bad_number"),
        (("max_concurrency",), 0, "bad_number"),
        (("calls", 0, "retries"), 10**9, "bad_number"),
        (("mode",), "rm -rf", "unknown_mode"),
        (("mode",), "__class__", "unknown_mode"),
        (("provider",), "evil-cloud", "unknown_provider"),
        (("started_at",), "yesterday", "schema"),
        (("origin",), "<img>", "schema"),
        (("calls", 0, "chunks"), [[0.1]], "schema"),
        (("calls",), {"0": {}}, "schema"),
    ],
)
def test_bad_numbers_and_unknown_modes_or_providers_are_refused(path, value, reason) -> None:
    data = document(run())
    target = data["runs"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    refused(data, reason)


def test_an_end_before_its_start_and_unknown_keys_are_refused() -> None:
    data = document(run())
    data["runs"][0]["calls"][0]["end_s"] = 0.0
    data["runs"][0]["calls"][0]["start_s"] = 0.5
    refused(data, "bad_number")
    data = document(run())
    data["runs"][0]["__proto__"] = {"polluted": True}
    refused(data, "schema")
    data = document(run())
    del data["runs"][0]["calls"]
    refused(data, "schema")


def test_one_bad_run_refuses_the_whole_file() -> None:
    data = runs_to_dict([run(owner="Ana"), run(owner="Min")])
    data["runs"][1]["mode"] = "nope"
    refused(data, "unknown_mode")


def test_the_nickname_loses_control_characters_and_is_capped() -> None:
    assert clean_owner("  Min\u202e\x07\x00  Kim\n ") == "Min Kim"
    assert clean_owner("가" * 100) == "가" * MAX_OWNER_CHARS
    assert clean_owner(None) == "" and clean_owner("   ") == ""


def test_fresh_copies_get_new_ids_and_keep_owner_origin_and_sweep_groups() -> None:
    originals = [run(owner="Ana", group_id="g1"), run(owner="Ana", group_id="g1"), run(owner="Min")]
    originals[0].origin = originals[1].origin = "lab_sweep"
    copies = fresh_copies(originals)
    assert {copy.run_id for copy in copies}.isdisjoint({original.run_id for original in originals})
    assert len({copy.run_id for copy in copies}) == 3
    assert copies[0].group_id == copies[1].group_id != "g1" and copies[2].group_id is None
    assert [copy.owner for copy in copies] == ["Ana", "Ana", "Min"] and copies[0].origin == "lab_sweep"
    assert [copy.calls for copy in copies] == [original.calls for original in originals]
    copies[0].calls[0].output = "changed"
    assert originals[0].calls[0].output == "a joke"  # deep copies
