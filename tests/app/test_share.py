"""Share and compare, in the real app under AppTest: the nickname, the import's errors, and the read-only share link.

A second browser is a new AppTest session: it shares the run store (the test's
``RUNS_DB_DIR``) but not the session, exactly as two browsers on one server.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from streamlit.runtime import pages_manager
from streamlit.testing.v1 import AppTest

from chains.records.exchange import ExchangeError, runs_to_json
from chains.timing import CallTiming, RunRecord
from tests.app_harness import APP_FILE, FAST_SIMULATOR, _PathWithoutPagesFolder, open_app, texts

ROOT = Path(__file__).resolve().parents[2]
EN = tomllib.loads((ROOT / "ui/locales/en.toml").read_text())["share"]
HISTORY = "pages/history.py"


def member_run(owner: str, mode: str = "stream", topic: str = "ice cream") -> RunRecord:
    call = CallTiming(index=0, topic=topic, start_s=0.0, end_s=0.9, first_token_s=0.2, chunks=[(0.2, "a "), (0.4, "joke")], output="a joke")
    return RunRecord(mode=mode, n=1, wall_s=0.95, max_concurrency=None, provider="compatible", model="llama3.2", calls=[call], owner=owner)


def table_column(app: AppTest, column: str) -> list:
    """A column of the page's (only) table: History's own, or the shared view's."""
    assert len(app.dataframe) == 1
    frame = app.dataframe[0].value
    return list(frame[column]) if column in frame else []


def run_invoke(app: AppTest, topic: str = "cats") -> None:
    app.switch_page("pages/invoke.py")
    app.run()
    field = app.text_input(key="topics") if app.text_input(key="topics") is not None else app.text_area(key="topics")
    field.set_value(topic)
    app.button(key="run").click()
    app.run()
    assert not app.exception


def stored_runs(app: AppTest) -> list[RunRecord]:
    """This session's runs as the store holds them (a fresh read, not the page's copy)."""
    import os

    import sqlalchemy as sa

    from chains.records.store import RunStore, prepare_sqlite, sqlite_url

    engine = sa.create_engine(sqlite_url(os.environ["RUNS_DB_DIR"]))
    prepare_sqlite(engine)
    try:
        return RunStore(engine).runs(app.session_state["run_set"])
    finally:
        engine.dispose()


def open_fresh(monkeypatch: pytest.MonkeyPatch, query: dict[str, str]) -> AppTest:
    """A second browser: a new session on History with ``query`` in its URL."""
    monkeypatch.setattr(pages_manager, "Path", _PathWithoutPagesFolder)
    app = AppTest.from_file(str(APP_FILE), default_timeout=60)
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    app.switch_page(HISTORY)
    app.run()
    assert not app.exception
    return app


def test_the_nickname_is_saved_with_each_run_and_survives_a_language_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/invoke.py", state=FAST_SIMULATOR)
    app.text_input(key="owner_name").set_value("  Min\u202e\x07 ").run()
    assert app.session_state["owner_name"] == "Min"  # control characters are stripped as it is typed
    app.radio(key="lang").set_value("ko").run()
    assert app.text_input(key="owner_name").value == "Min"
    run_invoke(app)
    assert [record.owner for record in stored_runs(app)] == ["Min"]
    app.switch_page(HISTORY)
    app.run()
    assert table_column(app, "owner") == ["Min"]


def test_a_bad_import_shows_one_error_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, state=FAST_SIMULATOR)
    run_invoke(app)
    app.switch_page(HISTORY)
    app.run()
    before = [record.run_id for record in stored_runs(app)]
    hostile = json.loads(runs_to_json([member_run("Ana")]))
    hostile["runs"][0]["mode"] = "<script>alert(1)</script>"
    good = runs_to_json([member_run("Min")]).encode()
    app.file_uploader(key="import_runs").set_value(
        [("good.json", good, "application/json"), ("evil<b>`\n.json", json.dumps(hostile).encode(), "application/json")]
    ).run()
    assert not app.exception
    assert len(app.error) == 1
    message = app.error[0].value
    assert "evil<b>.json" in message and EN["reason_unknown_mode"] in message and "<script>" not in message
    assert [record.run_id for record in stored_runs(app)] == before  # all or nothing: the good file was not kept either
    assert len(app.dataframe[0].value) == 1


def test_imports_keep_owners_are_not_repeated_and_overlay_both_members(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, HISTORY, state=FAST_SIMULATOR)
    min_file = runs_to_json([member_run("Min"), member_run("Min", "batch")]).encode()
    ana_file = runs_to_json([member_run("Ana", topic="<img src=x onerror=alert(1)>")]).encode()
    app.file_uploader(key="import_runs").set_value([("min.json", min_file, "application/json"), ("ana.json", ana_file, "application/json")]).run()
    assert not app.exception and not app.error
    assert [record.owner for record in stored_runs(app)] == ["Min", "Min", "Ana"]
    assert EN["imported"].format(runs=3, files=2) in texts(app)
    assert set(table_column(app, "owner")) == {"Min", "Ana"}
    # Both members are picked for the overlay at once, and the legends say whose run is whose.
    arrival = next(chart for chart in app.get("plotly_chart") if "history_arrival" in chart.proto.id)
    figure = json.loads(arrival.proto.spec)
    legends = {trace["name"] for trace in figure["data"] if trace.get("showlegend", True)}
    assert any(name.startswith("Min · ") for name in legends) and any(name.startswith("Ana · ") for name in legends)
    assert "<img" not in arrival.proto.spec  # the hostile topic is escaped for plotly

    # The same content again (a new upload of the same file) is not imported twice.
    app.file_uploader(key="import_runs").set_value([("min again.json", min_file, "application/json")]).run()
    assert len(stored_runs(app)) == 3
    assert "min again.json" in texts(app)


def test_every_refusal_reason_has_a_message_in_both_languages() -> None:
    for language in ("en", "ko"):
        strings = tomllib.loads((ROOT / f"ui/locales/{language}.toml").read_text())["share"]
        for reason in (*ExchangeError.REASONS, "batch_too_many"):
            assert f"reason_{reason}" in strings, (language, reason)


def test_the_share_link_is_read_only_and_copies_into_the_visitors_own_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = open_app(monkeypatch, "pages/invoke.py", state=FAST_SIMULATOR)
    owner.text_input(key="owner_name").set_value("Min").run()
    run_invoke(owner)
    owner.switch_page(HISTORY)
    owner.run()
    owner_set = owner.session_state["run_set"]
    link = next(element.value for element in owner.code)
    assert "?view=" in link and owner_set not in link
    token = link.split("?view=")[1]

    visitor = open_fresh(monkeypatch, {"view": token})
    visitor_set = visitor.session_state["run_set"]
    assert visitor_set != owner_set
    assert table_column(visitor, "owner") == ["Min"]
    assert "Min" in texts(visitor)
    assert not [button for button in visitor.button if button.key == "history_clear"]  # nothing here deletes
    assert "import_runs" not in [uploader.key for uploader in visitor.file_uploader]  # nor adds
    before = [(record.run_id, record.calls) for record in stored_runs(owner)]
    visitor.button(key="share_copy").click().run()
    assert not visitor.exception
    copied = stored_runs(visitor)
    assert [record.owner for record in copied] == ["Min"] and copied[0].run_id != before[0][0]
    assert copied[0].calls == before[0][1]
    assert [(record.run_id, record.calls) for record in stored_runs(owner)] == before  # the owner's set is unchanged
    visitor.button(key="share_back").click().run()
    assert table_column(visitor, "owner") == ["Min"]  # back on the visitor's own runs, the copy there
    assert visitor.session_state["run_set"] == visitor_set


@pytest.mark.parametrize("token", ["not a token", "A" * 32])
def test_a_bad_or_unknown_share_link_says_so_and_loses_nothing(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    visitor = open_fresh(monkeypatch, {"view": token})
    assert len(visitor.error) == 1 and EN["bad_link"] in visitor.error[0].value
    assert not visitor.get("plotly_chart")


def test_overlay_charts_show_owners_and_keep_imported_markup_as_text() -> None:
    from ui.elements.charts import runs_timeline, runs_token_arrival, runs_wall_bars
    from ui.runs.history import chart_label, default_overlay, run_label

    hostile = member_run("<b>Ana</b>", topic="<a href='https://evil.example'>x</a> %{x}")
    plain = member_run("", mode="batch")
    plain.provider, plain.model = "simulator", "simulated-fast"
    records = [member_run("Min"), hostile, plain]
    assert run_label(1, records[0]).startswith("#1 Min · llama3.2 · ")
    assert run_label(3, plain) == "#3 batch"  # no owner: as before
    labels = [chart_label(position, record) for position, record in enumerate(records, start=1)]
    for figure in (runs_wall_bars(records, labels), runs_timeline(records, labels), runs_token_arrival(records[:2], labels[:2])):
        spec = figure.to_json()
        assert "<b>Ana" not in spec and "<a href" not in spec and "%{x}" not in spec.replace("%{x:", "")
    legends = [trace.name for trace in runs_token_arrival(records[:2], labels[:2]).data if trace.showlegend]
    assert legends[0].startswith("Min · ") and legends[1].startswith("&lt;b&gt;Ana&lt;/b&gt; · ")
    # The default overlay takes whole runs from each member, not only the last three.
    many = [member_run("Min") for _ in range(4)] + [member_run("Ana")]
    picked = default_overlay(list(enumerate(many, start=1)))
    assert {record.owner for record in many if record.run_id in picked} == {"Min", "Ana"}


def overlay_run_ids(app: AppTest) -> tuple[list[str], set[str]]:
    """The overlay's chips (the multiselect's value) and the labels its wall-time chart draws."""
    chips = list(app.multiselect(key="history_pick").value)
    wall = next(chart for chart in app.get("plotly_chart") if "history_wall" in chart.proto.id)
    drawn = {str(label) for trace in json.loads(wall.proto.spec)["data"] for label in (trace.get("y") or [])}
    return chips, drawn


def test_an_own_export_imported_back_adds_nothing_even_in_a_new_session(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, HISTORY, state=FAST_SIMULATOR)
    run_invoke(app, "cats")
    run_invoke(app, "dogs")
    app.switch_page(HISTORY)
    app.run()
    own_export = runs_to_json(stored_runs(app)).encode()
    member = runs_to_json([member_run("Ana")]).encode()
    app.file_uploader(key="import_runs").set_value([("mine.json", own_export, "application/json"), ("ana.json", member, "application/json")]).run()
    assert not app.exception and not app.error
    assert len(stored_runs(app)) == 3, "only Ana's run is new"
    assert EN["import_skipped"].format(skipped=2, runs=1) in texts(app)
    chips, drawn = overlay_run_ids(app)
    assert len(chips) == len(drawn) == 3, "the chips and the chart show the same runs at once"

    # A reload (a new session on the same run set) imports the same files again: nothing is added.
    again = open_fresh(monkeypatch, {"run_set": app.session_state["run_set"]})
    again.file_uploader(key="import_runs").set_value([("ana.json", member, "application/json"), ("mine.json", own_export, "application/json")]).run()
    assert not again.exception
    assert len(stored_runs(again)) == 3
    assert EN["import_skipped"].format(skipped=3, runs=0) in texts(again)
