"""Home: the seed's chain, the modes in one table, and where to start."""

import streamlit as st

from ui.elements.code import CHAIN_CODE, modes_list
from ui.i18n import t
from ui.navigation import app_pages, route_through_entrypoint
from ui.sections.seed_post import seed_post_section

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

st.title(t("home.title"))
st.markdown(t("home.intro"))

st.info(t("home.start_here"), icon="👉")
pages = app_pages()
for column, page_id in zip(st.columns(4), ("invoke", "batch", "stream", "async")):
    column.page_link(pages[page_id])
for column, page_id in zip(st.columns(4), ("compare", "lab", "history")):
    column.page_link(pages[page_id])

seed_post_section()

st.subheader(t("home.chain_title"))
st.markdown(t("home.chain_text"))
st.code(CHAIN_CODE, language="python", wrap_lines=True)  # wrapped: a block that scrolls sideways on a phone cannot be reached by keyboard (axe)

st.subheader(t("home.modes_title"))
st.markdown(modes_list())
st.subheader(t("home.why_title"))
st.markdown(t("home.why_text"))
st.caption(t("home.offline_note"))
