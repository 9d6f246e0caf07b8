"""AppTest: the sidebar's replay controls (issue 16, part 2): choose, import (with its errors) and label replays."""

from __future__ import annotations

import json

import pytest

from chains.models import REPLAY_ID
from chains.simulation.replay import MAX_FILE_BYTES, ReplayCall, ReplayProfile, example_profiles, profile_to_dict, profile_to_json
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
    assert record.provider == REPLAY_ID
    assert record.model == QUICK.label
    assert record.calls[0].output == "Penguin!"
    from chains.timing import records_to_csv, records_to_json

    assert f",{REPLAY_ID}," in records_to_csv([record]) and f'"provider": "{REPLAY_ID}"' in records_to_json([record])


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
    # The example's own name and note are in Korean too, not only the warning.
    assert "예시:" in app.selectbox(key="sim_replay").format_func(example_id)
    assert any("직접 만든 타이밍" in caption.value for caption in app.sidebar.caption)


def test_the_stream_page_offers_no_answer_length_a_replay_would_ignore(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/stream.py")
    assert app.radio(key="answer_length") is not None
    app.selectbox(key="sim_replay").set_value(f"example:{next(iter(example_profiles()))}")
    app.run()
    assert not app.exception
    with pytest.raises(KeyError):
        app.radio(key="answer_length")
    assert any("recorded text" in caption.value for caption in app.caption)


def test_the_replay_uploader_says_the_replay_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/home.py")
    uploader = app.get("file_uploader")
    limits = {element.proto.id.rsplit("-", 1)[-1]: element.proto.max_upload_size_mb for element in uploader}
    assert any(size == 1 for size in limits.values()), limits  # the replay import: 1 MB, as the README says, not the server's 5
