"""Browser test (issue 29): with a blocking step after the parser, the first token arrives with the last.

The Stream page's answer is sampled as it changes (``start_sampler``). With the
second ``chain_shape`` option (a plain function after the parser) the stream is one
chunk: the chunk view shows one, and nothing but parts of the whole answer ever
shows. With the first option (the seed's chain) the chunk view fills one chunk at
a time and the text grows in steps before the end. Order and counts, never times.
"""

from __future__ import annotations

from typing import Any

import pytest

from chains.experiments.shapes import SHAPES
from tests.e2e.helpers import (
    assert_no_exception,
    choose_in_sidebar_selectbox,
    choose_radio,
    click_run,
    normalize,
    playwright_expect,
    screenshot,
    start_sampler,
    stop_sampler,
    strings,
    wait_for_idle,
    wait_for_metrics,
)
from tests.e2e.helpers import open_page as open_app_page
from ui.elements.charts import FAILURE_COLOUR
from ui.elements.live import STREAMING_CURSOR

pytestmark = pytest.mark.e2e

EN = strings("en")


def _choose_shape(page: Any, shape_id: str) -> None:
    """Pick a chain shape in the page's ``chain_shape`` select box, by its English name."""
    wait_for_idle(page)
    page.locator(".st-key-chain_shape").get_by_role("combobox").click()
    page.get_by_role("option", name=EN["chain_shapes"][shape_id], exact=True).click()
    wait_for_idle(page)
    playwright_expect()(page.locator(".st-key-chain_shape input")).to_have_value(EN["chain_shapes"][shape_id])


def _texts_before_the_end(page: Any, previous: str = "") -> tuple[list[str], str]:
    """Run the stream; return the distinct answer texts seen before the final one (not the previous run's), and the final one."""
    start_sampler(page, ".st-key-stream_output", interval_ms=30)
    click_run(page)
    wait_for_metrics(page, EN["metrics"]["ttft"])
    samples = stop_sampler(page)
    assert_no_exception(page)
    final = normalize(page.locator(".st-key-stream_output").inner_text())
    seen: list[str] = []
    for sample in samples:
        text = normalize((sample["text"] or "").replace(STREAMING_CURSOR, ""))
        if text and text not in (final, previous) and (not seen or seen[-1] != text):
            seen.append(text)
    return seen, final


def test_the_blocking_step_shows_its_first_token_with_its_last_and_the_seed_does_not(page: Any, warm_app: str) -> None:
    assert list(SHAPES)[1] == "blocking"
    open_app_page(page, f"{warm_app}/stream")
    choose_radio(page, page.locator(".st-key-answer_length"), EN["stream"]["length_medium"])
    _choose_shape(page, "blocking")
    before_the_end, final = _texts_before_the_end(page)
    screenshot(page, "stream-blocking-step")
    assert len(final) > 600 and final == final.upper(), final[:80]
    # One chunk carries the whole answer: the renderer may still draw it block by block in one burst
    # (each settled paragraph its own element), so what shows before the end is whole paragraphs of it.
    assert page.locator(".st-key-chunk_view .chunks span").count() == 1, "the chunk view shows one chunk"
    for text in before_the_end:
        assert final.startswith(text), f"not a part of the one chunk: {text[-80:]!r}"
    playwright_expect()(page.get_by_text(EN["metrics"]["chunks"].format(count=1))).to_be_visible()
    playwright_expect()(page.get_by_test_id("stAlert").filter(has_text="a step after the parser does not stream")).to_be_visible()

    _choose_shape(page, "seed")
    before_the_end, final = _texts_before_the_end(page, previous=final)
    assert page.locator(".st-key-chunk_view .chunks span").count() > 100, "the chunk view shows the chunks one by one"
    assert len(before_the_end) >= 3, f"the seed's chain streams: {before_the_end[:3]}"
    assert len(before_the_end[0]) < len(final) / 2, "its first text is far from the whole answer"
    playwright_expect()(page.get_by_test_id("stAlert").filter(has_text="that wait is what a user feels")).to_be_visible()


def test_inside_the_chain_draws_each_shapes_steps(page: Any, warm_app: str) -> None:
    """Every shape's trace is drawn: one bar per runnable; a blocking step's row, both branches' models, a fallback's failed model."""
    open_app_page(page, f"{warm_app}/inside")
    choose_in_sidebar_selectbox(page, EN["sidebar"]["profile"], EN["profiles"]["fast"])
    chart = page.locator(".st-key-inside_timeline .js-plotly-plot")
    for shape_id in SHAPES:
        _choose_shape(page, shape_id)
        click_run(page)
        wait_for_metrics(page, EN["inside"]["metric_model_share"])
        assert_no_exception(page)
        playwright_expect()(page.get_by_text(EN["chain_shapes"]["ran"].format(shape=EN["chain_shapes"][shape_id]))).to_be_visible()
        chart.wait_for(state="attached", timeout=30_000)
        rows = chart.evaluate("el => el.data.filter(trace => trace.type === 'bar').map(trace => trace.y[0])")
        names = [row.rsplit(". ", 1)[1] for row in rows[1:]]
        models = [name for name in names if name == "SimulatedChatModel"]
        assert len(models) == (1 if shape_id in ("seed", "blocking", "streaming", "retry", "json") else 2), (shape_id, names)
        if shape_id == "blocking":
            assert names[-1] == "shout", names
        if shape_id == "fallback":
            colours = chart.evaluate("el => el.data.filter(trace => trace.type === 'bar').map(trace => trace.marker.color)")
            failed = [name for name, colour in zip(names, colours[1:]) if colour == FAILURE_COLOUR]
            assert failed == ["SimulatedChatModel"] and "RunnableWithFallbacks" in names, (names, colours)
        screenshot(page, f"inside-shape-{shape_id}")
