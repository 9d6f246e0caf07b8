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

from chains.shapes import SHAPES
from tests.e2e.helpers import (
    assert_no_exception,
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
from ui.live import STREAMING_CURSOR

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
    playwright_expect()(page.get_by_test_id("stAlert").filter(has_text="this chain streams")).to_be_visible()
