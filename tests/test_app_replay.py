"""AppTest: the sidebar's replay controls (issue 16, part 2): choose, import (with its errors) and label replays."""

from __future__ import annotations

import json

import pytest

from chains.replay import (
    MAX_FILE_BYTES,
    REPLAY_PROVIDER,
    ReplayCall,
    ReplayProfile,
    example_profiles,
    profile_to_dict,
    profile_to_json,
)
from tests.app_harness import FAST_SIMULATOR, open_app

QUICK = ReplayProfile(
    name="Min: gpt-4o-mini <b>bold</b>",
    calls=(ReplayCall("penguins", 0.05, (0.01, 0.01), ("Pen", "guin", "!")),),
    source_provider="openai",
    source_model="gpt-4o-mini",
    recorded_at="2026-12-02T10:00:00+00:00",
)


def upload(app, name: str, data: bytes) -> None:
    app.file_uploader(key="import_replay").set_value((name, data, "application/json"))
    app.run()


def test_an_imported_replay_is_selected_and_its_runs_are_labelled_replays(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/invoke.py", state=FAST_SIMULATOR)
    upload(app, "min.json", profile_to_json(QUICK).encode())
    assert not app.exception
    assert not app.sidebar.error
    chosen = app.selectbox(key="sim_replay")
    assert chosen.value.startswith("imported:")
    assert chosen.options[chosen.index] == QUICK.name  # the name is an option label: plain text
    app.text_input(key="topics").set_value("penguins")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    record = app.session_state["run_history"][-1]  # the session's history (also what History and the exports read)
    assert record.provider == REPLAY_PROVIDER
    assert record.model == QUICK.label
    assert record.calls[0].output == "Penguin!"
    from chains.timing import records_to_csv, records_to_json

    assert f",{REPLAY_PROVIDER}," in records_to_csv([record]) and f'"provider": "{REPLAY_PROVIDER}"' in records_to_json([record])


@pytest.mark.parametrize(
    ("data", "reason_words"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"format": "other", "version": 1}).encode(), "not a replay profile"),
        (json.dumps({**profile_to_dict(QUICK), "version": 99}).encode(), "version is not supported"),
        (json.dumps({**profile_to_dict(QUICK), "name": "<script>alert(1)</script>" * 50}).encode(), "too long"),
        (json.dumps({**profile_to_dict(QUICK), "calls": [{"topic": "x", "ttft_s": -1, "gaps_s": [], "tokens": ["a"]}]}).encode(), "negative"),
        (b" " * (MAX_FILE_BYTES + 1), "larger than"),
    ],
)
def test_a_bad_replay_file_gets_a_clear_message_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, data: bytes, reason_words: str
) -> None:
    app = open_app(monkeypatch, "pages/invoke.py", state=FAST_SIMULATOR)
    before = app.selectbox(key="sim_replay").options
    upload(app, "bad.json", data)
    assert not app.exception
    errors = " ".join(element.value for element in app.sidebar.error)
    assert reason_words in errors and "Nothing was changed" in errors
    assert app.selectbox(key="sim_replay").value == "off"
    assert app.selectbox(key="sim_replay").options == before
    assert "<script>" not in " ".join(element.value for element in app.sidebar.caption)


def test_an_example_replay_says_it_is_an_example(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/home.py", state={"lang": "ko"})
    example_id = f"example:{next(iter(example_profiles()))}"
    app.selectbox(key="sim_replay").set_value(example_id)
    app.run()
    assert not app.exception
    assert any("측정값이 아닙니다" in warning.value for warning in app.sidebar.warning)


def test_recording_with_no_real_run_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/home.py")
    app.button(key="record_replay").click()
    app.run()
    assert not app.exception
    assert any("No streamed call on a real model" in info.value for info in app.sidebar.info)
    assert app.selectbox(key="sim_replay").value == "off"


def test_charts_label_a_replayed_run_as_a_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    from chains.timing import CallTiming, RunRecord
    from ui.charts import wall_time_bars

    def record(provider: str) -> RunRecord:
        call = CallTiming(index=0, topic="penguins", start_s=0.0, end_s=0.2, first_token_s=0.1, chunks=[(0.1, "Pen")], output="Pen")
        return RunRecord(mode="stream", n=1, wall_s=0.2, max_concurrency=None, provider=provider, model="m", calls=[call])

    figure = wall_time_bars([record("simulator"), record(REPLAY_PROVIDER)])
    # Horizontal bars: the run's label (with its first token under it) is on the y axis.
    labels = [str(label).split("<br>")[0] for trace in figure.data if trace.type == "bar" for label in trace.y]
    assert labels == ["stream", "stream · replay"]
