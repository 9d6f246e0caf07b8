"""A real model on this machine's CPU: llama.cpp's own server and a small GGUF, both optional.

``supervisor`` starts one server per app process, on first use, and reports its
progress; ``llama_server`` is the child process that runs it
(``python -m chains.local.llama_server``).

May import: ``chains.errors`` only; never xllamacpp at module level, LangChain,
Streamlit or the UI.
"""
