"""Developer tools shared by ``tests/`` and ``bench/``: the local OpenAI-compatible
server (``devtools.openai_server``) and the app under ``streamlit run`` in headless
Chromium (``devtools.browser``).

Never imported by the app (``chains/``, ``ui/``, ``pages/``); ``tests/test_devtools.py``
checks that, and that ``bench/`` imports nothing from ``tests/``.
"""
