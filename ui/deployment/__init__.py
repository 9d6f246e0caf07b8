"""What this deployment offers and how it is configured: the host's key and limits, the run store, the local model.

``secrets`` says whether ``st.secrets`` is worth reading (the one piece the
others share), ``host`` reads the deployment's settings and the visitor's id,
``store`` opens the run store (it reads ``host``), ``policy`` builds a run's
egress policy and the host key's meter on its ledger (it reads both), and
``local_model`` draws the local server's controls and its progress.

May import: ``chains``, ``ui.i18n`` and ``ui.format``; never ``ui.run``,
``ui.sidebar``, ``ui.runs``, ``ui.elements`` or the pages.
"""
