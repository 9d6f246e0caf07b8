"""Entry point: page set-up, the shared sidebar, and routing. Nothing else."""

import streamlit as st

from ui.i18n import current_language, t
from ui.sidebar import render_sidebar
from ui.store import keep_run_set_in_url, show_store_notice
from ui.style import inject_style, warm_up_charts

st.set_page_config(page_title="LangChain call modes lab", page_icon="⏱️", layout="wide")
keep_run_set_in_url()  # a page switch drops the query string; a reload needs run_set to find the runs
show_store_notice()  # once: a bad run_set link, or runs kept in memory only
render_sidebar()
inject_style(current_language())

home = st.Page("pages/home.py", title=t("nav.home"), icon="🏠", url_path="welcome", default=True)


def go_home() -> None:
    """``/home`` (an old link, or a guess) opens Home, which Streamlit serves at ``/``."""
    st.switch_page(home)


navigation = st.navigation(
    {
        t("nav.learn"): [
            home,
            st.Page("pages/invoke.py", title=t("nav.invoke"), icon="1️⃣", url_path="invoke"),
            st.Page("pages/batch.py", title=t("nav.batch"), icon="🧺", url_path="batch"),
            st.Page("pages/stream.py", title=t("nav.stream"), icon="🌊", url_path="stream"),
            st.Page("pages/async_modes.py", title=t("nav2.async"), icon="🔀", url_path="async"),
        ],
        t("nav.measure"): [
            st.Page("pages/compare.py", title=t("nav.compare"), icon="📊", url_path="compare"),
            st.Page("pages/lab.py", title=t("nav2.lab"), icon="🧪", url_path="lab"),
            st.Page("pages/history.py", title=t("nav2.history"), icon="🗂️", url_path="history"),
            st.Page(go_home, title=t("nav.home"), url_path="home", visibility="hidden"),
        ],
    }
)
navigation.run()
warm_up_charts()  # after the first page is drawn: plotly's import, off the first chart's path
