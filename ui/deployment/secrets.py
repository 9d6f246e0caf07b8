"""Whether ``st.secrets`` is worth reading: one check, shared by the host's configuration and the run store.

It is its own module because both ``ui.deployment.host`` and
``ui.deployment.store`` need it, and the store reads the host's configuration:
beside either one it would make the other import it back.
"""

from __future__ import annotations

import functools
import os

import streamlit as st


@functools.cache
def _secrets_paths() -> tuple[str, ...]:
    """Where Streamlit looks for secrets (its config, read once per process)."""
    return tuple(str(path) for path in st.get_option("secrets.files"))


def secrets_present() -> bool:
    """True when one of Streamlit's secrets files (or folders) exists, so that ``st.secrets`` is worth reading.

    Without one, every ``st.secrets`` access re-reads the config and the disk under
    Streamlit's secrets lock, then raises: 40 sessions pressing Run together
    queued on that lock before their first token (an eighth of their threads'
    samples). A file added while the server runs is seen at the next run.
    """
    return any(os.path.exists(path) for path in _secrets_paths())
