"""AppTest: the chain_shape select box on Stream, Inside the chain and Compare, in English and Korean (issue 29)."""

from __future__ import annotations

import json

import pytest

from chains.experiments.shapes import SHAPES
from tests.app_harness import FAST_SIMULATOR, open_app, texts
from ui.i18n import load_strings


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_select_box_offers_every_shape_by_its_translated_name(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    strings = load_strings(language)
    for page in ("pages/stream.py", "pages/inside.py", "pages/compare.py"):
        app = open_app(monkeypatch, page, state={**FAST_SIMULATOR, "lang": language})
        assert not app.exception
        select = app.selectbox(key="chain_shape")
        assert select.value == "seed"
        assert select.options == [strings[shape.label_key] for shape in SHAPES.values()]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_stream_with_the_blocking_step_gets_one_chunk_and_says_why(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    strings = load_strings(language)
    app = open_app(monkeypatch, "pages/stream.py", state={**FAST_SIMULATOR, "lang": language})
    app.selectbox(key="chain_shape").set_value("blocking")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    record = app.session_state["stream_last_run"]
    assert record.shape == "blocking" and len(record.calls[0].chunks) == 1
    warnings = [warning.value for warning in app.warning]
    assert any(text.startswith(strings["chain_verdicts.blocked"].split("{")[0]) for text in warnings)
    assert any("RunnableLambda(shout)" in code.value for code in app.code), "Show the code shows the shape that ran"


def test_stream_with_two_branches_renders_one_answer_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/stream.py", state=FAST_SIMULATOR)
    app.selectbox(key="chain_shape").set_value("branches")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    record = app.session_state["stream_last_run"]
    assert list(json.loads(record.calls[0].output)) == ["joke", "haiku"]
    captions = [caption.value for caption in app.caption]
    assert "joke" in captions and "haiku" in captions
    app.run()  # drawn again from the record: the answer is the JSON text
    assert any(code.language == "json" and '"haiku"' in code.value for code in app.code)


@pytest.mark.parametrize("shape_id", list(SHAPES))
def test_inside_the_chain_traces_every_shape(monkeypatch: pytest.MonkeyPatch, shape_id: str) -> None:
    app = open_app(monkeypatch, "pages/inside.py", state=FAST_SIMULATOR)
    app.selectbox(key="chain_shape").set_value(shape_id)
    app.button(key="run").click()
    app.run()
    assert not app.exception
    names = [name.split(". ", 1)[1] for name in app.dataframe[0].value.iloc[:, 0]]
    assert names and (shape_id != "blocking" or names[-1] == "shout")
    shown = texts(app)
    if shape_id == "blocking":
        assert 'The chunks stop at "shout"' in shown
    if shape_id == "branches":
        assert "Model calls overlapped inside one call" in shown
    if shape_id == "fallback":
        assert "Model calls: 2, failed: 1" in shown
    if shape_id == "retry":
        assert "is not retried by `with_retry`" in shown


def test_compare_runs_the_chosen_shape_in_every_mode_and_history_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/compare.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("cats\ndogs")
    app.selectbox(key="chain_shape").set_value("retry")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    records = app.session_state["compare_last_runs"]
    assert {record.shape for record in records} == {"retry"}
    invoke = next(record for record in records if record.mode == "invoke")
    assert invoke.calls[0].ok and invoke.calls[0].retries == 1
    assert any("`invoke` recovered (retries: 1), `stream` did not" in warning.value for warning in app.warning)
    app.switch_page("pages/history.py")
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert "Retry (with_retry, first attempt fails)" in set(table["shape"])
