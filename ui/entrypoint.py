"""Make every page run through ``streamlit_app.py``, even when opened by a deep link."""

from __future__ import annotations

import streamlit as st


def route_through_entrypoint() -> None:
    """Rerun through the entry script if Streamlit started in old-style multipage mode.

    Streamlit treats an app that has a ``pages/`` folder as an old-style
    (``pages/``-directory) multipage app until the entry script first calls
    ``st.navigation``. If the very first request after ``streamlit run`` is a
    deep link such as ``/batch``, the page would run on its own: no sidebar, no
    settings, file names in the navigation, and every later session likewise.
    Switching that mode off and rerunning sends the run through
    ``streamlit_app.py``, onto the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
