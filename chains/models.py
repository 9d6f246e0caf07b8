"""Model settings and the model factory: the simulator, OpenAI, or any OpenAI-compatible server."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chains.errors import AppGuardError
from chains.providers import DEFAULT_PROVIDER_ID, REPLAY_ID, provider_for
from chains.providers import PLACEHOLDER_KEY as PLACEHOLDER_KEY  # re-exported: other modules import these from here
from chains.providers import PROVIDERS as PROVIDERS
from chains.providers import Provider as Provider
from chains.security.netguard import DEFAULT_OPENAI_BASE_URL, Resolver, counts_for_the_host, origin_of
from chains.security.quota import HostKeyMeter
from chains.simulation.profiles import DEFAULT_PROFILE, PROFILES

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from chains.simulation.replay import ReplayProfile


DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 2


@dataclass(frozen=True)
class ModelSettings:
    """Everything needed to build the chat model for one run.

    The API key is excluded from ``repr`` so that it never lands in a log or an
    error message by accident.

    Attributes:
        provider: The id of a provider in ``chains.providers.PROVIDERS``.
        model: The model name (for the simulator, a display name).
        temperature: Sampling temperature for real models.
        api_key: The key, or ``None``. Never printed.
        base_url: The endpoint for ``openai``/``compatible``, or ``None`` for OpenAI's default.
        timeout_s: Per-request timeout for real models.
        max_retries: How many times the OpenAI client retries a failed request.
        sim_profile: The simulator's latency profile name.
        sim_ttft_s: The simulator's mean time to first token.
        sim_tokens_per_s: The simulator's mean output speed.
        sim_jitter: The simulator's relative jitter.
        sim_seed: The simulator's seed.
        sim_failure_rate: Fraction of simulated calls that fail with a 429.
        sim_interrupt_rate: Fraction of simulated streams that stop halfway.
        sim_max_in_flight: The simulated provider's concurrency cap, or ``None``.
        sim_min_output_tokens: Make simulated replies at least this long, or ``None``.
        sim_replay: A recorded real model's timing and text for the simulator to replay, or ``None``.
        sim_shape: How a long simulated reply is laid out (``chains.simulation.joke_book.REPLY_SHAPES``).
        sim_slots: Requests the simulated server runs at once (the rest queue), or ``None``.
        sim_shared_compute: The simulated server's running requests share its compute.
        local_slots: The local model's server slots (llama.cpp's ``n_parallel``).
        local_threads: The local model's CPU threads.
        local_max_tokens: The most tokens one local call may generate.
    """

    provider: str = DEFAULT_PROVIDER_ID
    model: str = "simulated-gpt-4o-mini"
    temperature: float = 0.7
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    sim_profile: str = DEFAULT_PROFILE
    sim_ttft_s: float = PROFILES[DEFAULT_PROFILE].ttft_s
    sim_tokens_per_s: float = PROFILES[DEFAULT_PROFILE].tokens_per_s
    sim_jitter: float = PROFILES[DEFAULT_PROFILE].jitter
    sim_seed: int = 42
    sim_failure_rate: float = 0.0
    sim_interrupt_rate: float = 0.0
    sim_max_in_flight: int | None = None
    sim_min_output_tokens: int | None = None
    sim_replay: ReplayProfile | None = field(default=None, repr=False, compare=False)
    sim_shape: str = "paragraphs"
    sim_slots: int | None = None
    sim_shared_compute: bool = False
    local_slots: int = 2
    local_threads: int = 1
    local_max_tokens: int = 96

    @classmethod
    def simulator(cls, profile: str = DEFAULT_PROFILE, **overrides: object) -> ModelSettings:
        """Settings for the simulator with a named latency profile.

        Args:
            profile: A key of ``chains.simulation.profiles.PROFILES``.
            **overrides: Any other field.

        Returns:
            The settings.
        """
        chosen = PROFILES[profile]
        base = cls(
            sim_profile=profile,
            sim_ttft_s=chosen.ttft_s,
            sim_tokens_per_s=chosen.tokens_per_s,
            sim_jitter=chosen.jitter,
            sim_slots=chosen.slots,
            sim_shared_compute=chosen.shared_compute,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    @property
    def is_simulated(self) -> bool:
        """True for a provider that runs on the built-in simulator."""
        return provider_for(self.provider).is_simulated

    @property
    def record_provider(self) -> str:
        """The provider written on run records: ``replay`` when the simulator replays a recording."""
        return REPLAY_ID if self.is_simulated and self.sim_replay is not None else self.provider


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


def make_model(settings: ModelSettings, policy: EgressPolicy | None = None) -> BaseChatModel:
    """Build the chat model that ``settings`` describe, with its provider's builder (``chains.providers``).

    The models (and LangChain with them) are imported here, not at module level,
    so that the sidebar can be drawn, and the first page shown, before LangChain
    has loaded.

    Remote models get their own HTTP clients (sync and async) for this run: no
    cookie is kept, no idle async connection outlives its event loop, and a
    guarding transport checks every request (see ``EgressPolicy``).

    Args:
        settings: The settings.
        policy: The deployment's rules (none: a laptop with no host key).

    Returns:
        A LangChain chat model.

    Raises:
        UnknownProviderError: When ``settings.provider`` is not registered.
        MissingKeyError: When a provider that needs a key is chosen without one.
        HostKeyRefusedError: When the host's key would go to another endpoint or model.
        UnsafeURLError: When the base URL is refused (see ``chains.security.netguard``).
    """
    return provider_for(settings.provider).build(settings, policy or EgressPolicy())


#: Characters per token when a call's usage must be estimated (OpenAI's rule of thumb for English).
CHARS_PER_TOKEN = 4
#: Tokens a chat message costs beyond its text (role and separators), as OpenAI counts them.
TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    """A rough token count of ``text``: one token per ``CHARS_PER_TOKEN`` characters, rounded up."""
    return _tokens_of_chars(len(text))


def _tokens_of_chars(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


@dataclass
class _CallSeen:
    """What ``usage_recorder`` has seen of one model call so far.

    Attributes:
        prompt_tokens: The prompt's estimated size.
        chunks: Streamed chunks that carried text.
        chars: Characters of streamed text.
        usage: The provider's ``total_tokens`` when a streamed chunk carried it.
    """

    prompt_tokens: int = 0
    chunks: int = 0
    chars: int = 0
    usage: int = 0

    def estimate(self) -> int:
        """The call's tokens when the provider reported none (see ``usage_recorder``)."""
        if not self.chunks:
            return 0
        return self.prompt_tokens + max(self.chunks, _tokens_of_chars(self.chars))


def _reported_usage(response: Any) -> int:
    """The ``total_tokens`` an ``LLMResult`` reports (message usage, else ``llm_output``), 0 when none."""
    total = 0
    for generations in getattr(response, "generations", None) or []:
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
            total += int(usage.get("total_tokens") or 0)
    if not total:
        usage = (getattr(response, "llm_output", None) or {}).get("token_usage") or {}
        total = int(usage.get("total_tokens") or 0)
    return total


def _refused_here(error: BaseException) -> bool:
    """True when ``error`` is this app's own refusal of the request (``chains.security.egress``): nothing was sent."""
    body = getattr(error, "body", None)
    if not isinstance(body, dict):
        return False
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    return inner.get("type") == "app_guard"


def usage_recorder(meter: HostKeyMeter) -> object:
    """A LangChain callback that adds the tokens of each model call to the ledger, once per call.

    A call is counted when it ends (``on_llm_end``) *and* when it fails or is
    stopped (``on_llm_error``): LangChain's ``stream``/``astream`` call
    ``on_llm_error`` with any ``BaseException``, so also with the
    ``GeneratorExit`` of a stream closed halfway (the visitor pressed Stop) and
    with ``RunCancelled``. Without it, a visitor could stop every answer just
    before its end and never spend the host's token caps.

    The count is the provider's usage when the answer carries it. Otherwise it is
    an estimate: the streamed text, as the larger of its chunks that carried text
    (OpenAI sends about one token a chunk) and its characters / ``CHARS_PER_TOKEN``,
    plus the prompt's characters / ``CHARS_PER_TOKEN`` and ``TOKENS_PER_MESSAGE`` a
    message. A call that failed before any text arrived counts no tokens (a
    refused or failed request is often not billed; its request was counted
    before it was sent). Each call (``run_id``) is counted at most once.

    Args:
        meter: Where the tokens go (the deployment's and the visitor's buckets).

    Returns:
        The callback handler, to give the model as one of its ``callbacks``.
    """
    from langchain_core.callbacks import BaseCallbackHandler

    class _UsageToLedger(BaseCallbackHandler):
        def __init__(self) -> None:
            super().__init__()
            self._lock = threading.Lock()
            self._seen: dict[Any, _CallSeen] = {}
            self._counted: set[Any] = set()

        def _call(self, run_id: Any) -> _CallSeen:
            with self._lock:
                return self._seen.setdefault(run_id, _CallSeen())

        def on_chat_model_start(self, serialized: Any, messages: list[list[Any]], *, run_id: Any = None, **kwargs: Any) -> None:
            prompt = [message for batch in messages for message in batch]
            text = "".join(str(getattr(message, "content", message)) for message in prompt)
            self._call(run_id).prompt_tokens = estimate_tokens(text) + TOKENS_PER_MESSAGE * len(prompt)

        def on_llm_start(self, serialized: Any, prompts: list[str], *, run_id: Any = None, **kwargs: Any) -> None:
            self._call(run_id).prompt_tokens = estimate_tokens("".join(prompts)) + TOKENS_PER_MESSAGE * len(prompts)

        def on_llm_new_token(self, token: Any, *, chunk: Any = None, run_id: Any = None, **kwargs: Any) -> None:
            seen = self._call(run_id)
            text = token if isinstance(token, str) else str(token or "")
            if text:
                seen.chunks += 1
                seen.chars += len(text)
            usage = getattr(getattr(chunk, "message", None), "usage_metadata", None) or {}
            seen.usage += int(usage.get("total_tokens") or 0)

        def _count(self, run_id: Any, response: Any) -> None:
            with self._lock:
                if run_id in self._counted:
                    return
                self._counted.add(run_id)
                seen = self._seen.pop(run_id, None) or _CallSeen()
            meter.add_tokens(_reported_usage(response) or seen.usage or seen.estimate())

        def on_llm_end(self, response: Any, *, run_id: Any = None, **kwargs: Any) -> None:
            self._count(run_id, response)

        def on_llm_error(self, error: BaseException, *, run_id: Any = None, response: Any = None, **kwargs: Any) -> None:
            if _refused_here(error):  # refused before sending: it reserved nothing, and settles nothing
                with self._lock:
                    self._counted.add(run_id)
                    self._seen.pop(run_id, None)
                return
            self._count(run_id, response)

    return _UsageToLedger()
