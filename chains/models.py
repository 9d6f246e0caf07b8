"""Model settings and the model factory: the simulator, OpenAI, or any OpenAI-compatible server."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from chains.profiles import DEFAULT_PROFILE, PROFILES

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

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


def make_model(settings: ModelSettings) -> BaseChatModel:
    """Build the chat model that ``settings`` describe.

    The models (and LangChain with them) are imported here, not at module level,
    so that the sidebar can be drawn, and the first page shown, before LangChain
    has loaded.

    Args:
        settings: The settings.

    Returns:
        A LangChain chat model.

    Raises:
        ValueError: When OpenAI is chosen without a key.
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
        )
    from langchain_openai import ChatOpenAI

    key = settings.api_key
    if not key:
        if settings.provider == "openai":
            raise ValueError("missing_key")
        key = PLACEHOLDER_KEY
    return ChatOpenAI(
        model=settings.model,
        temperature=settings.temperature,
        api_key=key,
        base_url=settings.base_url or None,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        stream_usage=True,
        http_async_client=_async_http_client(),
    )


@lru_cache(maxsize=1)
def _async_http_client() -> object:
    """The async HTTP client for ``ChatOpenAI``: one, shared, that keeps no idle connections.

    ``langchain-openai`` shares one cached async client per (base URL, timeout)
    across the whole process, and its pool keeps connections alive. Those
    connections belong to the event loop that opened them, and every async run
    here gets a fresh loop (``asyncio.run`` in the script thread). Reusing a
    connection from a closed loop fails with ``RuntimeError: Event loop is
    closed`` (every second ``ainvoke``/``astream`` against a real server), so
    this client closes each connection after its response instead. With no
    pooled connection it holds no loop-bound state, so one client can serve
    every model (keys travel per request, in the OpenAI client's headers).

    Returns:
        An ``httpx``/``httpx2`` ``AsyncClient`` (whichever the OpenAI SDK uses).
    """
    import openai
    from langchain_openai._compat import httpx  # The HTTP library the installed SDK uses.

    return openai.DefaultAsyncHttpxClient(limits=httpx.Limits(max_connections=1000, max_keepalive_connections=0))
