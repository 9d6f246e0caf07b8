"""Where a model's HTTP requests may go, and the host's key bound to its endpoint.

The UI builds an ``EgressPolicy`` for every run (``ui.deployment.host.egress_policy``);
``chains.models.make_model`` checks it before a client exists, and the transport
in ``chains.security.egress`` checks it again on every request. It lives here,
not beside the factory, so that the transport can read it without importing the
factory that imports the transport.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

from chains.errors import AppGuardError
from chains.security.netguard import DEFAULT_OPENAI_BASE_URL, Resolver, counts_for_the_host, origin_of
from chains.security.quota import HostKeyMeter

#: Seconds a request to a real model may take (the client's timeout, and the transport's).
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class EgressPolicy:
    """Where a model's HTTP requests may go, and how requests paid by the host's key are counted.

    Built by the UI for every run (``ui.deployment.host.egress_policy``) and enforced twice:
    by ``make_model`` before the client exists, and by the HTTP transport on
    every request (retries included), so that no page or mode can bypass it.

    Attributes:
        host_key: The deployment's key, or ``None``. Excluded from ``repr``.
        host_base_url: The deployment's endpoint (``None``: OpenAI's default).
        host_models: Models the host's key may be used with.
        public: A public deployment: refuse private, loopback and metadata addresses.
        allowed_base_urls: Endpoints allowed even when private, under their own path only (``ALLOWED_BASE_URLS``).
        meter: Counts each request carrying the host's key, and on a public
            deployment whose endpoint is not OpenAI's, each request to that
            endpoint whatever key it carries (``counts_for_the_host``); without
            one, such a request is refused.
        resolver: How host names are looked up (``socket.getaddrinfo``; a double in tests).
        metered_base_urls: Endpoints whose every request the meter counts whatever key it carries
            (the local model's server on a public deployment: the host's CPU pays).
    """

    host_key: str | None = field(default=None, repr=False)
    host_base_url: str | None = None
    host_models: frozenset[str] = frozenset()
    public: bool = False
    allowed_base_urls: tuple[str, ...] = ()
    meter: HostKeyMeter | None = None
    resolver: Resolver = field(default=socket.getaddrinfo, repr=False, compare=False)
    metered_base_urls: tuple[str, ...] = ()

    def counts_requests_to(self, base_url: str | None) -> bool:
        """True when every request to ``base_url`` is the host's to pay, whatever key it carries (see ``counts_for_the_host``)."""
        if self.metered_base_urls and base_url and any(same_origin(base_url, url) for url in self.metered_base_urls):
            return True
        return counts_for_the_host(base_url, self.host_base_url, public=self.public)

    @property
    def trusted_base_urls(self) -> tuple[str, ...]:
        """The endpoints a public deployment may call whatever they resolve to."""
        return (self.host_base_url or DEFAULT_OPENAI_BASE_URL, *self.allowed_base_urls)


def same_origin(url: str, other: str) -> bool:
    """True when both URLs have one origin (a URL that cannot be parsed has none)."""
    try:
        return origin_of(url) == origin_of(other)
    except ValueError:
        return False


class HostKeyRefusedError(AppGuardError, ValueError):
    """The host's key was about to be used where it is not allowed (another endpoint or model)."""

    kind = "host_key_refused"


_BOUND_HOST_KEYS: dict[str, str] = {}
_BOUND_LOCK = threading.Lock()


def bind_host_key(key: str, base_url: str | None) -> None:
    """Bind the deployment's key to its endpoint for every client this process builds.

    Every transport made by ``make_model`` refuses a request that carries a
    bound key to any other origin, whatever policy the caller passed.

    Args:
        key: The host's key.
        base_url: The host's endpoint (``None``: OpenAI's default).
    """
    if key:
        with _BOUND_LOCK:
            _BOUND_HOST_KEYS[key] = origin_of(base_url)


def bound_host_keys() -> dict[str, str]:
    """A copy of the process-wide bindings: host key -> the only origin it may be sent to."""
    with _BOUND_LOCK:
        return dict(_BOUND_HOST_KEYS)
