"""This session's runs: kept, listed, shared, replayed, and the choices that survive a reload.

``keeping`` keeps the session's runs and the nickname (the one piece the rest
share), ``history`` draws the History page's parts, ``share`` the study group's
exchange, ``replay`` the sidebar's replay controls, and ``preferences`` saves and
restores the sidebar's choices with the run set.

May import: ``chains``, ``ui.i18n``, ``ui.format``, ``ui.elements`` and
``ui.deployment``; never ``ui.run``, ``ui.sidebar`` or the pages.
"""
