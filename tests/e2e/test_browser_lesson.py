"""Browser tests of the lesson's promises: choices survive a language switch, the seed post in two clicks."""

from __future__ import annotations

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
