"""What you did stays, and every page is readable by everyone: in Chromium, in English and Korean, at 1280x900 and 390x844.

* axe-core (``axe-playwright-python`` bundles axe-core 4.12) on every page after Run: no serious or
  critical violation, except Streamlit's own ``list``/``listitem`` of its sectioned sidebar navigation
  (a bare Streamlit app with ``st.navigation`` sections has them too; see ``STREAMLIT_OWN``).
* A 5,000-character paste in the topic box of every page is shortened, and a note says so.
* A nickname and the Korean UI survive a reload.
* An own export imported back adds nothing.

Each walk is one browser context (one run set): the pages are opened by URL with the run set,
so each page is also a reload, which the preferences must survive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.helpers import (
    assert_no_exception,
    choose_in_sidebar_selectbox,
    click_run,
    open_page,
    screenshot,
    set_slider,
    strings,
    wait_for_idle,
)

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
#: Every page's URL path, and the key of the button that runs it (``None``: nothing to run).
PAGES: dict[str, str | None] = {
    "invoke": "run",
    "batch": "run",
    "stream": "run",
    "async": "run",
    "inside": "run",
    "compare": "run",
    "lab": "run",
    "history": None,
    "": "seed_reproduce",  # last: it switches the simulator to the seed post's (slower) profile
}
#: Pages with a topic box.
TOPIC_PAGES = ("invoke", "batch", "stream", "async", "inside", "compare", "lab")
#: axe impacts that fail the test.
FAILING_IMPACTS = ("serious", "critical")
#: Streamlit's own markup, which the app cannot change: the sectioned navigation's list.
STREAMLIT_OWN = {"list": '[data-testid="stSidebarNav"]', "listitem": '[data-testid="stSidebarNav"]'}
PASTE = "x" * 5_000


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.x A/AA violations on the page, without Streamlit's own navigation list."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in FAILING_IMPACTS:
            continue
        own = STREAMLIT_OWN.get(violation["id"])
        nodes = [node for node in violation["nodes"] if not (own and _inside(page, node, own))]
        if nodes:
            found.append({"id": violation["id"], "impact": violation["impact"], "help": violation["help"], "nodes": nodes})
    return found


def _inside(page: Any, node: dict[str, Any], container: str) -> bool:
    """True when axe's node (its CSS selector) lies inside ``container``."""
    selector = node["target"][-1] if node.get("target") else None
    if not isinstance(selector, str):
        return False
    return bool(page.evaluate("([s, c]) => { const e = document.querySelector(s); return !!(e && e.closest(c)); }", [selector, container]))


def describe(violations: list[dict[str, Any]]) -> str:
    """A short text of the violations: rule, impact, how many nodes, and the first node's HTML."""
    return "\n".join(
        f"{item['id']} ({item['impact']}, {len(item['nodes'])} nodes): {item['help']}; e.g. {item['nodes'][0]['html'][:200]}"
        for item in violations
    )


@pytest.fixture
def walker(browser: Any, warm_app: str) -> Iterator[Any]:
    """Open a new browser context at a size and in a language: ``walker(viewport, language) -> page``."""
    contexts = []

    def open_context(viewport: str, language: str) -> Any:
        context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ko-KR" if language == "ko" else "en-US")
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield open_context
    for context in contexts:
        context.close()


def open_sidebar(page: Any) -> None:
    """Unfold the sidebar when it is folded (on a phone)."""
    expand = page.get_by_test_id("stExpandSidebarButton")
    if expand.count() and expand.is_visible():
        expand.click()
        page.get_by_test_id("stSidebar").get_by_test_id("stRadioOption").first.wait_for(state="visible")


def close_sidebar_on_a_phone(page: Any) -> None:
    """Fold the sidebar on a narrow screen, where it lies over the page (Streamlit keeps it open across reloads)."""
    if page.viewport_size["width"] >= 640 or not page.locator('[data-testid="stSidebar"][data-collapsed="false"]').count():
        return
    page.get_by_test_id("stSidebarCollapseButton").locator("button").click(force=True)
    page.locator('[data-testid="stSidebar"][data-collapsed="true"]').wait_for(state="attached")
    wait_for_idle(page)


def run_set_of(page: Any) -> str:
    """The run set in the page's URL."""
    return page.evaluate("() => new URLSearchParams(location.search).get('run_set')")


def go(page: Any, app_url: str, path: str, run_set: str) -> None:
    """Open ``path`` with this browser's run set: a new session, as a reload is."""
    open_page(page, f"{app_url}/{path}?run_set={run_set}", timeout_ms=90_000)


def paste_topic(page: Any) -> None:
    """Paste 5,000 characters into the topic box, as a user does (one insertText), and commit it."""
    box = page.locator(".st-key-topics").locator("textarea, input").first
    box.click()
    box.press("Control+A")
    page.keyboard.insert_text(PASTE)
    box.press("Control+Enter" if box.evaluate("el => el.tagName") == "TEXTAREA" else "Enter")
    wait_for_idle(page)


def walk(page: Any, app_url: str, language: str, name: str, paths: tuple[str, ...] = tuple(PAGES)) -> dict[str, list[dict[str, Any]]]:
    """Every page after Run (a 5,000-character topic pasted where there is a box): axe's findings per page."""
    text = strings(language)
    open_page(page, f"{app_url}/", timeout_ms=90_000)
    open_sidebar(page)
    choose_in_sidebar_selectbox(page, text["sidebar"]["profile"], text["profiles"]["fast"])
    run_set = run_set_of(page)
    found: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        run_key = PAGES[path]
        go(page, app_url, path, run_set)
        close_sidebar_on_a_phone(page)
        if path == "lab":
            set_slider(page, "sweep_k", 2)
            set_slider(page, "sweep_repeats", 1)
        if path in TOPIC_PAGES:
            paste_topic(page)
        if run_key is not None:
            click_run(page, run_key)
            wait_for_idle(page, timeout_ms=120_000)
        assert_no_exception(page)
        if path in TOPIC_PAGES:
            note = text["input"]["too_long"].format(count=1, limit=200)
            assert page.get_by_text(note).count() >= 1, f"/{path}: no note for a 5,000-character paste"
        screenshot(page, f"access-{name}-{path or 'home'}")
        found[path or "home"] = axe_violations(page)
    return found


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_page_after_run_has_no_serious_axe_violation(walker: Any, warm_app: str, language: str, viewport: str) -> None:
    page = walker(viewport, language)
    found = walk(page, warm_app, language, f"{language}-{viewport}")
    failing = {path: violations for path, violations in found.items() if violations}
    assert not failing, "\n".join(f"/{path}:\n{describe(violations)}" for path, violations in failing.items())


def test_a_nickname_and_korean_survive_a_reload(walker: Any, warm_app: str) -> None:
    page = walker("phone", "en")
    open_page(page, f"{warm_app}/invoke")
    ko = strings("ko")
    open_sidebar(page)
    page.get_by_test_id("stSidebar").get_by_test_id("stRadioOption").filter(has_text="한국어").click()
    wait_for_idle(page)
    nickname = page.locator(".st-key-owner_name input")
    nickname.fill("Min")
    nickname.press("Enter")
    wait_for_idle(page)
    page.reload()
    page.locator("h1").first.wait_for(state="visible")
    wait_for_idle(page)
    assert page.locator("h1").first.inner_text().strip() == ko["invoke"]["title"]
    assert page.locator(".st-key-owner_name input").input_value() == "Min"


def test_an_own_export_imported_back_adds_nothing(walker: Any, warm_app: str, tmp_path: Any) -> None:
    page = walker("desktop", "en")
    en = strings("en")
    open_page(page, f"{warm_app}/invoke")
    click_run(page)
    wait_for_idle(page)
    run_set = run_set_of(page)
    go(page, warm_app, "history", run_set)
    with page.expect_download() as download:
        page.locator(".st-key-history_json button").click()
    exported = tmp_path / "mine.json"
    download.value.save_as(exported)
    assert len(json.loads(exported.read_text())["runs"]) == 1
    page.locator(".st-key-import_runs input[type=file]").set_input_files(str(exported))
    wait_for_idle(page)
    assert page.get_by_text(en["share"]["import_skipped"].format(skipped=1, runs=0)).count() == 1
    assert page.get_by_text(en["history"]["total_runs"]).count() >= 1
    total = page.get_by_test_id("stMetric").filter(has_text=en["history"]["total_runs"]).get_by_test_id("stMetricValue").inner_text()
    assert total.strip() == "1"
