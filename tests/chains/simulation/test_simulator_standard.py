"""LangChain's own contract for chat models (``langchain-tests``), on the simulator.

Only what the simulator honestly lacks is switched off: it calls no tools, gives no
structured output, and reads text only (no images, audio, PDF or video). The
integration suite needs no network here: the simulator answers in-process.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from chains.simulation.simulator import SimulatedChatModel

#: Fast and reproducible: a few milliseconds per reply.
FAST = {"ttft_s": 0.001, "tokens_per_s": 20_000.0, "jitter": 0.0, "seed": 7}


def _run_async_tests_with_pytest_asyncio(cls: type) -> type:
    """Mark the suite's ``async def`` tests for pytest-asyncio (LangChain runs them in its auto mode)."""
    for name in dir(cls):
        test = getattr(cls, name)
        if name.startswith("test_") and inspect.iscoroutinefunction(test):
            setattr(cls, name, pytest.mark.asyncio(test))
    return cls


class _SimulatorCapabilities:
    """What the simulator is, and what it honestly does not do."""

    @property
    def chat_model_class(self) -> type[SimulatedChatModel]:
        return SimulatedChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return dict(FAST)

    @property
    def has_tool_calling(self) -> bool:
        return False  # it writes jokes; it never calls a tool

    @property
    def has_structured_output(self) -> bool:
        return False  # no tool calling and no JSON mode, so no with_structured_output

    @property
    def returns_usage_metadata(self) -> bool:
        return True  # it reports input and output tokens

    @property
    def supports_image_inputs(self) -> bool:
        return False


@_run_async_tests_with_pytest_asyncio
class TestSimulatorUnit(_SimulatorCapabilities, ChatModelUnitTests):
    """``ChatModelUnitTests``: construction, serialisation, params, bound tools refused..."""


@_run_async_tests_with_pytest_asyncio
class TestSimulatorIntegration(_SimulatorCapabilities, ChatModelIntegrationTests):
    """``ChatModelIntegrationTests``: invoke, stream, batch and their async twins, usage, stop..."""

    @pytest.fixture(autouse=True)
    def _no_network(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(name, raising=False)
