"""The sidebar's replay controls: choose, import, record and export replay profiles.

Imported and recorded profiles live in this session only (``st.session_state``),
never in a shared cache. Their names and texts are untrusted: they are shown as
widget labels, captions run through ``inert_markdown``, or code, never as HTML.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from chains.records.replay_recording import profile_from_records
from chains.security.safe_text import inert_markdown, plain_markdown
from chains.simulation.replay import (
    MAX_FILE_BYTES,
    ReplayFormatError,
    ReplayProfile,
    example_profiles,
    parse_profile,
    profile_to_json,
    recorded_profiles,
)
from ui.i18n import t

REPLAY_KEY = "sim_replay"
IMPORT_KEY = "import_replay"
OFF = "off"
#: Imported or recorded profiles kept per session.
MAX_SESSION_PROFILES = 8
EXAMPLE_PREFIX = "example:"
"""The id prefix of the shipped examples (``example:<file stem>``); imports and recordings never have it."""
_SESSION_PROFILES = "_replay_profiles"
_IMPORT_PROBLEM = "_replay_import_problem"
_RECORDED = "_replay_recorded"


def _session_profiles() -> dict[str, ReplayProfile]:
    return st.session_state.setdefault(_SESSION_PROFILES, {})


def available_profiles() -> dict[str, ReplayProfile]:
    """Every profile this session can replay: the shipped recordings and examples, then its imports and recordings."""
    return {
        **{f"shipped:{stem}": profile for stem, profile in recorded_profiles().items()},
        **{f"{EXAMPLE_PREFIX}{stem}": profile for stem, profile in example_profiles().items()},
        **_session_profiles(),
    }


def selected_replay() -> ReplayProfile | None:
    """The profile the simulator should replay, or ``None`` (the simulator writes its own jokes)."""
    return available_profiles().get(str(st.session_state.get(REPLAY_KEY, OFF)))


def _keep(profile: ReplayProfile, profile_id: str) -> None:
    """Add a profile to the session (the oldest goes beyond the cap) and select it."""
    profiles = _session_profiles()
    profiles[profile_id] = profile
    while len(profiles) > MAX_SESSION_PROFILES:
        profiles.pop(next(iter(profiles)))
    st.session_state[REPLAY_KEY] = profile_id


def _on_import() -> None:
    """Read the uploaded file, strictly; a bad file changes nothing and leaves a message."""
    st.session_state.pop(_IMPORT_PROBLEM, None)
    uploaded = st.session_state.get(IMPORT_KEY)
    if uploaded is None:
        return
    try:
        if uploaded.size > MAX_FILE_BYTES:
            raise ReplayFormatError("too_large")
        profile = parse_profile(uploaded.getvalue())
    except ReplayFormatError as problem:
        st.session_state[_IMPORT_PROBLEM] = (problem.reason, problem.where)
        return
    _keep(profile, f"imported:{uploaded.file_id}")


def _record_from_history() -> None:
    """Build a profile from this session's streamed runs on a real model, and select it."""
    from ui.runs.keeping import history

    try:
        profile = profile_from_records(history(), t("replay.recorded_name"))
    except ReplayFormatError:
        st.session_state[_RECORDED] = None
        return
    profile_id = f"recorded:{profile.recorded_at}"
    _keep(profile, profile_id)
    st.session_state[_RECORDED] = profile_id


def shown_text(profile_id: str, field: str, text: str) -> str:
    """A profile's name or note in the UI's language: a shipped example's from the locale files, an import's as it is."""
    key = f"replay_examples.{str(profile_id).removeprefix(EXAMPLE_PREFIX)}_{field}"
    translated = t(key)
    return text if translated == key else translated


def _profile_label(profiles: dict[str, ReplayProfile]) -> Callable[[str], str]:
    """A ``format_func`` with the labels fixed now (as ``option_labels`` does: AppTest calls it outside the run)."""
    labels = {OFF: t("replay.off"), **{profile_id: shown_text(profile_id, "name", profile.name) for profile_id, profile in profiles.items()}}
    return lambda option: labels.get(option, option)


def replay_controls() -> None:
    """The "replay a real model" expander under the simulator's settings."""
    profiles = available_profiles()
    if st.session_state.get(REPLAY_KEY, OFF) not in (OFF, *profiles):  # a profile of a session that is gone
        st.session_state[REPLAY_KEY] = OFF
    with st.expander(t("replay.title"), expanded=st.session_state.get(REPLAY_KEY, OFF) != OFF, icon="⏯️"):
        st.selectbox(t("replay.choose"), [OFF, *profiles], key=REPLAY_KEY, format_func=_profile_label(profiles), help=t("replay.help"))
        chosen = profiles.get(st.session_state[REPLAY_KEY])
        if chosen is not None:
            if chosen.example:
                st.warning(t("replay.example_warning"), icon="🧪")
            st.caption(t("replay.sliders_note"))
            st.caption(
                t("replay.source", calls=len(chosen.calls))
                + f" · {plain_markdown(chosen.source_provider)} · {plain_markdown(chosen.source_model)}"
            )
            if chosen.note:
                st.caption(inert_markdown(shown_text(st.session_state[REPLAY_KEY], "note", chosen.note)))
            st.download_button(
                t("replay.export"),
                profile_to_json(chosen),
                file_name="replay-profile.json",
                mime="application/json",
                key="export_replay",
                icon="⬇️",
            )
        st.file_uploader(
            t("replay.import"),
            type=["json"],
            key=IMPORT_KEY,
            on_change=_on_import,
            help=t("replay.import_help", megabytes=MAX_FILE_BYTES // 1_000_000),
            # The uploader says the real limit ("1MB per file", not the server's 5 MB) and refuses a larger file at once.
            max_upload_size=MAX_FILE_BYTES // 1_000_000,
        )
        problem = st.session_state.get(_IMPORT_PROBLEM)
        if problem is not None:
            reason, where = problem
            st.error(t(f"replay.error_{reason}", limit_kb=MAX_FILE_BYTES // 1000), icon="🚫")
            if where:
                st.caption(t("replay.error_where", where=where))
        st.button(t("replay.record"), key="record_replay", on_click=_record_from_history, help=t("replay.record_help"), icon="⏺️")
        if _RECORDED in st.session_state and st.session_state[_RECORDED] is None:
            st.info(t("replay.record_nothing"), icon="ℹ️")
