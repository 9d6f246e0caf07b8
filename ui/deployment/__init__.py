"""What this deployment offers and how it is configured: the host's key and limits, the run store, the secrets, the local model.

``host`` reads the deployment's settings and the visitor's id, ``store`` opens
the run store that ``st.connection`` names, ``secrets`` says whether
``st.secrets`` is worth reading (the one piece ``host`` and ``store`` share), and
``local_model`` draws the local server's controls and its progress.

May import: ``chains`` and ``ui.i18n``; never ``ui.run``, ``ui.sidebar``,
``ui.runs`` or the pages.
"""
