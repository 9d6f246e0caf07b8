"""Shared pytest fixtures.

pytest puts the repository root on ``sys.path`` (``pythonpath`` in pyproject.toml),
so tests import ``chains``, ``ui`` and ``devtools`` directly. Add new fixtures below.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.openai_server import OpenAICompatibleServer, unused_base_url

#: A distinctive fake key: if it shows up anywhere, it leaked.
FAKE_API_KEY = "sk-test-LEAKCANARY-7f3b2a1c9d8e"


@pytest.fixture(autouse=True)
def isolated_run_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own run store folder (``RUNS_DB_DIR``), so no test sees another's runs."""
    folder = tmp_path_factory.mktemp("runs-db")
    monkeypatch.setenv("RUNS_DB_DIR", str(folder))
    monkeypatch.delenv("RUNS_DB_URL", raising=False)
    return folder


@pytest.fixture
def openai_server() -> Iterator[OpenAICompatibleServer]:
    """A fresh local OpenAI-compatible server with fast replies (stopped after the test).

    Tests may change any attribute while it runs (``openai_server.fault = "429"``,
    ``openai_server.ttft_s = 0.2``...).
    """
    with OpenAICompatibleServer(ttft_s=0.05, token_delay_s=0.005, retry_after_s=0.05, slow_s=3.0) as server:
        yield server


@pytest.fixture
def down_base_url() -> str:
    """A ``/v1`` base URL on a loopback port where nothing listens."""
    return unused_base_url()


@pytest.fixture
def fake_api_key() -> str:
    """The fake API key that must never appear in any output."""
    return FAKE_API_KEY


@pytest.fixture(autouse=True)
def _fresh_host_key_ledger() -> Iterator[None]:
    """Every test starts with an empty deployment-wide ledger (it is process-wide, like a real server's).

    The app's SQL ledger lives in the run store's database, and ``isolated_run_store``
    gives every test a new one, so it starts empty too.
    """
    from chains.security.quota import default_ledger

    default_ledger().reset()
    yield
    default_ledger().reset()
