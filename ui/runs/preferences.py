"""Preferences that survive a reload: kept with the run set in the run store, never the API key.

A reload starts a new Streamlit session: every widget would go back to its
default, the nickname would be empty (so the group's exports would show the
next runs as anonymous), and the pages' last results would be gone. The
``run_set`` in the URL survives, so this browser's choices are saved under it
(``RunStore.save_prefs``) whenever they change, and read back once, when a
session starts, before any widget is drawn.

What is kept: the language, the nickname (``owner_name``), the provider, its
base URL and model name, temperature, timeout, retries, the simulator's
profile and sliders, and the run ids of each page's last result. Never the
typed API key. Everything read back is treated as hostile input: unknown keys
are dropped, choices must be offered ones, numbers are clamped to the
widgets' ranges.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import streamlit as st

from chains.models import selectable_provider_ids
from chains.records.exchange import MAX_ID_CHARS, MAX_MODEL_CHARS, clean_owner
from chains.records.store import StoreError
from chains.simulation.profiles import PROFILES
from chains.timing import RunRecord
from ui.deployment.store import current_run_set, degrade, run_store
from ui.i18n import LANGUAGE_KEY, LANGUAGES

logger = logging.getLogger(__name__)

RESTORED_KEY = "_prefs_restored"
LANGUAGE_CHOSEN_KEY = "_language_chosen"
"""Set once the visitor picks a language (or one was restored): only a chosen language is kept, never the
browser-locale default, which a reload finds again by itself (a first run could save "en" for a ko-KR browser)."""
SAVED_KEY = "_prefs_saved"
LAST_RESULTS_KEY = "_prefs_last_results"
"""Session key: ``{page's result key: [kind, [run ids]]}``; kind is ``one``, ``list`` or ``tuple``."""
MAX_URL_CHARS = 2_000


def _choice(options: Callable[[], list[str]]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return value if isinstance(value, str) and value in options() else None

    return check


def _text(limit: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return value.strip()[:limit] if isinstance(value, str) else None

    return check


def _number(low: float, high: float, *, whole: bool = False) -> Callable[[Any], float | int | None]:
    def check(value: Any) -> float | int | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        clamped = min(high, max(low, value))
        return int(clamped) if whole else float(clamped)

    return check


def _replay_ids() -> list[str]:
    from ui.runs.replay import OFF, available_profiles

    return [OFF, *available_profiles()]


#: Every kept widget key and the check its saved value must pass (the ranges of ``ui.sidebar``'s widgets).
KEPT_WIDGETS: dict[str, Callable[[Any], Any]] = {
    LANGUAGE_KEY: _choice(lambda: list(LANGUAGES)),
    "owner_name": lambda value: clean_owner(value) if isinstance(value, str) else None,
    "provider": _choice(selectable_provider_ids),
    "base_url": _text(MAX_URL_CHARS),
    "model_name": _text(MAX_MODEL_CHARS),
    "temperature": _number(0.0, 2.0),
    "timeout_s": _number(1.0, 300.0),
    "max_retries": _number(0, 5, whole=True),
    "sim_profile": _choice(lambda: list(PROFILES)),
    "sim_ttft_s": _number(0.0, 3.0),
    "sim_tokens_per_s": _number(5.0, 1000.0),
    "sim_jitter": _number(0.0, 1.0),
    "sim_seed": _number(0, 1_000_000, whole=True),
    "sim_failure_rate": _number(0.0, 1.0),
    "sim_interrupt_rate": _number(0.0, 1.0),
    "sim_max_in_flight": _number(0, 64, whole=True),
    "sim_replay": _choice(_replay_ids),
}
_KINDS = ("one", "list", "tuple")
#: The session keys of the pages' last results that a reload restores (Lab's sweep comes back from History itself).
RESULT_KEYS = frozenset(
    {"invoke_last_run", "batch_last_runs", "stream_last_run", "stream_last_race", "async_last_runs", "compare_last_runs", "seed_post_records"}
)


def _store_call(action: Callable[[Any], Any]) -> Any:
    try:
        return action(run_store())
    except StoreError:
        return action(degrade([]))


def current_prefs() -> dict[str, Any]:
    """The session's preferences as they are saved (no API key: it is not a kept widget)."""
    state = st.session_state
    prefs: dict[str, Any] = {key: state[key] for key in KEPT_WIDGETS if key in state}
    if not state.get(LANGUAGE_CHOSEN_KEY):
        prefs.pop(LANGUAGE_KEY, None)
    last = state.get(LAST_RESULTS_KEY)
    if last:
        prefs["last_results"] = {key: [kind, list(ids)] for key, (kind, ids) in last.items()}  # a copy: compared with the saved one
    return prefs


def checked_prefs(saved: dict[str, Any]) -> dict[str, Any]:
    """The saved preferences that pass their checks, cleaned; anything else is dropped."""
    prefs: dict[str, Any] = {}
    for key, check in KEPT_WIDGETS.items():
        if key in saved:
            value = check(saved[key])
            if value is not None:
                prefs[key] = value
    last = saved.get("last_results")
    if isinstance(last, dict):
        kept = {}
        for result_key, entry in list(last.items())[:20]:
            if result_key not in RESULT_KEYS:
                continue
            if not (isinstance(entry, list) and len(entry) == 2 and entry[0] in _KINDS and isinstance(entry[1], list)):
                continue
            ids = [run_id for run_id in entry[1][:16] if isinstance(run_id, str) and len(run_id) <= MAX_ID_CHARS]
            if ids:
                kept[result_key] = [entry[0], ids]
        if kept:
            prefs["last_results"] = kept
    return prefs


def restore_preferences() -> None:
    """Once per session, before any widget is drawn: give the widgets their saved values, and the pages their last results."""
    state = st.session_state
    if state.get(RESTORED_KEY):
        return
    state[RESTORED_KEY] = True
    try:
        saved = checked_prefs(_store_call(lambda store: store.prefs(current_run_set())))
    except StoreError:
        return
    last = saved.pop("last_results", None)
    for key, value in saved.items():
        state[key] = value
    if LANGUAGE_KEY in saved:
        state[LANGUAGE_CHOSEN_KEY] = True
    if last:
        state[LAST_RESULTS_KEY] = last
        _restore_last_results(last)


def _restore_last_results(last: dict[str, list[Any]]) -> None:
    """Put each page's last result back from this run set's runs (one that is gone is skipped)."""
    from ui.runs.keeping import history

    by_id = {record.run_id: record for record in history()}
    for result_key, (kind, ids) in last.items():
        records = [by_id[run_id] for run_id in ids if run_id in by_id]
        if len(records) != len(ids) or result_key in st.session_state:
            continue
        st.session_state[result_key] = records[0] if kind == "one" else (tuple(records) if kind == "tuple" else records)


def note_language_chosen() -> None:
    """The language radio's ``on_change``: from now on the language is kept with the run set."""
    st.session_state[LANGUAGE_CHOSEN_KEY] = True


def forget_saved() -> None:
    """The next ``save_preferences`` writes, whatever changed (a new run set has no preferences yet)."""
    st.session_state[SAVED_KEY] = {}


def note_last_result(result_key: str, result: Any) -> None:
    """Remember which runs are a page's last result (``finish_page_run``), and save at once."""
    if isinstance(result, RunRecord):
        entry = ["one", [result.run_id]]
    elif isinstance(result, (list, tuple)) and result and all(isinstance(item, RunRecord) for item in result):
        entry = ["tuple" if isinstance(result, tuple) else "list", [record.run_id for record in result]]
    else:
        return
    st.session_state.setdefault(LAST_RESULTS_KEY, {})[result_key] = entry
    save_preferences()


def save_preferences() -> None:
    """Save the preferences with the run set when they changed since the last save (a store failure loses nothing else).

    A session's first call only takes note of them: what a new visitor has not
    changed is the defaults (or what was just restored), and needs no row in the store.
    """
    prefs = current_prefs()
    if SAVED_KEY not in st.session_state:
        st.session_state[SAVED_KEY] = prefs
        return
    if st.session_state[SAVED_KEY] == prefs:
        return
    try:
        _store_call(lambda store: store.save_prefs(current_run_set(), prefs))
    except StoreError:
        logger.warning("The preferences could not be saved.")
        return
    st.session_state[SAVED_KEY] = prefs
