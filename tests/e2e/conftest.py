"""Fixtures for the browser tests: the app under ``streamlit run``, and headless Chromium.

* ``app_url`` (module): starts ``python -m streamlit run streamlit_app.py`` on a
  free port of 127.0.0.1, with no ``OPENAI_*`` variables, waits for
  ``/_stcore/health`` and stops the server when the module's tests are done. Its
  output goes to ``test-artifacts/e2e/streamlit-server-<module>.log``. It is
  *module*-scoped so that no server (nor a script run it was still finishing for
  a closed browser session) is left competing for the CPU with the tests that run
  after the browser tests, and so that each browser module starts from a fresh app.
* ``browser`` (module): Playwright's sync API driving Debian's Chromium
  (``/usr/bin/chromium``, or ``$E2E_CHROMIUM``). It is *module*-scoped on purpose:
  while the sync API is started, its event loop counts as running in the main
  thread, so every later ``asyncio.run()`` in the rest of the suite would fail.
  It is stopped as soon as the browser tests are done.
* ``page`` (function): a fresh browser context (so a fresh Streamlit session),
  1400x900, English locale. A failed test leaves a screenshot in
  ``test-artifacts/e2e/``.

When Chromium cannot start, the tests fail with the reason. They are skipped
only when no Chromium is installed at all *and* ``CI`` is not set.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.helpers import (
    ARTIFACTS,
    VIEWPORT,
    app_env,
    find_chromium,
    in_ci,
    launch_chromium,
    open_page,
    served_app,
)

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so the ``page`` fixture knows a test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The Chromium binary; fails in CI (and skips locally, saying why) when there is none."""
    executable = find_chromium()
    if executable is None:
        message = (
            "No Chromium found (looked at $E2E_CHROMIUM, /usr/bin/chromium and PATH). "
            "Install Debian's package: apt-get install chromium (never `playwright install`)."
        )
        if in_ci():
            pytest.fail(f"CI=true and the browser tests cannot run: {message}", pytrace=False)
        print(f"\n[e2e] skipping the browser tests: {message}", file=sys.stderr)
        pytest.skip(message)
    return executable


@pytest.fixture(scope="module")
def app_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of the app, served by a real ``streamlit run`` for one test module."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"streamlit-server-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    # The server keeps its runs in its own folder, never in a real user's store.
    env = {**app_env(), "RUNS_DB_DIR": tempfile.mkdtemp(prefix="e2e-runs-")}
    env.pop("RUNS_DB_URL", None)
    with log_path.open("wb") as log:
        try:
            with served_app(log=log, env=env) as app:
                yield app.url
        except RuntimeError as exc:  # served_app's: the server exited or never answered
            log.flush()
            tail = log_path.read_text(errors="replace")[-3000:]
            pytest.fail(f"The app did not start: {exc}\n--- {log_path} ---\n{tail}", pytrace=False)


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Any]:
    """Headless Chromium through Playwright (sync API); a start failure fails the tests."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is in requirements-dev.txt
        pytest.fail(f"The Playwright package is not installed ({exc}): pip install -r requirements-dev.txt", pytrace=False)
    playwright = sync_playwright().start()
    try:
        try:
            browser = launch_chromium(playwright, chromium_executable)
        except Exception as exc:  # noqa: BLE001 - any launch error is reported as a failure
            pytest.fail(
                f"Chromium at {chromium_executable} could not start, so the browser tests cannot run.\n"
                f"{type(exc).__name__}: {exc}",
                pytrace=False,
            )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def warm_app(browser: Any, app_url: str) -> str:
    """Open the entry page once before any test.

    The first script run pays for the imports, and it lets the entry script call
    ``st.navigation`` first. A *fresh* server whose first visitor deep-links to a
    page routes through Streamlit's old ``pages/`` folder mode instead (see
    ``test_deep_link_on_a_fresh_server_uses_the_apps_navigation``).
    """
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    try:
        open_page(context.new_page(), f"{app_url}/", timeout_ms=90_000)
    finally:
        context.close()
    return app_url


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Any, warm_app: str) -> Iterator[Any]:
    """A page in a new browser context: a new Streamlit session with default settings."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        if any(report.failed for report in reports.values()):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
            with contextlib.suppress(Exception):  # a screenshot must not hide the real failure
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"))
        context.close()
