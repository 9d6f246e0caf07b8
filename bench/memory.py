"""Resident memory of the app's server after a batch and a stream, in a real browser.

Community Cloud gives an app about 1 GB (2.7 GB at most). This starts the app with
``streamlit run``, opens it in headless Chromium (Debian's ``/usr/bin/chromium``),
runs the Batch, Stream and Compare pages on the simulator, and prints the
server's resident set size (RSS) after each step.

Usage:
    python -m bench.memory
"""

from __future__ import annotations

from functools import partial

from devtools.browser import chromium_browser, open_page, rss_mb, served_app, strings, wait_for_idle

EN = strings("en")


def main() -> None:
    """Start the app, drive it, and print RSS figures as a markdown table."""
    rows: list[tuple[str, float]] = []
    with served_app() as app, chromium_browser() as browser:
        rss = partial(rss_mb, app.process.pid)
        rows.append(("server started, no session", rss()))
        page = browser.new_page()
        open_page(page, f"{app.url}/")
        rows.append(("Home page open", rss()))
        for path, step, done in (
            ("batch", "after Batch (loop + batch, 5 topics)", EN["batch"]["speedup"]),
            ("stream", "after Stream", EN["metrics"]["tps"]),
        ):
            open_page(page, f"{app.url}/{path}")
            page.locator(".st-key-run button").click()
            page.get_by_text(done).first.wait_for(timeout=60_000)
            wait_for_idle(page)
            rows.append((step, rss()))
        open_page(page, f"{app.url}/compare")
        page.locator(".st-key-run button").click()
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        wait_for_idle(page)
        rows.append(("after Compare (charts drawn)", rss()))
    print("| step | server RSS (MB) |\n| --- | ---: |")
    for step, value in rows:
        print(f"| {step} | {value:.0f} |")


if __name__ == "__main__":
    main()
