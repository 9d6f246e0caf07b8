"""Streamlit helpers shared by the pages: sidebar, live rendering, charts, i18n, errors, navigation."""
