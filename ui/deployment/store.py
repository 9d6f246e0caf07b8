"""This browser's run set: where its runs are kept, and the ``run_set`` in the page's URL.

The store is ``chains.records.store.RunStore`` on the engine of
``st.connection("runs", type="sql")``:

* ``RUNS_DB_URL`` (an environment variable) or ``[connections.runs]`` in
  ``secrets.toml``: a deployment's database, for example PostgreSQL, shared by
  every replica;
* otherwise an embedded SQLite file in ``RUNS_DB_DIR`` (the system's temp
  folder by default): no server to start.

When that database cannot be opened or written (a full disk, a read-only
folder, a corrupt file, a server that is down), the runs are kept in this
server process's memory instead, and the page says so once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

import streamlit as st

from chains.records.store import (
    EvictedEntry,
    MemoryRunStore,
    RunStore,
    StoreError,
    StoreLimits,
    StoreQuotaError,
    is_valid_run_set,
    new_run_set,
    prepare_sqlite,
    sqlite_url,
)
from chains.timing import RunRecord
from ui.deployment.secrets import secrets_present
from ui.i18n import t

RUN_SET_PARAM = "run_set"
"""The query parameter (and session key) that holds this browser's run set id."""
DEGRADED_KEY = "_runs_store_degraded"
NOTICE_SHOWN_KEY = "_runs_store_notice_shown"
BAD_LINK_KEY = "_runs_bad_link"
ADOPTED_KEY = "_runs_set_from_link"
HISTORY_SESSION_KEY = "run_history"
"""``ui.runs.keeping.HISTORY_KEY``: the session's copy of its run set's runs (keeping imports this module, not the reverse)."""

logger = logging.getLogger(__name__)

_Made = TypeVar("_Made")


def once_per_process(make: Callable[..., _Made]) -> Callable[..., _Made]:
    """``make``'s result for each tuple of (hashable) arguments, made once per server process, under a lock.

    What ``st.cache_resource`` does, minus its cost on every call: Streamlit hashes
    the arguments with its own hasher and reads the function's signature, about
    0.1 ms for a ``StoreLimits``. A Run press looks the stores up before its first
    call starts, and when a study group presses Run together each lookup waits for
    the GIL behind every other session's; a dict lookup is about a microsecond.
    ``.clear()`` forgets what was made.
    """
    made: dict[tuple[Hashable, ...], _Made] = {}
    lock = threading.Lock()

    @functools.wraps(make)
    def get(*args: Hashable) -> _Made:
        try:
            return made[args]
        except KeyError:
            with lock:
                if args not in made:
                    made[args] = make(*args)
                return made[args]

    get.clear = made.clear  # type: ignore[attr-defined]
    return get


def store_url() -> str | None:
    """The database URL: ``RUNS_DB_URL``, else ``None`` when secrets configure ``[connections.runs]``, else SQLite."""
    url = os.environ.get("RUNS_DB_URL", "").strip()
    if url:
        return url
    try:
        if secrets_present() and "runs" in st.secrets.get("connections", {}):
            return None
    except Exception:  # noqa: BLE001 - no secrets file (StreamlitSecretNotFoundError) or a broken one
        pass
    directory = os.environ.get("RUNS_DB_DIR", "").strip() or tempfile.gettempdir()
    return sqlite_url(directory)


#: Environment setting -> the ``StoreLimits`` field it sets (README, Security).
STORE_LIMIT_SETTINGS = {
    "RUNS_MAX_PER_SET": "max_entries_per_set",
    "RUNS_MAX_BYTES_PER_SET": "max_bytes_per_set",
    "RUNS_MAX_BYTES_PER_VISITOR": "max_bytes_per_visitor",
    "RUNS_MAX_TOTAL_BYTES": "max_total_bytes",
    "RUNS_NEW_SETS_PER_HOUR": "max_new_sets_per_visitor_hour",
    "RUNS_IMPORTS_PER_HOUR": "max_imports_per_visitor_hour",
}


#: The per-visitor settings, which bind by default only on a public deployment (a laptop has one visitor).
PUBLIC_ONLY_LIMITS = ("max_bytes_per_visitor", "max_new_sets_per_visitor_hour", "max_imports_per_visitor_hour")


def store_limits() -> StoreLimits:
    """The store's bounds, each settable in the environment (``STORE_LIMIT_SETTINGS``); a bad value keeps the default.

    Without a setting, the per-visitor bounds (``PUBLIC_ONLY_LIMITS``) apply only on a
    public deployment: on a laptop every visitor is the same person (and has no address).
    """
    from ui.deployment.host import read_host_config

    public = read_host_config().public
    values = {}
    for name, field_name in STORE_LIMIT_SETTINGS.items():
        default = getattr(StoreLimits, field_name)
        if not public and field_name in PUBLIC_ONLY_LIMITS:
            default = StoreLimits.max_total_bytes if field_name == "max_bytes_per_visitor" else 1_000_000
        try:
            value = int(os.environ.get(name, "").strip() or default)
        except ValueError:
            value = default
        values[field_name] = max(1, value)
    return StoreLimits(**values)


@once_per_process
def open_sql_store(url: str | None, limits: StoreLimits) -> RunStore | None:
    """Open the SQL store once per process (``None`` when it cannot be opened: memory is used)."""
    try:
        if url and url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        connection = st.connection("runs", type="sql", url=url) if url else st.connection("runs", type="sql")
        engine = connection._instance
        prepare_sqlite(engine)
        return RunStore(engine, limits)
    except Exception as exc:  # noqa: BLE001 - any failure (StoreError, OSError, a driver's error) degrades to memory
        # The message may hold a URL with a password: log only the exception's type.
        logger.warning("The run store cannot be opened (%s); runs are kept in memory.", type(exc).__name__)
        return None


@once_per_process
def _memory_store(limits: StoreLimits) -> MemoryRunStore:
    """The process-wide fallback store."""
    return MemoryRunStore(limits)


def memory_store(limits: StoreLimits | None = None) -> MemoryRunStore:
    """The process-wide memory store (the fallback); ``limits`` when the caller has read them already."""
    return _memory_store(limits or store_limits())


def run_store(limits: StoreLimits | None = None) -> RunStore | MemoryRunStore:
    """This session's store: the SQL store, or memory once it has failed; ``limits`` when the caller has read them already."""
    limits = limits or store_limits()
    if not st.session_state.get(DEGRADED_KEY):
        store = open_sql_store(store_url(), limits)
        if store is not None:
            return store
        st.session_state[DEGRADED_KEY] = True
    return _memory_store(limits)


def degrade(runs: list[RunRecord]) -> MemoryRunStore:
    """Switch this session to memory after a failure, taking its runs along."""
    st.session_state[DEGRADED_KEY] = True
    memory = _memory_store(store_limits())
    run_set = current_run_set()
    if not memory.runs(run_set):
        with contextlib.suppress(StoreQuotaError):  # the runs stay in the session
            for record in runs:
                memory.add(run_set, record)
    return memory


def current_run_set() -> str:
    """This session's run set id: adopted from a valid ``run_set`` in the URL, or new."""
    run_set = st.session_state.get(RUN_SET_PARAM)
    if is_valid_run_set(run_set):
        return run_set
    from_url = st.query_params.get(RUN_SET_PARAM)
    if from_url is not None and not is_valid_run_set(from_url):
        st.session_state[BAD_LINK_KEY] = True
    run_set = from_url if is_valid_run_set(from_url) else new_run_set()
    if run_set == from_url:
        st.session_state[ADOPTED_KEY] = True  # from a link: perhaps someone else's set (show_adopted_notice)
    st.session_state[RUN_SET_PARAM] = run_set
    return run_set


def start_fresh_run_set() -> None:
    """Leave the run set of a link for a new, empty one of this browser's own (nothing is deleted)."""
    st.session_state[RUN_SET_PARAM] = new_run_set()
    st.session_state.pop(ADOPTED_KEY, None)
    st.session_state.pop(HISTORY_SESSION_KEY, None)  # the session's copy of the old set's runs


def keep_adopted_run_set() -> None:
    """Keep the run set of the link, knowingly."""
    st.session_state.pop(ADOPTED_KEY, None)


def show_adopted_notice() -> None:
    """On a public deployment, say that a ``run_set`` from a link that this visitor did not start is someone else's.

    Whoever made the link can read the runs added to it (a planted link collects a
    victim's runs), so the visitor chooses: a fresh set in one click, or keep it.
    """
    from chains.security.quota import visitor_bucket
    from ui.deployment.host import read_host_config, visitor_id

    if not st.session_state.get(ADOPTED_KEY) or not read_host_config().public:
        return
    try:
        owner = run_store().owner_of(current_run_set())
    except StoreError:
        owner = None
    if owner == visitor_bucket(visitor_id()):
        st.session_state.pop(ADOPTED_KEY, None)  # this visitor's own set (a reload)
        return
    with st.container(key="adopted_run_set"):
        st.warning(t("store.adopted_link"), icon="🔗")
        buttons = st.container(horizontal=True)
        buttons.button(t("store.adopted_fresh"), key="adopted_fresh", type="primary", on_click=start_fresh_run_set)
        buttons.button(t("store.adopted_keep"), key="adopted_keep", on_click=keep_adopted_run_set)


def keep_run_set_in_url() -> None:
    """Put this session's run set in the URL, where a reload (or a bookmark) finds it again.

    Called on every script run by the entry point, because a page switch drops
    the query string.
    """
    run_set = current_run_set()
    if st.query_params.get(RUN_SET_PARAM) != run_set:
        st.query_params[RUN_SET_PARAM] = run_set


def load_runs() -> list[RunRecord]:
    """This run set's runs, oldest first, from the store (memory if it fails)."""
    try:
        return run_store().runs(current_run_set())
    except StoreError:
        return degrade([]).runs(current_run_set())


def eviction_notes() -> list[EvictedEntry]:
    """The entries of this run set that bounds removed, oldest first."""
    try:
        return run_store().evictions(current_run_set())
    except StoreError:
        return degrade([]).evictions(current_run_set())


def dismiss_eviction_notes() -> None:
    """Forget the eviction notes of this run set."""
    try:
        run_store().dismiss_evictions(current_run_set())
    except StoreError:
        degrade([]).dismiss_evictions(current_run_set())


def forget_run_set() -> None:
    """Delete every run of this run set, and start a new, empty one."""
    with contextlib.suppress(StoreError):
        run_store().delete_set(current_run_set())
    _memory_store(store_limits()).delete_set(current_run_set())
    st.session_state[RUN_SET_PARAM] = new_run_set()


def take_import_allowance() -> bool:
    """Count one import of this visitor this hour; False past ``RUNS_IMPORTS_PER_HOUR`` (nothing is imported then)."""
    from ui.deployment.host import visitor_id

    limits = store_limits()
    try:
        return run_store().take_allowance("imports", visitor_id(), limits.max_imports_per_visitor_hour)
    except StoreError:
        return degrade([]).take_allowance("imports", visitor_id(), limits.max_imports_per_visitor_hour)


def show_store_notice() -> None:
    """Say once per session that runs are kept in memory only, and once that a bad link was ignored."""
    if st.session_state.pop(BAD_LINK_KEY, False):
        st.warning(t("store.bad_link"), icon="🔗")
    show_adopted_notice()
    if st.session_state.get(DEGRADED_KEY) and not st.session_state.get(NOTICE_SHOWN_KEY):
        st.session_state[NOTICE_SHOWN_KEY] = True
        st.warning(t("store.memory_only"), icon="💾")
