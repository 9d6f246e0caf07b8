"""Helpers for Streamlit ``AppTest`` tests of the multipage app."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime import pages_manager
from streamlit.testing.v1 import AppTest

APP_FILE = Path(__file__).resolve().parent.parent / "streamlit_app.py"
PAGES = ["pages/home.py", "pages/invoke.py", "pages/batch.py", "pages/stream.py", "pages/async_modes.py", "pages/compare.py", "pages/lab.py", "pages/history.py"]
MODE_PAGES = ["pages/invoke.py", "pages/batch.py", "pages/stream.py", "pages/async_modes.py", "pages/compare.py"]

#: Simulator settings that make a test run take a fraction of a second.
FAST_SIMULATOR = {"sim_profile": "fast", "sim_ttft_s": 0.05, "sim_tokens_per_s": 400.0, "sim_jitter": 0.1}

#: Simulator settings for tests that assert which calls ran together: every call lasts
#: about 0.45 s, far longer than a loaded machine needs to start the calls of one wave,
#: so "all in flight at once" depends on the runner, never on the machine's speed.
OVERLAP_SIMULATOR = {"sim_profile": "fast", "sim_ttft_s": 0.4, "sim_tokens_per_s": 400.0, "sim_jitter": 0.0}


class _PathWithoutPagesFolder(type(Path())):  # type: ignore[misc]
    """``Path`` whose ``pages`` folder does not "exist" for Streamlit's page manager.

    ``AppTest`` resets ``PagesManager.uses_pages_directory`` before every run, so
    an app that routes with ``st.navigation`` *and* keeps its pages in a folder
    named ``pages/`` is treated as an old-style (v1) multipage app from the
    second run on: the entry script (and so the sidebar) stops running. A real
    ``streamlit run`` only does that check once, and ``st.navigation`` switches it
    off. This restores the real behaviour under ``AppTest``.
    """

    def exists(self, *args: object, **kwargs: object) -> bool:
        if self.name == "pages":
            return False
        return super().exists(*args, **kwargs)


def open_app(
    monkeypatch: pytest.MonkeyPatch,
    page: str | None = None,
    *,
    state: dict | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> AppTest:
    """Start the app under ``AppTest``, optionally on ``page`` with session ``state`` set.

    Args:
        monkeypatch: pytest's monkeypatch fixture.
        page: A page file relative to the app, such as ``"pages/batch.py"``.
        state: Session-state values to set before the page runs (sidebar settings).
        env: Environment variables for the deployment (``OPENAI_API_KEY``...);
            the ``OPENAI_*`` variables of the machine running the tests are removed.
        timeout: Seconds allowed per script run.

    Returns:
        The app, already run on the requested page.
    """
    monkeypatch.setattr(pages_manager, "Path", _PathWithoutPagesFolder)
    # A class attribute that every AppTest run sets: restore it afterwards, so no test
    # (nor anything after the AppTest tests) sees what an earlier test left there.
    monkeypatch.setattr(pages_manager.PagesManager, "uses_pages_directory", None)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    app = AppTest.from_file(str(APP_FILE), default_timeout=timeout)
    app.run()
    for key, value in (state or {}).items():
        app.session_state[key] = value
    if page is not None:
        app.switch_page(page)
    app.run()
    return app


def texts(app: AppTest) -> str:
    """All markdown, captions, titles, headers and alerts of the page as one string."""
    parts = []
    for group in (app.title, app.header, app.subheader, app.markdown, app.caption, app.info, app.warning, app.error, app.success):
        parts.extend(str(element.value) for element in group)
    return "\n".join(parts)
