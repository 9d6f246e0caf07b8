"""One request ledger for the whole deployment: what the host's key may still spend.

Every HTTP request that carries the host's key is counted here *before* it is
sent (by the HTTP transport that ``chains.models.make_model`` gives the OpenAI
client, so retries and every page and mode are counted alike), and refused when
a limit is reached. The limits are time windows (an hour and a day) for:

- the deployment as a whole: requests and tokens;
- each visitor: requests, keyed by something a reload cannot reset (the
  client's IP address); visitors without one share a stricter bucket.

``InMemoryLedger`` is plain Python behind one lock, kept once per process
(``default_ledger()``). ``chains.security.quota_sql.SqlLedger`` implements the same small
interface (``reserve``, ``record_tokens``, ``remaining``, ``used``, ``reset``) in the
run store's database, so that every replica sharing it shares the budget.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chains.errors import AppGuardError

HOUR_S = 3600.0
DAY_S = 86400.0
WINDOWS: dict[str, float] = {"hour": HOUR_S, "day": DAY_S}

DEPLOYMENT_BUCKET = "deployment"
UNKNOWN_VISITOR = "unknown"

#: Setting name -> default. Values may be ints (TOML) or strings (environment).
LIMIT_DEFAULTS: dict[str, int] = {
    "HOST_KEY_REQUESTS_PER_HOUR": 300,
    "HOST_KEY_REQUESTS_PER_DAY": 1500,
    "HOST_KEY_TOKENS_PER_HOUR": 150_000,
    "HOST_KEY_TOKENS_PER_DAY": 750_000,
    "HOST_KEY_VISITOR_REQUESTS_PER_HOUR": 30,
    "HOST_KEY_VISITOR_REQUESTS_PER_DAY": 100,
    "HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR": 10,
    "HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_DAY": 30,
    "HOST_KEY_MAX_TOPICS": 8,
    "HOST_KEY_MAX_TOKENS_PER_CALL": 1000,
}
LIMIT_NAMES = (*LIMIT_DEFAULTS, "HOST_KEY_MAX_CALLS")


class QuotaExceededError(AppGuardError):
    """A request with the host's key would go over a limit; nothing was sent.

    ``chains.errors.classify_error`` reports it with the kind ``budget``.

    Attributes:
        bucket: ``deployment`` or ``visitor``.
        window: ``hour`` or ``day``.
        unit: ``requests`` or ``tokens``.
    """

    kind = "budget"

    def __init__(self, bucket: str, window: str, unit: str) -> None:
        """Create the error (its message names no visitor and no key)."""
        super().__init__(f"host key budget reached: {bucket} {unit} per {window}")
        self.bucket = bucket
        self.window = window
        self.unit = unit


@dataclass(frozen=True)
class Limit:
    """A cap on one bucket in one window.

    Attributes:
        bucket: The ledger key (``deployment`` or ``visitor:<id>``).
        window: ``hour`` or ``day``.
        unit: ``requests`` or ``tokens``.
        maximum: The cap.
    """

    bucket: str
    window: str
    unit: str
    maximum: int

    def refuses(self, used: int, tokens: int = 0) -> bool:
        """True when one more request may not be sent with ``used`` already counted in this cap's window.

        A request cap counts the request itself. A token cap must hold the request's
        reservation (``tokens``: its ``max_tokens`` and its prompt), or without one just
        have room left.
        """
        if self.unit == "requests":
            return used + 1 > self.maximum
        return used + tokens > self.maximum if tokens > 0 else used >= self.maximum

    @property
    def kind(self) -> str:
        """``deployment`` or ``visitor``: what a message may say about the bucket."""
        return DEPLOYMENT_BUCKET if self.bucket == DEPLOYMENT_BUCKET else "visitor"


@dataclass(frozen=True)
class HostKeyLimits:
    """The host key's limits, read from secrets or the environment.

    Attributes:
        requests_per_hour: Deployment-wide requests per hour.
        requests_per_day: Deployment-wide requests per day.
        tokens_per_hour: Deployment-wide tokens per hour.
        tokens_per_day: Deployment-wide tokens per day.
        visitor_requests_per_hour: Requests per hour for one visitor (IP).
        visitor_requests_per_day: Requests per day for one visitor.
        unknown_requests_per_hour: Per hour for the shared bucket of visitors with no IP.
        unknown_requests_per_day: Per day for that shared bucket.
        max_topics: Topics (calls) allowed in one run.
        max_tokens_per_call: ``max_tokens`` of every request the host pays for, and what the ledger reserves for
            its answer before sending it (0: no cap is sent and nothing is reserved).
    """

    requests_per_hour: int = LIMIT_DEFAULTS["HOST_KEY_REQUESTS_PER_HOUR"]
    requests_per_day: int = LIMIT_DEFAULTS["HOST_KEY_REQUESTS_PER_DAY"]
    tokens_per_hour: int = LIMIT_DEFAULTS["HOST_KEY_TOKENS_PER_HOUR"]
    tokens_per_day: int = LIMIT_DEFAULTS["HOST_KEY_TOKENS_PER_DAY"]
    visitor_requests_per_hour: int = LIMIT_DEFAULTS["HOST_KEY_VISITOR_REQUESTS_PER_HOUR"]
    visitor_requests_per_day: int = LIMIT_DEFAULTS["HOST_KEY_VISITOR_REQUESTS_PER_DAY"]
    unknown_requests_per_hour: int = LIMIT_DEFAULTS["HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR"]
    unknown_requests_per_day: int = LIMIT_DEFAULTS["HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_DAY"]
    max_topics: int = LIMIT_DEFAULTS["HOST_KEY_MAX_TOPICS"]
    max_tokens_per_call: int = LIMIT_DEFAULTS["HOST_KEY_MAX_TOKENS_PER_CALL"]

    def request_limits(self, visitor: str | None) -> tuple[Limit, ...]:
        """The request caps that one request of ``visitor`` must fit under."""
        bucket = visitor_bucket(visitor)
        unknown = bucket == visitor_bucket(None)
        per_hour = self.unknown_requests_per_hour if unknown else self.visitor_requests_per_hour
        per_day = self.unknown_requests_per_day if unknown else self.visitor_requests_per_day
        return (
            Limit(DEPLOYMENT_BUCKET, "hour", "requests", self.requests_per_hour),
            Limit(DEPLOYMENT_BUCKET, "day", "requests", self.requests_per_day),
            Limit(bucket, "hour", "requests", per_hour),
            Limit(bucket, "day", "requests", per_day),
        )

    def token_limits(self) -> tuple[Limit, ...]:
        """The deployment-wide token caps (checked before a request, counted after it)."""
        return (
            Limit(DEPLOYMENT_BUCKET, "hour", "tokens", self.tokens_per_hour),
            Limit(DEPLOYMENT_BUCKET, "day", "tokens", self.tokens_per_day),
        )


def visitor_bucket(visitor: str | None) -> str:
    """The ledger key of a visitor; visitors without an address share ``visitor:unknown``.

    An IPv6 client is given a whole /64 network (2^64 addresses), so IPv6
    addresses are counted by their /64; an IPv4-mapped address (``::ffff:1.2.3.4``)
    counts as its IPv4 address. A string that is not an address also goes to the
    shared, stricter ``visitor:unknown`` bucket: a TCP peer is always an address,
    so such a string came from elsewhere (a header a proxy passed on), and kept
    as it is, every new string would be a fresh budget.

    Args:
        visitor: The client's IP address (``ui.deployment.host.visitor_id``), or ``None``.

    Returns:
        ``visitor:<address or /64 network>``, or ``visitor:unknown``.
    """
    text = (visitor or "").strip()
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return f"visitor:{UNKNOWN_VISITOR}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"visitor:{address.ipv4_mapped}"
        return f"visitor:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"visitor:{address}"


LOOPBACK_PEER = "127.0.0.1"


def _forwarded_host(entry: str) -> str:
    """The address of one ``X-Forwarded-For`` entry, without a port (``1.2.3.4:80``, ``[2001:db8::1]:443``)."""
    entry = entry.strip()
    if entry.startswith("["):
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:
        return entry.split(":", 1)[0]
    return entry


def _in_networks(host: str, networks: Iterable[str]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for network in networks:
        try:
            if address in ipaddress.ip_network(network.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(
    peer: str | None, forwarded_for: Iterable[str], *, trusted_hops: int = 0, trusted_proxies: Iterable[str] = ()
) -> str | None:
    """The visitor's address, trusting ``X-Forwarded-For`` only as far as the deployment says.

    Streamlit serves through uvicorn, which replaces the connection's peer by an
    ``X-Forwarded-For`` entry whenever the peer is one it trusts (``FORWARDED_ALLOW_IPS``,
    loopback by default), and ``st.context.ip_address`` reports that entry (or
    ``None`` for loopback). So when ``peer`` is one of the header's entries, the
    real peer was such a proxy, and it is taken as loopback here. The chain is the
    header's entries followed by that peer:

    * ``trusted_hops`` (``TRUSTED_PROXY_HOPS``) = N: the last N entries are the
      deployment's proxies, and the one before them is the visitor;
    * ``trusted_proxies`` (``TRUSTED_PROXIES``, addresses or networks): from the
      right, the first entry that is not one of them is the visitor (a peer that
      uvicorn rewrote counts as trusted);
    * neither: the peer itself, whatever the header says.

    Args:
        peer: ``st.context.ip_address`` (``None`` for loopback or no context).
        forwarded_for: The values of the request's ``X-Forwarded-For`` headers.
        trusted_hops: How many proxies stand in front of the app.
        trusted_proxies: The proxies' addresses or networks.

    Returns:
        The visitor's address, or ``None`` (loopback or unknown: the shared bucket).
    """
    chain = [_forwarded_host(entry) for value in forwarded_for for entry in str(value).split(",") if entry.strip()]
    rewritten = bool(chain) and (peer is None or peer in chain)
    real_peer = LOOPBACK_PEER if rewritten or peer is None else peer
    proxies = tuple(trusted_proxies)
    full = [*chain, real_peer]
    if trusted_hops > 0:
        visitor = full[max(0, len(full) - 1 - trusted_hops)]
    elif proxies:
        visitor = full[0]
        for index in range(len(full) - 1, -1, -1):
            trusted = (index == len(full) - 1 and rewritten) or _in_networks(full[index], proxies)
            if not trusted:
                visitor = full[index]
                break
    else:
        visitor = real_peer
    try:
        if ipaddress.ip_address(visitor).is_loopback:
            return None
    except ValueError:
        pass  # not an address: visitor_bucket counts it in the shared bucket
    return visitor or None


def read_limit(mapping: Mapping[str, Any] | Any, name: str, default: int) -> int:
    """Read a non-negative int setting from ``st.secrets``, ``os.environ`` or any dict-like; ``default`` on any problem."""
    try:
        value = mapping.get(name)
    except Exception:  # noqa: BLE001 - st.secrets raises when there is no secrets file
        return default
    if value is None or isinstance(value, bool):
        return default
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number >= 0 else default


def limits_from_mapping(mapping: Mapping[str, Any] | Any) -> HostKeyLimits:
    """Read the limits from ``st.secrets``, ``os.environ`` or any dict-like.

    A missing, non-integer or negative value falls back to its default; 0 blocks.
    ``HOST_KEY_MAX_CALLS`` (the old per-session limit) still works as the
    per-visitor hourly limit when ``HOST_KEY_VISITOR_REQUESTS_PER_HOUR`` is not set.

    Args:
        mapping: Where the settings are.

    Returns:
        The limits.
    """
    read = {name: read_limit(mapping, name, default) for name, default in LIMIT_DEFAULTS.items()}
    legacy = read_limit(mapping, "HOST_KEY_MAX_CALLS", -1)
    visitor_hour = read_limit(mapping, "HOST_KEY_VISITOR_REQUESTS_PER_HOUR", -1)
    if visitor_hour < 0 and legacy >= 0:
        read["HOST_KEY_VISITOR_REQUESTS_PER_HOUR"] = legacy
        read["HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR"] = min(read["HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR"], legacy)
    return HostKeyLimits(
        requests_per_hour=read["HOST_KEY_REQUESTS_PER_HOUR"],
        requests_per_day=read["HOST_KEY_REQUESTS_PER_DAY"],
        tokens_per_hour=read["HOST_KEY_TOKENS_PER_HOUR"],
        tokens_per_day=read["HOST_KEY_TOKENS_PER_DAY"],
        visitor_requests_per_hour=read["HOST_KEY_VISITOR_REQUESTS_PER_HOUR"],
        visitor_requests_per_day=read["HOST_KEY_VISITOR_REQUESTS_PER_DAY"],
        unknown_requests_per_hour=read["HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR"],
        unknown_requests_per_day=read["HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_DAY"],
        max_topics=read["HOST_KEY_MAX_TOPICS"],
        max_tokens_per_call=read["HOST_KEY_MAX_TOKENS_PER_CALL"],
    )


class Ledger(Protocol):
    """What the HTTP transport and the UI need from a ledger (a SQL one can implement it)."""

    def reserve(
        self, limits: Iterable[Limit], *, also_check: Iterable[Limit] = (), tokens: int = 0, token_buckets: Iterable[str] = ()
    ) -> None:
        """Count one request in every bucket of ``limits``, and reserve ``tokens`` for its answer, all or nothing.

        Args:
            limits: The request caps to count against (``unit == "requests"``).
            also_check: The token caps: each must hold ``tokens`` more (or, with none, have room left).
            tokens: The tokens to reserve (settled later with ``record_tokens`` of the difference).
            token_buckets: The buckets the reservation is added to.

        Raises:
            QuotaExceededError: When any cap is reached; nothing is counted then.
        """

    def record_tokens(self, bucket_keys: Iterable[str], tokens: int) -> None:
        """Add ``tokens`` to each bucket (negative: a reservation that the answer did not use)."""

    def remaining(self, limit: Limit) -> int:
        """What ``limit`` still allows now."""


@dataclass
class InMemoryLedger:
    """A process-wide ledger with fixed hour and day windows, behind one lock.

    Windows are aligned on the clock (``floor(now / window)``), so counts reset
    at the top of the hour and at midnight UTC.

    Attributes:
        clock: Returns the current time in seconds (inject a fake one in tests).
    """

    clock: Callable[[], float] = time.time
    _counts: dict[tuple[str, str, str, int], int] = field(default_factory=lambda: defaultdict(int), init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _slot(self, window: str, now: float) -> int:
        return math.floor(now / WINDOWS[window])

    def _used(self, limit: Limit, now: float) -> int:
        return self._counts.get((limit.bucket, limit.unit, limit.window, self._slot(limit.window, now)), 0)

    def reserve(
        self, limits: Iterable[Limit], *, also_check: Iterable[Limit] = (), tokens: int = 0, token_buckets: Iterable[str] = ()
    ) -> None:
        """``Ledger.reserve``, under this process's lock."""
        limits = tuple(limits)
        with self._lock:
            now = self.clock()
            for limit in (*limits, *also_check):
                if limit.refuses(self._used(limit, now), tokens):
                    raise QuotaExceededError(limit.kind, limit.window, limit.unit)
            for limit in limits:
                self._counts[(limit.bucket, limit.unit, limit.window, self._slot(limit.window, now))] += 1
            if tokens > 0:
                for bucket in token_buckets:
                    for window in WINDOWS:
                        self._counts[(bucket, "tokens", window, self._slot(window, now))] += tokens
            self._forget_old(now)

    def record_tokens(self, bucket_keys: Iterable[str], tokens: int) -> None:
        """Add ``tokens`` (counted after a response; negative to settle a reservation) to the hour and day windows of each bucket."""
        if tokens == 0:
            return
        with self._lock:
            now = self.clock()
            for bucket in bucket_keys:
                for window in WINDOWS:
                    self._counts[(bucket, "tokens", window, self._slot(window, now))] += tokens

    def used(self, limit: Limit) -> int:
        """What ``limit``'s bucket has used in the current window."""
        with self._lock:
            return self._used(limit, self.clock())

    def remaining(self, limit: Limit) -> int:
        """What ``limit`` still allows in the current window (never negative)."""
        return max(0, limit.maximum - self.used(limit))

    def reset(self) -> None:
        """Forget every count (tests, or an operator's decision)."""
        with self._lock:
            self._counts.clear()

    def _forget_old(self, now: float) -> None:
        if len(self._counts) < 10_000:
            return
        current = {window: self._slot(window, now) for window in WINDOWS}
        for key in [key for key in self._counts if key[3] < current[key[2]]]:
            del self._counts[key]


_DEFAULT_LEDGER = InMemoryLedger()


def default_ledger() -> InMemoryLedger:
    """The process-wide ledger shared by every session of this server."""
    return _DEFAULT_LEDGER


@dataclass(frozen=True)
class HostKeyMeter:
    """Counts one visitor's requests on the host's key in a ledger.

    The transport calls ``before_request`` for every HTTP request carrying the
    host's key (retries included), and ``add_tokens`` with the usage of each answer.

    Each request reserves its answer's tokens (``max_tokens_per_call``, which the
    request carries as ``max_tokens``, plus its prompt) before it is sent, and the
    answer's real usage settles the oldest open reservation. So concurrent calls
    cannot pass the token caps together: every one in flight holds its share, and
    the caps can be passed by at most one call's reservation (the last one that
    fitted), as long as the server keeps to ``max_tokens``. A retried request
    reserves again, and only one reservation per call is settled: a retry is
    counted at its full reservation (never less than it cost).

    Attributes:
        ledger: The ledger.
        limits: The deployment's limits.
        visitor: The visitor's id (IP address), or ``None``.
    """

    ledger: Ledger
    limits: HostKeyLimits
    visitor: str | None
    _open: deque[int] = field(default_factory=deque, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def _token_buckets(self) -> tuple[str, str]:
        return (DEPLOYMENT_BUCKET, visitor_bucket(self.visitor))

    def reservation(self, prompt_tokens: int = 0) -> int:
        """The tokens one request reserves: the per-call cap and its prompt (0 when no cap is set)."""
        cap = self.limits.max_tokens_per_call
        return cap + max(0, prompt_tokens) if cap > 0 else 0

    def before_request(self, prompt_tokens: int = 0) -> None:
        """Count a request and reserve its tokens, or raise ``QuotaExceededError`` so that it is not sent."""
        tokens = self.reservation(prompt_tokens)
        self.ledger.reserve(
            self.limits.request_limits(self.visitor), also_check=self.limits.token_limits(), tokens=tokens, token_buckets=self._token_buckets
        )
        if tokens:
            with self._lock:
                self._open.append(tokens)

    def add_tokens(self, tokens: int) -> None:
        """Count the tokens of an answer for the deployment and the visitor, settling its reservation."""
        with self._lock:
            reserved = self._open.popleft() if self._open else 0
        self.ledger.record_tokens(self._token_buckets, max(0, tokens) - reserved)

    def calls_left(self) -> int:
        """Requests this visitor may still send now: the smallest request cap, and what the token caps can reserve."""
        remaining = [self.ledger.remaining(limit) for limit in self.limits.request_limits(self.visitor)]
        per_call = self.reservation()
        for limit in self.limits.token_limits():
            tokens_left = self.ledger.remaining(limit)
            if tokens_left <= 0:
                return 0
            if per_call:
                remaining.append(tokens_left // per_call)
        return min(remaining)

    def visitor_allowance(self) -> int:
        """The visitor's hourly request cap (for "N of M calls left")."""
        return self.limits.request_limits(self.visitor)[2].maximum
