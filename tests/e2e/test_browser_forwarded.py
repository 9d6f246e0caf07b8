"""Through the real server: a spoofed ``X-Forwarded-For`` from 127.0.0.1 does not choose the visitor id (issue 25, item 3).

Streamlit 1.67's uvicorn rewrites the peer from any loopback client's header, so
``st.context.ip_address`` follows it. A probe app prints both that and
``ui.deployment.host.visitor_id()``; Chromium sends the header on the page and its
websocket (``extra_http_headers``). Without ``TRUSTED_PROXY_HOPS`` the header must
not matter; with one trusted hop, the entry that the proxy appended is the visitor.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.browser import ROOT, app_env, served_app
from tests.e2e.helpers import VIEWPORT, open_page

pytestmark = pytest.mark.e2e

PROBE = '''
import streamlit as st
from ui.deployment.host import visitor_id

st.title("probe")
st.text(f"context={st.context.ip_address} visitor={visitor_id()}")
'''


@pytest.fixture(scope="module")
def probe_script() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="xff-probe-"))
    script = folder / "probe.py"
    script.write_text(PROBE)
    yield script


def _seen(browser: Any, url: str, header: str | None) -> str:
    context = browser.new_context(viewport=VIEWPORT, extra_http_headers={"X-Forwarded-For": header} if header else {})
    try:
        page = context.new_page()
        open_page(page, url, timeout_ms=60_000)
        page.get_by_text("visitor=").wait_for(timeout=30_000)
        return page.get_by_text("visitor=").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize(("hops", "expected"), [("", ["visitor=None"] * 3), ("1", ["visitor=None", "visitor=9.9.9.1", "visitor=9.9.9.3"])])
def test_a_spoofed_forwarded_header_does_not_pick_the_visitor(browser: Any, probe_script: Path, hops: str, expected: list[str]) -> None:
    env = {**app_env(), "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "TRUSTED_PROXY_HOPS": hops}
    with served_app(probe_script, env=env) as app:
        seen = [_seen(browser, app.url, header) for header in (None, "9.9.9.1", "9.9.9.2, 9.9.9.3")]
    if not hops:
        assert "context=9.9.9.1" in seen[1], "Streamlit's own ip_address follows the header (the attack)"
    assert [text.split(" ")[-1] for text in seen] == expected, seen
