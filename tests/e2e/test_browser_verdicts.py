"""Browser test: the lesson is read from the measurement (issue 24), in real Chromium.

Against an OpenAI-compatible server that serves one request at a time, Batch and
Compare say the server queued the calls and never that batch is flat; with a
wrong key, Batch shows no speed-up and no lesson.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.openai_server import OpenAICompatibleServer
from tests.e2e.helpers import (
    assert_no_exception,
    choose_in_sidebar_selectbox,
    click_run,
    open_page,
    screenshot,
    set_topics,
    strings,
    wait_for_idle,
    wait_for_metrics,
)

pytestmark = pytest.mark.e2e

EN = strings("en")
QUEUED_WORDS = "the server ran at most 1 at a time and queued the rest"
FLAT_WORDS = ("stays flat", "stayed near one call", "batch stays near one call")


def use_local_server(page: Any, base_url: str, api_key: str) -> None:
    """Point the sidebar at an OpenAI-compatible URL with a key."""
    choose_in_sidebar_selectbox(page, EN["sidebar"]["provider"], EN["providers"]["compatible"])
    for key, value in (("base_url", base_url), ("api_key", api_key)):
        field = page.locator(f".st-key-{key} input")
        field.fill(value)
        field.press("Enter")
        wait_for_idle(page)


def main_text(page: Any) -> str:
    return page.get_by_test_id("stMain").inner_text()


def test_batch_and_compare_against_a_one_slot_server_say_it_queued_the_calls(page: Any, warm_app: str) -> None:
    with OpenAICompatibleServer(ttft_s=0.25, token_delay_s=0.01, slots=1) as server:
        open_page(page, f"{warm_app}/batch")
        use_local_server(page, server.base_url, "sk-test-local")
        set_topics(page, "cats\ndogs\nowls")
        click_run(page)
        wait_for_metrics(page, EN["verdict"]["server_at_once"])
        assert_no_exception(page)
        screenshot(page, "verdict-batch-queued")
        text = main_text(page)
        assert QUEUED_WORDS in text, text
        assert not any(words in text for words in FLAT_WORDS)
        server_metric = page.get_by_test_id("stMetric").filter(has_text=EN["verdict"]["server_at_once"]).first
        assert server_metric.get_by_test_id("stMetricValue").inner_text() == "at most 1"
        assert server.peak_in_flight == 3

        page.get_by_test_id("stSidebarNav").get_by_role("link", name=EN["nav"]["compare"]).click()
        wait_for_idle(page)
        set_topics(page, "cats\ndogs\nowls")
        click_run(page)
        wait_for_metrics(page, "stream")
        text = main_text(page)
        assert QUEUED_WORDS in text, text
        assert "near one call" not in text


def test_batch_with_a_wrong_key_shows_no_speed_up_and_no_lesson(page: Any, warm_app: str) -> None:
    with OpenAICompatibleServer(ttft_s=0.05, token_delay_s=0.005, require_key="sk-the-right-key") as server:
        open_page(page, f"{warm_app}/batch")
        use_local_server(page, server.base_url, "sk-a-wrong-key")
        set_topics(page, "cats\ndogs\nowls\nbees\nants")
        click_run(page)
        wait_for_metrics(page, EN["batch"]["batch_total"])
        assert_no_exception(page)
        screenshot(page, "verdict-batch-wrong-key")
        text = main_text(page)
        assert EN["batch"]["speedup"] not in text
        assert "No lesson from this run" in text
        assert not any(words in text for words in FLAT_WORDS) and "**Why" not in text and "Why:" not in text
        assert "The other results are kept" not in text
        assert server.requests_total >= 10, "both the loop and batch asked the server"
