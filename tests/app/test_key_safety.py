"""API keys through the app: one session's key stays in that session, and no key is ever shown, logged or saved.

Also the cost guard of a deployment that lends its own key (``OPENAI_API_KEY`` in
the environment, as Community Cloud does with top-level secrets): each visitor
may make ``HOST_KEY_VISITOR_REQUESTS_PER_HOUR`` requests (a reload or a new
session does not reset it) with at most ``HOST_KEY_MAX_TOPICS`` topics per run;
a run over the limit makes no request at all, and a key typed by the visitor
lifts the limit.

Everything runs against the local OpenAI-compatible server, which records the
key of every request, so the tests can tell whose key paid for each call.
"""

from __future__ import annotations

import logging
import time
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from chains.timing import records_to_csv, records_to_json
from devtools.openai_server import REPLY_MARKER, OpenAICompatibleServer, key_fingerprint
from tests.app.test_fault_matrix import assert_clean, page_dump, remote_state
from tests.app_harness import open_app, texts

ROOT = Path(__file__).resolve().parents[2]
EN = tomllib.loads((ROOT / "ui" / "locales" / "en.toml").read_text(encoding="utf-8"))
HOST_KEY = "sk-host-LEAKCANARY-2b9e41d07c55"
OTHER_KEY = "sk-other-LEAKCANARY-91aa3f6e0d12"


def run_batch(app: AppTest, topics: list[str]) -> AppTest:
    """Type ``topics`` on the Batch page (``for`` loop off: one call per topic) and press Run."""
    app.text_area(key="topics").set_value("\n".join(topics))
    app.toggle(key="batch_with_loop").set_value(False)
    app.button(key="run").click()
    app.run(timeout=60)
    return app


def keys_seen(server: OpenAICompatibleServer) -> list[str]:
    """Which key paid for each request the server received, in order (as ``key_fingerprint``s)."""
    return [request.key_fingerprint for request in server.requests]


def fingerprints(*keys: str) -> list[str]:
    """``key_fingerprint`` of each key."""
    return [key_fingerprint(key) for key in keys]


def files_containing(text: str, since: float) -> list[Path]:
    """Files under the repository changed since ``since`` that contain ``text`` (``.git`` and virtualenvs skipped)."""
    found = []
    for path in ROOT.rglob("*"):
        if any(part in {".git", ".venv", ".venv-ci", "__pycache__"} for part in path.parts) or not path.is_file():
            continue
        try:
            if path.stat().st_mtime >= since and text.encode() in path.read_bytes():
                found.append(path)
        except OSError:
            continue
    return found


# --------------------------------------------------------------------- session isolation
def test_a_typed_key_stays_in_its_own_session(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str
) -> None:
    alice = open_app(monkeypatch, "pages/batch.py", state=remote_state(openai_server.base_url, fake_api_key, timeout_s=5.0))
    bob = open_app(monkeypatch, "pages/batch.py", state=remote_state(openai_server.base_url, OTHER_KEY, timeout_s=5.0))
    carol = open_app(monkeypatch, "pages/batch.py")

    run_batch(alice, ["cats", "owls"])
    run_batch(bob, ["dogs"])
    run_batch(carol, ["bees"])

    for app in (alice, bob, carol):
        assert_clean(app)
    assert keys_seen(openai_server) == fingerprints(fake_api_key, fake_api_key, OTHER_KEY), "each session paid with its own key"
    assert alice.session_state["api_key"] == fake_api_key and bob.session_state["api_key"] == OTHER_KEY
    assert carol.session_state["api_key"] == "" and carol.session_state["provider"] == "simulator"
    assert REPLY_MARKER not in texts(carol), "a session without a key ran on the simulator, not on another session's key"


def test_the_key_field_is_a_password_field_and_starts_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/invoke.py", state={"provider": "compatible"})
    field = app.text_input(key="api_key")
    assert field.proto.type == field.proto.PASSWORD
    assert field.value == ""


#: A key in OpenAI's format, and one a local server might use, which no "sk-" pattern would catch.
LEAKY_KEYS = {"openai-style": "sk-test-LEAKCANARY-7f3b2a1c9d8e", "no-prefix": "local-LEAKCANARY-5d0c2e7a9b31"}


@pytest.mark.parametrize("key_style", list(LEAKY_KEYS))
@pytest.mark.parametrize("page", ["pages/invoke.py", "pages/batch.py", "pages/stream.py", "pages/history.py"])
def test_a_typed_key_is_never_on_the_page_in_the_logs_in_exports_or_on_disk(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    openai_server: OpenAICompatibleServer,
    page: str,
    key_style: str,
) -> None:
    fake_api_key = LEAKY_KEYS[key_style]
    caplog.set_level(logging.DEBUG)
    started = time.time() - 1
    state = remote_state(openai_server.base_url, fake_api_key, timeout_s=5.0)
    # Every page runs twice: one good run, then one that fails, whose error text the key could leak into.
    app = open_app(monkeypatch, "pages/batch.py", state=state)
    run_batch(app, ["cats"])
    openai_server.echo_key_in_errors = True  # The worst case: the provider repeats the whole key.
    openai_server.set_fault("401")
    run_batch(app, ["dogs"])
    app.switch_page(page)
    app.run()

    assert_clean(app)
    assert keys_seen(openai_server) == fingerprints(fake_api_key, fake_api_key)
    assert fake_api_key not in page_dump(app)
    history = app.session_state["run_history"]
    assert len(history) == 2 and history[1].error_count == 1
    assert fake_api_key not in records_to_csv(history) + records_to_json(history)
    assert fake_api_key not in caplog.text
    out, err = capfd.readouterr()
    assert fake_api_key not in out + err
    assert files_containing(fake_api_key, since=started) == []


# ------------------------------------------------------------------------- the cost guard
def host_env(server: OpenAICompatibleServer, *, max_calls: int, max_topics: int) -> dict[str, str]:
    """A deployment that lends its key, with a small per-visitor budget (visitors with or without an IP)."""
    return {
        "OPENAI_API_KEY": HOST_KEY,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_MODEL": "test-model",
        "HOST_KEY_VISITOR_REQUESTS_PER_HOUR": str(max_calls),
        "HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR": str(max_calls),
        "HOST_KEY_MAX_TOPICS": str(max_topics),
    }


def budget_message(remaining: int, topics: int, *, own_key_helps: bool = False) -> str:
    """The localized message shown when a run would go over the budget.

    The test server is not OpenAI's endpoint, so by default the message is the
    one for the host's own endpoint, where a typed key does not lift the limits.
    """
    name = "exceeded" if own_key_helps else "exceeded_host_endpoint"
    return EN["budget"][name].format(remaining=remaining, topics=topics)


def test_the_host_key_is_used_within_its_budget_and_never_beyond(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    app = open_app(monkeypatch, "pages/batch.py", env=host_env(openai_server, max_calls=3, max_topics=2), state={"timeout_s": 5.0})
    assert app.session_state["provider"] == "openai", "a deployment key makes OpenAI the default provider"
    assert EN["sidebar"]["using_host_key"] in [caption.value for caption in app.sidebar.caption]

    run_batch(app, ["a", "b", "c"])  # three topics: over the per-run limit
    assert budget_message(remaining=3, topics=2) in [warning.value for warning in app.warning]
    assert openai_server.requests_total == 0, "no request is made for a run over the limit"

    run_batch(app, ["cats", "owls"])  # two calls: within both limits
    assert openai_server.requests_total == 2 and REPLY_MARKER in texts(app)

    run_batch(app, ["dogs", "bees"])  # two more calls, but only one is left
    assert budget_message(remaining=1, topics=2) in [warning.value for warning in app.warning]
    assert openai_server.requests_total == 2, "the session's budget stops the run before any request"

    assert keys_seen(openai_server) == fingerprints(HOST_KEY, HOST_KEY)
    assert_clean(app)
    assert HOST_KEY not in page_dump(app) and app.session_state["api_key"] == "", "the host's key is never shown"


def test_a_typed_key_lifts_the_host_topic_cap_and_pays_for_its_own_calls(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str
) -> None:
    """On OpenAI's own endpoint (played by the test server), each request is billed to the key it carries."""
    import chains.security.netguard

    monkeypatch.setattr(chains.security.netguard, "KEY_BILLED_BASE_URLS", (openai_server.base_url,))
    app = open_app(monkeypatch, "pages/batch.py", env=host_env(openai_server, max_calls=1, max_topics=1), state={"timeout_s": 5.0})
    run_batch(app, ["a", "b", "c"])
    assert openai_server.requests_total == 0
    assert budget_message(remaining=1, topics=1, own_key_helps=True) in [warning.value for warning in app.warning]

    app.session_state["api_key"] = fake_api_key
    run_batch(app, ["cats", "owls", "dogs"])

    assert_clean(app)
    assert keys_seen(openai_server) == fingerprints(fake_api_key) * 3
    assert not app.warning, [warning.value for warning in app.warning]
    assert EN["sidebar"]["using_host_key"] not in [caption.value for caption in app.sidebar.caption]


def test_any_typed_key_on_the_hosts_own_endpoint_is_counted_and_capped(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    """A self-hosted server or a proxy that adds its own credentials is paid by the host whatever key is typed."""
    app = open_app(monkeypatch, "pages/batch.py", env=host_env(openai_server, max_calls=1, max_topics=1), state={"timeout_s": 5.0})
    app.session_state["api_key"] = "x"
    run_batch(app, ["a", "b", "c"])
    assert budget_message(remaining=1, topics=1) in [warning.value for warning in app.warning]
    assert openai_server.requests_total == 0, "the host's topic cap holds for a typed key on the host's endpoint"

    run_batch(app, ["cats"])
    assert keys_seen(openai_server) == fingerprints("x")
    run_batch(app, ["owls"])
    assert openai_server.requests_total == 1, "the visitor's one request on the host's endpoint is spent"
    assert budget_message(remaining=0, topics=1) in [warning.value for warning in app.warning]


def test_a_public_deployment_without_a_key_sends_visitors_to_its_own_endpoint_and_counts_them(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    """``PUBLIC_DEPLOYMENT`` with only ``OPENAI_BASE_URL`` (a self-hosted model, no key): an empty base URL is that endpoint.

    The model was built for it, but the URL check looked at OpenAI's default instead, so
    every run failed with "could not be resolved" where OpenAI is not reachable.
    """
    env = {
        "PUBLIC_DEPLOYMENT": "true",
        "OPENAI_BASE_URL": openai_server.base_url,
        "HOST_KEY_VISITOR_REQUESTS_PER_HOUR": "1",
        "HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR": "1",
        "HOST_KEY_MAX_TOPICS": "2",
    }
    app = open_app(monkeypatch, "pages/batch.py", env=env, state={"timeout_s": 5.0, "provider": "openai", "model_name": "test-model"})
    base_url_field = next(field for field in app.sidebar.text_input if field.key == "base_url")
    assert base_url_field.placeholder == EN["security"]["deployment_endpoint"], "an empty field is the deployment's endpoint"
    assert openai_server.base_url not in page_dump(app), "and its URL is not shown"
    app.session_state["api_key"] = "x"
    run_batch(app, ["cats"])
    assert not app.warning, [warning.value for warning in app.warning]
    assert openai_server.requests_total == 1 and keys_seen(openai_server) == fingerprints("x")
    run_batch(app, ["owls"])
    assert budget_message(remaining=0, topics=2) in [warning.value for warning in app.warning]
    assert openai_server.requests_total == 1, "the host pays for its endpoint: the visitor's one request is spent"
    assert_clean(app)


def test_budgets_are_per_visitor_and_a_new_session_does_not_reset_them(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    import ui.deployment.host

    env = host_env(openai_server, max_calls=2, max_topics=2)
    monkeypatch.setattr(ui.deployment.host, "visitor_id", lambda: "203.0.113.7")
    first = open_app(monkeypatch, "pages/batch.py", env=env, state={"timeout_s": 5.0})
    run_batch(first, ["cats", "owls"])
    run_batch(first, ["dogs"])
    assert openai_server.requests_total == 2, "the visitor spent two calls, then was stopped"

    reload = open_app(monkeypatch, "pages/batch.py", env=env, state={"timeout_s": 5.0})
    run_batch(reload, ["bees"])
    assert openai_server.requests_total == 2, "a reload (a new session) of the same visitor gets no new budget"

    monkeypatch.setattr(ui.deployment.host, "visitor_id", lambda: "198.51.100.4")
    other = open_app(monkeypatch, "pages/batch.py", env=env, state={"timeout_s": 5.0})
    run_batch(other, ["bees", "ants"])
    assert openai_server.requests_total == 4, "another visitor has a budget of their own"


def test_the_lab_sweep_is_checked_against_the_host_budget_as_a_whole(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    from chains.experiments.sweep import estimate_sweep_calls

    app = open_app(monkeypatch, "pages/lab.py", env=host_env(openai_server, max_calls=20, max_topics=4), state={"timeout_s": 5.0})
    app.slider(key="sweep_k").set_value(5)  # batch(5) would exceed 4 topics per run
    app.slider(key="sweep_repeats").set_value(1)
    app.button(key="run").click()
    app.run(timeout=60)
    assert budget_message(remaining=20, topics=4) in [warning.value for warning in app.warning]
    assert openai_server.requests_total == 0

    app.slider(key="sweep_k").set_value(3)
    app.button(key="run").click()
    app.run(timeout=60)
    planned = estimate_sweep_calls(3, 1)
    assert_clean(app)
    assert openai_server.requests_total == planned == 12, "a loop and a batch for N = 1, 2, 3"
    from ui.deployment.host import read_host_config
    from ui.deployment.policy import host_key_meter

    assert host_key_meter(read_host_config()).calls_left() == 20 - planned
