"""Browser test: the simulator replays a recorded profile through the Stream page, labelled as a replay."""

from __future__ import annotations

from typing import Any

import pytest

from chains.simulation.replay import example_profiles
from tests.e2e.helpers import (
    assert_no_exception,
    choose_in_sidebar_selectbox,
    click_run,
    normalize,
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


def test_a_replay_reproduces_the_recordings_text_and_first_token(page: Any, warm_app: str) -> None:
    profile = next(iter(example_profiles().values()))
    recorded = profile.call_for("ice cream")
    open_page(page, f"{warm_app}/stream")
    page.get_by_test_id("stSidebar").get_by_text(EN["replay"]["title"]).click()
    choose_in_sidebar_selectbox(page, EN["replay"]["choose"], profile.name)
    playwright_expect()(page.get_by_test_id("stSidebar")).to_contain_text(EN["replay"]["example_warning"])
    set_topics(page, "ice cream")
    click_run(page)
    wait_for_metrics(page, EN["metrics"]["ttft"])
    wait_for_idle(page)
    assert_no_exception(page)
    screenshot(page, "replay-stream")
    answer = page.locator(".st-key-stream_output").inner_text()
    assert normalize(answer) == normalize(recorded.text)
    ttft_text = page.get_by_test_id("stMetric").filter(has_text=EN["metrics"]["ttft"]).first.get_by_test_id("stMetricValue").inner_text()
    measured = float(ttft_text.split()[0])
    print(f"replayed TTFT {measured:.2f} s, recorded {recorded.ttft_s:.3f} s")
    # A real sleep is never shorter than planned (the value is shown to 2 decimals); no upper bound: the machine is shared.
    assert measured >= round(recorded.ttft_s, 2) - 0.01
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    names = chart.evaluate("el => el.data.map(trace => trace.name || '')")
    assert any(EN["replay"]["chart_tag"] in name for name in names), names
