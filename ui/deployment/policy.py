"""A run's rules on this deployment: its egress policy, with this visitor's meter on the host key's ledger.

The ledger lives in the run store's database when the store is SQL
(``chains.security.quota_sql``), so replicas that share ``RUNS_DB_URL`` share one
budget; otherwise it is this process's, behind a lock. It needs both the host's
configuration and the run store, so it sits above both: the store reads the
host's configuration, and neither imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from chains.security.netguard import counts_for_the_host
from chains.security.policy import EgressPolicy
from chains.security.quota import HostKeyMeter, Ledger, default_ledger
from ui.deployment import host as deployment
from ui.deployment.host import HostConfig
from ui.deployment.store import open_sql_store, store_limits, store_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from chains.security.quota_sql import SqlLedger


@st.cache_resource(show_spinner=False)
def _sql_ledger(url: str | None, _engine: Engine) -> SqlLedger:
    """One SQL ledger per database and process (``url`` is the cache key; the engine is the run store's)."""
    from chains.security.quota_sql import SqlLedger

    return SqlLedger(_engine)


def host_ledger() -> Ledger:
    """The deployment-wide ledger of the host key's requests.

    In the run store's database when the store opened as SQL (every replica on
    the same ``RUNS_DB_URL`` shares it; on a database error it refuses the
    request: see ``chains.security.quota_sql``), else this process's ``default_ledger()``.
    The choice does not depend on a session having fallen back to memory for its
    runs: one session's write error must not give it a fresh budget.
    """
    url = store_url()
    store = open_sql_store(url, store_limits())
    if store is None:
        return default_ledger()
    return _sql_ledger(url, store.engine)


def host_key_meter(host: HostConfig | None = None) -> HostKeyMeter:
    """The meter of this visitor's requests on the host's key, in the deployment-wide ledger."""
    host = host or deployment.read_host_config()
    # Looked up at call time, as in ``ui.runs.keeping``: tests stand in for the visitor in ``ui.deployment.host``.
    return HostKeyMeter(ledger=host_ledger(), limits=host.limits, visitor=deployment.visitor_id())


def egress_policy(host: HostConfig, *, metered: bool) -> EgressPolicy:
    """The rules a run's HTTP requests follow on this deployment.

    A public deployment whose endpoint is not OpenAI's always gets a meter: the
    transport counts every request to that endpoint, whatever key it carries
    (``chains.security.netguard.counts_for_the_host``).

    Args:
        host: The deployment's configuration.
        metered: True when the host pays for the run (its key, its endpoint or, on a public deployment,
            its CPU for the local model): its requests are counted.

    Returns:
        The policy for ``chains.models.make_model``.
    """
    host_pays = (metered and (host.has_key or host.public)) or counts_for_the_host(None, host.base_url, public=host.public)
    return EgressPolicy(
        host_key=host.api_key,
        host_base_url=host.base_url,
        host_models=host.models,
        public=host.public,
        allowed_base_urls=host.allowed_base_urls,
        meter=host_key_meter(host) if host_pays else None,
    )
