"""Answers with no sentence end that a space follows, as a live renderer sees them, for the bench and the tests.

The simulator's shapes (``chains.simulation.joke_book.REPLY_SHAPES``) are jokes: their
sentences end with ``. `` and a live view can cut them there. Real answers
often have no such end: a ``JsonOutputParser`` answer on one line, Chinese or
Japanese text (``。`` with no space after it), long URLs or CSV rows, a long
markdown table. These build such answers token by token, deterministically.
"""

from __future__ import annotations

#: The shapes, by id, with a label for the bench's tables.
TEXT_SHAPES: dict[str, str] = {
    "no_sentence_end": "no sentence end",
    "cjk": "CJK (。)",
    "table": "table",
}

_CJK_SENTENCES = (
    "今天的冰淇淋特别好吃",
    "我们在公园里一边散步一边聊天",
    "アイスクリームは夏にぴったりです",
    "为什么冰淇淋从来不会迟到",
    "因为它总是很冷静",
    "甜筒说它今天心情很好",
    "夏の午後に食べるのが一番です",
)
_CJK_ENDS = ("。", "！", "？", "。")


def _words(tokens: int) -> list[str]:
    return [f" tok{index}" for index in range(tokens)]


def _cjk(tokens: int) -> list[str]:
    """Sentences ending in ``。！？`` with no space, in two- and three-character tokens."""
    pieces: list[str] = []
    index = 0
    while len(pieces) < tokens:
        sentence = _CJK_SENTENCES[index % len(_CJK_SENTENCES)] + _CJK_ENDS[index % len(_CJK_ENDS)]
        position = 0
        while position < len(sentence):
            size = 3 if (index + position) % 2 else 2
            pieces.append(sentence[position : position + size])
            position += size
        index += 1
    return pieces[:tokens]


def _table(tokens: int) -> list[str]:
    """One long markdown table: a header, a delimiter row and rows until ``tokens``, a cell a token."""
    pieces = ["| # ", "| topic ", "| score ", "| note |\n", "|---:", "|---", "|---:", "|---|\n"]
    row = 0
    while len(pieces) < tokens:
        pieces += [f"| {row} ", f"| ice cream {row % 7} ", f"| {(row * 37) % 100}.{row % 10} ", f"| tasty `v{row}` |\n"]
        row += 1
    return pieces[:tokens]


def shaped_tokens(shape: str, tokens: int) -> list[str]:
    """The first ``tokens`` tokens of an answer in ``shape`` (a key of ``TEXT_SHAPES``).

    Raises:
        ValueError: For an unknown shape.
    """
    builders = {"no_sentence_end": _words, "cjk": _cjk, "table": _table}
    if shape not in builders:
        raise ValueError(f"unknown text shape {shape!r}; expected one of {tuple(TEXT_SHAPES)}")
    return builders[shape](tokens)
