"""Model settings and the model factory: the simulator, OpenAI, or any OpenAI-compatible server."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from chains.errors import AppGuardError, MissingKeyError
from chains.netguard import DEFAULT_OPENAI_BASE_URL, check_base_url, origin_of, same_endpoint
from chains.profiles import DEFAULT_PROFILE, PROFILES
from chains.quota import HostKeyMeter

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from chains.replay import ReplayProfile

Provider = Literal["simulator", "openai", "compatible"]
PROVIDERS: tuple[Provider, ...] = ("simulator", "openai", "compatible")

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 2
#: Any non-empty key works for most local servers (Ollama, vLLM, LM Studio).
PLACEHOLDER_KEY = "not-needed"


@dataclass(frozen=True)
class ModelSettings:
    """Everything needed to build the chat model for one run.

    The API key is excluded from ``repr`` so that it never lands in a log or an
    error message by accident.

    Attributes:
        provider: ``simulator``, ``openai`` or ``compatible``.
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
        sim_shape: How a long simulated reply is laid out (``chains.joke_book.REPLY_SHAPES``).
    """

    provider: Provider = "simulator"
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

    @classmethod
    def simulator(cls, profile: str = DEFAULT_PROFILE, **overrides: object) -> ModelSettings:
        """Settings for the simulator with a named latency profile.

        Args:
            profile: A key of ``chains.profiles.PROFILES``.
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
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    @property
    def is_simulated(self) -> bool:
        """True for the built-in simulator."""
        return self.provider == "simulator"

    @property
    def record_provider(self) -> str:
        """The provider written on run records: ``replay`` when the simulator replays a recording."""
        from chains.replay import REPLAY_PROVIDER

        return REPLAY_PROVIDER if self.is_simulated and self.sim_replay is not None else self.provider


@dataclass(frozen=True)
class EgressPolicy:
    """Where a model's HTTP requests may go, and how requests paid by the host's key are counted.

    Built by the UI for every run (``ui.host.egress_policy``) and enforced twice:
    by ``make_model`` before the client exists, and by the HTTP transport on
    every request (retries included), so that no page or mode can bypass it.

    Attributes:
        host_key: The deployment's key, or ``None``. Excluded from ``repr``.
        host_base_url: The deployment's endpoint (``None``: OpenAI's default).
        host_models: Models the host's key may be used with.
        public: A public deployment: refuse private, loopback and metadata addresses.
        allowed_base_urls: Endpoints allowed even when private (``ALLOWED_BASE_URLS``).
        meter: Counts each request carrying the host's key; without one, such a
            request is refused.
    """

    host_key: str | None = field(default=None, repr=False)
    host_base_url: str | None = None
    host_models: frozenset[str] = frozenset()
    public: bool = False
    allowed_base_urls: tuple[str, ...] = ()
    meter: HostKeyMeter | None = None

    @property
    def trusted_base_urls(self) -> tuple[str, ...]:
        """The endpoints a public deployment may call whatever they resolve to."""
        return (self.host_base_url or DEFAULT_OPENAI_BASE_URL, *self.allowed_base_urls)


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
    """Build the chat model that ``settings`` describe.

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
        MissingKeyError: When OpenAI is chosen without a key.
        HostKeyRefusedError: When the host's key would go to another endpoint or model.
        UnsafeURLError: When the base URL is refused (see ``chains.netguard``).
    """
    if settings.is_simulated:
        from chains.simulator import SimulatedChatModel

        return SimulatedChatModel(
            model=settings.model,
            ttft_s=settings.sim_ttft_s,
            tokens_per_s=settings.sim_tokens_per_s,
            jitter=settings.sim_jitter,
            seed=settings.sim_seed,
            failure_rate=settings.sim_failure_rate,
            interrupt_rate=settings.sim_interrupt_rate,
            max_in_flight=settings.sim_max_in_flight,
            min_output_tokens=settings.sim_min_output_tokens,
            replay=settings.sim_replay,
            output_shape=settings.sim_shape,
        )
    from langchain_openai import ChatOpenAI

    from chains.egress import http_clients

    policy = policy or EgressPolicy()
    key = settings.api_key
    if not key:
        if settings.provider == "openai":
            raise MissingKeyError(settings.provider)
        key = PLACEHOLDER_KEY
    check_base_url(settings.base_url, public=policy.public, allowed=policy.trusted_base_urls)
    if policy.host_key and key == policy.host_key:
        if not same_endpoint(settings.base_url, policy.host_base_url) or settings.model not in policy.host_models:
            raise HostKeyRefusedError("host_key_refused")
        if policy.meter is None:
            raise HostKeyRefusedError("host_key_unmetered")
    sync_client, async_client = http_clients(policy, bound_host_keys)
    callbacks = [_usage_recorder(policy.meter)] if policy.meter is not None and key == policy.host_key else None
    return ChatOpenAI(
        model=settings.model,
        temperature=settings.temperature,
        api_key=key,
        # Always explicit: with None, ChatOpenAI would read OPENAI_BASE_URL from the environment.
        base_url=settings.base_url or policy.host_base_url or DEFAULT_OPENAI_BASE_URL,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        stream_usage=True,
        http_client=sync_client,
        http_async_client=async_client,
        callbacks=callbacks,
    )


def _usage_recorder(meter: HostKeyMeter) -> object:
    """A LangChain callback that adds each answer's token usage to the ledger (after the fact)."""
    from langchain_core.callbacks import BaseCallbackHandler

    class _UsageToLedger(BaseCallbackHandler):
        def on_llm_end(self, response: Any, **kwargs: Any) -> None:
            total = 0
            for generations in response.generations:
                for generation in generations:
                    usage = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
                    total += int(usage.get("total_tokens") or 0)
            if not total:
                usage = (response.llm_output or {}).get("token_usage") or {}
                total = int(usage.get("total_tokens") or 0)
            meter.add_tokens(total)

    return _UsageToLedger()
