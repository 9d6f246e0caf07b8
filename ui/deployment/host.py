"""The deployment's own configuration: ``st.secrets`` first, then the environment.

On Community Cloud, top-level secrets also become environment variables, so a
key found here is the *host's* key. It is never shown, it is bound to the
host's endpoint and to the models of ``HOST_KEY_MODELS``, and every request
sent with it is counted in one ledger for the whole deployment (see
``chains.security.quota``, ``chains.security.egress`` and ``ui.deployment.policy``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from chains.models import DEFAULT_OPENAI_MODEL, env_names, host_provider
from chains.security.netguard import parse_url_list
from chains.security.policy import bind_host_key
from chains.security.quota import LIMIT_NAMES, HostKeyLimits, client_address, limits_from_mapping, read_limit
from ui.deployment.secrets import secrets_present

HOST_SETTING_NAMES = (
    *env_names(),
    "HOST_KEY_MODELS",
    "ALLOWED_BASE_URLS",
    "PUBLIC_DEPLOYMENT",
    "TRUSTED_PROXY_HOPS",
    "TRUSTED_PROXIES",
    *LIMIT_NAMES,
)
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class HostConfig:
    """What the deployment provides.

    Attributes:
        api_key: The host's key, or ``None``. Excluded from ``repr``.
        base_url: The host's endpoint, or ``None`` (OpenAI's default). Never shown to visitors.
        model: The host's default model, or ``None``. Never shown to visitors.
        models: Models the host's key may be used with (``HOST_KEY_MODELS`` and the provider's model, ``OPENAI_MODEL``).
        public: A public deployment: a host key is set, or ``PUBLIC_DEPLOYMENT=true``.
        allowed_base_urls: ``ALLOWED_BASE_URLS``: endpoints allowed even when private (under their own path only).
        limits: The host key's limits.
        trusted_proxy_hops: ``TRUSTED_PROXY_HOPS``: how many proxies stand in front of the app (0: none is trusted).
        trusted_proxies: ``TRUSTED_PROXIES``: the proxies' addresses or networks, whose ``X-Forwarded-For`` is trusted.
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    model: str | None = None
    models: frozenset[str] = frozenset({DEFAULT_OPENAI_MODEL})
    public: bool = False
    allowed_base_urls: tuple[str, ...] = ()
    limits: HostKeyLimits = field(default_factory=HostKeyLimits)
    trusted_proxy_hops: int = 0
    trusted_proxies: tuple[str, ...] = ()

    @property
    def has_key(self) -> bool:
        """True when the deployment provides a key."""
        return bool(self.api_key)

    @property
    def default_model(self) -> str:
        """The model used with the host's key when the visitor names none."""
        if self.model:
            return self.model
        return sorted(self.models)[0] if self.models else DEFAULT_OPENAI_MODEL


def _read_secrets() -> dict[str, Any]:
    """Read the known names from ``st.secrets``; no secrets file is not an error."""
    if not secrets_present():
        return {}
    try:
        return {name: st.secrets[name] for name in HOST_SETTING_NAMES if name in st.secrets}
    except Exception:  # noqa: BLE001 - StreamlitSecretNotFoundError, a malformed file...
        return {}


def read_host_config(environ: Mapping[str, str] | None = None) -> HostConfig:
    """Read the host's key, endpoint, model, allow-lists and limits, and bind the key to its endpoint.

    The key, endpoint and model are read under the names the host provider declares
    (``chains.models.host_provider().env``: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_MODEL``).

    Args:
        environ: The environment to read (``os.environ`` by default).

    Returns:
        The host configuration, secrets taking precedence over the environment.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {name: environ[name] for name in HOST_SETTING_NAMES if environ.get(name)}
    values.update({name: value for name, value in _read_secrets().items() if value not in (None, "")})
    text = lambda name: str(values[name]).strip() if values.get(name) not in (None, "") else None  # noqa: E731
    api_key, base_url, model = (text(name) for name in host_provider().env)
    models = set(parse_url_list(values.get("HOST_KEY_MODELS"))) or {DEFAULT_OPENAI_MODEL}
    if model:
        models.add(model)
    if api_key:
        bind_host_key(api_key, base_url)
    return HostConfig(
        api_key=api_key,
        base_url=base_url,
        model=model,
        models=frozenset(models),
        public=bool(api_key) or str(values.get("PUBLIC_DEPLOYMENT", "")).strip().lower() in _TRUE,
        allowed_base_urls=parse_url_list(values.get("ALLOWED_BASE_URLS")),
        limits=limits_from_mapping(values),
        trusted_proxy_hops=read_limit(values, "TRUSTED_PROXY_HOPS", 0),
        trusted_proxies=parse_url_list(values.get("TRUSTED_PROXIES")),
    )


def visitor_id() -> str | None:
    """Who is visiting, for the per-visitor budget and store bounds: the client's IP address, or ``None``.

    A reload or a new tab keeps the same address, so it cannot reset the budget
    the way a new session would. ``X-Forwarded-For`` counts only as far as
    ``TRUSTED_PROXY_HOPS`` / ``TRUSTED_PROXIES`` say (``chains.security.quota.client_address``):
    uvicorn believes it from any loopback peer, so ``st.context.ip_address`` alone
    can be forged. Visitors without an address share one stricter bucket.
    """
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get_all("X-Forwarded-For")
    except Exception:  # noqa: BLE001 - no context outside a script run
        return None
    host = read_host_config()
    return client_address(
        peer if isinstance(peer, str) and peer else None,
        forwarded,
        trusted_hops=host.trusted_proxy_hops,
        trusted_proxies=host.trusted_proxies,
    )
