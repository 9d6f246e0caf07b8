"""An offline word-piece tokenizer.

Real models split text into sub-word pieces: English words keep their leading
space and long words break into pieces; Korean breaks into one or two syllable
pieces. This tokenizer imitates that closely enough to teach what a "chunk" is
and to estimate token counts without ``tiktoken`` (which downloads its encodings
at run time and therefore cannot be used offline).
"""

from __future__ import annotations

import re
import zlib

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_PIECES = re.compile(r" ?[\uac00-\ud7a3\u3131-\u318e]+| ?[A-Za-z]+| ?\d{1,3}| ?[^\sA-Za-z\d\uac00-\ud7a3\u3131-\u318e]+|\s+")
_ENGLISH_PIECE_LEN = 6


def contains_korean(text: str) -> bool:
    """Return True when ``text`` contains any Hangul character."""
    return bool(_HANGUL.search(text))


def _split_long_word(word: str) -> list[str]:
    """Split a long English word (with its leading space) into sub-word pieces."""
    core = word.lstrip(" ")
    if len(core) <= _ENGLISH_PIECE_LEN + 1:
        return [word]
    lead = word[: len(word) - len(core)]
    cut = 4 if len(core) <= 9 else _ENGLISH_PIECE_LEN
    head, rest = lead + core[:cut], core[cut:]
    return [head, *_split_long_word(rest)]


def _split_korean_run(run: str) -> list[str]:
    """Split a run of Hangul syllables into pieces of one or two syllables.

    The split is deterministic (a hash of the run), so the same text always
    tokenizes the same way, like a real tokenizer.
    """
    lead = " " if run.startswith(" ") else ""
    syllables = run.lstrip(" ")
    pieces: list[str] = []
    position = 0
    salt = zlib.crc32(syllables.encode("utf-8"))
    while position < len(syllables):
        size = 2 if (salt >> (position % 24)) & 1 else 1
        pieces.append(syllables[position : position + size])
        position += size
    if pieces and lead:
        pieces[0] = lead + pieces[0]
    return pieces


def split_tokens(text: str) -> list[str]:
    """Split text into word-piece tokens whose concatenation is exactly ``text``.

    Args:
        text: Any text, English, Korean or mixed.

    Returns:
        The list of pieces. ``"".join(split_tokens(text)) == text`` always holds.
    """
    tokens: list[str] = []
    for match in _PIECES.finditer(text):
        piece = match.group(0)
        if _HANGUL.search(piece):
            tokens.extend(_split_korean_run(piece))
        elif piece.strip().isalpha():
            tokens.extend(_split_long_word(piece))
        else:
            tokens.append(piece)
    return tokens


def count_tokens(text: str) -> int:
    """Estimate the number of tokens in ``text`` with the offline tokenizer."""
    return len(split_tokens(text))
