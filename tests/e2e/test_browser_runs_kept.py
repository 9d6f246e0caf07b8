"""Nothing is lost, in Chromium: a reload keeps the runs (a sweep included), and a stream cut short
by a language switch or by leaving the page is kept, shown and listed as stopped.

Screenshots at 1280x900 go to ``test-artifacts/e2e/kept-*.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.helpers import (
    ARTIFACTS,
    app_env,
    assert_no_exception,
    choose_in_sidebar_selectbox,
    choose_radio,
    click_run,
    open_page,
    playwright_expect,
    screenshot,
    served_app,
    set_slider,
    set_topics,
    strings,
    wait_for_idle,
    wait_for_metrics,
)

pytestmark = pytest.mark.e2e

EN = strings("en")
KO = strings("ko")
SCREEN = {"width": 1280, "height": 900}


@pytest.fixture
def page(browser: Any, warm_app: str) -> Any:
    """A fresh session at 1280x900 (the size the screenshots are checked at)."""
    context = browser.new_context(viewport=SCREEN, locale="en-US")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def run_set_of(page: Any) -> str:
    found = re.search(r"[?&]run_set=([A-Za-z0-9_-]+)", page.url)
    assert found, f"no run_set in {page.url}"
    return found.group(1)


def go_to(page: Any, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_idle(page)


def runs_metric(page: Any, label: str) -> Any:
    return page.get_by_test_id("stMetric").filter(has_text=label).first.get_by_test_id("stMetricValue")


def start_long_stream(page: Any, strings_: dict[str, Any], topic: str) -> None:
    choose_radio(page, page.locator(".st-key-answer_length"), strings_["stream"]["length_long"])
    set_topics(page, topic)
    click_run(page)
    page.wait_for_function(
        "() => (document.querySelector('.st-key-stream_output')?.innerText || '').length > 120", timeout=30_000
    )


def test_a_reload_keeps_the_runs_and_the_sweep(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/invoke")
    choose_in_sidebar_selectbox(page, EN["sidebar"]["profile"], EN["profiles"]["fast"])
    set_topics(page, "penguins")
    click_run(page)
    wait_for_metrics(page, EN["metrics"]["latency"])
    run_set = run_set_of(page)

    go_to(page, EN["nav"]["lab"])
    assert run_set_of(page) == run_set, "run_set stays in the URL across page switches"
    for key in ("sweep_k", "sweep_repeats"):
        set_slider(page, key, 1)
    page.locator(".st-key-run button").first.click()
    page.locator(".st-key-sweep_chart .js-plotly-plot").wait_for(state="attached", timeout=60_000)
    wait_for_idle(page)

    page.reload()
    page.locator("h1").first.wait_for(state="visible")
    wait_for_idle(page)
    assert run_set_of(page) == run_set
    go_to(page, EN["nav"]["history"])
    assert_no_exception(page)
    # One invoke run and the sweep's two runs (k=1, one repeat: loop and batch).
    playwright_expect()(runs_metric(page, EN["history"]["total_runs"])).to_have_text("3")
    playwright_expect()(page.get_by_text(EN["store"]["kept_note"][:30])).to_be_visible()
    screenshot(page, "kept-history-after-reload")


def test_a_language_switch_mid_stream_keeps_the_partial_answer_marked_stopped(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/stream")
    start_long_stream(page, EN, "octopus")
    partial = page.locator(".st-key-stream_output").inner_text()
    choose_radio(page, page.get_by_test_id("stSidebar"), "한국어")
    playwright_expect()(page.locator("h1").first).to_have_text(KO["stream"]["title"])
    assert_no_exception(page)
    playwright_expect()(page.get_by_text(KO["store"]["stopped_note"][:20])).to_be_visible()
    kept = page.locator(".st-key-stream_output").inner_text()
    assert len(kept) >= len(partial.rstrip(" ▌")) - 5, (len(kept), len(partial))
    assert "octopus" in kept.lower() or len(kept) > 120
    page.get_by_text(KO["store"]["stopped_note"][:20]).scroll_into_view_if_needed()
    screenshot(page, "kept-stream-stopped-ko")

    go_to(page, KO["nav"]["history"])
    playwright_expect()(runs_metric(page, KO["history"]["total_runs"])).to_have_text("1")
    screenshot(page, "kept-history-stopped-ko")


def test_leaving_mid_stream_and_coming_back_shows_the_partial_answer_as_stopped(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/stream")
    start_long_stream(page, EN, "volcanoes")
    go_to(page, EN["nav"]["batch"])
    go_to(page, EN["nav"]["stream"])
    assert_no_exception(page)
    playwright_expect()(page.get_by_text(EN["store"]["stopped_note"][:30])).to_be_visible()
    playwright_expect()(page.get_by_text(re.compile(r"Run at .* · simulator · .* · topics: 1 · ⏹️ stopped"))).to_be_visible()
    assert len(page.locator(".st-key-stream_output").inner_text()) > 100
    page.get_by_text(EN["store"]["stopped_note"][:30]).scroll_into_view_if_needed()
    screenshot(page, "kept-stream-stopped-en")


def test_history_says_which_runs_a_bound_evicted(browser: Any, tmp_path: Any) -> None:
    """A server that keeps 2 entries per browser: the third invoke evicts the first, and History says so."""
    env = {**app_env(), "RUNS_DB_DIR": str(tmp_path), "RUNS_MAX_PER_SET": "2"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "streamlit-server-evictions.log").open("wb") as log, served_app(log=log, env=env) as app:
        context = browser.new_context(viewport=SCREEN, locale="en-US")
        context.set_default_timeout(30_000)
        try:
            page = context.new_page()
            open_page(page, f"{app.url}/invoke", timeout_ms=90_000)
            choose_in_sidebar_selectbox(page, EN["sidebar"]["profile"], EN["profiles"]["fast"])
            for topic in ("cats", "dogs", "owls"):
                set_topics(page, topic)
                click_run(page)
                playwright_expect()(page.locator(".st-key-invoke_result")).to_contain_text(topic)
                wait_for_idle(page)
            go_to(page, EN["nav"]["history"])
            notice = page.locator(".st-key-history_evicted")
            playwright_expect()(notice).to_contain_text("entries removed: 1, runs in them: 1")
            playwright_expect()(notice).to_contain_text("`invoke` at".replace("`", ""))
            playwright_expect()(runs_metric(page, EN["history"]["total_runs"])).to_have_text("2")
            screenshot(page, "kept-history-evicted")
            notice.get_by_role("button", name=EN["store"]["evicted_ok"]).click()
            wait_for_idle(page)
            playwright_expect()(page.locator(".st-key-history_evicted")).to_have_count(0)
            assert_no_exception(page)
        finally:
            context.close()
