"""Preferences survive a reload: kept with the run set in the run store, never the API key.

A "reload" is a new AppTest session opened with the first one's ``run_set`` in
its query string (as ``tests/app/test_runs_kept.py`` does).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from chains.records.store import MemoryRunStore, RunStore
from tests.app.test_runs_kept import reopen
from tests.app_harness import FAST_SIMULATOR, open_app
from ui.runs.preferences import checked_prefs


def test_a_reload_keeps_the_nickname_the_language_the_settings_and_the_last_result(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/invoke.py", state={**FAST_SIMULATOR, "owner_name": "Min", "sim_seed": 7})
    app.radio(key="lang").set_value("ko").run()  # chosen by the visitor: kept (a locale default is not)
    app.text_input(key="topics").set_value("penguins")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    run_set = app.session_state["run_set"]
    answer = app.session_state["invoke_last_run"].calls[0].output

    again = reopen(monkeypatch, run_set, page="pages/invoke.py")
    assert not again.exception
    assert again.text_input(key="owner_name").value == "Min"
    assert again.radio(key="lang").value == "ko"
    assert again.selectbox(key="sim_profile").value == "fast"
    assert again.session_state["sim_seed"] == 7
    restored = again.session_state["invoke_last_run"]
    assert restored.calls[0].topic == "penguins" and restored.calls[0].output == answer
    assert any("penguins" in element.value for element in again.markdown)


def test_the_api_key_is_never_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/home.py", state={"provider": "openai", "api_key": "sk-secret-never-kept", "model_name": "gpt-4o"})
    run_set = app.session_state["run_set"]
    from ui.deployment.store import open_sql_store, store_limits, store_url

    saved = open_sql_store(store_url(), store_limits()).prefs(run_set)
    assert saved["provider"] == "openai" and saved["model_name"] == "gpt-4o"
    assert "sk-secret" not in repr(saved)

    again = reopen(monkeypatch, run_set, page="pages/home.py")
    assert again.session_state["provider"] == "openai"
    assert again.text_input(key="api_key").value == ""


def test_saved_preferences_are_checked_like_hostile_input() -> None:
    prefs = checked_prefs(
        {
            "lang": "fr",
            "provider": "evil",
            "owner_name": "Min\u202e\x00",
            "temperature": 99,
            "sim_seed": float("nan"),
            "api_key": "sk-x",
            "last_results": {"invoke_last_run": ["one", ["r1234567"]], "run_history": ["list", ["r1"]], "x_last_runs": ["bad", []]},
        }
    )
    assert prefs == {"owner_name": "Min", "temperature": 2.0, "last_results": {"invoke_last_run": ["one", ["r1234567"]]}}


@pytest.mark.parametrize("store", [lambda: RunStore(sa.create_engine("sqlite://")), MemoryRunStore])
def test_the_stores_keep_one_preferences_document_per_run_set(store) -> None:
    runs = store()
    runs.save_prefs("a" * 32, {"lang": "ko"})
    runs.save_prefs("a" * 32, {"lang": "en", "owner_name": "Ana"})
    assert runs.prefs("a" * 32) == {"lang": "en", "owner_name": "Ana"}
    assert runs.prefs("b" * 32) == {}
    runs.save_prefs("b" * 32, {"huge": "x" * 20_000})  # over the bound: not kept
    assert runs.prefs("b" * 32) == {}


def test_a_reload_restores_a_multi_run_pages_last_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("a\nb")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    ran = [record.run_id for record in app.session_state["batch_last_runs"]]

    again = reopen(monkeypatch, app.session_state["run_set"], page="pages/batch.py")
    assert not again.exception
    assert [record.run_id for record in again.session_state["batch_last_runs"]] == ran
    assert any(chart for chart in again.get("plotly_chart") if "batch_timeline" in chart.proto.id)


def test_a_language_the_visitor_did_not_choose_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/home.py", state={"owner_name": "Ana"})
    from ui.deployment.store import open_sql_store, store_limits, store_url

    saved = open_sql_store(store_url(), store_limits()).prefs(app.session_state["run_set"])
    assert saved["owner_name"] == "Ana" and "lang" not in saved, "the browser's locale decides again after a reload"
