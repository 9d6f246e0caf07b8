"""Share runs with a study group: the nickname, the read-only share link, and the view it opens.

The ``run_set`` in the page's URL is the *write* capability of a browser's
runs: whoever has it can add to them and delete them. A share link therefore
holds a separate, read-only view token (``RunStore.view_token``):
``<History's URL>?view=<token>``. Opened anywhere, it shows those runs on
History, read-only, with a button that copies them into the visitor's own run
set (new run ids; owner and origin kept). The visitor's own ``run_set`` stays
in their URL, and the owner's is never sent to them.
"""

from __future__ import annotations

import streamlit as st

from chains.records.exchange import MAX_OWNER_CHARS, clean_owner, fresh_copies, new_runs
from chains.records.store import StoreError, is_valid_view_token
from chains.security.safe_text import plain_markdown
from chains.timing import RunRecord
from ui.deployment.store import current_run_set, degrade, run_store
from ui.i18n import t
from ui.runs.keeping import OWNER_KEY

VIEW_PARAM = "view"
"""The query parameter of a share link."""
COPIED_KEY = "_share_copied_tokens"


def _clean_owner_field() -> None:
    st.session_state[OWNER_KEY] = clean_owner(st.session_state.get(OWNER_KEY, ""))


def owner_field() -> None:
    """The sidebar's optional nickname, written on every run made from now on (and so in exports and shares)."""
    # Re-assigned on every run: the value survives a language switch (a new label) and pages that skip the sidebar.
    st.session_state[OWNER_KEY] = st.session_state.get(OWNER_KEY, "")
    st.text_input(
        t("share.owner"),
        key=OWNER_KEY,
        max_chars=MAX_OWNER_CHARS,
        placeholder=t("share.owner_placeholder"),
        help=t("share.owner_help", limit=MAX_OWNER_CHARS),
        on_change=_clean_owner_field,
    )


# ------------------------------------------------------------------ the link
def share_token() -> str | None:
    """This run set's read-only view token (made on first use), or ``None`` when the store cannot make one."""
    try:
        return run_store().view_token(current_run_set())
    except StoreError:
        try:
            return degrade([]).view_token(current_run_set())
        except StoreError:
            return None


def share_url(token: str) -> str:
    """The share link: History's URL (from ``st.context.url``, without its query) with ``?view=<token>``."""
    page_url = (st.context.url or "").split("?")[0]
    return f"{page_url}?{VIEW_PARAM}={token}"


def show_share_link() -> None:
    """The share link, in the element keyed ``share_link``, with what it gives and what it does not."""
    token = share_token()
    if token is None:
        return
    with st.container(key="share_link"):
        st.markdown("**" + t("share.link_title") + "**", help=t("share.link_help"))
        st.code(share_url(token), language=None, wrap_lines=True)
        st.caption(t("share.link_note"))
        st.button(t("share.rotate"), key="share_rotate", icon="🔄", on_click=rotate_share_link, help=t("share.rotate_help"))


def rotate_share_link() -> None:
    """Give this run set a new share link: the old one stops showing the runs, which stay as they are."""
    try:
        run_store().rotate_view_token(current_run_set())
    except StoreError:
        degrade([]).rotate_view_token(current_run_set())


# ------------------------------------------------------------------ the view
def view_token_in_url() -> str | None:
    """The ``view`` token of the URL, or ``None`` when the page was not opened from a share link."""
    return st.query_params.get(VIEW_PARAM)


def shared_runs(token: str) -> list[RunRecord] | None:
    """The runs a share link shows, or ``None`` for a token that is malformed or unknown."""
    if not is_valid_view_token(token):
        return None
    try:
        return run_store().shared_runs(token)
    except StoreError:
        return degrade([]).shared_runs(token)


def owners_text(records: list[RunRecord]) -> str:
    """The owners of ``records``, each once, in order, as plain markdown (``"Min, Ana"``), or ``""``."""
    owners = list(dict.fromkeys(record.owner for record in records if record.owner))
    return ", ".join(plain_markdown(owner) for owner in owners)


def copy_shared_runs(token: str) -> None:
    """Copy the runs of a share link into this browser's own run set (new ids; owner and origin kept)."""
    from ui.runs.history import repick_overlay
    from ui.runs.keeping import start_keeping

    keeper = start_keeping(owner="")
    records, _ = new_runs(shared_runs(token) or [], keeper.history)  # a run copied before is not copied again
    for record in fresh_copies(records):
        keeper.keep(record)
    st.session_state.setdefault(COPIED_KEY, {})[token] = len(records)
    repick_overlay()  # History's overlay picks again, the copies included


def leave_shared_view() -> None:
    """Back to this browser's own runs (the ``run_set`` stays in the URL)."""
    st.query_params.pop(VIEW_PARAM, None)


def show_shared_view(token: str) -> None:
    """History opened from a share link: the shared runs, read-only, and a copy into the visitor's own runs.

    Nothing here can change the shared set: it is read through its token only.
    """
    from ui.runs.history import display_rows, entry_rows, history_entries, show_overlay, show_table

    records = shared_runs(token)
    back = st.container(horizontal=True)
    back.button(t("share.back_to_mine"), key="share_back", icon="↩️", on_click=leave_shared_view)
    if records is None:
        st.error(t("share.bad_link"), icon="🔗")
        return
    if not records:
        st.info(t("share.empty_view"), icon="🗂️")
        return
    owners = owners_text(records)
    with st.container(key="shared_view"):
        st.info(
            t("share.view_banner_owners", owners=owners, runs=len(records)) if owners else t("share.view_banner", runs=len(records)),
            icon="👀",
        )
        copied = st.session_state.get(COPIED_KEY, {}).get(token)
        if copied is None:
            st.button(t("share.copy"), key="share_copy", type="primary", icon="📥", on_click=copy_shared_runs, args=(token,), help=t("share.copy_help"))
        else:
            st.success(t("share.copied", runs=copied), icon="📥")
        show_table(display_rows(entry_rows(history_entries(records))), records, key="shared_table")
        show_overlay(list(enumerate(records, start=1)), key="shared")
