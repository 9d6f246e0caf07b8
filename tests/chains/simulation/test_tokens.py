"""The offline word-piece tokenizer: exact round trips and sub-word pieces."""

from __future__ import annotations

import random

import pytest

from chains.simulation.tokens import contains_korean, count_tokens, split_tokens

SAMPLES = [
    "",
    " ",
    "Tell me a short joke about ice cream",
    "Why did the chicken cross the road?\n\nTo get to the other side!",
    "extraordinarily incomprehensible internationalization",
    "아이스크림이 왜 헬스장에 갔을까요?\n\n더 '단단'해지고 싶어서요!",
    "고양이",
    "Mixed 한국어 and English, 숫자 12345 and 3.14159",
    "emoji 🍦🙂👩‍💻 and flags 🇰🇷🇫🇷",
    "def f(x):\n    return x ** 2  # square\n\n```python\nprint(f(3))\n```",
    "tabs\tand\r\nwindows newlines\u00a0nbsp",
    "Ünïcödé ñ façade — “quotes” … ½",
    "ㄱㄴㄷ 자모 ᄀᄁ and ١٢٣ digits",
    "   leading and trailing   ",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_split_tokens_round_trips_exactly(text: str) -> None:
    pieces = split_tokens(text)
    assert "".join(pieces) == text
    assert all(pieces), "no empty pieces"
    assert count_tokens(text) == len(pieces)


def test_split_tokens_round_trips_on_random_strings() -> None:
    alphabet = (
        list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        + list("0123456789")
        + list(" \n\t  ")
        + list("!?.,;:'\"()[]{}<>=+-*/#_`~|\\")
        + list("가나다라마바사아자차카타파하각난닭뷁힣ㄱㅏ")
        + ["🍦", "🙂", "👩‍💻", "é", "ß", "中", "文", "\u200b", "\u00a0"]
    )
    rng = random.Random(1234)
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert "".join(split_tokens(text)) == text, repr(text)


def test_split_tokens_is_deterministic() -> None:
    text = "아이스크림은 정말 맛있어요 and extraordinary"
    assert split_tokens(text) == split_tokens(text)


def test_korean_word_breaks_into_sub_word_pieces() -> None:
    pieces = split_tokens("아이스크림")
    assert len(pieces) >= 3
    assert all(1 <= len(piece) <= 2 for piece in pieces)


def test_korean_pieces_keep_their_leading_space() -> None:
    pieces = split_tokens("맛있는 아이스크림")
    assert any(piece.startswith(" ") for piece in pieces[1:])
    assert "".join(pieces) == "맛있는 아이스크림"


def test_english_words_keep_leading_space_and_long_words_split() -> None:
    pieces = split_tokens("a short extraordinary joke")
    assert pieces[:2] == ["a", " short"]
    assert " joke" in pieces
    assert not any("extraordinary" in piece for piece in pieces), pieces
    assert len(pieces) > 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("고양이", True),
        ("ice cream", False),
        ("ice cream 아이스크림", True),
        ("ㄱ", True),
        ("", False),
        ("日本語", False),
        ("🍦", False),
    ],
)
def test_contains_korean(text: str, expected: bool) -> None:
    assert contains_korean(text) is expected
