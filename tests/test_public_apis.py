"""The app uses public APIs only: retries are counted from HTTP requests, and no private module is imported."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.modes import RunMeta, run_abatch, run_batch, run_stream
from devtools.openai_server import OpenAICompatibleServer

ROOT = Path(__file__).resolve().parents[1]
APP_FOLDERS = ("chains", "ui", "pages")
PRIVATE_IMPORT = re.compile(
    r"^\s*(?:from|import)\s+(streamlit\.runtime|streamlit\.proto|langchain_openai\._compat|openai\._|streamlit\.web)\b", re.MULTILINE
)


def _app_sources() -> list[Path]:
    paths = [ROOT / "streamlit_app.py"]
    for folder in APP_FOLDERS:
        paths.extend(sorted((ROOT / folder).rglob("*.py")))
    return paths


def test_the_grep_finds_a_private_import() -> None:
    assert PRIVATE_IMPORT.search("    from streamlit.runtime.pages_manager import PagesManager\n")
    assert PRIVATE_IMPORT.search("from langchain_openai._compat import x\n")
    assert not PRIVATE_IMPORT.search("from streamlit.testing.v1 import AppTest\n")


def test_no_private_import_in_the_app() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in _app_sources()
        for match in PRIVATE_IMPORT.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def _chain(server: OpenAICompatibleServer, api_key: str, *, max_retries: int):
    settings = ModelSettings(
        provider="compatible", model="test-model", base_url=server.base_url, api_key=api_key, timeout_s=5.0, max_retries=max_retries
    )
    return build_joke_chain(make_model(settings))


def test_retries_are_counted_per_call_from_the_requests(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.set_fault("500", times=2, match="owls")
    record = run_batch(_chain(openai_server, fake_api_key, max_retries=2), ["cats", "owls", "bats"], max_concurrency=3, meta=RunMeta())
    assert [call.retries for call in record.calls] == [0, 2, 0]
    assert all(call.ok for call in record.calls)
    assert openai_server.requests_total == 5


def test_async_retries_are_counted_too(openai_server: OpenAICompatibleServer, fake_api_key: str) -> None:
    openai_server.set_fault("429", times=1, match="bats")
    record = asyncio.run(run_abatch(_chain(openai_server, fake_api_key, max_retries=1), ["cats", "bats"], meta=RunMeta()))
    assert [call.retries for call in record.calls] == [0, 1]
    assert openai_server.requests_total == 3


@pytest.mark.parametrize("max_retries", [0, 2])
def test_a_call_without_retries_counts_none(openai_server: OpenAICompatibleServer, fake_api_key: str, max_retries: int) -> None:
    record = run_stream(_chain(openai_server, fake_api_key, max_retries=max_retries), "cats", meta=RunMeta())
    assert record.calls[0].retries == 0 and record.calls[0].ok
    assert openai_server.requests_total == 1
