"""Browser test: pick the local model (llama.cpp) in the sidebar and run Batch and Stream in Chromium.

Marked ``local_model`` too: it needs the extra (``requirements-local.txt``) and is
skipped with that reason without it.
"""

from __future__ import annotations

from typing import Any

import pytest

from chains.local.supervisor import INSTALL_COMMAND, missing_packages
from tests.e2e.helpers import (
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

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.local_model,
    pytest.mark.skipif(bool(missing_packages()), reason=f"needs the local model's extra: {INSTALL_COMMAND}"),
]

EN = strings("en")


def test_the_local_model_runs_batch_and_stream_with_real_timings(page: Any, warm_app: str) -> None:
    open_page(page, f"{warm_app}/batch")
    choose_in_sidebar_selectbox(page, EN["sidebar"]["provider"], EN["providers"]["local"])
    sidebar = page.get_by_test_id("stSidebar")
    # The server loads while the page is read: the sidebar shows its progress, then its time to ready.
    playwright_expect()(sidebar).to_contain_text("llama.cpp's server is ready (it took", timeout=120_000)
    set_topics(page, "ice cream\nchocolate\nvanilla")
    click_run(page)
    wait_for_metrics(page, EN["batch"]["batch_total"], timeout_ms=240_000)
    assert_no_exception(page)
    screenshot(page, "local-model-batch")
    shown = page.get_by_test_id("stMain").inner_text()
    assert "SmolLM2-135M-Instruct" in shown and "Traceback" not in shown
    # The same session (a new page load would start a new one, on the simulator): the sidebar's link.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=EN["nav"]["stream"]).click()
    wait_for_idle(page)
    playwright_expect()(sidebar).to_contain_text("llama.cpp's server is ready (it took")
    set_topics(page, "ice cream")
    click_run(page)
    wait_for_metrics(page, EN["metrics"]["ttft"], timeout_ms=240_000)
    assert_no_exception(page)
    screenshot(page, "local-model-stream")
    answer = page.locator(".st-key-stream_output").inner_text()
    shown = page.get_by_test_id("stMain").inner_text()
    assert answer.strip() and "local · SmolLM2-135M-Instruct" in shown, shown[:2000]
