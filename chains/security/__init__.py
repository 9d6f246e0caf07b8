"""What keeps a public deployment safe: where requests may go, what they may cost, and what text may do.

``netguard`` refuses unsafe URLs, ``egress`` checks every HTTP request a model
sends, ``policy`` says what a deployment allows, ``quota`` and ``quota_sql`` count
the host key's requests and tokens, ``usage`` adds each call's tokens to them,
and ``untrusted`` and ``safe_text`` keep imported and model text inert.

May import: ``chains.errors``, ``chains.retry_counts`` and ``chains.local`` (the slot gate's type); never ``chains.models``
(the factory imports this package, not the other way round), Streamlit or the UI.
"""
