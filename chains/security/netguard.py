"""Checks on the endpoints a visitor may send requests to (SSRF guard), plain Python.

On a public deployment a visitor must not be able to make the server call its
own loopback, the private network it sits in, or a cloud metadata service
(``169.254.169.254``, ``fd00:ec2::254``...). ``check_base_url`` resolves the
host with ``socket.getaddrinfo`` and checks every address it resolves to with
``ipaddress``; it also refuses non-http(s) schemes and URLs carrying
credentials. Endpoints in an allow-list (the deployment's own, and
``ALLOWED_BASE_URLS``) are accepted even when they are private, but only under
their own path: a private server is trusted for its API, not for every path
it serves (``/admin``, ``/v1/../internal``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import SplitResult, unquote, urlsplit

from chains.errors import AppGuardError

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
"""Where the OpenAI SDK sends requests when no base URL is set."""

_DEFAULT_PORTS = {"http": 80, "https": 443}

#: Endpoints that bill each request to the key it carries (OpenAI's own API): there, a
#: visitor's own key pays for itself. Any other endpoint of the host's is paid by the host.
KEY_BILLED_BASE_URLS: tuple[str, ...] = (DEFAULT_OPENAI_BASE_URL,)
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address) for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)

Resolver = Callable[..., list[tuple]]


class UnsafeURLError(AppGuardError, ValueError):
    """A base URL that this deployment refuses to call.

    Attributes:
        reason: A stable id for the UI's message: ``scheme``, ``credentials``,
            ``malformed``, ``unresolvable`` or ``private``.
    """

    kind = "url_refused"

    def __init__(self, reason: str) -> None:
        """Create the error.

        Args:
            reason: See the class attributes.
        """
        super().__init__(f"refused base URL ({reason})")
        self.reason = reason


def origin_of(url: str | None) -> str:
    """The normalised ``scheme://host:port`` of ``url`` (OpenAI's default for an empty one).

    Args:
        url: A base URL or a request URL.

    Returns:
        The origin, lower-case, with an explicit port.

    Raises:
        UnsafeURLError: ``malformed`` when the URL has no usable scheme or host.
    """
    parts = urlsplit((url or DEFAULT_OPENAI_BASE_URL).strip())
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError as exc:  # a port that is not a number
        raise UnsafeURLError("malformed") from exc
    if not scheme or not host or port is None:
        raise UnsafeURLError("malformed")
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def same_endpoint(first: str | None, second: str | None) -> bool:
    """True when two base URLs name the same endpoint (origin and path, trailing ``/`` ignored).

    An empty URL stands for OpenAI's default endpoint.
    """
    try:
        a, b = origin_of(first), origin_of(second)
    except UnsafeURLError:
        return False
    path = lambda url: urlsplit((url or DEFAULT_OPENAI_BASE_URL).strip()).path.rstrip("/")  # noqa: E731
    return a == b and path(first) == path(second)


def counts_for_the_host(base_url: str | None, host_base_url: str | None, *, public: bool) -> bool:
    """True when requests to ``base_url`` count against the host's budget whatever key they carry.

    That is, on a public deployment, when ``base_url`` (empty: the host's endpoint)
    has the origin of the host's endpoint and that endpoint is not one of
    ``KEY_BILLED_BASE_URLS``: a self-hosted server, a proxy that adds its own
    credentials or a server that ignores keys is paid by the host, so a key a
    visitor typed (any text) must not lift the host's limits there.

    Args:
        base_url: The run's base URL, or ``None`` for the host's.
        host_base_url: The host's endpoint (``None``: OpenAI's default).
        public: A public deployment (on a laptop, the host is the only visitor).

    Returns:
        Whether the host's meter must count these requests.
    """
    if not public:
        return False
    try:
        host_origin = origin_of(host_base_url)
        return host_origin == origin_of(base_url or host_base_url) and host_origin not in {
            origin_of(url) for url in KEY_BILLED_BASE_URLS
        }
    except UnsafeURLError:
        return False


def path_segments(path: str) -> tuple[str, ...] | None:
    """The decoded segments of a URL path, or ``None`` when the path could lead elsewhere than it reads.

    A server (or a proxy in front of it) resolves ``.`` and ``..`` segments, and
    many decode ``%2e``, ``%2f`` and ``%5c`` first, some twice, and some drop
    ``;`` parameters (``..;``), so such a path is never taken at its word.

    Args:
        path: The path of a URL as it is sent (``/v1/chat/completions``).

    Returns:
        The segments after the leading ``/``, percent-decoded (``/v1/`` gives
        ``("v1", "")``, an empty path ``()``), or ``None`` when a segment is
        ``.`` or ``..`` (plain, percent-encoded, or before a ``;``) or holds a
        slash, a backslash or a ``%`` once decoded.
    """
    segments = []
    for raw in path.split("/")[1:]:
        decoded = unquote(raw)
        if decoded.split(";", 1)[0] in (".", "..") or any(char in decoded for char in "/\\%"):
            return None
        segments.append(decoded)
    return tuple(segments)


def _trusted_by_allow_list(parts: SplitResult, origin: str, allowed: Iterable[str]) -> bool:
    """True when the URL is under the path of an allowed base URL with its origin (segment-wise: ``/v1`` is not ``/v10``)."""
    segments = path_segments(parts.path)
    if segments is None:
        return False
    for entry in allowed:
        try:
            if origin_of(entry) != origin:
                continue
        except UnsafeURLError:
            continue
        prefix = path_segments(urlsplit(entry.strip()).path.rstrip("/"))
        if prefix is not None and segments[: len(prefix)] == prefix:
            return True
    return False


def parse_url_list(value: object) -> tuple[str, ...]:
    """Split a comma-separated setting (or a TOML list) into trimmed, non-empty URLs."""
    if value is None:
        return ()
    items: Iterable[object] = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(text for text in (str(item).strip() for item in items) if text)


def is_forbidden_address(address: str) -> bool:
    """True for loopback, private, link-local, reserved, multicast, unspecified and metadata addresses.

    An IPv6 address that carries an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4
    ``2002:AABB:CCDD::/48``, Teredo ``2001:0::/32`` with its server and its obfuscated
    client) is judged by the IPv4 addresses it carries as well: a relay would deliver
    it there.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:
            embedded = [ip.sixtofour] if ip.sixtofour is not None else list(ip.teredo or ())
            if any(is_forbidden_address(str(inner)) for inner in embedded if inner is not None):
                return True
    return (
        ip in _METADATA_ADDRESSES
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def check_base_url(
    url: str | None,
    *,
    public: bool,
    allowed: Iterable[str] = (),
    resolver: Resolver = socket.getaddrinfo,
) -> None:
    """Refuse a base URL that a public deployment must not call (see ``checked_address``)."""
    checked_address(url, public=public, allowed=allowed, resolver=resolver)


def checked_address(
    url: str | None,
    *,
    public: bool,
    allowed: Iterable[str] = (),
    resolver: Resolver = socket.getaddrinfo,
) -> str | None:
    """Refuse a base URL that a public deployment must not call, and give the address that was checked.

    Always refused: a scheme other than http/https, and a user name or password
    in the URL. On a public deployment (``public=True``), a host that resolves
    to any forbidden address (see ``is_forbidden_address``) or does not resolve
    is refused too, unless the URL is under an ``allowed`` base URL: same
    origin, and its path starts with the allowed path, segment by segment, with
    no ``.``/``..`` segment, plain or percent-encoded (see ``path_segments``).
    A URL outside that path is checked like any other, so on a private address
    it is refused, and on a public one it is not. With ``public=False`` (a
    laptop), localhost servers such as Ollama keep working.

    Args:
        url: The base URL the visitor typed (empty: OpenAI's default).
        public: Whether this is a public deployment.
        allowed: Base URLs allowed even when private (the host's own endpoint,
            ``ALLOWED_BASE_URLS``), and only under their paths.
        resolver: ``socket.getaddrinfo`` or a test double.

    Returns:
        The address that the host name resolved to and that passed the check,
        for the caller to connect to (so that a second lookup cannot answer
        differently: DNS rebinding); ``None`` when no lookup was needed (not
        public, or under an allowed base URL).

    Raises:
        UnsafeURLError: With the reason for the refusal.
    """
    parts = urlsplit((url or DEFAULT_OPENAI_BASE_URL).strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise UnsafeURLError("scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURLError("credentials")
    origin = origin_of(url)
    if not public:
        return None
    if _trusted_by_allow_list(parts, origin, allowed):
        return None
    host = (parts.hostname or "").rstrip(".")
    try:
        infos = resolver(host, parts.port or _DEFAULT_PORTS[parts.scheme.lower()], proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURLError("unresolvable") from exc
    addresses = {info[4][0] for info in infos}
    if not addresses:
        raise UnsafeURLError("unresolvable")
    try:
        if any(is_forbidden_address(address) for address in addresses):
            raise UnsafeURLError("private")
    except ValueError as exc:
        if isinstance(exc, UnsafeURLError):
            raise
        raise UnsafeURLError("unresolvable") from exc
    return str(infos[0][4][0])  # the resolver's first choice; every address it gave passed
