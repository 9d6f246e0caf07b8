"""Runs are kept: across a reload of the URL (run_set), through a rerun that stops a stream, and when storage fails.

AppTest runs the real app in-process. A "reload" is a new AppTest (a new session)
opened with the first one's ``run_set`` in its query string. A stop is Streamlit's
own ``StopException``, raised from the stream's element update, as a click or a
language switch does in a browser.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from streamlit.runtime import pages_manager
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.testing.v1 import AppTest

from chains.records.store import is_valid_run_set
from devtools.openai_server import OpenAICompatibleServer
from tests.app_harness import APP_FILE, FAST_SIMULATOR, _PathWithoutPagesFolder, open_app, texts

EN = tomllib.loads((Path(__file__).resolve().parents[2] / "ui/locales/en.toml").read_text())


def reopen(monkeypatch: pytest.MonkeyPatch, run_set: str | None, page: str = "pages/history.py") -> AppTest:
    """A new session (a reload) on ``page`` with ``run_set`` in the URL."""
    monkeypatch.setattr(pages_manager, "Path", _PathWithoutPagesFolder)
    app = AppTest.from_file(str(APP_FILE), default_timeout=60)
    if run_set is not None:
        app.query_params["run_set"] = run_set
    app.run()
    app.switch_page(page)
    app.run()
    return app


def run_invoke(app: AppTest, topic: str) -> None:
    app.switch_page("pages/invoke.py")
    app.run()
    app.text_input(key="topics").set_value(topic) if app.text_input else app.text_area(key="topics").set_value(topic)
    app.button(key="run").click()
    app.run()
    assert not app.exception


def test_a_reload_of_the_url_shows_the_same_history(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("a\nb")
    app.button(key="run").click()
    app.run()
    run_set = app.session_state["run_set"]
    assert is_valid_run_set(run_set)
    assert app.query_params["run_set"] == [run_set] or app.query_params["run_set"] == run_set

    again = reopen(monkeypatch, run_set)
    assert not again.exception
    assert list(again.dataframe[0].value["mode"]) == ["for loop of invoke", "batch"]

    stranger = reopen(monkeypatch, None)
    assert not stranger.dataframe, "another browser (no run_set) sees none of them"
    assert stranger.session_state["run_set"] != run_set


def test_a_hostile_run_set_is_refused_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_manager, "Path", _PathWithoutPagesFolder)
    app = AppTest.from_file(str(APP_FILE), default_timeout=60)
    app.query_params["run_set"] = "../../etc/passwd' OR 1=1"
    app.run()
    assert not app.exception
    assert [warning.value for warning in app.warning if warning.value == EN["store"]["bad_link"]], "said on any page"
    assert is_valid_run_set(app.session_state["run_set"])
    app.run()
    assert not [warning for warning in app.warning if warning.value == EN["store"]["bad_link"]], "said once"


def test_a_stream_stopped_by_a_rerun_is_kept_and_shown_as_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/stream.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("octopus")

    from ui.elements import live

    real_append = live.LiveMarkdown.append
    seen: list[str] = []

    def append_then_stop(self: live.LiveMarkdown, chunk: str) -> None:
        real_append(self, chunk)
        seen.append(chunk)
        if len(seen) == 6:
            raise StopException  # what Streamlit raises from an element update when a rerun is requested

    monkeypatch.setattr(live.LiveMarkdown, "append", append_then_stop)
    app.button(key="run").click()
    app.run()
    monkeypatch.setattr(live.LiveMarkdown, "append", real_append)

    app.run()  # the user comes back (or the rerun happens): the page shows the partial run
    assert not app.exception
    record = app.session_state["run_history"][-1]
    assert record.stopped and record.calls[0].output == "".join(seen)
    assert any(EN["store"]["stopped_note"] in warning.value for warning in app.warning)
    assert "stopped" in texts(app)
    assert [run.stopped for run in app.session_state["run_history"]] == [True]

    history = reopen(monkeypatch, app.session_state["run_set"])
    assert list(history.dataframe[0].value["mode"]) == ["stream"]


def test_results_are_labelled_and_flagged_when_the_inputs_change(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("a\nb\nc")
    app.button(key="run").click()
    app.run()
    assert any(caption.value.startswith("🕒 Run at ") and "· simulator ·" in caption.value and "topics: 3" in caption.value for caption in app.caption)
    assert EN["store"]["inputs_changed"] not in texts(app)
    app.text_area(key="topics").set_value("x\ny")
    app.run()
    assert EN["store"]["inputs_changed"] in texts(app)


@pytest.mark.parametrize("page", ["pages/invoke.py", "pages/batch.py", "pages/stream.py"])
def test_a_language_switch_does_not_flag_the_translated_example_as_changed(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    ko = tomllib.loads((Path(__file__).resolve().parents[2] / "ui/locales/ko.toml").read_text())
    app = open_app(monkeypatch, page, state={**FAST_SIMULATOR, "lang": "en"})
    app.button(key="run").click()  # the untouched example topic(s)
    app.run()
    assert not app.exception
    app.radio(key="lang").set_value("ko").run()
    box = app.text_input(key="topics") if page == "pages/invoke.py" else app.text_area(key="topics")
    assert box.value in (ko["examples"]["topic"], ko["examples"]["topics"]), "the example was translated"
    assert ko["store"]["inputs_changed"] not in texts(app)
    box.set_value("something else").run()
    assert ko["store"]["inputs_changed"] in texts(app), "a real change is still flagged"


def test_evictions_are_announced_with_what_went(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNS_MAX_PER_SET", "2")
    app = open_app(monkeypatch, "pages/invoke.py", state=FAST_SIMULATOR)
    for topic in ("cats", "dogs", "owls"):
        app.text_input(key="topics").set_value(topic) if app.text_input else app.text_area(key="topics").set_value(topic)
        app.button(key="run").click()
        app.run()
    app.switch_page("pages/history.py")
    app.run()
    assert not app.exception
    assert len(app.dataframe[0].value) == 2
    notice = next(warning.value for warning in app.warning if "removed its oldest" in warning.value)
    assert "within 2 entries" in notice and "entries removed: 1" in notice and "`invoke` at" in notice
    app.button(key="history_evicted_ok").click()
    app.run()
    assert not any("removed its oldest" in warning.value for warning in app.warning)


@pytest.mark.parametrize("damage", ["corrupt_file", "folder_is_a_file"])
def test_storage_that_fails_degrades_to_memory_with_one_notice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damage: str) -> None:
    if damage == "corrupt_file":
        folder = tmp_path / "db"
        folder.mkdir()
        (folder / "langchain-call-modes-runs.sqlite").write_bytes(b"not a database at all " * 200)
    else:
        folder = tmp_path / "plain-file"
        folder.write_text("a file where the folder should be")
    monkeypatch.setenv("RUNS_DB_DIR", str(folder))
    app = open_app(monkeypatch, "pages/invoke.py", state=FAST_SIMULATOR)

    def notices() -> list[str]:
        return [warning.value for warning in app.warning if warning.value == EN["store"]["memory_only"]]

    # The session's runs are read once its first page is drawn: the next page says so, once.
    shown = notices()
    app.text_input(key="topics").set_value("cats") if app.text_input else app.text_area(key="topics").set_value("cats")
    app.button(key="run").click()
    app.run()
    shown += notices()
    app.switch_page("pages/history.py")
    app.run()
    assert not app.exception
    shown += notices()
    assert len(shown) == 1
    assert list(app.dataframe[0].value["mode"]) == ["invoke"]
    app.run()
    assert not [warning for warning in app.warning if warning.value == EN["store"]["memory_only"]], "said once only"
    again = reopen(monkeypatch, app.session_state["run_set"])
    assert list(again.dataframe[0].value["mode"]) == ["invoke"], "memory keeps them across a reload of this server"


def test_a_lab_sweep_is_one_history_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/lab.py", state=FAST_SIMULATOR)
    app.slider(key="sweep_k").set_value(2)
    app.slider(key="sweep_repeats").set_value(1)
    app.run()
    app.button(key="run").click()
    app.run()
    assert not app.exception
    run_invoke(app, "cats")
    history = reopen(monkeypatch, app.session_state["run_set"])
    table = history.dataframe[0].value
    assert list(table["mode"]) == [EN["store"]["sweep_mode"], "invoke"]
    assert list(table["label"])[0] == EN["store"]["sweep_label"].format(runs=4, stopped=0)
    history.toggle(key="history_show_sweep_runs").set_value(True)
    history.run()
    assert list(history.dataframe[0].value["mode"]) == ["for loop of invoke", "batch", "for loop of invoke", "batch", "invoke"]


def test_no_key_reaches_the_run_store(
    monkeypatch: pytest.MonkeyPatch, isolated_run_store: Path, openai_server: OpenAICompatibleServer, fake_api_key: str
) -> None:
    """The worst case: the provider echoes the key in its error; the stored runs still hold none of it."""
    from tests.app.test_fault_matrix import remote_state

    app = open_app(monkeypatch, "pages/batch.py", state=remote_state(openai_server.base_url, fake_api_key, timeout_s=5.0))
    openai_server.echo_key_in_errors = True
    for fault in (None, "401"):
        if fault:
            openai_server.set_fault(fault)
        app.text_area(key="topics").set_value("cats")
        app.button(key="run").click()
        app.run()
    assert not app.exception
    stored = [path for path in isolated_run_store.iterdir() if path.is_file()]
    assert stored, "the runs were written to the store folder"
    assert len(reopen(monkeypatch, app.session_state["run_set"]).dataframe[0].value) == 4
    for path in stored:
        assert fake_api_key.encode() not in path.read_bytes(), path
        assert b"LEAKCANARY" not in path.read_bytes(), path


def test_the_lab_shows_its_last_sweep_again_after_a_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/lab.py", state=FAST_SIMULATOR)
    app.slider(key="sweep_k").set_value(2)
    app.slider(key="sweep_repeats").set_value(2)
    app.run()
    app.button(key="run").click()
    app.run()
    assert not app.exception
    assert any(caption.value.startswith("🕒 Sweep run at ") and "· simulator ·" in caption.value for caption in app.caption)
    lab = reopen(monkeypatch, app.session_state["run_set"], page="pages/lab.py")
    assert not lab.exception
    assert any("from History" in caption.value for caption in lab.caption)
    assert lab.get("plotly_chart"), "the sweep's chart is drawn again"
    assert not any("stopped after" in warning.value for warning in lab.warning)
    assert any(metric.label == EN["lab"]["loop_slope"] for metric in lab.metric)


def test_a_batch_run_stopped_half_way_keeps_the_loop_and_the_partial_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop finished, the batch was cut while showing its second result: both are kept, the page says so."""
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("a\nb\nc\nd")

    from ui.elements import results

    real_line = results.call_status_line

    def line_then_stop(call, finished_order=None):
        if finished_order == 2:  # the batch's second result (the loop's lines have no order)
            raise StopException
        return real_line(call, finished_order)

    monkeypatch.setattr(results, "call_status_line", line_then_stop)
    app.button(key="run").click()
    app.run()
    monkeypatch.setattr(results, "call_status_line", real_line)
    app.run()
    assert not app.exception
    runs = app.session_state["run_history"]
    assert [(run.mode, run.stopped) for run in runs] == [("loop", False), ("batch", True)]
    # The second result had arrived (it was being shown when the stop came); the other two had not.
    assert [call.ok for call in sorted(runs[1].calls, key=lambda call: call.end_s)].count(True) == 2
    assert sum(call.error_kind == "stopped" for call in runs[1].calls) == 2
    assert any(EN["store"]["page_stopped"].format(runs=2) in warning.value for warning in app.warning)
    assert not app.get("plotly_chart"), "no results of an earlier run are shown as this run's"


def test_a_reload_keeps_the_runs_on_postgresql_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployment path: RUNS_DB_URL names a PostgreSQL, reached through st.connection like SQLite."""
    import os

    url = os.environ.get("RUNS_DB_TEST_URL", "")
    if not url:
        pytest.skip("No PostgreSQL: set RUNS_DB_TEST_URL (.ci/run starts a server and sets it).")
    monkeypatch.setenv("RUNS_DB_URL", url)
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("a\nb")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    again = reopen(monkeypatch, app.session_state["run_set"])
    assert not again.exception
    assert not [warning for warning in again.warning if warning.value == EN["store"]["memory_only"]], "PostgreSQL, not memory"
    assert list(again.dataframe[0].value["mode"]) == ["for loop of invoke", "batch"]
