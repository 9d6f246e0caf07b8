"""Start the app under ``streamlit run`` and drive it in Debian's headless Chromium.

Shared by the browser tests (``tests/e2e``) and the browser benchmarks
(``bench/``). Nothing here imports Streamlit or Playwright at module level.
Playwright is always given Debian's Chromium (``/usr/bin/chromium`` or
``$E2E_CHROMIUM``): ``playwright install`` is never needed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

#: The repository root: ``streamlit run`` starts there, as on Community Cloud.
ROOT = Path(__file__).resolve().parents[1]

#: Flags for a headless Chromium that never talks to the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

VIEWPORT = {"width": 1400, "height": 900}

#: The app's root element; Streamlit sets these two attributes on it.
APP = '[data-testid="stApp"]'
APP_CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'
#: Placeholders for elements whose (lazily loaded) frontend code has not arrived yet.
SKELETON = '[data-testid="stSkeleton"]'


def in_ci() -> bool:
    """True when running in CI (``CI`` set to anything but empty/0/false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_chromium() -> str | None:
    """The Chromium executable to use: ``$E2E_CHROMIUM``, Debian's ``/usr/bin/chromium``, or one on ``PATH``."""
    explicit = os.environ.get("E2E_CHROMIUM")
    if explicit:
        return explicit
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.access(candidate, os.X_OK):
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def launch_chromium(playwright: Any, executable: str, **kwargs: Any) -> Any:
    """Launch headless Chromium through Playwright with the offline flags."""
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=60_000, **kwargs
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env() -> dict[str, str]:
    """The environment for a Streamlit server under test: no OpenAI settings, unbuffered output."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def start_streamlit(
    script: str | Path,
    port: int,
    *,
    log: IO[bytes] | int | None = subprocess.DEVNULL,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """Start ``python -m streamlit run SCRIPT`` headless on 127.0.0.1:PORT.

    The file watcher is off: other edits to the tree must not trigger reruns or
    a "File change" badge in the middle of a test.
    """
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
        *extra_args,
    ]
    return subprocess.Popen(command, cwd=cwd, env=env or app_env(), stdout=log, stderr=subprocess.STDOUT)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB, read from ``/proc`` (NaN when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for_health(base_url: str, process: subprocess.Popen[bytes], *, timeout_s: float = 90.0, poll_s: float = 0.05) -> float:
    """Wait until ``/_stcore/health`` answers ``ok``.

    Returns:
        The seconds waited.

    Raises:
        RuntimeError: When the server exits or does not answer in time.
    """
    started = time.perf_counter()
    deadline = started + timeout_s
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(poll_s)
    raise RuntimeError(f"streamlit did not answer {base_url}/_stcore/health within {timeout_s:.0f} s")


def stop_process(process: subprocess.Popen[bytes], *, timeout_s: float = 15.0) -> None:
    """Stop a server we started: SIGTERM, then SIGKILL if it does not exit."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout_s)


def wait_for_idle(page: Any, *, timeout_ms: float = 60_000, settle_ms: float = 100) -> None:
    """Wait until the app is connected, no script run is in progress and every element is drawn.

    A widget change or a click sets the state to ``rerunRequested`` at once in
    the browser, then ``running``; the short settle delay first lets that happen.
    Some widgets' code is loaded lazily, and they show as skeletons for a few
    hundred milliseconds after the run ended: wait for those too.
    """
    if settle_ms:
        page.wait_for_timeout(settle_ms)
    page.wait_for_selector(APP_CONNECTED, timeout=timeout_ms)
    page.wait_for_selector(APP_IDLE, timeout=timeout_ms)
    page.wait_for_function(
        "selector => document.querySelectorAll(selector).length === 0", arg=SKELETON, timeout=timeout_ms
    )


def open_page(page: Any, url: str, *, timeout_ms: float = 60_000) -> None:
    """Go to ``url`` and wait for its first script run to finish and a title to show."""
    page.goto(url, timeout=timeout_ms)
    page.wait_for_selector(APP_CONNECTED, timeout=timeout_ms)
    page.locator("h1").first.wait_for(state="visible", timeout=timeout_ms)
    wait_for_idle(page, timeout_ms=timeout_ms, settle_ms=0)


def strings(language: str) -> dict[str, Any]:
    """The app's UI strings for ``language`` (``en`` or ``ko``), read from ``ui/locales``."""
    with (ROOT / "ui" / "locales" / f"{language}.toml").open("rb") as handle:
        return tomllib.load(handle)


def normalize(text: str) -> str:
    """Text without whitespace, for comparing rendered markdown with raw text."""
    return "".join(text.split())


@dataclass(frozen=True)
class AppServer:
    """A running ``streamlit run`` server.

    Attributes:
        url: Its base URL (``http://127.0.0.1:PORT``).
        process: The server process.
        healthy_s: Seconds from the start of the health wait until ``/_stcore/health`` answered.
    """

    url: str
    process: subprocess.Popen[bytes]
    healthy_s: float


@contextmanager
def served_app(
    script: str | Path = "streamlit_app.py",
    *,
    log: IO[bytes] | int | None = subprocess.DEVNULL,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    health_poll_s: float = 0.05,
) -> Iterator[AppServer]:
    """Serve ``script`` on a free port of 127.0.0.1 until the block ends, then stop the server.

    Args:
        script: The entry script, relative to ``cwd`` or absolute.
        log: Where the server's output goes.
        extra_args: More ``streamlit run`` options.
        env: The server's environment (default ``app_env()``).
        cwd: The folder the server runs in (the checkout).
        health_poll_s: How often to ask ``/_stcore/health`` while it starts.

    Yields:
        The server, once it is healthy.

    Raises:
        RuntimeError: When the server exits or does not answer in time.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_streamlit(script, port, log=log, extra_args=extra_args, env=env, cwd=cwd)
    try:
        healthy_s = wait_for_health(url, process, poll_s=health_poll_s)
        yield AppServer(url, process, healthy_s)
    finally:
        stop_process(process)


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Headless Chromium through Playwright's sync API, closed when the block ends.

    Yields:
        Playwright's ``Browser``.

    Raises:
        RuntimeError: When no Chromium is installed.
    """
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        raise RuntimeError("No Chromium found (looked at $E2E_CHROMIUM, /usr/bin/chromium and PATH): apt-get install chromium")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        try:
            yield browser
        finally:
            browser.close()
