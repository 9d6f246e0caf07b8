"""Security through a real browser: hostile text loads nothing, and a typed key is not echoed back.

* Hostile topics (markdown images, reference-style images, raw HTML, a
  ``javascript:`` link) are run on every mode page, in one session, and the
  History page is opened after them; the simulator's answers repeat the topic,
  so the answers are hostile too. Every request the browser makes is recorded
  (``page.on("request")``): none may go to any origin but the app's.
* A key typed in the sidebar must not come back from the server in the
  websocket frames of later runs (it used to, in every frame that re-assigned
  the sidebar's defaults).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.helpers import (
    APP,
    assert_no_exception,
    choose_in_sidebar_selectbox,
    click_run,
    open_page,
    set_topics,
    strings,
    wait_for_idle,
)

pytestmark = pytest.mark.e2e

EN = strings("en")
HOSTILE = (
    "![x](http://127.0.0.1:9/leak?k=1)\n"
    "![y][r]\n"
    "[r]: http://leak-ref.invalid/img.png\n"
    "<img src=http://leak-html.invalid/i.png>\n"
    "[z](javascript:alert(1))"
)
#: (sidebar title, button key, whether the page takes several topics)
MODE_PAGES = [
    (EN["nav"]["invoke"], "run", False),
    (EN["nav"]["batch"], "run", True),
    (EN["nav"]["stream"], "run", False),
    (EN["nav"]["stream"], "race_run", False),
    (EN["nav"]["async"], "run", True),
    (EN["nav"]["compare"], "run", True),
]


def _go(page: Any, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    wait_for_idle(page, timeout_ms=60_000)


def test_hostile_topics_and_answers_make_the_browser_load_nothing(page: Any, warm_app: str) -> None:
    app_origin = urlsplit(warm_app)[:2]
    foreign: list[str] = []
    page.on("request", lambda request: foreign.append(request.url) if urlsplit(request.url)[:2] != app_origin and not request.url.startswith("data:") else None)
    open_page(page, f"{warm_app}/")
    choose_in_sidebar_selectbox(page, EN["sidebar"]["profile"], EN["profiles"]["fast"])
    for title, button, many in MODE_PAGES:
        _go(page, title)
        set_topics(page, HOSTILE.replace("\n", " ") if not many else HOSTILE.replace("\n", " ") + "\n" + "cats ![w](http://leak-second.invalid/w.png)")
        if button == "race_run":
            page.get_by_role("tab", name=EN["stream"]["tab_race"]).click()
        click_run(page, button)
        wait_for_idle(page, timeout_ms=90_000)
        assert_no_exception(page)
    _go(page, EN["nav"]["history"])
    assert_no_exception(page)
    page.wait_for_timeout(500)
    assert page.locator(f"{APP} img[src*='leak'], {APP} img[src*='127.0.0.1:9']").count() == 0
    assert page.locator(f"{APP} a[href^='javascript:']").count() == 0
    assert foreign == [], f"the browser requested {foreign}"


def test_a_typed_key_is_not_sent_back_to_the_browser(page: Any, warm_app: str) -> None:
    key = "sk-typed-ECHOCANARY-31337"
    received: list[str] = []

    def watch(socket: Any) -> None:
        socket.on("framereceived", lambda payload: received.append(payload if isinstance(payload, str) else payload.decode("latin-1")))

    page.on("websocket", watch)
    open_page(page, f"{warm_app}/invoke")
    choose_in_sidebar_selectbox(page, EN["sidebar"]["provider"], EN["providers"]["compatible"])
    field = page.locator(".st-key-api_key input")
    field.fill(key)
    field.press("Enter")
    wait_for_idle(page)
    choose_in_sidebar_selectbox(page, EN["sidebar"]["provider"], EN["providers"]["simulator"])
    for _ in range(3):
        set_topics(page, "cats")
        click_run(page)
        wait_for_idle(page, timeout_ms=60_000)
    choose_in_sidebar_selectbox(page, EN["sidebar"]["provider"], EN["providers"]["compatible"])
    assert page.locator(".st-key-api_key input").input_value() == key, "the key survives a hidden provider switch"
    echoes = [frame for frame in received if key in frame]
    assert len(echoes) <= 1, f"the key came back in {len(echoes)} websocket frames"


def test_a_hostile_export_loads_and_links_nothing_on_lab_history_and_the_share_view(
    browser: Any, page: Any, warm_app: str, tmp_path: Any
) -> None:
    """Issue 25, item 2: an import's model name rendered on Lab as an image fetch and a phishing link.

    The same hostile string is in every field of the export (model, owner, label, topic, answer,
    chunks, error). Every request the browser makes is recorded, and every link the page holds
    that leads outside the app's origin is counted.
    """
    from chains.records.exchange import runs_to_json
    from tests.app.test_security_markdown import ATTACKER, hostile_records

    app_origin = urlsplit(warm_app)[:2]
    foreign: list[str] = []
    page.on("request", lambda request: foreign.append(request.url) if urlsplit(request.url)[:2] != app_origin and not request.url.startswith("data:") else None)
    export = tmp_path / "hostile.json"
    export.write_text(runs_to_json(hostile_records()), encoding="utf-8")
    open_page(page, f"{warm_app}/history")
    page.locator(".st-key-import_runs input[type=file]").set_input_files([str(export)])
    wait_for_idle(page, timeout_ms=60_000)
    assert_no_exception(page)

    def outside_links(where: Any) -> list[str]:
        hrefs = where.locator(f"{APP} a[href]").evaluate_all("links => links.map(link => link.href)")
        return [href for href in hrefs if ATTACKER in href or href.startswith("javascript:")]

    shown: dict[str, list[str]] = {"history": outside_links(page)}
    page.get_by_text(EN["share"]["imported"].format(runs=3, files=1)).wait_for(timeout=30_000)
    link = page.locator(".st-key-share_link code").inner_text().strip()
    _go(page, EN["nav"]["lab"])
    assert_no_exception(page)
    assert "Claim free credits" in page.locator(APP).inner_text(), "Lab shows the imported sweep"
    shown["lab"] = outside_links(page)
    viewer = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    try:
        other = viewer.new_page()
        other.on("request", lambda request: foreign.append(request.url) if urlsplit(request.url)[:2] != app_origin and not request.url.startswith("data:") else None)
        open_page(other, link)
        other.locator(".st-key-shared_view").wait_for(state="visible")
        assert_no_exception(other)
        other.wait_for_timeout(500)
        shown["share view"] = outside_links(other)
    finally:
        viewer.close()
    page.wait_for_timeout(500)
    assert shown == {"history": [], "lab": [], "share view": []}, shown
    assert foreign == [], f"the browser requested {foreign}"
