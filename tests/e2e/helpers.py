"""Helpers for the browser tests: watching and driving the app in a page.

Starting the app and Chromium lives in ``devtools.browser`` (the benches in
``bench/`` share it); its names are re-exported here for the tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.browser import (
    APP,
    APP_CONNECTED,
    APP_IDLE,
    CHROMIUM_ARGS,
    EXCEPTION,
    ROOT,
    SKELETON,
    VIEWPORT,
    AppServer,
    app_env,
    find_chromium,
    free_port,
    in_ci,
    launch_chromium,
    normalize,
    open_page,
    rss_mb,
    served_app,
    start_streamlit,
    stop_process,
    strings,
    wait_for_health,
    wait_for_idle,
)

__all__ = [
    "APP",
    "APP_CONNECTED",
    "APP_IDLE",
    "ARTIFACTS",
    "CHROMIUM_ARGS",
    "EXCEPTION",
    "ROOT",
    "SAMPLER_JS",
    "SKELETON",
    "VIEWPORT",
    "AppServer",
    "app_env",
    "assert_no_exception",
    "choose_in_sidebar_selectbox",
    "choose_radio",
    "click_run",
    "find_chromium",
    "free_port",
    "in_ci",
    "launch_chromium",
    "normalize",
    "open_page",
    "playwright_expect",
    "rss_mb",
    "screenshot",
    "served_app",
    "set_topics",
    "start_sampler",
    "start_streamlit",
    "stop_process",
    "stop_sampler",
    "strings",
    "wait_for_health",
    "wait_for_idle",
    "wait_for_metrics",
]

ARTIFACTS = ROOT / "test-artifacts" / "e2e"


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


def set_slider(page: Any, key: str, value: int, *, attempts: int = 40) -> None:
    """Move the slider with widget key ``key`` to ``value`` by keyboard (Home/End for its ends), one key per rerun.

    Keys pressed in a row while the rerun of an earlier key is still running can be lost
    (the slider showed 3 after Home and three ArrowRights in CI), so each step waits for
    its rerun to end and the value is read back before the next key.
    """
    slider = page.locator(f".st-key-{key} input[type=range]")
    ends = {int(float(slider.get_attribute("min") or 0)): "Home", int(float(slider.get_attribute("max") or 0)): "End"}
    for _ in range(attempts):
        wait_for_idle(page)
        current = int(float(slider.input_value()))
        if current == value:
            break
        slider.focus()
        slider.press(ends.get(value) or ("ArrowRight" if current < value else "ArrowLeft"))
    playwright_expect()(slider).to_have_value(str(value))
