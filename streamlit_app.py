"""Entry point: page set-up, the shared sidebar, and routing. Nothing else."""

import streamlit as st

from ui.deployment.store import keep_run_set_in_url, show_store_notice
from ui.i18n import current_language
from ui.navigation import app_pages, routed, sections
from ui.runs.keeping import read_history_ahead
from ui.runs.preferences import restore_preferences, save_preferences
from ui.sidebar import render_sidebar
from ui.style import (
    browser_chart_warm_up_slot,
    inject_style,
    wait_for_chart_warm_up,
    warm_up_browser_charts,
    warm_up_charts,
)

st.set_page_config(page_title="LangChain call modes lab", page_icon="⏱️", layout="wide")
wait_for_chart_warm_up()  # a fresh server only: never import numpy in two threads at once
keep_run_set_in_url()  # a page switch drops the query string; a reload needs run_set to find the runs
show_store_notice()  # once: a bad run_set link, or runs kept in memory only
restore_preferences()  # once per session, before the widgets: a reload gets back its language, nickname, settings and last results
render_sidebar()
save_preferences()  # when a choice changed: kept with the run set (never the API key)
inject_style(current_language())
chart_warm_up_slot = browser_chart_warm_up_slot()  # a session's first run only: filled after the page

pages = app_pages()
navigation = st.navigation(sections(pages))
with routed(pages):
    navigation.run()
warm_up_charts()  # after the first page is drawn: plotly's import, off the first chart's path
warm_up_browser_charts(chart_warm_up_slot)  # the browser loads its chart code before a run, not after
read_history_ahead()  # a session's runs are read after its first page, off the first Run's path
