"""History: every run of this browser in one table (a Lab sweep is one line), overlaid charts, and CSV/JSON export.

The runs are read from the run store, so a reload of the page's URL (which holds
``run_set``) shows them again.
"""

import streamlit as st

from ui.deployment.store import forget_run_set, show_store_notice, store_limits
from ui.i18n import option_labels, t
from ui.navigation import app_pages, route_through_entrypoint
from ui.runs.history import (
    display_rows,
    entry_rows,
    export_csv,
    export_json,
    history_entries,
    history_totals,
    is_sweep_run,
    show_eviction_notes,
    show_import,
    show_overlay,
    show_table,
)
from ui.runs.keeping import HISTORY_KEY, reload_history
from ui.runs.preferences import forget_saved
from ui.runs.share import show_share_link, show_shared_view, view_token_in_url

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py


def forget_runs() -> None:
    """Delete this browser's runs from the store (the pages' last results stay on their pages)."""
    forget_run_set()
    forget_saved()  # the new run set gets this browser's preferences at the next save
    st.session_state[HISTORY_KEY] = []
    st.session_state.pop("history_pick", None)


st.title(t("history.title"))
view_token = view_token_in_url()
if view_token is not None:  # opened from a share link: someone else's runs, read-only
    show_shared_view(view_token)
    st.stop()
st.markdown(t("history.intro", limit=store_limits().max_entries_per_set))
show_store_notice()
show_eviction_notes()

records = reload_history()
if not records:
    st.info(t("history.empty"), icon="🗂️")
    links = st.columns(4)
    pages = app_pages()
    for link, page_id in zip(links, ("batch", "stream", "async", "lab")):
        link.page_link(pages[page_id])
    st.subheader(t("share.title"))
    show_import()
else:
    st.caption(t("store.kept_note"))
    entries = history_entries(records)
    numbered = list(enumerate(records, start=1))
    show_sweep_runs = False
    if any(entry.is_sweep for entry in entries):
        show_sweep_runs = st.toggle(t("store.show_sweep_runs"), key="history_show_sweep_runs", help=t("store.show_sweep_runs_help"))
    pickable = numbered if show_sweep_runs else [(position, record) for position, record in numbered if not is_sweep_run(record)]
    shown = list(records)

    totals = history_totals(shown)
    columns = st.columns([1, 1, 1, 1, 1.6])
    columns[0].metric(t("history.total_runs"), totals.runs)
    columns[1].metric(t("history.total_calls"), totals.calls, help=t("history.total_errors", errors=totals.errors))
    columns[2].metric(t("history.input_tokens"), f"{totals.input_tokens:,}")
    columns[3].metric(t("history.output_tokens"), f"{totals.output_tokens:,}")
    if totals.priced_runs:
        columns[4].metric(t("history.cost"), f"${totals.cost_usd:.5f}", help=t("history.cost_help", runs=totals.priced_runs))
    elif totals.runs and totals.simulated_runs == totals.runs:
        columns[4].metric(t("history.cost"), t("polish.free"), help=t("usage.simulated"))
    else:
        columns[4].metric(t("history.cost"), "—", help=t("history.cost_unknown"))

    table = display_rows(entry_rows(entries, expand_sweeps=show_sweep_runs))
    show_table(table, records, key="history_table")

    picked_records = show_overlay(pickable)

    st.subheader(t("history.export_title"))
    scope = st.radio(
        t("history.export_scope"),
        ["all", "picked"],
        key="history_export_scope",
        horizontal=True,
        format_func=option_labels("history.scope_"),
    )
    exported = list(shown) if scope == "all" else picked_records
    st.caption(t("history.export_note", runs=len(exported), calls=sum(record.n for record in exported)))
    buttons = st.container(horizontal=True)
    downloads = (
        ("history.download_csv", export_csv(exported), "langchain_call_modes_calls.csv", "text/csv", "history_csv", "📄"),
        ("history.download_json", lambda: export_json(exported), "langchain_call_modes_runs.json", "application/json", "history_json", "🧾"),
    )
    for label_key, data, file_name, mime, key, icon in downloads:
        buttons.download_button(
            t(label_key), data=data, file_name=file_name, mime=mime, key=key, icon=icon, disabled=not exported, on_click="ignore"
        )
    # One click on a download is harmless; deleting the stored runs asks once more.
    with buttons.popover(t("history.clear"), icon="🗑️", help=t("history.clear_help")):
        st.markdown(t("history.clear_confirm", runs=len(records)))
        st.button(t("history.clear_yes"), key="history_clear", type="primary", on_click=forget_runs)

    st.subheader(t("share.title"))
    show_share_link()
    show_import()
