"""Resident memory of the app's server after a batch and a stream, in a real browser.

Community Cloud gives an app about 1 GB (2.7 GB at most). This starts the app with
``streamlit run``, opens it in headless Chromium, runs the Batch page and the Stream
page on the simulator, and prints the server's resident set size (RSS) at each step.

Usage:
    python bench/memory.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_healthy(port: int, timeout_s: float = 60) -> None:
    """Wait until Streamlit's health endpoint answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the app did not become healthy")


def main() -> None:
    """Start the app, drive it, and print RSS figures as a markdown table."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows: list[tuple[str, float]] = []
    try:
        wait_healthy(port)
        rows.append(("server started, no session", rss_mb(server.pid)))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
            rows.append(("Home page open", rss_mb(server.pid)))
            page.goto(f"http://127.0.0.1:{port}/batch")
            page.locator(".st-key-run button").click()
            page.get_by_text("Speed-up").wait_for(timeout=60_000)
            rows.append(("after Batch (loop + batch, 5 topics)", rss_mb(server.pid)))
            page.goto(f"http://127.0.0.1:{port}/stream")
            page.locator(".st-key-run button").first.click()
            page.get_by_text("Tokens/s").wait_for(timeout=60_000)
            rows.append(("after Stream", rss_mb(server.pid)))
            page.goto(f"http://127.0.0.1:{port}/compare")
            page.locator(".st-key-run button").click()
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            rows.append(("after Compare (charts drawn)", rss_mb(server.pid)))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print("| step | server RSS (MB) |\n| --- | ---: |")
    for step, value in rows:
        print(f"| {step} | {value:.0f} |")


if __name__ == "__main__":
    main()
