"""Model settings, every provider in one registry, and the model factory: the simulator, OpenAI, or any OpenAI-compatible server.

The rest of the app looks a provider up (``provider_for(settings.provider)``)
and reads its attributes; it never compares provider names. Adding a provider
means adding one ``Provider`` to ``PROVIDERS`` (or calling ``register_provider``)
and its label (``providers.<id>``) to both locale files.

This module imports no LangChain and no Streamlit at module level: the builders
import what they need when a model is built, so that the sidebar can be drawn,
and the first page shown, before LangChain has loaded. Where requests may go
(``chains.security.policy``) and what they cost (``chains.security.usage``) live
in ``chains.security``, which this module imports and which never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from chains.errors import AppGuardError
from chains.security.policy import DEFAULT_TIMEOUT_S, EgressPolicy
from chains.simulation.profiles import DEFAULT_PROFILE, PROFILES

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from chains.simulation.replay import ReplayProfile


DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_MAX_RETRIES = 2

#: The offline provider every session starts with.
DEFAULT_PROVIDER_ID = "simulator"
#: The provider the deployment's own key is for (the sidebar's default when there is one).
HOST_PROVIDER_ID = "openai"
#: The provider of this machine's llama.cpp server (``chains.local.supervisor``).
LOCAL_PROVIDER_ID = "local"
#: The provider written on the records of a simulator replaying a recorded real model.
REPLAY_ID = "replay"


class MissingKeyError(AppGuardError, ValueError):
    """A provider that needs an API key was chosen without one."""

    kind = "missing_key"

    def __init__(self, provider: str = HOST_PROVIDER_ID) -> None:
        """Create the error for ``provider`` (the message names no key)."""
        super().__init__(f"{provider} needs an API key, and none was given")
        self.provider = provider


Prices = Literal["free", "list"]
#: How a provider's model is built from the run's settings and the deployment's rules.
ModelBuilder = Callable[["ModelSettings", "EgressPolicy"], "BaseChatModel"]


@dataclass(frozen=True)
class EnvNames:
    """The names a provider reads from ``st.secrets`` or the environment (the deployment's own key).

    Attributes:
        api_key: The key's name.
        base_url: The endpoint's name.
        model: The default model's name.
    """

    api_key: str
    base_url: str
    model: str

    def __iter__(self) -> Iterator[str]:
        """The three names, key first."""
        return iter((self.api_key, self.base_url, self.model))


@dataclass(frozen=True)
class Provider:
    """One provider: everything the app needs to know about it.

    Attributes:
        id: The stable id kept in settings, widgets and run records.
        label_key: The i18n key of its name (``providers.<id>``).
        build: Builds its chat model (``make_model`` calls it).
        is_simulated: Runs offline on the built-in simulator (no key, no endpoint, no cost).
        selectable: Offered in the sidebar (a record-only provider such as ``replay`` is not).
        needs_key: Refuses to run without an API key (``MissingKeyError``).
        takes_key: The sidebar shows the API key field.
        has_base_url: The sidebar shows the endpoint field.
        has_model_name: The sidebar shows the model name field.
        base_url_hint: The endpoint field's placeholder.
        env: The names it reads for the deployment's own key, or ``None``.
        recordable: Its runs are real timings that can become a replay profile.
        prices: ``free`` (nothing is billed) or ``list`` (OpenAI's list prices by model name, when known).
        record_tag_key: The i18n key of a tag that charts add to its runs' labels, or ``None``.
        unavailable: Says why it is not offered here (a reason code, given whether the deployment is
            public), or ``None`` when it is; the sidebar shows ``providers.<id>_<reason>`` instead.
        is_local_model: Runs on this machine's llama.cpp server (the sidebar shows its slots, threads and
            max tokens, and its loading progress).
    """

    id: str
    label_key: str
    build: ModelBuilder
    is_simulated: bool = False
    selectable: bool = True
    needs_key: bool = False
    takes_key: bool = False
    has_base_url: bool = False
    has_model_name: bool = False
    base_url_hint: str | None = None
    env: EnvNames | None = None
    recordable: bool = False
    prices: Prices = "list"
    record_tag_key: str | None = None
    unavailable: Callable[[bool], str | None] | None = None
    is_local_model: bool = False

    def why_unavailable(self, *, public: bool) -> str | None:
        """Why it is not offered on this deployment, or ``None`` when it is."""
        return self.unavailable(public) if self.unavailable is not None else None

    @property
    def is_free(self) -> bool:
        """True when its runs cost nothing (the cost reads "free", not "—")."""
        return self.prices == "free"


#: The names of the deployment's OpenAI(-compatible) key, endpoint and model.
OPENAI_ENV = EnvNames(api_key="OPENAI_API_KEY", base_url="OPENAI_BASE_URL", model="OPENAI_MODEL")
#: Any non-empty key works for most local servers (Ollama, vLLM, LM Studio).
PLACEHOLDER_KEY = "not-needed"


@dataclass(frozen=True)
class ModelSettings:
    """Everything needed to build the chat model for one run.

    The API key is excluded from ``repr`` so that it never lands in a log or an
    error message by accident.

    Attributes:
        provider: The id of a provider in ``PROVIDERS``.
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


#: ``ModelSettings`` field -> ``SimulatedChatModel`` field.
_SIMULATOR_FIELDS = {
    "model": "model",
    "sim_ttft_s": "ttft_s",
    "sim_tokens_per_s": "tokens_per_s",
    "sim_jitter": "jitter",
    "sim_seed": "seed",
    "sim_failure_rate": "failure_rate",
    "sim_interrupt_rate": "interrupt_rate",
    "sim_max_in_flight": "max_in_flight",
    "sim_min_output_tokens": "min_output_tokens",
    "sim_replay": "replay",
    "sim_shape": "output_shape",
    "sim_slots": "server_slots",
    "sim_shared_compute": "shared_compute",
}


def build_simulator(settings: ModelSettings, policy: EgressPolicy) -> BaseChatModel:
    """The built-in simulator with the settings' latency, faults, seed and any replay (no network)."""
    from chains.simulation.simulator import SimulatedChatModel

    return SimulatedChatModel(**{param: getattr(settings, name) for name, param in _SIMULATOR_FIELDS.items()})


def build_chat_openai(settings: ModelSettings, policy: EgressPolicy) -> BaseChatModel:
    """``ChatOpenAI`` behind this run's own guarded HTTP clients (sync and async).

    No cookie is kept, no idle async connection outlives its event loop, and a
    guarding transport checks every request (see ``chains.security.policy.EgressPolicy``).

    Raises:
        MissingKeyError: When the provider needs a key and none was given.
        HostKeyRefusedError: When the host's key would go to another endpoint or model.
        UnsafeURLError: When the base URL is refused (see ``chains.security.netguard``).
    """
    from langchain_openai import ChatOpenAI

    from chains.security.egress import http_clients
    from chains.security.netguard import DEFAULT_OPENAI_BASE_URL, check_base_url, same_endpoint
    from chains.security.policy import HostKeyRefusedError, bound_host_keys
    from chains.security.usage import usage_recorder

    key = settings.api_key
    if not key:
        if provider_for(settings.provider).needs_key:
            raise MissingKeyError(settings.provider)
        key = PLACEHOLDER_KEY
    # Where the requests go: an empty base URL is the deployment's endpoint, else OpenAI's. Every check is
    # of this URL (checking OpenAI's default while sending to the host's endpoint refused air-gapped deployments).
    base_url = settings.base_url or policy.host_base_url or DEFAULT_OPENAI_BASE_URL
    check_base_url(base_url, public=policy.public, allowed=policy.trusted_base_urls)
    uses_host_key = bool(policy.host_key) and key == policy.host_key
    if uses_host_key and (not same_endpoint(base_url, policy.host_base_url) or settings.model not in policy.host_models):
        raise HostKeyRefusedError("host_key_refused")
    host_pays = uses_host_key or policy.counts_requests_to(base_url)
    if host_pays and policy.meter is None:
        raise HostKeyRefusedError("host_key_unmetered")
    sync_client, async_client = http_clients(policy, bound_host_keys)
    callbacks = [usage_recorder(policy.meter)] if host_pays and policy.meter is not None else None
    # What the host pays for is capped per call, and the ledger reserves that cap before each request.
    max_tokens = policy.meter.limits.max_tokens_per_call if host_pays and policy.meter is not None else 0
    return ChatOpenAI(
        model=settings.model,
        temperature=settings.temperature,
        api_key=key,
        base_url=base_url,  # always explicit: with None, ChatOpenAI would read OPENAI_BASE_URL from the environment
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        stream_usage=True,
        http_client=sync_client,
        http_async_client=async_client,
        callbacks=callbacks,
        max_tokens=max_tokens or None,
    )


def build_local_model(settings: ModelSettings, policy: EgressPolicy) -> BaseChatModel:
    """The seed's ``ChatOpenAI``, pointed at this process's llama.cpp server (started on first use).

    The model streams internally (``streaming=True``), so ``invoke`` and ``batch``
    calls get real first-token times too: with one slot, the calls of a batch
    start together and their first tokens come one after another.

    On a public deployment (``LOCAL_MODEL=on``) every request to the server is
    counted by the meter like the host's endpoint (requests and tokens): the
    host's CPU pays.

    Raises:
        LocalModelError: When the server cannot start or is not ready in time.
        HostKeyRefusedError: On a public deployment without a meter.
    """
    from langchain_openai import ChatOpenAI

    from chains.local.supervisor import config_for, shared_server
    from chains.security.egress import http_clients
    from chains.security.policy import HostKeyRefusedError, bound_host_keys
    from chains.security.usage import usage_recorder

    server = shared_server(config_for(settings.local_slots, settings.local_threads))
    server.wait_ready()
    base_url = server.base_url
    if policy.public and policy.meter is None:
        raise HostKeyRefusedError("host_key_unmetered")
    local_policy = replace(
        policy,
        allowed_base_urls=(*policy.allowed_base_urls, base_url),  # loopback, trusted under its own path only
        metered_base_urls=(base_url,) if policy.public else (),
    )
    # On a public deployment, at most the server's slots in flight from this process: the others wait here.
    sync_client, async_client = http_clients(local_policy, bound_host_keys, gate=server.gate if policy.public else None)
    callbacks = [usage_recorder(policy.meter)] if policy.public and policy.meter is not None else None
    return ChatOpenAI(
        model=server.config.model_name,
        temperature=settings.temperature,
        api_key=PLACEHOLDER_KEY,
        base_url=base_url,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        max_tokens=settings.local_max_tokens,
        streaming=True,
        stream_usage=True,
        http_client=sync_client,
        http_async_client=async_client,
        callbacks=callbacks,
    )


def _local_model_unavailable(public: bool) -> str | None:
    from chains.local.supervisor import unavailable_reason

    return unavailable_reason(public=public)


_SIMULATOR = Provider(
    id=DEFAULT_PROVIDER_ID,
    label_key="providers.simulator",
    build=build_simulator,
    is_simulated=True,
    prices="free",
)
_REMOTE = Provider(
    id=HOST_PROVIDER_ID,
    label_key="providers.openai",
    build=build_chat_openai,
    needs_key=True,
    takes_key=True,
    has_base_url=True,
    has_model_name=True,
    base_url_hint="https://api.openai.com/v1",
    env=OPENAI_ENV,
    recordable=True,
)

PROVIDERS: dict[str, Provider] = {
    provider.id: provider
    for provider in (
        _SIMULATOR,
        _REMOTE,
        # Any server that speaks the OpenAI API (Ollama, vLLM, LM Studio): a key is optional. It is
        # priced by model name too, so a gateway in front of OpenAI shows its cost; a local model's is "—".
        replace(_REMOTE, id="compatible", label_key="providers.compatible", needs_key=False, base_url_hint="http://localhost:11434/v1"),
        # llama.cpp's own server on this machine, with SmolLM2-135M-Instruct from PyPI (or LOCAL_MODEL_PATH).
        Provider(
            id=LOCAL_PROVIDER_ID,
            label_key=f"providers.{LOCAL_PROVIDER_ID}",
            build=build_local_model,
            recordable=True,
            prices="free",
            unavailable=_local_model_unavailable,
            is_local_model=True,
        ),
        # Record-only: a simulator run replaying a recording. It shows in records and labels, never in the sidebar.
        replace(_SIMULATOR, id=REPLAY_ID, label_key="providers.replay", selectable=False, record_tag_key="replay.chart_tag"),
    )
}
"""Every provider by id, in the sidebar's order."""
_BUILT_IN = frozenset(PROVIDERS)


class UnknownProviderError(KeyError):
    """A provider id that is not in ``PROVIDERS``."""


def provider_for(provider_id: str) -> Provider:
    """The registered provider with this id.

    Args:
        provider_id: A key of ``PROVIDERS``.

    Returns:
        The provider.

    Raises:
        UnknownProviderError: When no provider has this id.
    """
    try:
        return PROVIDERS[provider_id]
    except KeyError:
        raise UnknownProviderError(provider_id) from None


def provider_of_record(provider_id: str) -> Provider:
    """The provider a stored run names; an id no longer registered reads as a priced, real provider.

    Runs come from older versions and from imported files, so an unknown id is not an error here.
    """
    return PROVIDERS.get(provider_id) or replace(_REMOTE, id=provider_id, label_key=f"providers.{provider_id}", env=None)


def selectable_provider_ids(*, public: bool | None = None) -> list[str]:
    """The ids the sidebar offers, in order; with ``public`` given, only those available on that deployment."""
    return [
        provider.id
        for provider in PROVIDERS.values()
        if provider.selectable and (public is None or provider.why_unavailable(public=public) is None)
    ]


def default_provider() -> Provider:
    """The offline provider every session starts with."""
    return provider_for(DEFAULT_PROVIDER_ID)


def host_provider() -> Provider:
    """The provider the deployment's own key is for."""
    return provider_for(HOST_PROVIDER_ID)


def env_names() -> tuple[str, ...]:
    """Every name a provider reads from the secrets or the environment, each once."""
    return tuple(dict.fromkeys(name for provider in PROVIDERS.values() if provider.env for name in provider.env))


def register_provider(provider: Provider) -> None:
    """Add ``provider`` to the registry (or replace the one with its id).

    Args:
        provider: The provider; its label key must exist in both locale files.
    """
    PROVIDERS[provider.id] = provider


def unregister_provider(provider_id: str) -> None:
    """Remove a provider added by ``register_provider`` (the built-in ones stay)."""
    if provider_id not in _BUILT_IN:
        PROVIDERS.pop(provider_id, None)


def make_model(settings: ModelSettings, policy: EgressPolicy | None = None) -> BaseChatModel:
    """Build the chat model that ``settings`` describe, with its provider's builder (``PROVIDERS``).

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
