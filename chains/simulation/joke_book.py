"""The simulator's joke book, in English and Korean."""

from __future__ import annotations

import json
import re
import zlib

from chains.simulation.tokens import contains_korean

ENGLISH_JOKES: tuple[str, ...] = (
    "Why did the {topic} go to therapy?\n\nBecause it had too many layers to unpack!",
    "Why did the {topic} break up with the calendar?\n\nIt felt its days were numbered.",
    "Why was the {topic} so calm before the exam?\n\nIt had already done all of its homework in batch.",
    "What did the {topic} say to the impatient user?\n\nHold on, I'm still streaming!",
    "Why did the {topic} bring a ladder to the meeting?\n\nIt heard the stakes were high.",
    "Why did the {topic} refuse to play cards?\n\nIt was afraid of the dealer's deep learning.",
    "How does the {topic} say goodbye?\n\nIt doesn't. It just waits for the last token.",
    "Why did the {topic} go to the gym?\n\nIt wanted to lower its latency.",
    "Why did the {topic} sit alone at lunch?\n\nIt was still waiting for its first token.",
    "Why did the {topic} join a study group?\n\nIt heard everyone there worked in parallel.",
    "What's the {topic}'s favourite exercise?\n\nBatch curls: ten reps in the time of one.",
    "Why did the {topic} apply for the job twice?\n\nIt forgot to set max_concurrency.",
    "Why was the {topic} never lonely?\n\nIt always came in a thread pool.",
    "What did the {topic} say after the loop finished?\n\nThat took linear time, and I feel every second of it.",
    "Why did the {topic} cross the road?\n\nTo get to the other side, one chunk at a time.",
    "Why did the {topic} get a timeout?\n\nIt kept telling the same joke in a for loop.",
)

KOREAN_JOKES: tuple[str, ...] = (
    "{topic}{i_ga} 왜 헬스장에 갔을까요?\n\n더 '단단'해지고 싶어서요!",
    "{topic}{eun_neun} 왜 시험을 잘 봤을까요?\n\n미리 다 '예습'해 뒀거든요!",
    "{topic}{i_ga} 개그맨이 된 이유는?\n\n사람들을 '녹이는' 재주가 있어서요!",
    "{topic}{i_ga} 회의에 늦은 이유는?\n\n토큰을 하나씩 '스트리밍'하느라고요!",
    "{topic}{eun_neun} 왜 줄을 서지 않을까요?\n\n'배치'로 한꺼번에 처리되거든요!",
    "{topic}{i_ga} 상담을 받으러 간 이유는?\n\n마음에 '층'이 너무 많아서요!",
    "{topic}{i_ga} 스터디에 들어간 이유는?\n\n다들 '병렬'로 공부한다고 해서요!",
    "{topic}{eun_neun} 왜 혼자 점심을 먹었을까요?\n\n아직 첫 토큰을 '기다리는' 중이었거든요!",
    "{topic}{i_ga} 줄넘기를 잘하는 이유는?\n\n'루프'를 돌리는 데 선수거든요!",
    "{topic}{eun_neun} 왜 전화를 늦게 받았을까요?\n\n'스레드 풀'이 꽉 차 있었거든요!",
    "{topic}{i_ga} 말을 천천히 하는 이유는?\n\n한 글자씩 '스트림'으로 보내는 중이라서요!",
    "{topic}{eun_neun} 왜 혼자 있어도 외롭지 않을까요?\n\n늘 '배치'로 다니거든요!",
)


_LEADING_ARTICLE = re.compile(r"^(?:the|an?)\s+(?=\S)", re.IGNORECASE)


def _without_article(topic: str) -> str:
    """Drop a leading "the", "a" or "an": every English template says "the {topic}"."""
    return _LEADING_ARTICLE.sub("", topic, count=1)


def _has_final_consonant(word: str) -> bool:
    """Return True when the last Hangul syllable of ``word`` has a final consonant (받침)."""
    for char in reversed(word.strip()):
        code = ord(char) - 0xAC00
        if 0 <= code <= 11171:
            return code % 28 != 0
        if char.isalnum():
            return False
    return False


def write_joke(topic: str, variant: int) -> str:
    """Write a short joke about ``topic`` in the topic's language.

    Args:
        topic: The topic; a topic containing Hangul gets a Korean joke.
        variant: Any integer; it selects the joke, so the choice is reproducible.

    Returns:
        The joke, a question and a punch line separated by a blank line.
    """
    topic = topic.strip() or "nothing"
    if contains_korean(topic):
        batchim = _has_final_consonant(topic)
        template = KOREAN_JOKES[variant % len(KOREAN_JOKES)]
        return template.format(
            topic=topic, i_ga="이" if batchim else "가", eun_neun="은" if batchim else "는"
        )
    template = ENGLISH_JOKES[variant % len(ENGLISH_JOKES)]
    return template.format(topic=_without_article(topic))


#: The answer shapes the simulator can write (``write_reply(shape=...)``): how a
#: long reply is laid out, which is what decides how much a live renderer resends.
REPLY_SHAPES: tuple[str, ...] = ("paragraphs", "paragraph", "list", "code")


def _shape_joke(joke: str, shape: str) -> str:
    """Lay out one joke for ``shape`` (see ``REPLY_SHAPES``)."""
    if shape == "paragraph":
        return joke.replace("\n\n", " ")
    if shape == "list":
        return "- " + joke.replace("\n\n", " ")
    if shape == "code":
        question, _, punch_line = joke.partition("\n\n")
        return f"print({question!r})\nprint({punch_line!r})"
    return joke


def _join_shaped(pieces: list[str], shape: str) -> str:
    if shape == "paragraph":
        return " ".join(pieces)
    if shape in ("list", "code"):
        body = "\n".join(pieces)
        return f"```python\n{body}\n```" if shape == "code" else body
    return "\n\n".join(pieces)


def write_reply(
    topic: str, seed: int, min_tokens: int | None = None, count_tokens=None, shape: str = "paragraphs"
) -> str:
    """Write a reply of one joke, or of several jokes until ``min_tokens`` is reached.

    Args:
        topic: The topic.
        seed: Selects the first joke.
        min_tokens: When set, append more jokes until the reply has at least this
            many tokens.
        count_tokens: The token counter used with ``min_tokens``.
        shape: How the jokes are laid out (``REPLY_SHAPES``): ``"paragraphs"``
            (each joke its own paragraphs, the default), ``"paragraph"`` (one long
            paragraph, no blank line), ``"list"`` (one long bulleted list) or
            ``"code"`` (one long fenced Python code block).

    Returns:
        The reply text.

    Raises:
        ValueError: For an unknown ``shape``.
    """
    if shape not in REPLY_SHAPES:
        raise ValueError(f"unknown reply shape {shape!r}; expected one of {REPLY_SHAPES}")
    variant = zlib.crc32(f"{seed}:{topic}".encode())
    pieces = [_shape_joke(write_joke(topic, variant), shape)]
    if min_tokens and count_tokens is not None:
        total = count_tokens(pieces[0])
        while total < min_tokens:
            variant += 1
            extra = _shape_joke(write_joke(topic, variant), shape)
            pieces.append(extra)
            total += count_tokens(extra) + 1
        # The sum above is an estimate (a joint can merge tokens): top up until the whole reply is long enough.
        while count_tokens(_join_shaped(pieces, shape)) < min_tokens:
            variant += 1
            pieces.append(_shape_joke(write_joke(topic, variant), shape))
    return _join_shaped(pieces, shape)


ENGLISH_HAIKUS: tuple[str, ...] = (
    "Tokens drift like snow,\none by one the {topic} comes:\nthe last word lands soft.",
    "A {topic} waits here,\nthe first token slow to come,\nthen all of it flows.",
    "Batch of {topic} calls,\nall in flight at the same time:\nthe wait is just one.",
)

KOREAN_HAIKUS: tuple[str, ...] = (
    "눈송이 같은 토큰\n하나씩 오는 {topic}\n마지막 글자",
    "{topic} 기다리네\n첫 토큰은 느려도\n곧 흘러오네",
    "{topic} 한 묶음\n모두 함께 날아가니\n기다림은 한 번",
)


def write_haiku(topic: str, variant: int) -> str:
    """Write a three-line haiku about ``topic`` in the topic's language (the "two branches" chain's second prompt).

    Args:
        topic: The topic; a topic containing Hangul gets a Korean haiku.
        variant: Any integer; it selects the haiku, so the choice is reproducible.

    Returns:
        The haiku, three lines.
    """
    topic = topic.strip() or "nothing"
    if contains_korean(topic):
        return KOREAN_HAIKUS[variant % len(KOREAN_HAIKUS)].format(topic=topic)
    return ENGLISH_HAIKUS[variant % len(ENGLISH_HAIKUS)].format(topic=_without_article(topic))


def write_json_joke(topic: str, seed: int) -> str:
    """The same joke as ``write_reply(topic, seed)``, as the JSON object a prompt that asks for JSON gets.

    Args:
        topic: The topic.
        seed: Selects the joke, as in ``write_reply``.

    Returns:
        ``{"setup": ..., "punchline": ...}`` as JSON text (non-ASCII kept as it is).
    """
    setup, _, punchline = write_joke(topic, zlib.crc32(f"{seed}:{topic}".encode())).partition("\n\n")
    return json.dumps({"setup": setup, "punchline": punchline}, ensure_ascii=False)
