"""Topics are hostile input: what parse_topics keeps and removes."""

from __future__ import annotations

import pytest

from chains.topics import parse_topics


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("\u202estac", "stac"),  # right-to-left override: would show as "cats"
        ("cats\u2066 and \u2069dogs", "cats and dogs"),  # isolates
        ("\u200fcats\u200e", "cats"),  # direction marks
        ("ca\x00ts\x1b[31m", "cats[31m"),  # NUL and an escape sequence's ESC
        ("cats\tand dogs", "cats and dogs"),  # a tab is a space
        ("ca\x9bts", "cats"),  # a C1 control (CSI)
    ],
)
def test_controls_and_bidi_overrides_are_removed_from_topics(typed: str, kept: str) -> None:
    assert parse_topics(typed).topics == [kept]


def test_words_of_every_script_and_emoji_sequences_are_kept() -> None:
    typed = "고양이\n👨\u200d👩\u200d👧 family\nمی\u200cخواهم\nnaïve café"
    assert parse_topics(typed).topics == ["고양이", "👨\u200d👩\u200d👧 family", "می\u200cخواهم", "naïve café"]


def test_a_topic_made_only_of_controls_is_blank_and_not_run() -> None:
    parsed = parse_topics("\u202e\u202c\n\x00\x01\ncats")
    assert parsed.topics == ["cats"]
    assert parse_topics("\u202e \u2066").empty
