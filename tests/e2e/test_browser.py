"""End-to-end tests: the real app under ``streamlit run``, in headless Chromium (Playwright).

Every test opens its own browser context, so it gets a fresh Streamlit session
with the sidebar's defaults (the simulator, "gpt-4o-mini-like": TTFT 0.4 s,
60 tokens/s). Screenshots land in ``test-artifacts/e2e/``. Run
``UPDATE_DOCS_SCREENSHOT=1 pytest tests/e2e -k live`` to refresh
``docs/screenshot.png``.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

import pytest

from tests.e2e.helpers import (
    APP,
    ARTIFACTS,
    ROOT,
    VIEWPORT,
    assert_no_exception,
    choose_in_sidebar_selectbox,
    choose_radio,
    click_run,
    normalize,
    open_page,
    playwright_expect,
    screenshot,
    served_app,
    set_topics,
    start_sampler,
    stop_sampler,
    strings,
    wait_for_idle,
    wait_for_metrics,
)
from ui.elements.live import STREAMING_CURSOR
from ui.navigation import DEFAULT_PAGE_PATH, PAGE_SPECS

pytestmark = pytest.mark.e2e

EN = strings("en")
KO = strings("ko")


def _app_pages() -> list[tuple[str, bool]]:
    """``(url_path, is_default)`` of every page the app's navigation serves, in order, with the hidden ``/home`` alias."""
    pages = [(DEFAULT_PAGE_PATH if index == 0 else spec.id, index == 0) for index, spec in enumerate(PAGE_SPECS)]
    return [*pages, (PAGE_SPECS[0].id, False)]


PAGES = _app_pages()
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _partial_samples(samples: list[dict[str, Any]], final: str) -> list[tuple[int, str]]:
    """The distinct non-empty texts seen before the final one, as ``(ms, normalized text)``."""
    final_norm = normalize(final)
    seen: list[tuple[int, str]] = []
    for sample in samples:
        text = normalize((sample["text"] or "").replace(STREAMING_CURSOR, ""))
        if not text or text == final_norm:
            continue
        if not seen or seen[-1][1] != text:
            seen.append((sample["t"], text))
    return seen


def _common_prefix(a: str, b: str) -> int:
    return len(os.path.commonprefix([a, b]))


# ---------------------------------------------------------------------- pages
def test_the_page_list_is_the_apps() -> None:
    names = [name for name, _ in PAGES]
    assert {"home", "invoke", "batch", "stream", "compare"} <= set(names), names
    assert [name for name, default in PAGES if default] == ["welcome"], "Home, served at /"


@pytest.mark.parametrize(("name", "default"), PAGES, ids=[name for name, _ in PAGES])
def test_every_page_opens_without_exception_and_shows_its_title(page: Any, warm_app: str, name: str, default: bool) -> None:
    # Streamlit serves the default page at "/" only; "/home" is a hidden page that switches to it.
    open_page(page, f"{warm_app}/" if default else f"{warm_app}/{name}")
    expect = playwright_expect()
    title = page.locator("h1").first
    section = PAGE_SPECS[0].id if name == DEFAULT_PAGE_PATH else name
    if "title" in EN.get(section, {}):
        expect(title).to_have_text(EN[section]["title"])
    else:
        expect(title).not_to_be_empty()
    assert_no_exception(page)
    assert page.get_by_text("Page not found").count() == 0
    # The app's own navigation (st.navigation), not Streamlit's pages/ folder listing.
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_contain_text(EN["nav"]["compare"])
    expect(nav).not_to_contain_text("streamlit app")
    screenshot(page, f"page-{name}")


def test_invoke_shows_the_answer_after_run(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/invoke")
    set_topics(page, "penguins")
    click_run(page)
    result = page.locator(".st-key-invoke_result")
    playwright_expect()(result).to_contain_text("penguins", timeout=30_000)
    wait_for_metrics(page, EN["metrics"]["latency"])
    assert_no_exception(page)
    assert len(result.inner_text().strip()) > len("penguins") + 10, result.inner_text()
    screenshot(page, "invoke-after-run")


def test_stream_shows_tokens_live_not_all_at_once(page: Any, warm_app: str) -> None:
    """At the default speed (60 tokens/s) a ≈300-token answer streams for about 5 s."""
    open_page(page, f"{warm_app}/stream")
    choose_radio(page, page.locator(".st-key-answer_length"), EN["stream"]["length_medium"])
    start_sampler(page, ".st-key-stream_output", interval_ms=30)
    clicked_ms = page.evaluate("Date.now()")
    click_run(page)
    # Mid-stream: a few lines are there (the cursor still in view), the run is still going.
    page.wait_for_function(
        "() => (document.querySelector('.st-key-stream_output')?.innerText || '').length > 160", timeout=30_000
    )
    midstream = screenshot(page, "stream-midstream")
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(midstream, ROOT / "docs" / "screenshot.png")
    wait_for_metrics(page, EN["metrics"]["ttft"])
    samples = stop_sampler(page)
    assert_no_exception(page)
    final = page.locator(".st-key-stream_output").inner_text()
    screenshot(page, "stream-after-run")

    final_norm = normalize(final)
    assert STREAMING_CURSOR not in final, "the cursor is removed when the stream ends"
    assert len(final_norm) > 600, f"a ≈300-token answer was expected, got {len(final_norm)} characters"
    partial = _partial_samples(samples, final)
    assert len(partial) >= 3, f"expected ≥3 growing texts before the end, saw {len(partial)}: {partial[:5]}"
    lengths = [len(text) for _, text in partial]
    # The text only grows, even between the two deltas of a cut (the renderer cuts only after what the
    # tail already shows: tests/ui/elements/test_live_render.py checks it delta by delta); a markdown marker that
    # becomes formatting when its construct completes (a "-" turning into a bullet, "**" into bold)
    # may take back a few characters, never more.
    assert all(later >= earlier - 3 for earlier, later in zip(lengths, lengths[1:])), f"the text must only grow: {lengths}"
    assert lengths[-1] > lengths[0], f"the text must grow: {lengths}"
    for _, text in partial:
        assert _common_prefix(text, final_norm) >= len(text) - 3, f"not a prefix of the answer: {text[-80:]!r}"
    assert lengths[0] < len(final_norm) / 2, "the first visible text is far from the whole answer"
    # Ordered, never timed: the text appeared after the click and grew in steps before the end.
    assert clicked_ms <= partial[0][0] < partial[-1][0], (clicked_ms, partial[0][0], partial[-1][0])


def test_compare_draws_its_plotly_charts(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/compare")
    choose_in_sidebar_selectbox(page, EN["sidebar"]["profile"], EN["profiles"]["fast"])
    playwright_expect()(page.get_by_test_id("stSidebar")).to_contain_text("0.05")
    click_run(page)
    wait_for_metrics(page, EN["modes"]["loop"])
    plots = page.locator(".js-plotly-plot")
    playwright_expect()(plots).to_have_count(2, timeout=30_000)
    assert_no_exception(page)
    for index in range(2):
        plot = plots.nth(index)
        plot.scroll_into_view_if_needed()
        traces = plot.evaluate("el => (el.data || []).length")
        assert traces > 0, f"chart {index} has no data"
        playwright_expect()(plot.locator("g.trace, g.point").first).to_be_attached()
    bars = page.locator(".st-key-compare_wall g.point")
    assert bars.count() >= 4, "one bar per mode"
    screenshot(page, "compare-after-run")


def test_korean_switch_translates_the_page_and_streams_korean(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/stream")
    choose_radio(page, page.get_by_test_id("stSidebar"), "한국어")
    playwright_expect()(page.locator("h1").first).to_have_text(KO["stream"]["title"])
    set_topics(page, "아이스크림")
    start_sampler(page, ".st-key-stream_output", interval_ms=30)
    click_run(page)
    wait_for_metrics(page, KO["metrics"]["ttft"])
    samples = stop_sampler(page)
    assert_no_exception(page)
    final = page.locator(".st-key-stream_output").inner_text()
    screenshot(page, "stream-korean")
    assert "아이스크림" in final, final
    assert len(HANGUL.findall(final)) >= 10, f"a Korean answer was expected: {final!r}"
    partial = _partial_samples(samples, final)
    assert partial and HANGUL.search(partial[0][1]), f"Korean text streamed in before the end: {partial[:3]}"


def test_deep_link_on_a_fresh_server_uses_the_apps_navigation(browser: Any) -> None:
    """A first visitor who deep-links to /stream still gets the app's sidebar and wide layout (ui.navigation)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "streamlit-server-deep-link.log").open("wb") as log, served_app(log=log) as app:
        context = browser.new_context(viewport=VIEWPORT, locale="en-US")
        try:
            page = context.new_page()
            open_page(page, f"{app.url}/stream", timeout_ms=90_000)
            screenshot(page, "deep-link-fresh-server")
            nav = page.get_by_test_id("stSidebarNav").inner_text()
            wide = page.locator(APP).evaluate("el => el.classList.contains('streamlit-wide')")
        finally:
            context.close()
    assert EN["nav"]["compare"] in nav and "streamlit app" not in nav, f"sidebar navigation: {nav!r}"
    assert wide, "st.set_page_config(layout='wide') ran"



def _use_local_server(page: Any, base_url: str, api_key: str | None) -> None:
    """Point the sidebar at an OpenAI-compatible URL and, optionally, type a key."""
    choose_in_sidebar_selectbox(page, EN["sidebar"]["provider"], EN["providers"]["compatible"])
    for key, value in (("base_url", base_url), ("api_key", api_key)):
        if value is not None:
            field = page.locator(f".st-key-{key} input")
            field.fill(value)
            field.press("Enter")
            wait_for_idle(page)


def test_a_key_typed_in_one_browser_is_not_used_by_another(browser: Any, warm_app: str) -> None:
    """Two visitors at once: only the one who typed the key gets answers; the other gets the 401 message."""
    from devtools.openai_server import (
        REPLY_MARKER,
        OpenAICompatibleServer,
        key_fingerprint,
    )
    from tests.conftest import FAKE_API_KEY

    with OpenAICompatibleServer(ttft_s=0.05, token_delay_s=0.005, require_key=FAKE_API_KEY) as server:
        contexts = [browser.new_context(viewport=VIEWPORT, locale="en-US") for _ in range(2)]
        try:
            alice, bob = (context.new_page() for context in contexts)
            for visitor, key in ((alice, FAKE_API_KEY), (bob, None)):
                open_page(visitor, f"{warm_app}/invoke")
                _use_local_server(visitor, server.base_url, key)
            assert alice.locator(".st-key-api_key input").get_attribute("type") == "password"
            assert bob.locator(".st-key-api_key input").input_value() == "", "the other visitor's field is empty"

            for visitor in (alice, bob):
                set_topics(visitor, "penguins")
                click_run(visitor)
                wait_for_idle(visitor, timeout_ms=30_000)
                assert_no_exception(visitor)
            playwright_expect()(alice.locator(".st-key-invoke_result")).to_contain_text(REPLY_MARKER, timeout=30_000)
            playwright_expect()(bob.get_by_test_id("stAlert").filter(has_text=EN["errors"]["auth"])).to_be_visible(timeout=30_000)
            assert [request.key_fingerprint for request in server.requests] == [key_fingerprint(FAKE_API_KEY), key_fingerprint("not-needed")]
            for visitor in (alice, bob):
                assert FAKE_API_KEY not in visitor.locator(APP).inner_text()
                # The visitor's own password field holds the key (as its value); nothing else may.
                html = visitor.evaluate(
                    "() => { const copy = document.documentElement.cloneNode(true);"
                    " copy.querySelectorAll('.st-key-api_key').forEach(e => e.remove()); return copy.outerHTML; }"
                )
                assert FAKE_API_KEY not in html, "the key is nowhere else in the page's HTML"
        finally:
            for context in contexts:
                context.close()
