"""A LangChain callback that adds each model call's tokens to the host key's ledger.

It counts what the host's key (or the host's CPU) pays for: the provider's own
usage when the answer carries it, an estimate from the streamed text when it
does not, and a stopped stream too. ``chains.models`` attaches it to the models
whose calls the host pays for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chains.security.quota import HostKeyMeter


#: Characters per token when a call's usage must be estimated (OpenAI's rule of thumb for English).
CHARS_PER_TOKEN = 4
#: Tokens a chat message costs beyond its text (role and separators), as OpenAI counts them.
TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    """A rough token count of ``text``: one token per ``CHARS_PER_TOKEN`` characters, rounded up."""
    return _tokens_of_chars(len(text))


def _tokens_of_chars(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


@dataclass
class _CallSeen:
    """What ``usage_recorder`` has seen of one model call so far.

    Attributes:
        prompt_tokens: The prompt's estimated size.
        chunks: Streamed chunks that carried text.
        chars: Characters of streamed text.
        usage: The provider's ``total_tokens`` when a streamed chunk carried it.
    """

    prompt_tokens: int = 0
    chunks: int = 0
    chars: int = 0
    usage: int = 0

    def estimate(self) -> int:
        """The call's tokens when the provider reported none (see ``usage_recorder``)."""
        if not self.chunks:
            return 0
        return self.prompt_tokens + max(self.chunks, _tokens_of_chars(self.chars))


def _reported_usage(response: Any) -> int:
    """The ``total_tokens`` an ``LLMResult`` reports (message usage, else ``llm_output``), 0 when none."""
    total = 0
    for generations in getattr(response, "generations", None) or []:
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
            total += int(usage.get("total_tokens") or 0)
    if not total:
        usage = (getattr(response, "llm_output", None) or {}).get("token_usage") or {}
        total = int(usage.get("total_tokens") or 0)
    return total


def _refused_here(error: BaseException) -> bool:
    """True when ``error`` is this app's own refusal of the request (``chains.security.egress``): nothing was sent."""
    body = getattr(error, "body", None)
    if not isinstance(body, dict):
        return False
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    return inner.get("type") == "app_guard"


def usage_recorder(meter: HostKeyMeter) -> object:
    """A LangChain callback that adds the tokens of each model call to the ledger, once per call.

    A call is counted when it ends (``on_llm_end``) *and* when it fails or is
    stopped (``on_llm_error``): LangChain's ``stream``/``astream`` call
    ``on_llm_error`` with any ``BaseException``, so also with the
    ``GeneratorExit`` of a stream closed halfway (the visitor pressed Stop) and
    with ``RunCancelled``. Without it, a visitor could stop every answer just
    before its end and never spend the host's token caps.

    The count is the provider's usage when the answer carries it. Otherwise it is
    an estimate: the streamed text, as the larger of its chunks that carried text
    (OpenAI sends about one token a chunk) and its characters / ``CHARS_PER_TOKEN``,
    plus the prompt's characters / ``CHARS_PER_TOKEN`` and ``TOKENS_PER_MESSAGE`` a
    message. A call that failed before any text arrived counts no tokens (a
    refused or failed request is often not billed; its request was counted
    before it was sent). Each call (``run_id``) is counted at most once.

    Args:
        meter: Where the tokens go (the deployment's and the visitor's buckets).

    Returns:
        The callback handler, to give the model as one of its ``callbacks``.
    """
    from langchain_core.callbacks import BaseCallbackHandler

    class _UsageToLedger(BaseCallbackHandler):
        def __init__(self) -> None:
            super().__init__()
            self._lock = threading.Lock()
            self._seen: dict[Any, _CallSeen] = {}
            self._counted: set[Any] = set()

        def _call(self, run_id: Any) -> _CallSeen:
            with self._lock:
                return self._seen.setdefault(run_id, _CallSeen())

        def on_chat_model_start(self, serialized: Any, messages: list[list[Any]], *, run_id: Any = None, **kwargs: Any) -> None:
            prompt = [message for batch in messages for message in batch]
            text = "".join(str(getattr(message, "content", message)) for message in prompt)
            self._call(run_id).prompt_tokens = estimate_tokens(text) + TOKENS_PER_MESSAGE * len(prompt)

        def on_llm_start(self, serialized: Any, prompts: list[str], *, run_id: Any = None, **kwargs: Any) -> None:
            self._call(run_id).prompt_tokens = estimate_tokens("".join(prompts)) + TOKENS_PER_MESSAGE * len(prompts)

        def on_llm_new_token(self, token: Any, *, chunk: Any = None, run_id: Any = None, **kwargs: Any) -> None:
            seen = self._call(run_id)
            text = token if isinstance(token, str) else str(token or "")
            if text:
                seen.chunks += 1
                seen.chars += len(text)
            usage = getattr(getattr(chunk, "message", None), "usage_metadata", None) or {}
            seen.usage += int(usage.get("total_tokens") or 0)

        def _count(self, run_id: Any, response: Any) -> None:
            with self._lock:
                if run_id in self._counted:
                    return
                self._counted.add(run_id)
                seen = self._seen.pop(run_id, None) or _CallSeen()
            meter.add_tokens(_reported_usage(response) or seen.usage or seen.estimate())

        def on_llm_end(self, response: Any, *, run_id: Any = None, **kwargs: Any) -> None:
            self._count(run_id, response)

        def on_llm_error(self, error: BaseException, *, run_id: Any = None, response: Any = None, **kwargs: Any) -> None:
            if _refused_here(error):  # refused before sending: it reserved nothing, and settles nothing
                with self._lock:
                    self._counted.add(run_id)
                    self._seen.pop(run_id, None)
                return
            self._count(run_id, response)

    return _UsageToLedger()
