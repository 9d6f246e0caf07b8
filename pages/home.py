"""Home: the seed's chain, the modes in one table, and where to start."""

import streamlit as st

from ui.code import CHAIN_CODE, modes_table
from ui.i18n import t
from ui.seed_post import seed_post_section

st.title(t("home.title"))
st.markdown(t("home.intro"))

st.info(t("home.start_here"), icon="👉")
learn = st.columns(4)
learn[0].page_link("pages/invoke.py", label=t("nav.invoke"), icon="1️⃣")
learn[1].page_link("pages/batch.py", label=t("nav.batch"), icon="🧺")
learn[2].page_link("pages/stream.py", label=t("nav.stream"), icon="🌊")
learn[3].page_link("pages/async_modes.py", label=t("nav2.async"), icon="🔀")
measure = st.columns(4)
measure[0].page_link("pages/compare.py", label=t("nav.compare"), icon="📊")
measure[1].page_link("pages/lab.py", label=t("nav2.lab"), icon="🧪")
measure[2].page_link("pages/history.py", label=t("nav2.history"), icon="🗂️")

seed_post_section()

st.subheader(t("home.chain_title"))
st.markdown(t("home.chain_text"))
st.code(CHAIN_CODE, language="python")

st.subheader(t("home.modes_title"))
st.markdown(modes_table())
st.subheader(t("home.why_title"))
st.markdown(t("home.why_text"))
st.caption(t("home.offline_note"))
