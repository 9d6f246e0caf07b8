"""Resident memory of the app's server after a batch and a stream, in a real browser.

Community Cloud gives an app about 1 GB (2.7 GB at most). This starts the app with
``streamlit run``, opens it in headless Chromium (Debian's ``/usr/bin/chromium``),
runs the Batch, Stream and Compare pages on the simulator, and prints the
server's resident set size (RSS) after each step.

Usage:
    python bench/memory.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import (  # noqa: E402
    find_chromium,
    free_port,
    launch_chromium,
    open_page,
    rss_mb,
    start_streamlit,
    stop_process,
    strings,
    wait_for_health,
    wait_for_idle,
)

EN = strings("en")


def main() -> None:
    """Start the app, drive it, and print RSS figures as a markdown table."""
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        sys.exit("No Chromium: apt-get install chromium")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_streamlit("streamlit_app.py", port)
    rows: list[tuple[str, float]] = []
    try:
        wait_for_health(base_url, server)
        rows.append(("server started, no session", rss_mb(server.pid)))
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, chromium)
            page = browser.new_page()
            open_page(page, f"{base_url}/")
            rows.append(("Home page open", rss_mb(server.pid)))
            for path, step, done in (
                ("batch", "after Batch (loop + batch, 5 topics)", EN["batch"]["speedup"]),
                ("stream", "after Stream", EN["metrics"]["tps"]),
            ):
                open_page(page, f"{base_url}/{path}")
                page.locator(".st-key-run button").click()
                page.get_by_text(done).first.wait_for(timeout=60_000)
                wait_for_idle(page)
                rows.append((step, rss_mb(server.pid)))
            open_page(page, f"{base_url}/compare")
            page.locator(".st-key-run button").click()
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            wait_for_idle(page)
            rows.append(("after Compare (charts drawn)", rss_mb(server.pid)))
            browser.close()
    finally:
        stop_process(server)
    print("| step | server RSS (MB) |\n| --- | ---: |")
    for step, value in rows:
        print(f"| {step} | {value:.0f} |")


if __name__ == "__main__":
    main()
