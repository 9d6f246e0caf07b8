"""Every choice survives a language switch (issue 12): widget values are stable ids, labels are translated.

The browser's own reset (it sends the *translated* label back) is covered by
``tests/e2e/test_browser_lesson.py``; these AppTest tests check every page's
widgets keep their values, and that labels really change language.
"""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_harness import FAST_SIMULATOR, open_app
from ui.i18n import load_strings

KO = load_strings("ko")


def switch_language(app: AppTest, language: str) -> None:
    app.radio(key="lang").set_value(language)
    app.run()
    assert not app.exception


def widget(app: AppTest, kind: str, key: str) -> Any:
    return getattr(app, kind)(key=key)


#: page -> [(widget kind, key, chosen value)]; every value differs from the page's default.
CHOICES: dict[str, list[tuple[str, str, Any]]] = {
    "pages/stream.py": [("radio", "chunk_style", "bang"), ("radio", "answer_length", "long"), ("radio", "answer_shape", "code")],
    "pages/batch.py": [("toggle", "batch_with_loop", False), ("toggle", "batch_capped", True)],
    "pages/async_modes.py": [("slider", "abatch_max_concurrency", 5), ("toggle", "async_with_sync", False)],
    "pages/lab.py": [("slider", "sweep_k", 3), ("slider", "sweep_repeats", 2), ("toggle", "sweep_capped", True)],
}


@pytest.mark.parametrize("page", list(CHOICES))
def test_page_choices_survive_a_language_switch_and_back(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(monkeypatch, page, state=FAST_SIMULATOR)
    for kind, key, value in CHOICES[page]:
        widget(app, kind, key).set_value(value)
        app.run()
    for language in ("ko", "en", "ko"):
        switch_language(app, language)
        for kind, key, value in CHOICES[page]:
            assert widget(app, kind, key).value == value, (language, key)


def test_stream_radio_labels_change_language_but_not_their_values(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/stream.py", state=FAST_SIMULATOR)
    app.radio(key="chunk_style").set_value("bang").run()
    switch_language(app, "ko")
    radio = app.radio(key="chunk_style")
    assert radio.options == [KO["stream.chunk_style_colour"], KO["stream.chunk_style_bang"]]
    assert radio.value == "bang"
    assert radio.index == 1


def test_batch_max_concurrency_survives_a_language_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    app.toggle(key="batch_capped").set_value(True).run()
    app.slider(key="max_concurrency").set_value(3).run()
    switch_language(app, "ko")
    assert app.toggle(key="batch_capped").value is True
    assert app.slider(key="max_concurrency").value == 3


def test_sidebar_choices_survive_a_language_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/invoke.py")
    app.selectbox(key="sim_profile").set_value("seed-blog-gpt-3.5-turbo").run()
    app.slider(key="sim_jitter").set_value(0.4).run()
    app.number_input(key="sim_seed").set_value(7).run()
    switch_language(app, "ko")
    assert app.selectbox(key="sim_profile").value == "seed-blog-gpt-3.5-turbo"
    assert app.selectbox(key="provider").value == "simulator"
    assert app.slider(key="sim_jitter").value == pytest.approx(0.4)
    assert app.number_input(key="sim_seed").value == 7


@pytest.mark.parametrize("page", ["pages/batch.py", "pages/stream.py", "pages/compare.py"])
def test_edited_topics_survive_a_language_switch(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(monkeypatch, page, state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("the moon\npenguins").run()
    switch_language(app, "ko")
    assert app.text_area(key="topics").value == "the moon\npenguins"


def test_example_topics_follow_the_language_until_edited(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    switch_language(app, "ko")
    assert app.text_area(key="topics").value == KO["examples.topics"]


def test_history_export_scope_survives_a_language_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/invoke.py", state=FAST_SIMULATOR)
    app.button(key="run").click().run()
    app.switch_page("pages/history.py").run()
    assert not app.exception
    app.radio(key="history_export_scope").set_value("picked").run()
    switch_language(app, "ko")
    assert app.radio(key="history_export_scope").value == "picked"
    assert len(app.multiselect(key="history_pick").value) == 1
