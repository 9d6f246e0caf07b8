"""The browser's chart warm-up: one hidden Plotly chart on a session's first run, never again."""

from __future__ import annotations

import pytest
from streamlit.runtime import pages_manager
from streamlit.testing.v1 import AppTest

from tests.app_harness import APP_FILE, _PathWithoutPagesFolder
from ui.style import style_css


def test_first_run_of_a_session_ends_with_one_hidden_chart_and_the_next_run_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_manager, "Path", _PathWithoutPagesFolder)
    monkeypatch.setattr(pages_manager.PagesManager, "uses_pages_directory", None)
    app = AppTest.from_file(str(APP_FILE), default_timeout=60)
    app.run()  # Home: no chart of its own
    assert not app.exception
    charts = app.get("plotly_chart")
    assert len(charts) == 1, "Home draws no chart; the warm-up is the only one"
    assert "chart_warm_up_plot" in charts[0].proto.id
    app.run()
    assert not app.exception
    assert not app.get("plotly_chart"), "once per session: a later run sends no warm-up chart"


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_warm_up_chart_takes_no_space_and_is_not_announced(language: str) -> None:
    # display: none removes the box from the layout and from the accessibility tree, at every width.
    assert ".st-key-chart_warm_up { display: none; }" in style_css(language)


def test_a_page_on_a_fresh_server_waits_for_the_warm_up_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import ui.style as style

    done = threading.Event()
    monkeypatch.setattr(style, "_warm_up_started", True)
    monkeypatch.setattr(style, "_warm_up_done", done)
    order: list[str] = []
    page = threading.Thread(target=lambda: (style.wait_for_chart_warm_up(), order.append("page runs")))
    page.start()
    page.join(0.2)
    assert page.is_alive(), "the page must not run while the warm-up thread imports numpy"
    order.append("imports done")
    done.set()
    page.join(10)
    assert order == ["imports done", "page runs"]


def test_no_wait_before_any_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import ui.style as style

    monkeypatch.setattr(style, "_warm_up_started", False)
    monkeypatch.setattr(style, "_warm_up_done", threading.Event())  # never set
    style.wait_for_chart_warm_up()  # returns at once: nothing to wait for


def test_the_warm_up_freezes_what_was_imported_and_later_garbage_is_still_collected(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import threading

    import ui.style as style

    monkeypatch.setattr(style, "_warm_up_started", False)
    monkeypatch.setattr(style, "_warm_up_done", threading.Event())
    gc.unfreeze()
    try:
        style.warm_up_charts()
        assert style._warm_up_done.wait(60), "the warm-up thread finished"
        assert gc.get_freeze_count() > 10_000, "the imported modules are out of the cyclic collector's sight"

        class Node:
            def __init__(self) -> None:
                self.me = self

        for _ in range(100):
            Node()  # a cycle made after the freeze: only the cyclic collector frees it
        assert gc.collect() >= 100, "garbage made after the freeze is still collected"
    finally:
        gc.unfreeze()


def test_the_warm_up_shortens_the_gil_switch_interval_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import threading

    import ui.style as style

    intervals: list[float] = []
    monkeypatch.setattr(sys, "setswitchinterval", intervals.append)  # the test process keeps its own
    monkeypatch.setattr(style, "_warm_up_started", False)
    monkeypatch.setattr(style, "_warm_up_done", threading.Event())
    style.warm_up_charts()
    assert style._warm_up_done.wait(60), "the warm-up thread finished"
    style.warm_up_charts()  # a later run starts no second warm-up
    assert intervals == [style.GIL_SWITCH_INTERVAL_S]
    assert intervals[0] < 0.005, "shorter than Python's default of 5 ms"
