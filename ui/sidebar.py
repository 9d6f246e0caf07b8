"""The shared sidebar: language, provider, model and the simulator's latency.

It is drawn by ``streamlit_app.py`` on every page, before the page runs, and
leaves the resulting ``ModelSettings`` in the session for the page to use.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from chains.local.supervisor import model_name as local_model_name
from chains.local.supervisor import model_path as local_model_path
from chains.models import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_OPENAI_MODEL,
    PROVIDERS,
    ModelSettings,
    Provider,
    default_provider,
    host_provider,
    provider_for,
    selectable_provider_ids,
)
from chains.security.netguard import counts_for_the_host, same_endpoint
from chains.security.policy import DEFAULT_TIMEOUT_S
from chains.simulation.profiles import DEFAULT_PROFILE, PROFILES, TYPICAL_JOKE_TOKENS, typical_joke_seconds
from ui.deployment.host import HostConfig, read_host_config
from ui.deployment.local_model import LOCAL_TIMEOUT_KEY, LOCAL_TIMEOUT_S, local_controls, local_settings
from ui.deployment.policy import host_key_meter
from ui.i18n import LANGUAGE_KEY, LANGUAGES, current_language, option_labels, t
from ui.runs.preferences import note_language_chosen
from ui.runs.replay import replay_controls, selected_replay
from ui.runs.share import owner_field

SETTINGS_KEY = "_model_settings"
#: A copy of the typed key in a non-widget key: it survives while the key field is hidden
#: (simulator selected) without being assigned back to the widget, and so sent to the browser, on every run.
TYPED_KEY = "_typed_api_key"
#: Whether the key field was drawn in the previous run.
KEY_FIELD_SHOWN = "_api_key_field_shown"


@dataclass(frozen=True)
class ActiveSettings:
    """The settings a page runs with.

    Attributes:
        model: The model settings (with the key, never displayed).
        uses_host_key: True when the deployment's key pays for the calls.
        host_key_refused: Why the deployment's key is not used although no key
            was typed: ``endpoint`` or ``model``; ``None`` otherwise.
        on_host_endpoint: True when the run goes to the deployment's own endpoint
            and that is not OpenAI's, so the host pays whatever key was typed
            (``chains.security.netguard.counts_for_the_host``).
        on_host_cpu: True when the run goes to the local model on a public deployment (the host's CPU pays).
    """

    model: ModelSettings
    uses_host_key: bool
    host_key_refused: str | None = None
    on_host_endpoint: bool = False
    on_host_cpu: bool = False

    @property
    def metered(self) -> bool:
        """True when the run's requests count against the host's budget and its topic cap."""
        return self.uses_host_key or self.on_host_endpoint or self.on_host_cpu


def _apply_profile() -> None:
    """Copy the chosen latency profile into the latency sliders."""
    profile = PROFILES[st.session_state["sim_profile"]]
    st.session_state["sim_ttft_s"] = profile.ttft_s
    st.session_state["sim_tokens_per_s"] = profile.tokens_per_s
    st.session_state["sim_jitter"] = profile.jitter


def _init_defaults(host: HostConfig) -> None:
    """Give every sidebar widget its first value once per session."""
    profile = PROFILES[DEFAULT_PROFILE]
    defaults = {
        "provider": (host_provider() if host.has_key else default_provider()).id,
        # With a host key, empty fields mean "the deployment's model and endpoint",
        # which are never shown to visitors.
        "model_name": "" if host.has_key else DEFAULT_OPENAI_MODEL,
        "base_url": "",
        "temperature": 0.7,
        "timeout_s": DEFAULT_TIMEOUT_S,
        "max_retries": DEFAULT_MAX_RETRIES,
        "sim_profile": DEFAULT_PROFILE,
        "sim_ttft_s": profile.ttft_s,
        "sim_tokens_per_s": profile.tokens_per_s,
        "sim_jitter": profile.jitter,
        "sim_seed": 42,
        "sim_failure_rate": 0.0,
        "sim_interrupt_rate": 0.0,
        "sim_max_in_flight": 0,
    }
    for key, value in defaults.items():
        # Re-assigning keeps a widget's value while the widget is hidden (for example
        # the typed key while the simulator is selected); Streamlit drops it otherwise.
        st.session_state[key] = st.session_state.get(key, value)
    if st.session_state["provider"] not in selectable_provider_ids(public=host.public):  # a provider that is no longer offered
        st.session_state["provider"] = defaults["provider"]
    # Never the typed key: assigning it would send it back to the browser on every run
    # (``_key_field`` restores it, once, when the field shows again).
    if "api_key" not in st.session_state:
        st.session_state["api_key"] = ""


def _profile_help() -> str:
    """The profile select's help: what the simulator does, and each profile's promise per joke."""
    label = option_labels("profiles.")
    lines = [
        t("seed.profile_line", profile=label(name), seconds=profile.typical_joke_s, ttft=profile.ttft_s, tps=profile.tokens_per_s)
        for name, profile in PROFILES.items()
    ]
    return "\n\n".join([t("sidebar.profile_help"), *lines, t("seed.profile_seed_note")])


def _simulator_controls() -> None:
    st.selectbox(
        t("sidebar.profile"),
        list(PROFILES),
        key="sim_profile",
        format_func=option_labels("profiles."),
        on_change=_apply_profile,
        help=_profile_help(),
    )
    st.slider(t("sidebar.ttft"), 0.0, 3.0, step=0.05, key="sim_ttft_s", help=t("sidebar.ttft_help"))
    st.slider(t("sidebar.tps"), 5.0, 1000.0, step=5.0, key="sim_tokens_per_s", help=t("sidebar.tps_help"))
    per_call = typical_joke_seconds(st.session_state["sim_ttft_s"], st.session_state["sim_tokens_per_s"])
    st.caption(t("sidebar.latency_estimate", tokens=TYPICAL_JOKE_TOKENS, seconds=per_call))
    with st.expander(t("sidebar.sim_advanced")):
        st.slider(t("sidebar.jitter"), 0.0, 1.0, step=0.05, key="sim_jitter")
        st.number_input(t("sidebar.seed"), min_value=0, max_value=1_000_000, step=1, key="sim_seed")
        st.slider(t("sidebar.failure_rate"), 0.0, 1.0, step=0.05, key="sim_failure_rate", help=t("sidebar.failure_rate_help"))
        st.slider(t("sidebar.interrupt_rate"), 0.0, 1.0, step=0.05, key="sim_interrupt_rate", help=t("sidebar.interrupt_rate_help"))
        st.number_input(
            t("sidebar.max_in_flight"), min_value=0, max_value=64, step=1, key="sim_max_in_flight", help=t("sidebar.max_in_flight_help")
        )
    replay_controls()


def _remote_controls(host: HostConfig, provider: Provider) -> None:
    """The fields a real provider declares (model, endpoint, key), then the host key's state and the client's limits."""
    if provider.has_model_name:
        st.text_input(
            t("sidebar.model"),
            key="model_name",
            placeholder=t("security.deployment_model") if host.has_key else DEFAULT_OPENAI_MODEL,
            help=t("sidebar.model_help"),
        )
    if provider.has_base_url:
        st.text_input(
            t("sidebar.base_url"),
            key="base_url",
            placeholder=t("security.deployment_endpoint") if host.has_key or host.base_url else provider.base_url_hint,
            help=t("sidebar.base_url_help"),
        )
    if provider.takes_key:
        _key_field()
    else:
        st.session_state[KEY_FIELD_SHOWN] = False
    if host.has_key and not st.session_state["api_key"].strip():
        reason = _host_key_refusal(host)
        if reason is None:
            st.caption(t("sidebar.using_host_key"))
            _calls_left(host)
        else:
            st.warning(t(f"security.own_key_needed_{reason}"), icon="🔑")
    elif _on_host_endpoint(host):
        _calls_left(host)  # the deployment's own endpoint: its budget holds whatever key was typed
    st.slider(t("sidebar.temperature"), 0.0, 2.0, step=0.1, key="temperature")
    st.number_input(t("sidebar.timeout"), min_value=1.0, max_value=300.0, step=1.0, key="timeout_s")
    st.number_input(t("sidebar.max_retries"), min_value=0, max_value=5, step=1, key="max_retries", help=t("sidebar.max_retries_help"))


def _on_host_endpoint(host: HostConfig) -> bool:
    """True when the typed base URL (empty: the deployment's) is the deployment's own endpoint and the host pays for it."""
    return counts_for_the_host(str(st.session_state.get("base_url", "")).strip() or None, host.base_url, public=host.public)


def _calls_left(host: HostConfig) -> None:
    """Show how many of the host's calls this visitor may still make, and the topic cap."""
    meter = host_key_meter(host)
    left, allowance = meter.calls_left(), meter.visitor_allowance()
    st.progress(
        min(1.0, left / allowance) if allowance else 0.0,
        text=t("security.calls_left", remaining=left, total=allowance, topics=host.limits.max_topics),
    )


def _key_field() -> None:
    """The password field for the visitor's key, which is not sent back to the browser on every run.

    Streamlit forgets a widget's value while the widget is hidden (the
    simulator is selected). The value is kept in a plain session key instead,
    and given back to the field once, when it shows again.
    """
    if not st.session_state.get(KEY_FIELD_SHOWN, False):
        st.session_state["api_key"] = st.session_state.get("api_key") or st.session_state.get(TYPED_KEY, "")
    st.text_input(t("sidebar.api_key"), key="api_key", type="password", help=t("sidebar.api_key_help"))
    st.session_state[TYPED_KEY] = st.session_state["api_key"]
    st.session_state[KEY_FIELD_SHOWN] = True


def _host_key_refusal(host: HostConfig) -> str | None:
    """Why the host's key cannot pay for the sidebar's current choice (``endpoint``/``model``), or ``None``.

    The host's key goes only to the deployment's endpoint (an empty URL field
    means that endpoint), and only with a model of ``HOST_KEY_MODELS``.
    """
    state = st.session_state
    typed_url = str(state.get("base_url", "")).strip()
    if typed_url and not same_endpoint(typed_url, host.base_url):
        return "endpoint"
    model = str(state.get("model_name", "")).strip() or host.default_model
    if model not in host.models:
        return "model"
    return None


def render_sidebar() -> ActiveSettings:
    """Draw the sidebar and store the resulting settings in the session.

    Returns:
        The settings the current page should run with.
    """
    host = read_host_config()
    _init_defaults(host)
    current_language()
    with st.sidebar:
        st.radio(
            t("sidebar.language"), list(LANGUAGES), key=LANGUAGE_KEY, format_func=LANGUAGES.get, horizontal=True, on_change=note_language_chosen
        )
        options = selectable_provider_ids(public=host.public)
        labels = {provider_id: t(provider_for(provider_id).label_key) for provider_id in options}
        st.selectbox(t("sidebar.provider"), options, key="provider", format_func=labels.__getitem__, help=t("polish.provider_help"))
        _unavailable_providers(host)
        provider = provider_for(st.session_state["provider"])
        if provider.is_simulated:
            st.session_state[KEY_FIELD_SHOWN] = False
            _simulator_controls()
        elif provider.is_local_model:
            st.session_state[KEY_FIELD_SHOWN] = False
            local_controls(public=host.public)
            if host.public:
                _calls_left(host)  # the host's CPU: metered like its endpoint
            st.slider(t("sidebar.temperature"), 0.0, 2.0, step=0.1, key="temperature")
            # Its own timeout: with 1 slot the calls of a batch queue, and the last waits for all the others.
            st.number_input(t("sidebar.timeout"), min_value=1.0, max_value=600.0, step=10.0, key=LOCAL_TIMEOUT_KEY)
        else:
            _remote_controls(host, provider)
        owner_field()
    active = settings_from_state(host)
    st.session_state[SETTINGS_KEY] = active
    return active


def _unavailable_providers(host: HostConfig) -> None:
    """Say, under the provider box, which providers are not offered here and how to get them."""
    for provider in PROVIDERS.values():
        reason = provider.why_unavailable(public=host.public) if provider.selectable else None
        if reason is not None and reason != "public_off":
            st.caption(t(f"{provider.label_key}_{reason}"))


def settings_from_state(host: HostConfig) -> ActiveSettings:
    """Build ``ModelSettings`` from the sidebar's widget values.

    Args:
        host: The deployment's configuration (for its key).

    Returns:
        The active settings; the host's key is used only when no key was typed,
        the endpoint is the deployment's and the model is on ``HOST_KEY_MODELS``.
    """
    state = st.session_state
    provider = state["provider"]
    if provider_for(provider).is_simulated:
        replay = selected_replay()
        model = ModelSettings.simulator(
            state["sim_profile"],
            provider=provider,
            sim_ttft_s=float(state["sim_ttft_s"]),
            sim_tokens_per_s=float(state["sim_tokens_per_s"]),
            sim_jitter=float(state["sim_jitter"]),
            sim_seed=int(state["sim_seed"]),
            sim_failure_rate=float(state["sim_failure_rate"]),
            sim_interrupt_rate=float(state["sim_interrupt_rate"]),
            sim_max_in_flight=int(state["sim_max_in_flight"]) or None,
            model=replay.label if replay is not None else f"simulated-{state['sim_profile']}",
            sim_replay=replay,
        )
        return ActiveSettings(model=model, uses_host_key=False)
    if provider_for(provider).is_local_model:
        slots, threads, max_tokens = local_settings(public=host.public)
        path = local_model_path()
        model = ModelSettings(
            provider=provider,
            model=local_model_name(path) if path else provider,
            temperature=float(state["temperature"]),
            timeout_s=float(state.get(LOCAL_TIMEOUT_KEY, LOCAL_TIMEOUT_S)),
            max_retries=0,  # a retry would only queue the same work again on the same CPU
            local_slots=slots,
            local_threads=threads,
            local_max_tokens=max_tokens,
        )
        return ActiveSettings(model=model, uses_host_key=False, on_host_cpu=host.public)
    typed_key = str(state.get("api_key") or state.get(TYPED_KEY) or "").strip()
    refusal = _host_key_refusal(host) if host.has_key and not typed_key else None
    uses_host_key = not typed_key and host.has_key and refusal is None
    model_name = state["model_name"].strip() or (host.default_model if host.has_key else DEFAULT_OPENAI_MODEL)
    base_url = state["base_url"].strip() or host.base_url or None  # empty: the deployment's endpoint, as the model is built
    model = ModelSettings(
        provider=provider,
        model=model_name,
        temperature=float(state["temperature"]),
        api_key=typed_key or (host.api_key if uses_host_key else None),
        base_url=base_url,
        timeout_s=float(state["timeout_s"]),
        max_retries=int(state["max_retries"]),
    )
    return ActiveSettings(model=model, uses_host_key=uses_host_key, host_key_refused=refusal, on_host_endpoint=_on_host_endpoint(host))


def active_settings() -> ActiveSettings:
    """The settings the sidebar stored for this run (drawing it if it was not drawn)."""
    if SETTINGS_KEY not in st.session_state:
        return render_sidebar()
    return st.session_state[SETTINGS_KEY]
