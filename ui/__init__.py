"""Streamlit helpers shared by the pages: sidebar, live rendering, charts, i18n, errors.

Importing this package (every page does) first makes sure the page runs inside
``streamlit_app.py``'s navigation; see ``ui.entrypoint``.
"""

from ui.entrypoint import route_through_entrypoint

route_through_entrypoint()
