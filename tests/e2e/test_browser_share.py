"""Share and compare, in Chromium: a read-only share link opened in a second browser, two members' exports
overlaid on one chart, and a hostile export refused cleanly.

Screenshots go to ``test-artifacts/e2e/share-*.png``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chains.records.exchange import runs_to_json
from chains.timing import CallTiming, RunRecord
from tests.e2e.helpers import (
    VIEWPORT,
    assert_no_exception,
    choose_in_sidebar_selectbox,
    click_run,
    open_page,
    playwright_expect,
    screenshot,
    set_topics,
    strings,
    wait_for_idle,
    wait_for_metrics,
)

pytestmark = pytest.mark.e2e

EN = strings("en")


def run_set_of(page: Any) -> str:
    found = re.search(r"[?&]run_set=([A-Za-z0-9_-]+)", page.url)
    assert found, f"no run_set in {page.url}"
    return found.group(1)


def go_to(page: Any, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_idle(page)


def total_runs(page: Any) -> Any:
    metric = page.get_by_test_id("stMetric").filter(has_text=EN["history"]["total_runs"]).first
    return metric.get_by_test_id("stMetricValue")


def chart_texts(page: Any, scope: str = "") -> str:
    """Every text drawn in the page's plotly charts (legends and axis labels), as the SVG holds it."""
    page.locator(f"{scope} .js-plotly-plot").first.wait_for(state="attached", timeout=30_000)
    return "\n".join(page.locator(f"{scope} .js-plotly-plot text").all_text_contents())


def member_run(owner: str, mode: str, topic: str = "ice cream") -> RunRecord:
    chunks = [(0.2 + 0.05 * index, f"word{index} ") for index in range(6)]
    call = CallTiming(index=0, topic=topic, start_s=0.0, end_s=0.6, first_token_s=0.2, chunks=chunks, output="".join(text for _, text in chunks))
    return RunRecord(mode=mode, n=1, wall_s=0.62, max_concurrency=None, provider="compatible", model="llama3.2", calls=[call], owner=owner)


def upload(page: Any, *files: Path) -> None:
    page.locator(".st-key-import_runs input[type=file]").set_input_files([str(path) for path in files])
    wait_for_idle(page, settle_ms=500)


def test_the_share_link_opens_the_runs_read_only_in_a_second_browser(browser: Any, page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/stream")
    choose_in_sidebar_selectbox(page, EN["sidebar"]["profile"], EN["profiles"]["fast"])
    nickname = page.locator(".st-key-owner_name input")
    nickname.fill("Min")
    nickname.press("Enter")
    wait_for_idle(page)
    set_topics(page, "penguins")
    click_run(page)
    wait_for_metrics(page, EN["metrics"]["ttft"])
    owner_set = run_set_of(page)
    go_to(page, EN["nav"]["history"])
    assert_no_exception(page)
    link = page.locator(".st-key-share_link code").inner_text().strip()
    assert link.startswith(warm_app) and "?view=" in link
    assert owner_set not in link, "the share link must not hold the owner's run_set (the write capability)"
    screenshot(page, "share-link")

    second = browser.new_context(viewport=VIEWPORT, locale="en-US")
    second.set_default_timeout(30_000)
    try:
        visitor = second.new_page()
        open_page(visitor, link)
        view = visitor.locator(".st-key-shared_view")
        view.wait_for(state="visible")
        playwright_expect()(view.get_by_test_id("stAlert").first).to_contain_text("Min")
        assert "Min" in chart_texts(visitor, ".st-key-shared_view")
        assert_no_exception(visitor)
        visitor_set = run_set_of(visitor)
        assert visitor_set != owner_set and owner_set not in visitor.url
        assert visitor.locator(".st-key-history_clear").count() == 0 and visitor.locator(".st-key-import_runs").count() == 0
        screenshot(visitor, "share-visitor-view")

        visitor.locator(".st-key-share_copy").get_by_role("button", name=EN["share"]["copy"]).click()
        wait_for_idle(visitor)
        playwright_expect()(view).to_contain_text(EN["share"]["copied"].format(runs=1))
        visitor.locator(".st-key-share_back").get_by_role("button", name=EN["share"]["back_to_mine"]).click()
        wait_for_idle(visitor)
        playwright_expect()(total_runs(visitor)).to_have_text("1")
        assert run_set_of(visitor) == visitor_set, "the visitor keeps their own run set"
        assert_no_exception(visitor)
    finally:
        second.close()

    page.reload()
    wait_for_idle(page)
    playwright_expect()(total_runs(page)).to_have_text("1")  # the owner's runs are unchanged


def test_two_members_exports_overlay_on_one_chart(page: Any, warm_app: str, tmp_path: Path) -> None:
    min_file = tmp_path / "min.json"
    min_file.write_text(runs_to_json([member_run("Min", "stream"), member_run("Min", "astream")]), encoding="utf-8")
    ana_file = tmp_path / "ana.json"
    ana_file.write_text(runs_to_json([member_run("Ana", "stream")]), encoding="utf-8")
    open_page(page, f"{warm_app}/history")
    upload(page, min_file, ana_file)
    assert_no_exception(page)
    playwright_expect()(page.get_by_test_id("stAlert").filter(has_text=EN["share"]["imported"].format(runs=3, files=2))).to_be_visible()
    playwright_expect()(total_runs(page)).to_have_text("3")
    arrival = page.locator(".st-key-history_arrival .legendtext")
    arrival.first.wait_for(state="attached")
    legends = arrival.all_text_contents()
    assert any(text.startswith("Min · ") for text in legends) and any(text.startswith("Ana · ") for text in legends), legends
    texts = chart_texts(page)
    assert "Min" in texts and "Ana" in texts
    screenshot(page, "share-two-members")


def test_a_hostile_export_is_refused_cleanly(page: Any, warm_app: str, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    good = tmp_path / "mine.json"
    good.write_text(runs_to_json([member_run("Me", "stream")]), encoding="utf-8")
    open_page(page, f"{warm_app}/history")
    # The uploader states our 2 MB cap, not the server's 5 MB.
    uploader = page.get_by_test_id("stMainBlockContainer").get_by_test_id("stFileUploader")
    playwright_expect()(uploader).to_contain_text("2MB per file")
    upload(page, good)
    playwright_expect()(total_runs(page)).to_have_text("1")

    document = json.loads(runs_to_json([member_run("<img src=x onerror=alert(1)>", "stream", topic="<script>alert(2)</script>")]))
    document["runs"][0]["mode"] = "<script>alert(3)</script>"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(document), encoding="utf-8")
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"format": "langchain-call-modes-runs", "version": 1, "runs": [{"topic": "x" * 3_000_000}]}), encoding="utf-8")
    upload(page, hostile, huge)
    assert_no_exception(page)
    # The browser refuses the larger file at once, beside its name; it never reaches the app.
    playwright_expect()(uploader.get_by_role("alert")).to_have_text("Error: File must be 2.0MB or smaller.")
    error = page.get_by_test_id("stAlert").filter(has_text=EN["share"]["import_refused"].format(files=1))
    playwright_expect()(error).to_be_visible()
    playwright_expect()(error).to_contain_text("hostile.json")
    playwright_expect()(error).to_contain_text(EN["share"]["reason_unknown_mode"])
    playwright_expect()(total_runs(page)).to_have_text("1")  # nothing changed
    assert page.locator("img[src=x], script:text('alert')").count() == 0
    assert dialogs == []
    screenshot(page, "share-hostile-refused")
