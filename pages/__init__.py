"""The app's pages, one file a page: each lays out its widgets and calls ``ui`` and ``chains``.

``streamlit_app.py`` routes to them with ``st.navigation``; nothing imports a page.
"""
