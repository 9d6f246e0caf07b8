"""Helpers for the browser tests and the browser benchmarks.

Nothing here imports Streamlit or Playwright at module level, so the benches in
``bench/`` can reuse these functions (they put the repository root on
``sys.path``). Playwright is always given Debian's Chromium (``/usr/bin/chromium``
or ``$E2E_CHROMIUM``): ``playwright install`` is never needed.
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
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"

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


#: Installs ``window.__samples``: the innerText of ``selector`` every ``interval`` ms,
#: recorded only when it changed (text and ``Date.now()``), plus a MutationObserver
#: that records every change as it happens.
SAMPLER_JS = """
([selector, interval]) => {
  const read = () => {
    const el = document.querySelector(selector);
    return el ? el.innerText : null;
  };
  const samples = [];
  let last = undefined;
  const record = (source) => {
    const text = read();
    if (text !== last) { samples.push({t: Date.now(), text, source}); last = text; }
  };
  record('start');
  const timer = setInterval(() => record('poll'), interval);
  const observer = new MutationObserver(() => record('mutation'));
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  window.__samples = samples;
  window.__stopSampler = () => { clearInterval(timer); observer.disconnect(); return samples; };
}
"""


def start_sampler(page: Any, selector: str, *, interval_ms: int = 30) -> None:
    """Start recording the text of ``selector`` as it changes (see ``SAMPLER_JS``)."""
    page.evaluate(SAMPLER_JS, [selector, interval_ms])


def stop_sampler(page: Any) -> list[dict[str, Any]]:
    """Stop the sampler and return its samples: ``{"t": ms, "text": str | None, "source": str}``."""
    return page.evaluate("() => window.__stopSampler()")


def screenshot(page: Any, name: str) -> Path:
    """Save a viewport screenshot under ``test-artifacts/e2e/NAME.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# ------------------------------------------------------------- driving the app
def playwright_expect() -> Any:
    """Playwright's ``expect``, imported only when a browser test runs."""
    from playwright.sync_api import expect

    return expect


def assert_no_exception(page: Any) -> None:
    """Fail with the exception's text when the page shows one."""
    shown = page.locator(EXCEPTION)
    assert shown.count() == 0, f"the page shows an exception: {shown.first.inner_text()[:2000]}"


def click_run(page: Any, key: str = "run") -> None:
    """Press the button with widget key ``key``."""
    page.locator(f".st-key-{key} button").click()


def wait_for_metrics(page: Any, label: str, timeout_ms: float = 60_000) -> None:
    """Wait for the run to finish: a metric with ``label`` shows and the script is idle."""
    page.get_by_test_id("stMetric").filter(has_text=label).first.wait_for(state="visible", timeout=timeout_ms)
    wait_for_idle(page, timeout_ms=timeout_ms)


def choose_in_sidebar_selectbox(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar select box labelled ``label``.

    A rerun that lands just after the click (an expander opened a moment before, say) can close the
    list again, so the list is opened up to three times before the option must be there.
    """
    wait_for_idle(page)
    combobox = page.get_by_test_id("stSidebar").get_by_role("combobox", name=label)
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(2):
        combobox.click()
        try:
            choice.wait_for(state="visible", timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: open the list again
            page.keyboard.press("Escape")
            wait_for_idle(page)
    else:
        combobox.click()
    choice.click()
    wait_for_idle(page)


def choose_radio(page: Any, scope: Any, option: str) -> None:
    """Pick the radio option ``option`` inside ``scope``."""
    scope.get_by_test_id("stRadioOption").filter(has_text=option).click()
    wait_for_idle(page)


def set_topics(page: Any, text: str) -> None:
    """Type into the topic box (key ``topics``) and commit it (Enter / Ctrl+Enter)."""
    box = page.locator(".st-key-topics").locator("textarea, input").first
    box.fill(text)
    box.press("Control+Enter" if box.evaluate("el => el.tagName") == "TEXTAREA" else "Enter")
    wait_for_idle(page)
