"""What a Run press no longer does before its calls start (a study group presses Run together)."""

from __future__ import annotations

from typing import Any

import pytest
import streamlit

from chains.records import store as store_module
from devtools.browser import strings
from tests.app.test_fault_matrix import page_dump
from tests.app_harness import FAST_SIMULATOR, open_app
from ui.i18n import LANGUAGE_KEY
from ui.navigation import PAGE_SPECS
from ui.runs.keeping import HISTORY_KEY


def _count_page_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the file of every ``st.Page`` made from a file (each one resolves it on the disk)."""
    made: list[str] = []
    real_page = streamlit.Page

    def counting_page(page: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(page, str):
            made.append(page)
        return real_page(page, *args, **kwargs)

    monkeypatch.setattr(streamlit, "Page", counting_page)
    return made


def test_the_pages_are_made_once_per_session_and_again_after_a_language_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _count_page_files(monkeypatch)
    app = open_app(monkeypatch, "pages/stream.py", state=FAST_SIMULATOR)
    assert not app.exception
    assert sorted(made) == sorted(spec.script for spec in PAGE_SPECS), "the session's first run makes each page once"

    app.button(key="run").click().run()
    app.run()
    assert not app.exception
    assert len(made) == len(PAGE_SPECS), "later runs in the same language reuse the session's pages"

    app.session_state[LANGUAGE_KEY] = "ko"
    app.run()
    assert not app.exception
    assert len(made) == 2 * len(PAGE_SPECS), "a language switch makes them again, with translated titles"
    assert app.title[0].value == strings("ko")["stream"]["title"]


def test_a_sessions_runs_are_read_after_its_first_page_not_when_run_is_pressed(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    for store_class in (store_module.RunStore, store_module.MemoryRunStore):
        real_runs = store_class.runs

        def counting_runs(self: Any, run_set: str, _real: Any = real_runs) -> Any:
            reads.append(run_set)
            return _real(self, run_set)

        monkeypatch.setattr(store_class, "runs", counting_runs)

    app = open_app(monkeypatch, "pages/stream.py", state=FAST_SIMULATOR)
    assert not app.exception
    assert reads, "the first page reads the session's runs once it is drawn"
    assert app.session_state[HISTORY_KEY] == []
    reads.clear()

    app.button(key="run").click().run()
    assert not app.exception
    assert reads == [], "pressing Run starts the calls without a query to the store"
    assert [record.mode for record in app.session_state[HISTORY_KEY]] == ["stream"], "and the run is still kept"


def test_a_stream_run_the_host_pays_for_is_followed_by_a_full_run_that_shows_the_calls_left(
    monkeypatch: pytest.MonkeyPatch, openai_server: Any
) -> None:
    """The Run fragment does not redraw the sidebar; after a metered run the whole app reruns, so its calls left are right."""
    from tests.app.test_security import EN, deployment

    env = deployment(openai_server, HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR="9", HOST_KEY_MAX_TOPICS="4")
    left = lambda remaining: EN["security"]["calls_left"].format(remaining=remaining, total=9, topics=4)  # noqa: E731
    app = open_app(monkeypatch, "pages/stream.py", env=env, state={"timeout_s": 5.0})
    assert not app.exception
    assert left(9) in page_dump(app)

    app.button(key="run").click().run()
    assert not app.exception
    assert openai_server.requests_total == 1, "one streamed call"
    assert left(8) in page_dump(app), "the sidebar drawn after the run counts it"


def _deltas_up_to_the_first_words(script: str, scenario: Any) -> list[str]:
    """The deltas a Run press sends before the answer's first words, as ``kind`` names, on a real server."""
    import asyncio

    from bench.load import RunMarks, StreamlitSession
    from devtools.browser import served_app

    async def press() -> list[str]:
        with served_app(script) as app:
            session = StreamlitSession(app.url, timeout_s=60)
            await session.open(scenario)
            try:
                await session.wait_for_run(await session.press_run("short"))  # the server's first run imports more
                kinds: list[str] = []
                marks = await session.press_run("short")

                def note(message: Any, run: RunMarks) -> None:
                    session._watch_answer(message, run)
                    if run.first is None:
                        delta = message.delta
                        kind = delta.WhichOneof("type")
                        if kind == "new_element":
                            kinds.append(delta.new_element.WhichOneof("type"))
                        elif kind == "add_block":
                            kinds.append(f"block:{delta.add_block.WhichOneof('type')}")

                await session._read_run(marks, on_delta=note)
                assert marks.first is not None and not marks.failed, marks.error
                return kinds
            finally:
                await session.close()

    return asyncio.run(press())


def test_a_run_press_redraws_no_columns_headings_or_boxes_before_the_first_words() -> None:
    """Stream's layout is drawn by the full run; the Run fragment writes into it, as the bare page writes into its one box."""
    from bench.load import BARE, BARE_SCRIPT, SCENARIOS

    app = _deltas_up_to_the_first_words("streamlit_app.py", SCENARIOS["stream"])
    bare = _deltas_up_to_the_first_words(BARE_SCRIPT, BARE)
    assert "heading" not in app and "block:column" not in app, app
    assert app.count("button") == 1 and "markdown" not in app[:-1], app
    # The fragment's own place, and a wrapper for each box it writes into (the answer, the chunks, the results):
    # what Streamlit adds to a fragment that writes outside itself. The bare page has its box and nothing else.
    assert len(app) <= len(bare) + 4, (app, bare)
