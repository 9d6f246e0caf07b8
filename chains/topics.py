"""Parse the topics a user typed, and enforce the app's limits."""

from __future__ import annotations

from dataclasses import dataclass

MAX_TOPICS = 32
MAX_TOPIC_CHARS = 200


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

    Args:
        text: What the user typed (``None`` counts as empty).
        max_topics: Keep at most this many topics.
        max_chars: Cut longer topics to this many characters.

    Returns:
        The parsed topics.
    """
    lines = [line.strip() for line in (text or "").splitlines()]
    topics = [line for line in lines if line]
    dropped = max(0, len(topics) - max_topics)
    topics = topics[:max_topics]
    shortened = sum(1 for topic in topics if len(topic) > max_chars)
    topics = [topic[:max_chars].rstrip() for topic in topics]
    return TopicList(topics=topics, dropped=dropped, shortened=shortened)
