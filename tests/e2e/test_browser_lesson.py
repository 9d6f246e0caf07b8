"""Browser tests of the lesson's promises: choices survive a language switch, the seed post in two clicks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.helpers import (
    assert_no_exception,
    choose_radio,
    open_page,
    screenshot,
    set_topics,
    strings,
    wait_for_idle,
)

pytestmark = pytest.mark.e2e

EN = strings("en")
KO = strings("ko")


def checked_label(page: Any, key: str) -> str | None:
    """The label of the checked option of the radio with widget key ``key``, or ``None``."""
    radio = page.locator(f".st-key-{key}")
    checked = radio.locator("input[type=radio]:checked")
    if checked.count() == 0:
        return None
    return checked.first.locator("xpath=ancestor::label[1]").inner_text().strip()


def test_stream_choices_and_topics_survive_a_language_switch(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/stream")
    choose_radio(page, page.locator(".st-key-chunk_style"), EN["stream"]["chunk_style_bang"])
    choose_radio(page, page.locator(".st-key-answer_length"), EN["stream"]["length_long"])
    set_topics(page, "the moon")
    assert checked_label(page, "chunk_style") == EN["stream"]["chunk_style_bang"]

    choose_radio(page, page.get_by_test_id("stSidebar"), "한국어")
    wait_for_idle(page)
    assert_no_exception(page)
    screenshot(page, "lesson-stream-after-switch-ko")
    assert checked_label(page, "chunk_style") == KO["stream"]["chunk_style_bang"]
    assert checked_label(page, "answer_length") == KO["stream"]["length_long"]
    assert page.locator(".st-key-topics textarea").input_value() == "the moon"

    choose_radio(page, page.get_by_test_id("stSidebar"), "English")
    assert checked_label(page, "chunk_style") == EN["stream"]["chunk_style_bang"]
    assert checked_label(page, "answer_length") == EN["stream"]["length_long"]


@pytest.mark.parametrize("locale", ["en-US", "ko-KR"])
def test_seed_post_numbers_show_beside_the_measured_ones_one_click_from_home(
    browser: Any, warm_app: str, locale: str
) -> None:
    language = "ko" if locale.startswith("ko") else "en"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        open_page(page, f"{warm_app}/")
        page.locator(".st-key-seed_reproduce button").click()  # the one click
        metrics = page.locator(".st-key-seed_metrics").get_by_test_id("stMetric")
        metrics.nth(2).wait_for(state="visible")
        wait_for_idle(page)
        assert_no_exception(page)
        assert metrics.count() == 3
        for index, post in enumerate(("1.294", "3.097", "1.330")):
            metric = metrics.nth(index)
            assert post in metric.get_by_test_id("stMetricLabel").inner_text()
            measured = metric.get_by_test_id("stMetricValue").inner_text()
            assert re.fullmatch(r"\d+\.\d\d( s|초)", measured.strip()), measured  # "1.28 s" / "1.28초"
        profile_box = page.get_by_test_id("stSidebar").locator(".st-key-sim_profile")
        chosen = profile_box.evaluate("el => el.textContent + ' ' + [...el.querySelectorAll('input')].map(i => i.value).join(' ')")
        assert strings(language)["profiles"]["seed-blog-gpt-3_5-turbo"] in chosen, chosen
        assert "!! " in page.locator(".st-key-seed_stream").inner_text()
        page.locator(".st-key-seed_metrics").scroll_into_view_if_needed()
        screenshot(page, f"lesson-seed-post-{language}")
    finally:
        context.close()


def test_history_choices_survive_a_language_switch(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/stream")
    page.locator(".st-key-run button").click()
    page.get_by_test_id("stMetric").first.wait_for(state="visible")
    wait_for_idle(page)
    # Navigate inside the session (a new URL would start a new session, with no history).
    page.get_by_test_id("stSidebarNav").get_by_text(EN["nav"]["history"]).click()
    wait_for_idle(page)
    choose_radio(page, page.locator(".st-key-history_export_scope"), EN["history"]["scope_picked"])
    picked_before = page.locator(".st-key-history_pick").inner_text()
    assert "stream" in picked_before

    choose_radio(page, page.get_by_test_id("stSidebar"), "한국어")
    assert_no_exception(page)
    assert checked_label(page, "history_export_scope") == KO["history"]["scope_picked"]
    assert page.locator(".st-key-history_pick").get_by_text("stream").count() >= 1
    screenshot(page, "lesson-history-after-switch-ko")
