"""Parse the topics a user typed, and enforce the app's limits."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TOPICS = 32
MAX_TOPIC_CHARS = 200
#: Characters that a topic never needs and that change how it, or what follows it, is shown:
#: C0/C1 controls (a tab becomes a space first) and the bidirectional overrides, embeddings,
#: isolates and marks (U+202E can show "cats" as "stac", or a label as someone else's).
#: The joiners U+200C/U+200D stay: emoji sequences and some scripts need them.
_INVISIBLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class TopicList:
    """The usable topics, and what had to be dropped or shortened.

    Attributes:
        topics: The topics to run, in order, non-empty and stripped.
        dropped: How many topics were over ``max_topics`` and left out.
        shortened: How many topics were cut to ``max_chars`` characters.
    """

    topics: list[str]
    dropped: int = 0
    shortened: int = 0

    @property
    def empty(self) -> bool:
        """True when there is nothing to run."""
        return not self.topics


def parse_topics(text: str | None, *, max_topics: int = MAX_TOPICS, max_chars: int = MAX_TOPIC_CHARS) -> TopicList:
    """Split text into one topic per line, ignoring blank lines, within the limits.

    Control characters and bidirectional controls are removed (see ``_INVISIBLE``):
    a topic is shown on every page, in History, in charts and in a group's shared view.

    Args:
        text: What the user typed (``None`` counts as empty).
        max_topics: Keep at most this many topics.
        max_chars: Cut longer topics to this many characters.

    Returns:
        The parsed topics.
    """
    lines = [_INVISIBLE.sub("", line.replace("\t", " ")).strip() for line in (text or "").splitlines()]
    topics = [line for line in lines if line]
    dropped = max(0, len(topics) - max_topics)
    topics = topics[:max_topics]
    shortened = sum(1 for topic in topics if len(topic) > max_chars)
    topics = [topic[:max_chars].rstrip() for topic in topics]
    return TopicList(topics=topics, dropped=dropped, shortened=shortened)
