"""Defaults match what the page runs: the first Run with a page's defaults shows no warning."""

from __future__ import annotations

import pytest

from tests.app_harness import FAST_SIMULATOR, MODE_PAGES, open_app
from ui.i18n import load_strings

#: Fragments of the "topics were left out" messages, in both languages.
DROPPED = [load_strings(language)[key].split("{")[0].strip() for language in ("en", "ko") for key in ("input.too_many",)]


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("page", [*MODE_PAGES, "pages/lab.py"])
def test_first_run_with_the_defaults_shows_no_warning(monkeypatch: pytest.MonkeyPatch, page: str, language: str) -> None:
    app = open_app(monkeypatch, page, state={**FAST_SIMULATOR, "lang": language})
    app.button(key="run").click().run()
    assert not app.exception
    assert not app.warning, [warning.value for warning in app.warning]
    infos = "\n".join(str(info.value) for info in app.info)
    for fragment in DROPPED:
        assert fragment not in infos


@pytest.mark.parametrize("language", ["en", "ko"])
def test_stream_opens_with_one_topic(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    app = open_app(monkeypatch, "pages/stream.py", state={**FAST_SIMULATOR, "lang": language})
    topics = app.text_area(key="topics").value
    assert topics == load_strings(language)["examples.topic"]
    assert len(topics.splitlines()) == 1
