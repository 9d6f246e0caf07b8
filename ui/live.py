"""Live text that stays cheap for long streams.

Every update of a Streamlit markdown element resends its whole text, so
re-rendering a growing answer costs O(n²) bytes. ``LiveMarkdown`` only ever
appends: text before a settled block boundary (a blank line outside a code
fence) is written once into its own element, and only the open tail is
re-rendered, at most once per ``min_interval_s``.
"""

from __future__ import annotations

import html
import time
from typing import Any

from chains.safe_text import inert_markdown

DEFAULT_MIN_INTERVAL_S = 0.04
#: Shown after the text while it is still streaming (tests and benches strip it).
STREAMING_CURSOR = "▌"
CHUNKS_PER_GROUP = 64


def settled_split(text: str) -> tuple[str, str]:
    """Split text into a settled head and an open tail.

    The head ends at the last blank line that is outside a fenced code block; it
    will not change however the text continues, so it can be rendered for good.

    Args:
        text: The text received so far.

    Returns:
        ``(head, tail)`` with ``head + tail == text``.
    """
    in_fence = False
    cut = 0
    position = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        position += len(line)
        if not in_fence and not stripped and line.endswith("\n") and position < len(text):
            cut = position
    return text[:cut], text[cut:]


class LiveMarkdown:
    """Append-only, throttled live markdown inside a container.

    Example:
        >>> live = LiveMarkdown(st.container())  # doctest: +SKIP
        >>> for chunk in chain.stream("ice cream"):  # doctest: +SKIP
        ...     live.append(chunk)
        >>> live.close()  # doctest: +SKIP
    """

    def __init__(self, container: Any, *, min_interval_s: float = DEFAULT_MIN_INTERVAL_S, cursor: str = f" {STREAMING_CURSOR}") -> None:
        """Prepare an empty tail slot in ``container``."""
        self._container = container
        self._min_interval_s = min_interval_s
        self._cursor = cursor
        self._tail_slot = container.empty()
        self._tail = ""
        self._last_render = 0.0
        self.text = ""
        self.blocks_written = 0

    def append(self, chunk: str) -> None:
        """Add a chunk; render settled blocks at once and the tail when the throttle allows."""
        if not chunk:
            return
        self.text += chunk
        self._tail += chunk
        head, tail = settled_split(self._tail)
        if head:
            self._tail_slot.markdown(inert_markdown(head))
            self.blocks_written += 1
            self._tail_slot = self._container.empty()
            self._tail = tail
            self._last_render = 0.0
        now = time.perf_counter()
        if now - self._last_render >= self._min_interval_s:
            self._render_tail(inert_markdown(self._tail) + self._cursor)
            self._last_render = now

    def _render_tail(self, text: str) -> None:
        if text.strip():
            self._tail_slot.markdown(text)

    def close(self, *, interrupted_note: str | None = None) -> None:
        """Render the final tail immediately, without the cursor."""
        final = inert_markdown(self._tail) + (f"\n\n*{interrupted_note}*" if interrupted_note else "")
        if final.strip():
            self._tail_slot.markdown(final)
        else:
            self._tail_slot.empty()


def chunk_html(index: int, text: str, t_s: float) -> str:
    """One chunk as an HTML span whose colour alternates, so token boundaries show."""
    shown = html.escape(text).replace("\n", "↵<br>").replace(" ", "&nbsp;") or "∅"
    return f'<span class="chunk c{index % 2}" title="#{index} · {t_s * 1000:.0f} ms">{shown}</span>'


CHUNK_STYLE = """
<style>
.chunk{border-radius:3px;padding:0 1px;margin:0 1px 0 0;font-family:ui-monospace,monospace;font-size:0.9em;line-height:1.9}
.chunk.c0{background:rgba(255,189,69,.35)}
.chunk.c1{background:rgba(61,157,243,.30)}
</style>
"""


class ChunkView:
    """Shows every chunk as its own coloured span, like the seed's ``!!`` separators.

    Chunks are grouped: a full group is written once and never touched again,
    only the open group is re-rendered (throttled), so the bytes sent stay O(n).
    """

    def __init__(self, container: Any, *, separator: str | None = None, min_interval_s: float = DEFAULT_MIN_INTERVAL_S) -> None:
        """Prepare the view; with ``separator`` (for example ``"!!"``) chunks are shown as plain text."""
        self._container = container
        self._separator = separator
        self._min_interval_s = min_interval_s
        self._slot = container.empty()
        self._group: list[str] = []
        self._last_render = 0.0
        self.count = 0
        if separator is None:
            container.html(CHUNK_STYLE)

    def _render(self, slot: Any) -> None:
        if self._separator is not None:
            slot.code("".join(self._group), language=None, wrap_lines=True)
        else:
            # <wbr> lets a long line break between chunks: the spans use &nbsp; and
            # touch each other, so without it a line could not wrap and overflowed the box.
            slot.html("<div>" + "<wbr>".join(self._group) + "</div>")

    def append(self, text: str, t_s: float) -> None:
        """Add one chunk."""
        if self._separator is not None:
            self._group.append(f"{self._separator}{text}")
        else:
            self._group.append(chunk_html(self.count, text, t_s))
        self.count += 1
        if len(self._group) >= CHUNKS_PER_GROUP:
            self._render(self._slot)
            self._slot = self._container.empty()
            self._group = []
            self._last_render = 0.0
            return
        now = time.perf_counter()
        if now - self._last_render >= self._min_interval_s:
            self._render(self._slot)
            self._last_render = now

    def close(self) -> None:
        """Render the open group immediately."""
        if self._group:
            self._render(self._slot)
