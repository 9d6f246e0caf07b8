"""Entry point: page set-up, the shared sidebar, and routing. Nothing else."""

import streamlit as st

from ui.navigation import app_pages, routed, sections
from ui.sidebar import render_sidebar
from ui.store import keep_run_set_in_url, show_store_notice

st.set_page_config(page_title="LangChain call modes lab", page_icon="⏱️", layout="wide")
keep_run_set_in_url()  # a page switch drops the query string; a reload needs run_set to find the runs
show_store_notice()  # once: a bad run_set link, or runs kept in memory only
render_sidebar()

pages = app_pages()
navigation = st.navigation(sections(pages))
with routed(pages):
    navigation.run()
