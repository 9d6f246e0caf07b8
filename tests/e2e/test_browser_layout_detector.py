"""The polish test's detector catches what issue 13 saw: cut select values and cut metric labels.

``test_browser_polish`` passes on today's pages, which proves nothing about its
detector by itself. Here the same ``OVERFLOW_JS`` runs on a tiny Streamlit app
built to show the issue's cases (the old profile label in a sidebar select box,
a long Korean metric label, a wide table) and on a twin with short labels: it
must report the first and stay quiet on the second.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import free_port, open_page, start_streamlit, stop_process, wait_for_health
from tests.e2e.test_browser_layout import OVERFLOW_JS, SIZES

pytestmark = pytest.mark.e2e

#: Issue 13's cut labels, as they were written before the fix.
LONG_PROFILE = "Small hosted model (TTFT 0.4 s, (~55 tokens/s, jitter 20 %))"
LONG_METRIC = "반복문: 호출 하나 늘 때마다 늘어나는 시간 (초, 최소제곱 기울기)"

SCRIPT = textwrap.dedent(
    """
    import sys

    import streamlit as st

    long = sys.argv[-1] == "long"
    profile = {profile!r} if long else "Small hosted model"
    metric = {metric!r} if long else "반복문 기울기"
    st.title("Canary")
    st.sidebar.selectbox("Profile", [profile])
    left, right, third = st.columns(3)
    left.metric(metric, "0.85초")
    right.metric("batch", "1.3 s")
    third.metric("stream", "0.4 s")
    st.write("done")
    """
).format(profile=LONG_PROFILE, metric=LONG_METRIC)


@pytest.fixture(scope="module", params=["long", "short"])
def canary_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A Streamlit server running the canary script with long or short labels."""
    script = tmp_path_factory.mktemp("canary") / "canary.py"
    script.write_text(SCRIPT, encoding="utf-8")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = start_streamlit(script, port, extra_args=["--", request.param], cwd=Path(script).parent)
    try:
        wait_for_health(base_url, process)
        yield request.param, base_url
    finally:
        stop_process(process)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_detector_reports_cut_labels_and_only_them(browser: Any, canary_url: tuple[str, str], size: str) -> None:
    variant, url = canary_url
    context = browser.new_context(viewport=SIZES[size], locale="ko-KR")
    try:
        page = context.new_page()
        open_page(page, url)
        if size == "phone":
            page.get_by_test_id("stExpandSidebarButton").click()
            page.wait_for_timeout(400)
        problems: list[str] = page.evaluate(OVERFLOW_JS)
    finally:
        context.close()
    cut = [problem for problem in problems if problem.startswith("cut text")]
    if variant == "short":
        assert problems == [], problems
    else:
        assert any(LONG_PROFILE[:20] in problem for problem in cut), problems
        assert any(LONG_METRIC[:10] in problem for problem in cut), problems
