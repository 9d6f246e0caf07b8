"""The deployment's security through the app (AppTest), as a visitor would attack it, on every mode page.

A "host" server (``openai_server``) plays the deployment's provider, whose key
is ``HOST_KEY``; a "capture" server plays a URL a visitor typed. Both record
the fingerprint of the key of every request. A new ``AppTest`` session is a
reload or a new tab of the same visitor.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from devtools.openai_server import OpenAICompatibleServer, key_fingerprint
from tests.app.test_fault_matrix import page_dump
from tests.app_harness import open_app

ROOT = Path(__file__).resolve().parents[2]
EN = tomllib.loads((ROOT / "ui" / "locales" / "en.toml").read_text(encoding="utf-8"))
HOST_KEY = "host-secret-123-LEAKCANARY"

#: Page -> (file, the buttons that start a run there).
PAGE_RUNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "invoke": ("pages/invoke.py", ("run",)),
    "batch": ("pages/batch.py", ("run",)),
    "stream": ("pages/stream.py", ("run", "race_run")),
    "async_modes": ("pages/async_modes.py", ("run",)),
    "compare": ("pages/compare.py", ("run",)),
    "lab": ("pages/lab.py", ("run",)),
}
RUNS = [(page, button) for page, (_, buttons) in PAGE_RUNS.items() for button in buttons]


@pytest.fixture
def capture() -> Iterator[OpenAICompatibleServer]:
    """A second local server: the URL a visitor typed."""
    with OpenAICompatibleServer(ttft_s=0.01, token_delay_s=0.001, retry_after_s=0.01) as server:
        yield server


def deployment(host: OpenAICompatibleServer, **extra: str) -> dict[str, str]:
    """A public deployment that lends its key for ``host``."""
    return {"OPENAI_API_KEY": HOST_KEY, "OPENAI_BASE_URL": host.base_url, "OPENAI_MODEL": "test-model", **extra}


def start_run(app: AppTest, page: str, button: str, topics: str) -> AppTest:
    """Type ``topics`` and press ``button`` on ``page`` (the Lab sweeps N = 1 and 2 once)."""
    box = app.text_input(key="topics") if page == "invoke" else app.text_area(key="topics")
    box.set_value(topics)
    if page == "lab":
        app.slider(key="sweep_k").set_value(2)
        app.slider(key="sweep_repeats").set_value(1)
    app.button(key=button).click()
    app.run(timeout=90)
    return app


def warnings(app: AppTest) -> list[str]:
    return [str(element.value) for element in (*app.warning, *app.sidebar.warning, *app.error)]


def fingerprints(server: OpenAICompatibleServer) -> set[str]:
    return {request.key_fingerprint for request in server.requests}


# ------------------------------------------------------- the host key on a visitor's URL
@pytest.mark.parametrize(("page", "button"), RUNS)
def test_a_visitor_url_with_no_key_never_gets_the_host_key(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, capture: OpenAICompatibleServer, page: str, button: str
) -> None:
    env = deployment(openai_server, ALLOWED_BASE_URLS=capture.base_url)
    state = {"provider": "compatible", "base_url": capture.base_url, "model_name": "test-model", "timeout_s": 5.0, "max_retries": 2}
    app = open_app(monkeypatch, PAGE_RUNS[page][0], env=env, state=state)
    assert EN["security"]["own_key_needed_endpoint"] in warnings(app), "the sidebar says why the host key is not used"
    start_run(app, page, button, "cats\nowls")
    assert capture.requests_total > 0, "the visitor's own (allow-listed) server was called"
    assert key_fingerprint(HOST_KEY) not in fingerprints(capture)
    assert openai_server.requests_total == 0
    assert not app.exception


@pytest.mark.parametrize(("page", "button"), RUNS)
def test_a_private_visitor_url_is_refused_on_a_public_deployment(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, capture: OpenAICompatibleServer, page: str, button: str
) -> None:
    state = {"provider": "compatible", "base_url": capture.base_url, "model_name": "test-model", "api_key": "sk-visitor-own-1234"}
    app = open_app(monkeypatch, PAGE_RUNS[page][0], env=deployment(openai_server), state=state)
    start_run(app, page, button, "cats")
    assert EN["security"]["url_refused_private"] in warnings(app)
    assert capture.requests_total == openai_server.requests_total == 0
    assert not app.exception


def test_a_metadata_url_is_refused_and_public_deployment_needs_no_host_key(monkeypatch: pytest.MonkeyPatch) -> None:
    state = {"provider": "compatible", "base_url": "http://169.254.169.254/latest/meta-data", "api_key": "sk-visitor-own-1234"}
    app = open_app(monkeypatch, "pages/invoke.py", env={"PUBLIC_DEPLOYMENT": "true"}, state=state)
    start_run(app, "invoke", "run", "cats")
    assert EN["security"]["url_refused_private"] in warnings(app)


def test_on_a_laptop_localhost_keeps_working(monkeypatch: pytest.MonkeyPatch, capture: OpenAICompatibleServer) -> None:
    state = {"provider": "compatible", "base_url": capture.base_url, "model_name": "test-model", "api_key": ""}
    app = open_app(monkeypatch, "pages/invoke.py", state=state)
    start_run(app, "invoke", "run", "cats")
    assert capture.requests_total == 1 and not warnings(app)


@pytest.mark.parametrize(("page", "button"), RUNS)
def test_another_model_does_not_use_the_host_key(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, page: str, button: str
) -> None:
    app = open_app(monkeypatch, PAGE_RUNS[page][0], env=deployment(openai_server), state={"model_name": "o1-pro"})
    assert EN["security"]["own_key_needed_model"] in warnings(app)
    start_run(app, page, button, "cats")
    assert openai_server.requests_total == 0
    assert EN["errors"]["missing_key"] in warnings(app)


# ----------------------------------------------------------- one budget, reloads included
@pytest.mark.parametrize(("page", "button"), RUNS)
@pytest.mark.parametrize("failing", [False, True], ids=["ok", "failing-with-retries"])
def test_reloads_and_new_tabs_never_get_past_the_visitors_budget(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, page: str, button: str, failing: bool
) -> None:
    # One run fits; four runs (with a budget that a new session would reset) would not.
    budget = {"async_modes": 7, "lab": 6, "compare": 4}.get(page, 3)  # Compare makes 4 calls for one topic (COMPARE_PLAN)
    if failing:
        openai_server.fault = "500"
        openai_server.retry_after_ms_on_500 = 10  # count the retries without the SDK's backoff
    env = deployment(openai_server, HOST_KEY_VISITOR_REQUESTS_PER_HOUR=str(budget), HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR=str(budget))
    for _ in range(4):  # four tabs, or four reloads: each a new session
        app = open_app(monkeypatch, PAGE_RUNS[page][0], env=env, state={"timeout_s": 5.0, "max_retries": 5})
        start_run(app, page, button, "cats")
        assert not app.exception
    assert 0 < openai_server.requests_total <= budget, "the server never sees more requests than the budget allows"
    assert fingerprints(openai_server) == {key_fingerprint(HOST_KEY)}


def test_the_whole_deployment_has_one_budget_across_visitors(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    import ui.deployment.host

    env = deployment(openai_server, HOST_KEY_REQUESTS_PER_HOUR="5")
    apps = []
    for visitor in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        monkeypatch.setattr(ui.deployment.host, "visitor_id", lambda visitor=visitor: visitor)
        app = open_app(monkeypatch, "pages/batch.py", env=env, state={"batch_with_loop": False})
        apps.append(start_run(app, "batch", "run", "a\nb"))
    assert openai_server.requests_total == 4, "two visitors spent 4 of the deployment's 5; the third run (2 calls) is refused"
    assert EN["budget"]["exceeded_host_endpoint"].format(remaining=1, topics=8) in warnings(apps[-1])


# ------------------------------------------------------------------- what visitors see
def test_visitors_see_neither_the_hosts_url_nor_its_model_nor_a_raw_error_body(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    app = open_app(monkeypatch, "pages/invoke.py", env=deployment(openai_server, OPENAI_MODEL="secret-model-name"), state={"timeout_s": 5.0})
    start_run(app, "invoke", "run", "cats")
    assert openai_server.requests_total == 1 and openai_server.requests[0].model == "secret-model-name"
    openai_server.error_body = '{"error": {"message": "db_password=hunter2-LEAK admin_token=tok-LEAK", "type": "x", "code": "not_found"}}'
    start_run(app, "invoke", "run", "owls")
    assert EN["errors"]["not_found"] in warnings(app)
    dump = page_dump(app)
    for hidden in ("hunter2-LEAK", "tok-LEAK", str(openai_server.port), "secret-model-name", HOST_KEY):
        assert hidden not in dump, hidden


def test_a_redirect_shows_neither_its_location_nor_its_body(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, isolated_run_store: Path
) -> None:
    """Neither on the page nor in the stored run (History, shared views and exports read it)."""
    from tests.chains.security.test_egress_http import LEAKY_REDIRECT_BODY, RecordingServer

    internal = RecordingServer()
    try:
        internal.status = 302
        internal.answer_headers = {"Location": "http://10.0.0.5:8080/admin?token=tok-LEAK"}
        internal.body = LEAKY_REDIRECT_BODY
        env = deployment(openai_server, ALLOWED_BASE_URLS=f"{internal.origin}/v1")
        state = {"provider": "compatible", "base_url": f"{internal.origin}/v1", "model_name": "test-model", "api_key": "sk-visitor-own-1234"}
        app = open_app(monkeypatch, "pages/invoke.py", env=env, state=state)
        start_run(app, "invoke", "run", "cats")
    finally:
        internal.close()
    assert internal.paths == ["/v1/chat/completions"] and not app.exception
    assert warnings(app), "the run failed visibly"
    dump = page_dump(app)
    stored = b"".join(path.read_bytes() for path in isolated_run_store.rglob("*") if path.is_file())
    assert b"cats" in stored, "the failed run was stored"
    for hidden in ("LEAK", "10.0.0.5", "/admin"):
        assert hidden not in dump, hidden
        assert hidden.encode() not in stored, hidden


def test_a_typed_key_survives_a_hidden_provider_switch(monkeypatch: pytest.MonkeyPatch, capture: OpenAICompatibleServer) -> None:
    state = {"provider": "compatible", "base_url": capture.base_url, "model_name": "test-model", "api_key": "sk-visitor-own-1234"}
    app = open_app(monkeypatch, "pages/invoke.py", state=state)
    app.selectbox(key="provider").set_value("simulator").run()
    app.selectbox(key="provider").set_value("compatible").run()
    start_run(app, "invoke", "run", "cats")
    assert fingerprints(capture) == {key_fingerprint("sk-visitor-own-1234")}


# ------------------------------------------------------------------- inert untrusted text
HOSTILE_TOPIC = "![x](http://127.0.0.1:9/leak?k=1) <img src=http://127.0.0.1:9/img> [y](javascript:alert(1))"


@pytest.mark.parametrize(("page", "button"), RUNS)
def test_hostile_topics_and_answers_are_rendered_inert(monkeypatch: pytest.MonkeyPatch, page: str, button: str) -> None:
    from tests.app_harness import FAST_SIMULATOR

    app = open_app(monkeypatch, PAGE_RUNS[page][0], state=FAST_SIMULATOR)
    start_run(app, page, button, HOSTILE_TOPIC)
    assert not app.exception
    rendered = [str(element.value) for group in (app.markdown, app.caption) for element in group]
    if page not in ("compare", "lab"):  # these two show charts and tables, not the answers
        assert any("127.0.0.1:9" in text for text in rendered), "the hostile text did reach the page"
    for text in rendered:
        if "unsafe_allow_html" in text:
            continue
        assert "![" not in text and "<img" not in text and "](javascript:" not in text, text


def test_the_sidebar_shows_the_calls_left_and_a_reload_shows_the_same(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer
) -> None:
    env = deployment(openai_server, HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR="9", HOST_KEY_MAX_TOPICS="4")
    left = lambda remaining: EN["security"]["calls_left"].format(remaining=remaining, total=9, topics=4)  # noqa: E731
    app = open_app(monkeypatch, "pages/batch.py", env=env, state={"batch_with_loop": False, "timeout_s": 5.0})
    assert left(9) in page_dump(app)
    start_run(app, "batch", "run", "cats\nowls")
    reload = open_app(monkeypatch, "pages/batch.py", env=env)
    assert openai_server.requests_total == 2 and left(7) in page_dump(reload)
