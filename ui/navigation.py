"""The app's pages, defined once: the navigation, the links between pages, and deep links.

``streamlit_app.py`` builds the ``st.Page`` objects with ``app_pages()`` and runs
the chosen page inside ``routed(pages)``; a page that links to others (Home,
History) gets the same objects from ``app_pages()``.

The card of this app requires the folder name ``pages/``. Streamlit treats an app
with a ``pages/`` folder as an old-style multipage app until an entry script
first calls ``st.navigation``. If the very first request after ``streamlit run``
is a deep link such as ``/batch``, Streamlit runs ``pages/batch.py`` on its own:
no sidebar, no settings, file names in the navigation, and every later session
likewise. No setting turns that off, so each page calls
``route_through_entrypoint()`` first: outside ``streamlit_app.py`` it calls
``st.navigation`` (public: it ends the old-style mode for the whole server) and
reruns, which sends the run through ``streamlit_app.py``, onto the same page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui.i18n import current_language, t

log = logging.getLogger(__name__)

_REROUTED_KEY = "_rerouted_through_entrypoint"
_run = threading.local()


@dataclass(frozen=True)
class PageSpec:
    """One page of the app.

    Attributes:
        id: Its stable id and URL path (``/batch``).
        script: Its file, relative to the app.
        icon: Its icon in the navigation and in links.
        section: ``learn`` or ``measure`` (``nav.<section>`` is its heading).
    """

    id: str
    script: str
    icon: str
    section: str

    @property
    def title_key(self) -> str:
        """The locale key of its title (``nav.<id>``)."""
        return f"nav.{self.id}"


PAGE_SPECS: tuple[PageSpec, ...] = (
    PageSpec("home", "pages/home.py", "🏠", "learn"),
    PageSpec("invoke", "pages/invoke.py", "1️⃣", "learn"),
    PageSpec("batch", "pages/batch.py", "🧺", "learn"),
    PageSpec("stream", "pages/stream.py", "🌊", "learn"),
    PageSpec("async", "pages/async_modes.py", "🔀", "learn"),
    PageSpec("inside", "pages/inside.py", "🔬", "learn"),
    PageSpec("compare", "pages/compare.py", "📊", "measure"),
    PageSpec("lab", "pages/lab.py", "🧪", "measure"),
    PageSpec("history", "pages/history.py", "🗂️", "measure"),
)
"""Every page, in navigation order; the first is the default."""


DEFAULT_PAGE_PATH = "welcome"
"""The default page's own URL path. Streamlit serves the default page at ``/``; ``/home`` is a
hidden alias that switches to it (see ``_home_alias``), so Home's own path must differ."""


_PAGES_KEY = "_pages_by_language"


def _make_pages() -> dict[str, Any]:
    """The ``st.Page`` of every page, made once per session and language.

    ``st.Page`` resolves its file on the disk (a ``realpath`` and a ``stat`` for
    each page). Reused from the session, every rerun after the first skips those
    system calls: each one gives the GIL away, and when a study group presses Run
    together, getting it back waits behind every other session's script.
    """
    language = current_language()
    made = st.session_state.get(_PAGES_KEY)
    if made is not None and made[0] == language:
        return made[1]
    pages = {
        spec.id: st.Page(
            spec.script,
            title=t(spec.title_key),
            icon=spec.icon,
            url_path=DEFAULT_PAGE_PATH if index == 0 else spec.id,
            default=index == 0,
        )
        for index, spec in enumerate(PAGE_SPECS)
    }
    st.session_state[_PAGES_KEY] = (language, pages)
    return pages


def _home_alias(home: Any) -> Any:
    """A hidden page at ``/home`` (an old link, or a guess) that opens Home, which is served at ``/``."""

    def go_home() -> None:
        st.switch_page(home)

    return st.Page(go_home, title=t("nav.home"), url_path=PAGE_SPECS[0].id, visibility="hidden")


def app_pages() -> dict[str, Any]:
    """The ``st.Page`` of every page, by id: the ones ``streamlit_app.py`` made for this run, if any."""
    pages = getattr(_run, "pages", None)
    return pages if pages is not None else _make_pages()


def sections(pages: dict[str, Any]) -> dict[str, list[Any]]:
    """``pages`` grouped under their translated section headings, for ``st.navigation``."""
    grouped: dict[str, list[Any]] = {}
    for spec in PAGE_SPECS:
        grouped.setdefault(t(f"nav.{spec.section}"), []).append(pages[spec.id])
    grouped[t(f"nav.{PAGE_SPECS[-1].section}")].append(_home_alias(pages[PAGE_SPECS[0].id]))
    return grouped


@contextmanager
def routed(pages: dict[str, Any]) -> Iterator[None]:
    """Run the chosen page inside this block: it is then routed by ``streamlit_app.py``, with these pages."""
    _run.pages = pages
    try:
        yield
    finally:
        _run.pages = None


def route_through_entrypoint() -> None:
    """Rerun through ``streamlit_app.py`` when a page runs on its own (a deep link on a fresh server).

    Done at most once per session, and never fatal: if a later Streamlit no
    longer accepts this, the page runs on its own, as it would without it
    (``tests/e2e/test_browser.py`` checks a fresh server's deep link).
    """
    if getattr(_run, "pages", None) is not None or st.session_state.get(_REROUTED_KEY):
        return
    st.session_state[_REROUTED_KEY] = True
    try:
        st.navigation(sections(_make_pages()), position="hidden")  # ends the pages/-folder mode, server-wide
    except Exception:
        log.warning("Could not route a deep link through streamlit_app.py", exc_info=True)
        return
    st.rerun()
