"""Providers live in one registry (``chains.models``): the rest of the app looks them up, never names them."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from chains.models import (
    PROVIDERS,
    ModelSettings,
    UnknownProviderError,
    build_chat_openai,
    default_provider,
    env_names,
    host_provider,
    make_model,
    provider_of_record,
    register_provider,
    unregister_provider,
)
from chains.records.pricing import run_cost_usd
from chains.timing import RunRecord
from tests.app_harness import open_app
from ui.i18n import LANGUAGES, load_strings

ROOT = Path(__file__).resolve().parents[2]
APP_FOLDERS = ("chains", "ui", "pages")


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_provider_has_its_label_in_both_languages(language: str) -> None:
    strings = load_strings(language)
    assert sorted(provider.label_key for provider in PROVIDERS.values() if provider.label_key not in strings) == []
    tags = [provider.record_tag_key for provider in PROVIDERS.values() if provider.record_tag_key]
    assert tags and all(tag in strings for tag in tags)


@pytest.mark.parametrize("provider_id", list(PROVIDERS))
def test_every_provider_is_consistent(provider_id: str) -> None:
    provider = PROVIDERS[provider_id]
    assert provider.id == provider_id and callable(provider.build)
    assert provider.label_key == f"providers.{provider_id}"
    if provider.is_simulated:
        # Offline: nothing to type, nothing read from the deployment, nothing billed, nothing to record.
        assert not (provider.needs_key or provider.takes_key or provider.has_base_url or provider.recordable)
        assert provider.env is None and provider.is_free
    elif provider.is_local_model:
        # This machine's llama.cpp server: its own fields (slots, threads, max tokens), no key, no endpoint, free.
        assert not (provider.needs_key or provider.takes_key or provider.has_base_url or provider.has_model_name)
        assert provider.env is None and provider.is_free and provider.recordable
    else:
        assert provider.has_model_name and provider.base_url_hint
    if provider.needs_key:
        assert provider.takes_key


def test_the_defaults_are_the_simulator_and_the_host_keys_provider() -> None:
    assert default_provider().is_simulated and default_provider().selectable
    assert host_provider().needs_key and host_provider().env is not None
    assert set(host_provider().env) <= set(env_names())
    assert ModelSettings().provider == default_provider().id and ModelSettings().is_simulated


def test_make_model_calls_the_looked_up_builder_and_refuses_an_unknown_provider() -> None:
    built: list[ModelSettings] = []
    register_provider(replace(default_provider(), id="probe", label_key="providers.probe", build=lambda s, p: built.append(s) or "model"))
    try:
        settings = ModelSettings(provider="probe")
        assert make_model(settings) == "model" and built == [settings]
        assert settings.is_simulated  # read from the registry, not from the name
    finally:
        unregister_provider("probe")
    with pytest.raises(UnknownProviderError):
        make_model(ModelSettings(provider="probe"))
    unregister_provider(default_provider().id)
    assert default_provider().id in PROVIDERS, "the built-in providers cannot be removed"


def test_a_record_of_an_unregistered_provider_is_priced_like_a_real_one() -> None:
    record = RunRecord(mode="invoke", n=1, wall_s=1.0, max_concurrency=None, provider="gone", model="gpt-4o-mini", calls=[], input_tokens=1_000_000, output_tokens=0)
    assert not provider_of_record("gone").is_free
    assert run_cost_usd(record) == pytest.approx(0.15)
    assert run_cost_usd(replace(record, provider=default_provider().id)) is None


def test_the_key_check_follows_the_providers_needs_key() -> None:
    from chains.models import MissingKeyError

    with pytest.raises(MissingKeyError):
        build_chat_openai(ModelSettings(provider=host_provider().id, model="gpt-4o-mini"), _policy())
    keyless = [provider for provider in PROVIDERS.values() if provider.build is build_chat_openai and not provider.needs_key]
    assert keyless, "an OpenAI-compatible server runs without a key"


def _policy():
    from chains.security.policy import EgressPolicy

    return EgressPolicy()


def test_a_registered_provider_shows_in_the_sidebar_without_other_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = replace(PROVIDERS["compatible"], id="extra-test-provider", label_key="providers.extra-test-provider")
    register_provider(extra)
    try:
        app = open_app(monkeypatch)
        provider = app.selectbox(key="provider")
        assert "providers.extra-test-provider" in provider.options  # an unknown key shows as itself
        app.session_state["provider"] = extra.id
        app.run()
        assert not app.exception
        assert app.text_input(key="base_url").placeholder == extra.base_url_hint
        assert "Replay" not in " ".join(app.selectbox(key="provider").options), "record-only providers are not offered"
    finally:
        unregister_provider(extra.id)


def _literal_provider_ids(path: Path) -> list[str]:
    """``file:line id`` for each provider id written as a string literal outside a dict key."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    dict_keys = {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict) for key in node.keys if key is not None}
    return [
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{node.lineno} {node.value}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in PROVIDERS and id(node) not in dict_keys
    ]


def test_the_scan_finds_a_provider_name(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('if record.provider == "openai":\n    pass\nx = {"replay": 1}\n', encoding="utf-8")
    assert _literal_provider_ids(sample) == ["sample.py:1 openai"]


def test_no_module_outside_the_registry_names_a_provider() -> None:
    paths = [ROOT / "streamlit_app.py"]
    for folder in APP_FOLDERS:
        paths.extend(sorted((ROOT / folder).rglob("*.py")))
    found = [hit for path in paths if path != ROOT / "chains" / "models.py" for hit in _literal_provider_ids(path)]
    assert found == []
