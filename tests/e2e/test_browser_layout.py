"""Every page at a desktop and a phone size, in English and Korean: nothing scrolls sideways, nothing is cut.

For each (language, size) one browser session: pick the language and the fast
simulator, run every mode page once (so that results and charts are drawn), then
visit every page and check:

* the page does not scroll sideways (``scrollWidth > clientWidth`` on the
  scrolling element);
* no widget label or metric label is cut (its text box is wider than its box);
* no Plotly chart title is wider than its chart.

A screenshot of every page is written to ``test-artifacts/screenshots/``
(kept by CI as an artifact). The README's ``docs/screenshot.png`` is refreshed by
``UPDATE_DOCS_SCREENSHOT=1 pytest tests/e2e -k live`` (a stream caught live).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import (
    ROOT,
    assert_no_exception,
    choose_in_sidebar_selectbox,
    click_run,
    open_page,
    strings,
    wait_for_idle,
)

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
#: (url_path, nav title key, widget key of its run button or None)
PAGES = [
    ("home", "nav.home", None),
    ("invoke", "nav.invoke", "run"),
    ("batch", "nav.batch", "run"),
    ("stream", "nav.stream", "run"),
    ("async", "nav.async", "run"),
    ("inside", "nav.inside", "run"),
    ("compare", "nav.compare", "run"),
    ("lab", "nav.lab", "run"),
    ("history", "nav.history", None),
]

#: Everything a person would see as cut or overflowing, measured in the page.
OVERFLOW_JS = """
() => {
  const problems = [];
  const root = document.scrollingElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    problems.push(`page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
  }
  const main = document.querySelector('[data-testid="stMain"]');
  if (main && main.scrollWidth > main.clientWidth + 1) {
    problems.push(`main area scrolls sideways: ${main.scrollWidth} > ${main.clientWidth}`);
  }
  // A phone's closed sidebar is 0 px wide but keeps its (squeezed) widgets: they are not seen, so not cut.
  const inClosedSidebar = el => {
    const sidebar = el.closest('[data-testid="stSidebar"]');
    return sidebar !== null && sidebar.getBoundingClientRect().width < 1;
  };
  const visible = el => el.offsetParent !== null && el.getBoundingClientRect().width > 0 && !inClosedSidebar(el);
  const labels = document.querySelectorAll(
    '[data-testid="stWidgetLabel"], [data-testid="stWidgetLabel"] *, [data-testid="stMetricLabel"], ' +
    '[data-testid="stMetricLabel"] *, [data-testid="stMetricValue"], [data-testid="stMetricValue"] *, ' +
    '[data-testid="stSelectbox"] [data-baseweb="select"] div[value], [data-testid="stSelectbox"] [data-baseweb="select"] > div > div:first-child, ' +
    // Streamlit 1.67 draws a select box as a react-aria combobox: its value is an <input>.
    '[data-testid="stSelectbox"] input[role="combobox"]'
  );
  for (const el of labels) {
    if (!visible(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible') {
      problems.push(`cut text: "${(el.value ?? el.innerText).slice(0, 60)}" (${el.scrollWidth} > ${el.clientWidth})`);
    }
  }
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    const box = chart.getBoundingClientRect();
    for (const title of chart.querySelectorAll('.gtitle, .g-gtitle text')) {
      const t = title.getBoundingClientRect();
      if (t.width && (t.left < box.left - 1 || t.right > box.right + 1)) {
        problems.push(`chart title overflows: "${title.textContent.slice(0, 60)}" (${Math.round(t.left)}..${Math.round(t.right)} outside ${Math.round(box.left)}..${Math.round(box.right)})`);
      }
    }
  }
  return [...new Set(problems)];
}
"""


def _go(page: Any, title: str, phone: bool) -> None:
    """Open a page through the sidebar's navigation, as a person would (the session is kept)."""
    if phone:
        page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).first.click()
    wait_for_idle(page)
    if phone and page.get_by_test_id("stSidebarCollapseButton").is_visible():
        page.get_by_test_id("stSidebarCollapseButton").click()
        page.wait_for_timeout(300)


def _sidebar_setup(page: Any, language: str) -> None:
    """Pick the language and the fast simulator profile in the sidebar (a desktop's sidebar is open)."""
    words = strings(language)
    if language != "en":
        page.get_by_test_id("stSidebar").get_by_test_id("stRadioOption").filter(has_text="한국어").click()
        wait_for_idle(page)
    choose_in_sidebar_selectbox(page, words["sidebar"]["profile"], words["profiles"]["fast"])
    wait_for_idle(page)


def _open_sidebar_problems(page: Any, phone: bool) -> list[str]:
    """What is cut in the open sidebar (a phone's is opened for the check and closed again)."""
    if phone:
        page.get_by_test_id("stExpandSidebarButton").click()
        page.wait_for_timeout(300)
    found = page.evaluate(OVERFLOW_JS)
    if phone:
        page.get_by_test_id("stSidebarCollapseButton").click()
        page.wait_for_timeout(300)
    return found


def _screenshot_whole_page(page: Any, path: Any, viewport: dict[str, int]) -> None:
    """Screenshot the whole page: Streamlit scrolls its main area, not the document, so grow the window."""
    height = page.evaluate('() => document.querySelector(\'[data-testid="stMain"]\').scrollHeight')
    page.set_viewport_size({"width": viewport["width"], "height": min(max(height, viewport["height"]), 12_000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size(viewport)
    page.wait_for_timeout(200)


def _lookup(words: dict[str, Any], dotted: str) -> str:
    section, key = dotted.split(".")
    return words[section][key]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_page_fits(browser: Any, warm_app: str, language: str) -> None:
    """One session per language: at the desktop size every mode page runs once; then the same session (its
    results are kept) is looked at again at the phone size, so both sizes show pages with results and charts."""
    words = strings(language)
    context = browser.new_context(viewport=SIZES["desktop"], locale="ko-KR" if language == "ko" else "en-US")
    context.set_default_timeout(60_000)
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    try:
        open_page(page, f"{warm_app}/")
        _sidebar_setup(page, language)
        for size, viewport in SIZES.items():
            phone = size == "phone"
            page.set_viewport_size(viewport)
            page.wait_for_timeout(300)
            found = _open_sidebar_problems(page, phone)
            if found:
                problems[f"{size} sidebar"] = found
            for url_path, title_key, run_key in PAGES:
                _go(page, _lookup(words, title_key), phone)
                if run_key and not phone:
                    click_run(page, run_key)
                    page.wait_for_timeout(300)
                    wait_for_idle(page, timeout_ms=120_000)
                    page.wait_for_timeout(400)  # charts lay out after the run ends
                elif run_key:
                    page.wait_for_timeout(400)  # the kept results' charts lay out at the new width
                assert_no_exception(page)
                if url_path == "home":
                    breaking = page.evaluate(
                        """() => getComputedStyle(document.querySelector('[data-testid="stMain"] [data-testid="stMarkdownContainer"] p')).wordBreak"""
                    )
                    # Korean only: English keeps Streamlit's own rule (break-word).
                    assert (breaking == "keep-all") == (language == "ko"), f"word-break is {breaking} in {language}"
                found = page.evaluate(OVERFLOW_JS)
                if found:
                    problems[f"{size} {url_path}"] = found
                _screenshot_whole_page(page, SCREENSHOTS / f"{url_path}-{size}-{language}.png", viewport)
    finally:
        context.close()
    assert not problems, "\n".join(f"{where}: {problem}" for where, found in problems.items() for problem in found)
