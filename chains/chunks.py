"""Turn what a chain streams into text pieces: plain text, one dict per branch, or partial JSON objects.

The seed's chain streams strings. Other chain shapes stream other things:
``RunnableParallel`` streams ``{"joke": "Why"}``, ``{"haiku": "Tokens"}``... (one key's
new text per chunk, the branches interleaved), and ``JsonOutputParser`` streams the
whole object parsed so far, growing (``{"setup": "Why did"}``, then
``{"setup": "Why did the"}``...). A ``ChunkReader`` turns each chunk into
``(key, new_text)`` pieces (key ``""`` for plain text), so a page can render one
live answer per key and the records keep text, and ``answer_text`` writes the
whole answer as the same text whichever mode produced it.

Plain Python: no LangChain, no Streamlit.
"""

from __future__ import annotations

import json
from typing import Any, Literal

Piece = tuple[str, str]
"""``(key, text)``: the key of a branch or a JSON field (``""`` for plain text), and its new text."""

ChunkKind = Literal["text", "branches", "partial_json"]
"""What a chain's stream yields: strings, one branch's delta per dict, or the growing parsed object."""


def answer_text(value: Any) -> str:
    """The whole answer as text: a string as it is; a dict (branches, a JSON answer) as indented JSON.

    ``invoke`` returns the value, ``stream`` the pieces that ``ChunkReader.answer``
    puts back together: both become the same text here.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


class ChunkReader:
    """Reads one stream's chunks into pieces, keeping the answer so far.

    Args:
        kind: ``text`` (strings), ``branches`` (``{key: delta}`` dicts, as
            ``RunnableParallel`` streams) or ``partial_json`` (the growing parsed
            object, as ``JsonOutputParser`` streams).
        order: The keys in the order ``invoke`` returns them (a branch may stream
            first out of turn); other keys follow in arrival order.
    """

    def __init__(self, kind: ChunkKind = "text", order: tuple[str, ...] = ()) -> None:
        """Start with an empty answer."""
        self.kind = kind
        self.order = order
        self._text = ""
        self._fields: dict[str, str] = {}
        self._object: dict[str, Any] = {}

    @property
    def keyed(self) -> bool:
        """True when the answer comes in keys (branches, JSON fields), to render one per key."""
        return self.kind != "text"

    def read(self, chunk: Any) -> list[Piece]:
        """The new text of ``chunk``, by key (an empty list when it adds nothing)."""
        if self.kind == "text" or not isinstance(chunk, dict):
            text = _text_of(chunk) if chunk is not None else ""
            self._text += text
            return [("", text)] if text else []
        if self.kind == "branches":
            return [self._add(str(key), _text_of(value)) for key, value in chunk.items() if _text_of(value)]
        return self._grow(chunk)

    def _add(self, key: str, text: str) -> Piece:
        self._fields[key] = self._fields.get(key, "") + text
        self._object[key] = self._fields[key]
        return key, text

    def _grow(self, whole: dict[str, Any]) -> list[Piece]:
        """A partial JSON object: each field's text that is new since the last one (a rewritten field starts again)."""
        pieces = []
        for key, value in whole.items():
            key = str(key)
            text, before = _text_of(value), self._fields.get(key, "")
            if text == before:
                continue
            new = text[len(before):] if text.startswith(before) else text
            self._fields[key] = text
            pieces.append((key, new))
        self._object = dict(whole)
        return pieces

    def answer(self) -> str:
        """The whole answer so far, as ``answer_text`` writes the value that ``invoke`` returns."""
        if self.kind == "text":
            return self._text
        ordered = {key: self._object[key] for key in self.order if key in self._object}
        ordered.update(self._object)
        return answer_text(ordered)

    def fields(self) -> dict[str, str]:
        """Each key's text so far (empty for plain text)."""
        return dict(self._fields)
