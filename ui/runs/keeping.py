"""This session's runs and the nickname written on them: the piece that History, Share, Replay and the pages share.

Runs are kept in the session (``HISTORY_KEY``, a mirror) and in the run store
(``ui.deployment.store``), so a reload of the page's URL finds them again.
``PageRun`` takes everything it needs up front, so that a run a rerun cuts short
can still be kept. It has a module of its own so that ``ui.run`` (which starts
runs) and ``ui.runs`` (which lists, shares and replays them) both import it, and
neither imports the other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from chains.records.exchange import clean_owner
from chains.records.store import StoreError, StoreQuotaError, entry_id
from chains.timing import RunRecord
from ui.deployment.store import HISTORY_SESSION_KEY, current_run_set, load_runs, memory_store, run_store, store_limits

HISTORY_KEY = HISTORY_SESSION_KEY
"""The session's copy of its run set's runs, oldest first."""
OWNER_KEY = "owner_name"
"""The sidebar's nickname field (its value is kept in the session across pages and languages)."""


def current_owner() -> str:
    """The nickname typed in the sidebar, cleaned (empty when none)."""
    return clean_owner(st.session_state.get(OWNER_KEY, ""))


def history() -> list[RunRecord]:
    """This session's runs, oldest first (read from the run store on the session's first use)."""
    if HISTORY_KEY not in st.session_state:
        st.session_state[HISTORY_KEY] = load_runs()
    return st.session_state[HISTORY_KEY]


def read_history_ahead() -> None:
    """Read the session's runs from the store after its first page is drawn, not when Run is pressed.

    The first Run of a session otherwise waits for this query before its calls
    start; when a study group presses Run together, each query gives the GIL
    away and waits behind every other session's script to get it back.
    """
    history()


def reload_history() -> list[RunRecord]:
    """Read this run set's runs from the store again (another tab may have added some)."""
    st.session_state[HISTORY_KEY] = load_runs()
    return st.session_state[HISTORY_KEY]


def remember(record: RunRecord) -> RunRecord:
    """Keep a run (finished or stopped) in this session's history and in the run store.

    When a bound evicts older entries, they leave the session's list too; the
    store keeps a note of them for the History page. It reads the session, so
    call it only from a healthy script run: a run in progress uses ``PageRun``.
    """
    return start_keeping().keep(record)


@dataclass
class PageRun:
    """Where a run's records go, resolved before the run starts.

    Streamlit stops a script by raising from its next ``st.*`` call, and from
    then on every read or write of ``st.session_state`` raises again. So a run
    that may be cut short takes everything it needs to keep its records (the
    session's history list, the store, the run set) up front, and ``keep``
    touches nothing of Streamlit's.

    Attributes:
        records: This run's records so far (the page shows them if it was stopped).
        history: The session's history list (the same object as in the session).
        store: The run store.
        fallback: The memory store, for when the run store fails now.
        run_set: This browser's run set id.
        settled: Set once a stopped run has handed over its partial record.
        owner: The nickname written on records that have none (empty: none is written).
        visitor: Who is writing (``ui.deployment.host.visitor_id``): a new run set is counted against them.
        refused: Set when the store refused a new run set (``StoreQuotaError``): the runs stay in this session only.
    """

    records: list[RunRecord]
    history: list[RunRecord]
    store: Any
    fallback: Any
    run_set: str
    settled: threading.Event = field(default_factory=threading.Event)
    owner: str = ""
    visitor: str | None = None
    refused: bool = False

    def keep(self, record: RunRecord) -> RunRecord:
        """Add ``record`` to this run, to the session's history and to the store (with the nickname, if it has none)."""
        if self.owner and not record.owner:
            record.owner = self.owner
        self.records.append(record)
        self.history.append(record)
        try:
            evicted = self._add(self.store, record)
        except StoreError:
            self.store = self.fallback
            evicted = self._add(self.fallback, record)
        gone = {entry.entry_id for entry in evicted}
        if gone:
            self.history[:] = [run for run in self.history if entry_id(run) not in gone]
        return record

    def _add(self, store: Any, record: RunRecord) -> list[Any]:
        """Add ``record`` to ``store``; a refused new run set keeps it in the session only."""
        try:
            return store.add(self.run_set, record, visitor=self.visitor)
        except StoreQuotaError:
            self.refused = True
            return []

    def on_stopped(self, record: RunRecord) -> None:
        """The runners' ``on_stopped``: keep the cut-short run, marked stopped, and say it is there."""
        self.keep(record)
        self.settled.set()


def start_keeping(*, owner: str | None = None) -> PageRun:
    """A ``PageRun`` for records that are not shown as a page's last result (History only).

    Args:
        owner: The nickname to write on records without one; the sidebar's by
            default. Imported and copied runs pass ``""``: they keep their own.
    """
    from ui.deployment.host import visitor_id  # looked up at call time: tests stand in for the visitor here

    limits = store_limits()  # read once for both stores: it reads the environment and the host's settings
    return PageRun(
        [],
        history(),
        run_store(limits),
        memory_store(limits),
        current_run_set(),
        owner=current_owner() if owner is None else owner,
        visitor=visitor_id(),
    )
