"""The deployment's own configuration: ``st.secrets`` first, then the environment.

On Community Cloud, top-level secrets also become environment variables, so a
key found here is the *host's* key: it is never shown, and every session that
uses it is held to a budget (see ``chains.budget``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from chains.budget import SessionBudget, budget_from_mapping

BUDGET_KEY = "_host_key_budget"
HOST_SETTING_NAMES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "HOST_KEY_MAX_CALLS", "HOST_KEY_MAX_TOPICS")


@dataclass(frozen=True)
class HostConfig:
    """What the deployment provides.

    Attributes:
        api_key: The host's key, or ``None``. Excluded from ``repr``.
        base_url: The host's endpoint, or ``None``.
        model: The host's default model, or ``None``.
        limits: Raw limit settings (``HOST_KEY_MAX_CALLS``, ``HOST_KEY_MAX_TOPICS``).
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    model: str | None = None
    limits: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_key(self) -> bool:
        """True when the deployment provides a key."""
        return bool(self.api_key)


def _read_secrets() -> dict[str, Any]:
    """Read the known names from ``st.secrets``; no secrets file is not an error."""
    try:
        return {name: st.secrets[name] for name in HOST_SETTING_NAMES if name in st.secrets}
    except Exception:  # noqa: BLE001 - StreamlitSecretNotFoundError, a malformed file...
        return {}


def read_host_config(environ: Mapping[str, str] | None = None) -> HostConfig:
    """Read the host's key, endpoint, model and limits.

    Args:
        environ: The environment to read (``os.environ`` by default).

    Returns:
        The host configuration, secrets taking precedence over the environment.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {name: environ[name] for name in HOST_SETTING_NAMES if environ.get(name)}
    values.update({name: value for name, value in _read_secrets().items() if value})
    return HostConfig(
        api_key=str(values["OPENAI_API_KEY"]) if values.get("OPENAI_API_KEY") else None,
        base_url=str(values["OPENAI_BASE_URL"]) if values.get("OPENAI_BASE_URL") else None,
        model=str(values["OPENAI_MODEL"]) if values.get("OPENAI_MODEL") else None,
        limits={name: values[name] for name in ("HOST_KEY_MAX_CALLS", "HOST_KEY_MAX_TOPICS") if name in values},
    )


def session_budget() -> SessionBudget:
    """This session's budget for calls paid with the host's key (one per browser session)."""
    if BUDGET_KEY not in st.session_state:
        st.session_state[BUDGET_KEY] = budget_from_mapping(read_host_config().limits)
    return st.session_state[BUDGET_KEY]
