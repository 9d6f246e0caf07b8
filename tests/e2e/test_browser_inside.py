"""Browser test: the Inside page draws the timeline of one call's steps (issue 16, part 3)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import (
    assert_no_exception,
    choose_in_sidebar_selectbox,
    click_run,
    open_page,
    playwright_expect,
    screenshot,
    strings,
    wait_for_metrics,
)

pytestmark = pytest.mark.e2e

EN = strings("en")
KO = strings("ko")
SEED_STEPS = ["RunnableParallel<topic>", "RunnablePassthrough", "ChatPromptTemplate", "SimulatedChatModel", "StrOutputParser"]


@pytest.mark.parametrize("locale", ["en-US", "ko-KR"])
def test_the_step_view_draws_its_timeline(browser: Any, warm_app: str, locale: str) -> None:
    words = KO if locale.startswith("ko") else EN
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale=locale)
    page = context.new_page()
    try:
        open_page(page, f"{warm_app}/inside")
        playwright_expect()(page.locator("h1").first).to_have_text(words["inside"]["title"])
        choose_in_sidebar_selectbox(page, words["sidebar"]["profile"], words["profiles"]["fast"])
        click_run(page)
        wait_for_metrics(page, words["inside"]["metric_model_share"])
        assert_no_exception(page)
        chart = page.locator(".st-key-inside_timeline .js-plotly-plot")
        chart.wait_for(state="attached", timeout=30_000)
        chart.scroll_into_view_if_needed()
        playwright_expect()(chart.locator("g.point").first).to_be_attached()
        screenshot(page, f"inside-timeline-{locale}")
        rows = chart.evaluate("el => el.data.filter(trace => trace.type === 'bar').map(trace => trace.y[0])")
        # The whole chain, then the four steps and the map's passthrough, in the order they started.
        assert len(rows) == 6, rows
        assert [row.split(". ", 1)[1] for row in rows[1:]] == SEED_STEPS
        assert rows[2].startswith("└ 1.1. "), "the passthrough is drawn inside the map"
        marks = chart.evaluate("el => el.data.filter(trace => trace.type === 'scatter').map(trace => [trace.x[0], trace.y[0]])")
        # Issue 26: the first-token marker has a row of its own, off the model's bar and its duration label.
        assert len(marks) == 1 and marks[0][1] == "◆ " + words["charts"]["first_token_name"], marks
        assert marks[0][1] not in rows, "the marker's row is not a step's row"
        bars = chart.locator("g.point")
        assert bars.count() >= 6, "every bar is drawn"
        playwright_expect()(page.locator(".st-key-inside_chunks")).to_contain_text("StrOutputParser")
    finally:
        context.close()
