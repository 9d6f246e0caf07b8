"""The built-in simulated chat model: a real ``BaseChatModel`` with seeded, realistic latency.

``simulator`` is the model, ``profiles`` its latency profiles, ``joke_book`` its
answers, ``tokens`` its offline tokenizer, and ``replay`` replays a real model's
recorded timings (the shipped recordings are in ``replays/``).

May import: ``chains.errors``, ``chains.retry_counts`` and ``chains.security``;
never ``chains.models`` (which builds the simulator), Streamlit or the UI.
"""
