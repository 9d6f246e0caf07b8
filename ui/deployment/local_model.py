"""The local model's sidebar controls and its loading progress (llama.cpp's server on this machine).

The server is shared by every session of the process (``chains.local.supervisor``):
selecting the provider starts it, the sidebar shows where the loading is and the
time it took, and a run pressed meanwhile waits for it with the same progress.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from chains.local.supervisor import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_SLOTS,
    MAX_MAX_TOKENS,
    MAX_SLOTS,
    LocalModelError,
    ServerStatus,
    config_for,
    current_server,
    default_threads,
    model_name,
    model_path,
    shared_server,
)
from ui.i18n import t

SLOTS_KEY = "local_slots"
THREADS_KEY = "local_threads"
MAX_TOKENS_KEY = "local_max_tokens"
LOCAL_TIMEOUT_KEY = "local_timeout_s"
#: The local model's request timeout: a queued call waits for every call before it in the server's queue.
LOCAL_TIMEOUT_S = 180.0


def init_local_defaults() -> None:
    """Give the local model's widgets their first values once per session."""
    defaults = {SLOTS_KEY: DEFAULT_SLOTS, THREADS_KEY: default_threads(), MAX_TOKENS_KEY: DEFAULT_MAX_TOKENS, LOCAL_TIMEOUT_KEY: LOCAL_TIMEOUT_S}
    for key, value in defaults.items():
        st.session_state[key] = st.session_state.get(key, value)


def local_settings(*, public: bool) -> tuple[int, int, int]:
    """``(slots, threads, max_tokens)`` for this run; on a public deployment the server's are the host's defaults."""
    state = st.session_state
    max_tokens = int(state.get(MAX_TOKENS_KEY, DEFAULT_MAX_TOKENS))
    if public:
        return DEFAULT_SLOTS, default_threads(), max_tokens
    return int(state.get(SLOTS_KEY, DEFAULT_SLOTS)), int(state.get(THREADS_KEY, default_threads())), max_tokens


def status_text(status: ServerStatus) -> str:
    """One line for the server's state (progress while loading, time to ready once ready)."""
    if status.stage == "ready":
        return t("local.ready", seconds=status.ready_s or 0.0, slots=status.config.slots, threads=status.config.threads)
    if status.stage in ("failed", "stopped"):
        return t(f"local.failed_{status.reason if status.reason in ('exited', 'timeout', 'no_model', 'missing') else 'exited'}")
    return t(f"local.{status.stage}", seconds=status.elapsed_s)


def _start_server(*, public: bool) -> ServerStatus | None:
    """Start (or reuse) the shared server for the sidebar's settings; ``None`` when there is no model."""
    slots, threads, _ = local_settings(public=public)
    try:
        return shared_server(config_for(slots, threads)).status()
    except LocalModelError as exc:
        st.warning(t(f"local.failed_{exc.reason}"), icon="🦙")
        return None


@st.fragment(run_every=0.5)
def _server_status_while_loading() -> None:
    """The server's state, refreshed twice a second until it is ready or failed (then it stops refreshing)."""
    server = current_server()
    if server is None:
        st.caption(t("local.not_started"))
        return
    status = server.status()
    if status.stage in ("starting", "loading"):
        # llama.cpp reports no fraction while it loads: the bar creeps towards the end, the text counts the seconds.
        st.progress(min(0.95, status.elapsed_s / (status.elapsed_s + 3.0)), text=status_text(status))
    else:
        st.rerun(scope="app")  # once: the sidebar then shows the time to ready, and this fragment stops refreshing


def local_controls(*, public: bool) -> None:
    """The local model's fields: slots, threads, max tokens, and the shared server's state."""
    init_local_defaults()
    path = model_path()
    st.caption(t("local.model", model=model_name(Path(path)) if path else "—"))
    if public:
        st.caption(t("local.fixed_public", slots=DEFAULT_SLOTS, threads=default_threads()))
    else:
        st.number_input(t("local.slots"), min_value=1, max_value=MAX_SLOTS, step=1, key=SLOTS_KEY, help=t("local.slots_help"))
        st.number_input(t("local.threads"), min_value=1, max_value=16, step=1, key=THREADS_KEY, help=t("local.threads_help"))
    st.number_input(
        t("local.max_tokens"), min_value=8, max_value=MAX_MAX_TOKENS, step=8, key=MAX_TOKENS_KEY, help=t("local.max_tokens_help")
    )
    status = _start_server(public=public)
    if status is None:
        return
    if status.stage in ("starting", "loading"):
        _server_status_while_loading()
    else:
        st.caption(status_text(status))


def wait_for_local_server(*, public: bool) -> bool:
    """Before a run: wait for the shared server, showing its progress on the page; False (and why) if it fails."""
    slots, threads, _ = local_settings(public=public)
    try:
        server = shared_server(config_for(slots, threads))
    except LocalModelError as exc:
        st.warning(t(f"local.failed_{exc.reason}"), icon="🦙")
        return False
    if server.status().stage == "ready":
        return True
    with st.status(t("local.waiting"), expanded=True) as box:
        line = st.empty()
        try:
            status = server.wait_ready(on_progress=lambda status: line.caption(status_text(status)))
        except LocalModelError as exc:
            box.update(label=t(f"local.failed_{exc.reason}"), state="error")
            return False
        box.update(label=status_text(status), state="complete", expanded=False)
    return True
