"""Live text that stays cheap for long streams, whatever shape the answer has.

Every update of a Streamlit element resends its whole text, so re-rendering a
growing answer costs O(n²) bytes. ``LiveMarkdown`` only ever appends: settled
pieces are written once into their own element, and only a short open tail is
re-rendered. Once the tail is longer than ``SPLIT_AT_CHARS``, it is cut at its
latest safe point, and the head is written for good:

* at a blank line outside a code fence (the end of a block; short paragraphs
  are written a few at a time, not one element each);
* inside a long paragraph, at a sentence or line end where the inline markup
  (code spans, emphasis, links, math) is balanced; ``。！？`` end a sentence
  with no space after them. A paragraph with neither (one-line JSON, a long URL,
  CJK text) is cut anyway at its last space, or else at a letter, still outside
  any open span;
* inside a long list or block quote, before a new item or quoted line;
* inside a long table, between rows: each later piece repeats the header and
  delimiter rows;
* inside a long fenced code block, after complete lines: the piece is closed
  with the fence and the next piece reopens it with the same info string.

The pieces of one block share a keyed flow container, which the app's CSS
(``LIVE_FLOW_CSS``, added by ``ui.style``) lays out as one markdown text: a
paragraph cut in three shows as one paragraph while it streams, not three.
(A space at a cut, which markdown drops at a paragraph's end, is kept as
``&#32;``.) Separate elements in one container, rather than one element
re-rendered, keep every piece written once.

So the open tail stays short (about ``SPLIT_AT_CHARS``) for any shape. Cuts
are made at a refresh, and only after everything the tail's element already
shows: the piece is written in that element (it only gains text) and the rest
goes into a new element, so the page's text never shrinks, not even for the
moment between the two deltas. No element has an ``st.empty`` placeholder: an
element's own delta generator replaces it (one delta fewer per piece). Its
refresh interval adapts: it grows with the tail's size (a bytes-per-second
budget) and with the number of live views open in the server process (so a
crowd of sessions sends fewer deltas each), and never exceeds
``MAX_INTERVAL_S`` (at least 5 refreshes a second) on a quiet server, nor
``BUSY_MAX_INTERVAL_S`` (2.5 a second) on a busy one. ``close`` shows the last
words at once, then replaces all the pieces with one canonical ``st.markdown``
of the whole (inert) text, so the final rendering is exactly what
``st.markdown`` of the answer shows.

Model text is untrusted: every path that renders it as markdown goes through
``chains.security.safe_text.inert_markdown``.
"""

from __future__ import annotations

import html
import itertools
import re
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from chains.security.safe_text import inert_markdown

#: The shortest refresh interval of an open tail (a small tail, a quiet server): 5 a second, the
#: chunk view's pace too, so the Stream page's two views refresh on the same chunk (their deltas leave
#: together) and a ≈300-token run alone sends 133 messages instead of 141 at 8 a second. The first
#: and the last chunk show at once.
DEFAULT_MIN_INTERVAL_S = 0.2
#: The longest on a quiet server: the tail refreshes at least 5 times a second (the goal is 4: this
#: leaves room for a busy browser or server).
MAX_INTERVAL_S = 0.2
#: A server with more live views than this is busy (a class pressing Run together): the refreshes back off
#: past ``MAX_INTERVAL_S``, so each stream sends fewer deltas and the crowd's runs end sooner.
QUIET_SERVER_VIEWS = 8
#: The longest interval on a busy server: still 2.5 refreshes a second.
BUSY_MAX_INTERVAL_S = 0.4
#: Bytes per second one view may spend re-sending its open tail (the interval grows with the tail).
TAIL_BYTES_PER_S = 2_000
#: What one delta costs besides its text (protobuf metadata), counted in the budget above.
DELTA_OVERHEAD_BYTES = 100
#: Tail refreshes per second that the whole server process aims at, over all open views (one delta
#: costs the server about 1.5 ms of CPU under the GIL: 200 a second is about a third of a core).
SERVER_REFRESHES_PER_S = 200
#: An open piece longer than this is cut at its last safe boundary.
SPLIT_AT_CHARS = 320
#: Shown after the text while it is still streaming (tests and benches strip it).
STREAMING_CURSOR = "▌"
#: The chunk view is the second view of a stream: its open group refreshes at the answer's pace.
CHUNK_MIN_INTERVAL_S = DEFAULT_MIN_INTERVAL_S
#: A chunk view's open group is written for good at this many chunks or bytes.
CHUNKS_PER_GROUP = 64
CHUNK_GROUP_BYTES = 300

Clock = Callable[[], float]

#: The key prefix of a live view's flow containers: the pieces of one open block (a paragraph, a
#: table, a code block) in one keyed container, which ``LIVE_FLOW_CSS`` lays out as one text.
LIVE_FLOW_KEY = "live_flow"
_FLOW = f'.stVerticalBlock[class*="st-key-{LIVE_FLOW_KEY}_"]'
_FLOW_MARKDOWN = f'{_FLOW} > .stElementContainer [data-testid="stMarkdownContainer"]'
#: The app's CSS for flow containers (``ui.style`` adds it to every page). Their elements are laid out
#: as the contents of one markdown element (no flex gap between them), and where one piece ends inside
#: a paragraph that the next goes on with, the two ends of it are inline: one paragraph on the screen,
#: not two. The pieces stay separate elements, so each is still written once and never resent.
LIVE_FLOW_CSS = f"""
{_FLOW} {{ display: block; }}
{_FLOW} > .stElementContainer, {_FLOW} > .stElementContainer > .stMarkdown,
{_FLOW} > .stElementContainer > .stMarkdown > div, {_FLOW_MARKDOWN} {{ display: contents; }}
{_FLOW} > .stElementContainer:not(:last-child) [data-testid="stMarkdownContainer"] > p:last-child,
{_FLOW} > .stElementContainer:not(:first-child) [data-testid="stMarkdownContainer"] > p:first-child {{ display: inline; }}
{_FLOW} > .stElementContainer:not(:first-child) [data-testid="stMarkdownContainer"] > p:first-child + * {{ margin-top: 1rem; }}
"""
_view_ids = itertools.count(1)

# ------------------------------------------------------------------ the load
_open_views: weakref.WeakSet[Any] = weakref.WeakSet()
_open_views_lock = threading.Lock()


def _register(view: Any) -> None:
    with _open_views_lock:
        _open_views.add(view)


def _unregister(view: Any) -> None:
    with _open_views_lock:
        _open_views.discard(view)


def open_view_count() -> int:
    """How many live views (answers and chunk views, all sessions) are streaming now in this process."""
    with _open_views_lock:
        return len(_open_views)


def refresh_interval(tail_bytes: int, min_interval_s: float = DEFAULT_MIN_INTERVAL_S, open_views: int | None = None) -> float:
    """The time to wait between two refreshes of an open tail.

    Args:
        tail_bytes: The size of what a refresh sends.
        min_interval_s: The interval for a small tail on a quiet server.
        open_views: Live views streaming in this process (default: counted).

    Returns:
        ``min_interval_s`` grown by the tail's bytes-per-second budget and by the
        server's refresh budget, at most ``MAX_INTERVAL_S`` on a quiet server
        (``QUIET_SERVER_VIEWS`` live views or fewer) and ``BUSY_MAX_INTERVAL_S`` on a busy one.
    """
    views = open_view_count() if open_views is None else open_views
    by_bytes = (tail_bytes + DELTA_OVERHEAD_BYTES) / TAIL_BYTES_PER_S
    by_load = views / SERVER_REFRESHES_PER_S
    longest = MAX_INTERVAL_S if views <= QUIET_SERVER_VIEWS else BUSY_MAX_INTERVAL_S
    return min(longest, max(min_interval_s, by_bytes, by_load))


# ------------------------------------------------------------- safe splits
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,9}[.)])(?: |$)")
#: A sentence end: ``.!?`` and a space, or ``。！？`` with or without one (Chinese and Japanese write none).
_SENTENCE_END = re.compile(r"[.!?](?:[\"'”’)\]]*) +|[。！？](?:[\"'”’)\]」』）]*) *")
#: A table's delimiter row (``|---|:--:|``): the line after its header.
_TABLE_DELIMITER = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*\n")
#: The characters that open or close an inline span (``_inline_balanced``).
_INLINE_MARK = re.compile(r"[`*$\[\]()~_]")
#: An unfinished character reference (``&am``) at the end of a head: it must not be cut in two.
_OPEN_ENTITY = re.compile(r"&#?[0-9A-Za-z]{0,31}$")
#: Blocks that are no paragraph, though no sentence or line cut says so: a heading, indented code, HTML.
_NOT_A_PARAGRAPH = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|<)| {4}|\t")
_WORD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def _inline_balanced(piece: str) -> bool:
    """True when no code span, emphasis, link or math span is left open in ``piece``."""
    if piece.count("`") % 2 or piece.count("*") % 2 or piece.count("$") % 2 or piece.count("~~") % 2:
        return False
    if piece.count("[") != piece.count("]") or piece.count("(") != piece.count(")"):
        return False
    return len(_WORD_UNDERSCORE.findall(piece)) % 2 == 0


def _starts_plainly(text: str) -> bool:
    """True when ``text``, at the start of a block, is plain paragraph text (no list, heading, quote...)."""
    first = text[:1]
    return first.isalpha() or first in "\"'“‘(" or ("\uac00" <= first <= "\ud7a3")


#: How many of the latest candidate cuts ``safe_cut`` checks (an open span stays open for all of them).
MAX_CUT_CANDIDATES = 8
#: A block with no balanced cut is cut anyway (at a sentence or line end) beyond this: a stray ``*``
#: must not make the tail, and its bytes, grow for ever. The final render shows it right.
FORCE_CUT_CHARS = 4 * SPLIT_AT_CHARS
#: A paragraph with no sentence or line end is cut at a space or a letter only once it is this long
#: (a short one waits for its block's end, a blank line).
FALLBACK_CUT_CHARS = SPLIT_AT_CHARS
#: How many stretches between markup characters, from the end, a paragraph with no sentence or line
#: end tries for its cut (each checks the head's inline spans: an open span stays open for all of them).
MAX_FALLBACK_CANDIDATES = 64


def table_header(block: str) -> str:
    """The header and delimiter rows a block starts with when it is a table (``""`` when it is not, or not yet)."""
    header_end = block.find("\n") + 1
    if not header_end or "|" not in block[:header_end]:
        return ""
    delimiter = _TABLE_DELIMITER.match(block, header_end)
    return block[: delimiter.end()] if delimiter and "|" in delimiter.group() else ""


def _row_cut(rows: str, min_chars: int, start: int) -> int:
    """The last cut at a row's end in ``rows`` (from ``start``, at least ``min_chars``), before another row."""
    cut = rows.rfind("\n", start, len(rows) - 1) + 1
    while cut > start and cut >= min_chars:
        if rows[cut:].lstrip(" ").startswith("|") or rows[cut:cut + 1].isalnum():
            return cut
        cut = rows.rfind("\n", start, cut - 1) + 1
    return 0


def _fallback_cut(block: str, min_chars: int, force: bool) -> int:
    """A paragraph's cut where it has no sentence or line end: the last space, else the last letter.

    The rest starts with a letter (no block marker), the head leaves no inline
    span open (unless ``force``) and splits no backslash escape or character
    reference. Between two markup characters the head's spans stay as they are,
    so one balance check answers for a whole stretch of the block.
    """
    marks = [match.start() for match in _INLINE_MARK.finditer(block)]
    stretches = list(zip([0, *(mark + 1 for mark in marks)], [*marks, len(block)], strict=True))[::-1]
    stretches = stretches[:MAX_FALLBACK_CANDIDATES] if not force else [(0, len(block))]
    for at_space in (True, False):
        for start, end in stretches:
            low, high = max(start, min_chars, 1), min(end, len(block) - 1)
            if low > high:
                if end < min_chars:
                    break
                continue
            if not force and not _inline_balanced(block[:start]):
                continue
            for cut in range(high, low - 1, -1):
                if at_space:
                    fits = block[cut - 1] in " \t" and _starts_plainly(block[cut:])
                else:
                    fits = block[cut].isalpha() and block[cut - 1] not in "\\\n" and not _OPEN_ENTITY.search(block, max(0, cut - 33), cut)
                if fits and (force or _inline_balanced(block[:cut])):
                    return cut
    return 0


def safe_cut(block: str, min_chars: int = SPLIT_AT_CHARS // 2, *, force: bool = False, in_table: bool = False) -> int:
    """Where an open block (no blank line, not in a code fence) can be cut for good.

    The head ``block[:cut]`` and the rest render, as two markdown elements, the
    same words with the same inline formatting as the whole: the cut is at a
    sentence or line end, the head leaves no inline span open, and the rest
    starts as plain text (or, in a list or a quote, with a new item or quoted line).
    A paragraph with no such end (one-line JSON, a long URL, CJK text with no
    ``。``) is cut anyway at its last space, or failing that at any letter, still
    outside any open inline span: ``LiveMarkdown`` shows its pieces as one paragraph.
    A table is cut between rows, after its header and delimiter rows: each later
    piece repeats them (``table_header``).

    Args:
        block: The open block.
        min_chars: The shortest head worth its own element.
        force: Cut even where an inline span may be open (only the live view can
            differ; the final render is of the whole text).
        in_table: ``block`` holds the further rows of a table whose header an earlier piece had.

    Returns:
        The cut position, or 0 when there is no safe cut.
    """
    if in_table:
        return _row_cut(block, min_chars, 0)
    header = table_header(block)
    if header:
        return _row_cut(block, max(min_chars, len(header) + 1), len(header))
    first_line = block.lstrip(" ")
    if first_line.startswith("|"):
        return 0
    in_list, in_quote = bool(_LIST_ITEM.match(first_line)), first_line.startswith(">")
    candidates: list[int] = [match.end() for match in re.finditer("\n", block)]
    if not in_list and not in_quote:
        candidates += [match.end() for match in _SENTENCE_END.finditer(block)]
    for cut in sorted(set(candidates), reverse=True)[:MAX_CUT_CANDIDATES]:
        if cut < min_chars:
            break
        rest = block[cut:]
        if not rest:
            continue
        if in_list and not _LIST_ITEM.match(rest):
            continue
        if in_quote and not rest.startswith(">"):
            continue
        if not in_list and not in_quote and not _starts_plainly(rest):
            continue
        if block[cut - 1] == "\n" and block[: cut - 1].endswith(("  ", "\\")):
            continue  # a hard line break: keep it inside one element
        if force or _inline_balanced(block[:cut]):
            return cut
    if in_list or in_quote or len(block) < max(min_chars, FALLBACK_CUT_CHARS) or _NOT_A_PARAGRAPH.match(block):
        return 0
    return _fallback_cut(block, min_chars, force)


def settled_split(text: str) -> tuple[str, str]:
    """Split text into a settled head and an open tail at the last block boundary.

    The head ends at the last blank line that is outside a fenced code block; it
    will not change however the text continues. (``LiveMarkdown`` does the same
    incrementally, and cuts inside long blocks too.)

    Args:
        text: The text received so far.

    Returns:
        ``(head, tail)`` with ``head + tail == text``.
    """
    fence: str | None = None
    cut = 0
    position = 0
    for line in text.splitlines(keepends=True):
        fence = _next_fence_state(fence, line)
        position += len(line)
        if fence is None and not line.strip() and line.endswith("\n") and position < len(text):
            cut = position
    return text[:cut], text[cut:]


def _next_fence_state(fence: str | None, line: str) -> str | None:
    """The open fence marker after ``line`` (``None`` outside a fence)."""
    match = _FENCE.match(line)
    if fence is None:
        return match.group(1) if match else None
    stripped = line.strip()
    if match and stripped.startswith(fence) and not stripped.strip(fence[0]):
        return None
    return fence


#: The markers that open a Markdown block and draw no words: a bullet, an item's number, a heading's ``#``, a quote's ``>``.
_BLOCK_MARKER = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)]|#{1,6}|>)(?=[ \t]|$)[ \t]*")


def shows_words(markdown: str) -> bool:
    """Whether ``markdown`` draws any text once its block markers are set aside.

    ``"-"``, ``"1."`` or ``"> -"`` render as an empty list item, heading or quote:
    nothing a reader can read yet.

    Args:
        markdown: The open tail of a stream.

    Returns:
        True when some line holds more than its block markers and spaces.
    """
    for line in markdown.splitlines():
        rest = line
        while (marker := _BLOCK_MARKER.match(rest)) and marker.end():
            rest = rest[marker.end() :]
        if rest.strip():
            return True
    return False


class LiveMarkdown:
    """Append-only, adaptively throttled live markdown inside a container.

    Example:
        >>> live = LiveMarkdown(st.container())  # doctest: +SKIP
        >>> for chunk in chain.stream("ice cream"):  # doctest: +SKIP
        ...     live.append(chunk)
        >>> live.close()  # doctest: +SKIP

    Attributes:
        blocks_written: How many settled pieces were written for good.
    """

    def __init__(
        self,
        container: Any,
        *,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
        cursor: str = f" {STREAMING_CURSOR}",
        clock: Clock = time.perf_counter,
    ) -> None:
        """Prepare the view in ``container`` (it draws nothing yet: its slot goes out with the first words).

        The view's one slot, which ``close`` fills with the canonical text, is made
        at the first refresh. Made here, it was one more element before the model's
        first token: when a study group presses Run together, every element drawn
        before the calls start waits for the GIL behind every other session's.
        The container must hold nothing drawn after the view (every page gives
        each view a container of its own).
        """
        self._min_interval_s = min_interval_s
        self._cursor = cursor
        self._clock = clock
        self._container = container
        self._root: Any = None  # the view's slot (``_slot``)
        self._box: Any = None
        self._flow: Any = None  # the keyed container of the open block's pieces (``LIVE_FLOW_CSS``)
        self._flows = 0
        self._view_id = next(_view_ids)
        self._tail_slot: Any = None  # the open tail's element, once it is drawn
        self._shown = 0  # how much of ``_pending`` the tail's element shows
        self._last_render: float | None = None
        self._next_look = 0.0  # no chunk before this time needs more than to be kept (see ``append``)
        self._tail_shows_text = False  # whether the last refresh showed any of the answer's words
        self._closed = False
        self._incoming: list[str] = []  # chunks kept since the last look, not parsed yet
        self._text = ""
        self.blocks_written = 0
        # The open piece: ``_pending`` (text not written yet), of which ``_line_start`` begins
        # the incomplete last line; ``_fence`` is the open fence's marker and ``_opener`` its line.
        self._pending = ""
        self._line_start = 0
        self._fence: str | None = None
        self._opener = ""
        self._table_header = ""  # an open table's header and delimiter rows, once a piece of it was written
        self._settled_code = 0  # complete code lines at the start of _pending (in a fence)
        self._block_start = 0  # where the open block starts in _pending (after its last blank line)
        self._next_cut_try = SPLIT_AT_CHARS
        _register(self)

    # ------------------------------------------------------------ elements
    def _show(self, body: str) -> None:
        """Draw ``body`` in the tail's element: a new element at the end of the view, or the same one again.

        An element's own delta generator replaces that element, so the tail needs
        no ``st.empty`` placeholder (one delta fewer for every piece). A new element
        goes into the open block's flow container, or opens a new one.
        """
        if self._box is None:
            self._box = self._slot().container()
        if self._tail_slot is None and self._flow is None:
            self._flows += 1
            self._flow = self._box.container(key=f"{LIVE_FLOW_KEY}_{self._view_id}_{self._flows}")
        self._tail_slot = (self._tail_slot if self._tail_slot is not None else self._flow).markdown(body)

    def _slot(self) -> Any:
        """The view's one slot in its container, made on first use: what it shows is replaced, never added to."""
        if self._root is None:
            self._root = self._container.empty()
        return self._root

    def _write(self, piece: str, *, continues: bool = False, joiner: str = "") -> None:
        """Write a settled piece for good in the tail's element; the next tail gets a new element.

        Args:
            piece: The piece's markdown.
            continues: The piece ends inside a block that the next piece goes on
                with: that one goes into the same flow container, which shows them as
                one paragraph (``LIVE_FLOW_CSS``), or one code block or table.
            joiner: Added after the piece (inert): ``&#32;`` keeps the space at a cut that
                markdown would drop at a paragraph's end.
        """
        if piece.strip():
            self._show(inert_markdown(piece) + joiner)
            self._tail_slot = None
            self.blocks_written += 1
        if not continues:
            self._flow = None
        self._shown = 0
        self._last_render = None  # show the new tail at once
        self._next_look = 0.0

    # ------------------------------------------------------------- parsing
    @property
    def text(self) -> str:
        """Everything appended so far."""
        return self._text + "".join(self._incoming)

    def append(self, chunk: str) -> None:
        """Add a chunk; at a refresh, write what the chunks settled and redraw the tail.

        Between two refreshes a chunk is only kept: the chunks are parsed together
        at the refresh. A stream wakes the server once per chunk, and on a quiet
        machine the first work after each wake-up runs on cold caches, several times
        slower than the same work done in a row.
        """
        if not chunk or self._closed:
            return
        self._incoming.append(chunk)
        now = self._clock()
        if self._tail_shows_text and now < self._next_look:  # most chunks
            return
        self._absorb()
        if self._last_render is not None and self._tail_shows_text:
            interval = refresh_interval(len(self._opener) + len(self._pending.encode()), self._min_interval_s)
            if now - self._last_render < interval:
                self._next_look = self._last_render + interval
                return
        self._cut_long_piece()
        self._render_tail(self._tail_text())
        self._shown = len(self._pending)
        self._last_render = now
        self._next_look = now + self._min_interval_s
        self._tail_shows_text = self._has_text_to_show()

    def _absorb(self) -> None:
        """Parse the kept chunks: account for every line they complete."""
        if not self._incoming:
            return
        chunks = "".join(self._incoming)
        self._incoming.clear()
        self._text += chunks
        self._pending += chunks
        while True:
            newline = self._pending.find("\n", self._line_start)
            if newline < 0:
                break
            self._end_line(newline + 1)

    def _has_text_to_show(self) -> bool:
        """Whether the open tail holds any of the answer's words: until it does, a refresh is not throttled.

        An answer that opens with a code block first shows only its fence line, an
        empty code box, and one that opens with a list first shows a bare bullet;
        its first words must not then wait a whole interval.
        """
        body = self._pending.strip()
        if self._fence is None and body.startswith(("```", "~~~")) and "\n" not in body:
            return False  # a fence line still being written
        return shows_words(body)

    def _end_line(self, end: int) -> None:
        """Account for the complete line ``_pending[_line_start:end]``."""
        line = self._pending[self._line_start : end]
        if self._fence is not None:
            self._fence = _next_fence_state(self._fence, line)
            if self._fence is None:  # the closing fence: the whole code block is settled
                self._write(self._opener + self._pending[:end])
                self._reset_pending(end)
            else:
                self._settled_code = end
                self._line_start = end
            return
        fence = _next_fence_state(None, line)
        if fence is not None:  # a fence opens: the text before it is settled
            self._write(self._table_header + self._pending[: self._line_start])
            self._pending = self._pending[end:]
            self._fence, self._opener, self._table_header = fence, line, ""
            self._line_start = self._settled_code = self._block_start = 0
            self._next_cut_try = SPLIT_AT_CHARS
        elif not line.strip():  # a blank line ends the block: a safe cut, taken once the tail is long
            self._block_start = end
            self._line_start = end
        else:
            self._line_start = end

    def _reset_pending(self, end: int) -> None:
        self._pending = self._pending[end:]
        self._table_header = ""
        self._line_start = self._settled_code = self._block_start = 0
        self._next_cut_try = SPLIT_AT_CHARS

    def _cut_long_piece(self) -> None:
        """Write the settled part of a long open piece, so that the tail stays short.

        Called at a refresh, and only ever cuts after everything the tail's element
        already shows: writing the piece there then only adds text, and the new
        tail's element adds the rest, so the page's text never shrinks, not even
        between the two deltas.
        """
        if self._fence is not None:
            if self._settled_code >= max(SPLIT_AT_CHARS, self._shown):
                self._write(f"{self._opener}{self._pending[: self._settled_code]}{self._fence}\n", continues=True)
                self._pending = self._pending[self._settled_code :]
                self._line_start -= self._settled_code
                self._settled_code = 0
            return
        if len(self._pending) < self._next_cut_try:
            return
        # The latest safe cut: inside the open block, else at its start (the last blank line).
        block = self._pending[self._block_start :]
        in_table = bool(self._table_header) and not self._block_start  # the rows of a table cut before
        shortest = max(SPLIT_AT_CHARS // 2 if not self._block_start else 1, self._shown - self._block_start)
        inside = safe_cut(block, shortest, force=len(block) > FORCE_CUT_CHARS, in_table=in_table)
        cut = self._block_start + inside if inside or self._block_start >= self._shown else 0
        if cut:
            header = self._table_header if in_table else table_header(block) if inside else ""
            in_paragraph = bool(inside) and not header and not _LIST_ITEM.match(block.lstrip(" ")) and not block.lstrip(" ").startswith(">")
            joiner = "&#32;" if in_paragraph and self._pending[cut - 1] in " \t\n" else ""
            self._write(self._table_header + self._pending[:cut], continues=bool(inside), joiner=joiner)
            self._table_header = header
            self._pending = self._pending[cut:]
            self._line_start = max(0, self._line_start - cut)
            self._block_start = 0
            self._next_cut_try = SPLIT_AT_CHARS
        else:  # look again once the piece has grown a little, not on every chunk
            self._next_cut_try = len(self._pending) + SPLIT_AT_CHARS // 4

    # ----------------------------------------------------------- rendering
    def _tail_text(self) -> str:
        body = self._opener + self._pending if self._fence is not None else self._table_header + self._pending
        return inert_markdown(body) + self._cursor if body.strip() else ""

    def _render_tail(self, text: str) -> None:
        if text:
            self._show(text)

    def close(self, *, interrupted_note: str | None = None) -> None:
        """Replace the live pieces with one canonical render of the whole text, at once and without the cursor."""
        self._absorb()
        self._closed = True
        _unregister(self)
        if self.blocks_written:
            # The last words first, in the small tail element: the browser shows them at once,
            # before it re-lays out the whole answer in one element just below.
            cursor, self._cursor = self._cursor, ""
            self._render_tail(self._tail_text())
            self._cursor = cursor
        final = inert_markdown(self.text) + (f"\n\n*{interrupted_note}*" if interrupted_note else "")
        if final.strip():
            self._slot().markdown(final)
        elif self._root is not None:
            self._root.empty()


def chunk_html(index: int, text: str, t_s: float) -> str:
    """One chunk as an HTML span; ``CHUNK_STYLE`` alternates the colours, so token boundaries show.

    Spaces stay spaces (the style keeps them, and lets a line wrap there), so a
    chunk costs about 30 bytes of markup.
    """
    shown = html.escape(text).replace("\n", "↵<br>") or "∅"
    return f'<span title="#{index} · {t_s * 1000:.0f} ms">{shown}</span>'


#: The key prefix of a chunk view's flow container: its groups show as one run of chunks (``CHUNK_STYLE``).
CHUNK_FLOW_KEY = "chunk_flow"
_CHUNK_FLOW = f'.stVerticalBlock[class*="st-key-{CHUNK_FLOW_KEY}_"]'

#: The chunk view's CSS. The app's pages have it in their CSS (``ui.style``) and say so (``ChunkView(styled=True)``);
#: anywhere else a chunk view adds it itself (``CHUNK_STYLE``) with its first group.
CHUNK_CSS = f"""
{_CHUNK_FLOW}{{display:block}}
{_CHUNK_FLOW} > .stElementContainer, {_CHUNK_FLOW} > .stElementContainer > .stHtml{{display:contents}}
{_CHUNK_FLOW} .chunks{{display:inline}}
.chunks{{overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:0.9em;line-height:1.9}}
.chunks span{{white-space:pre-wrap;border-radius:3px;padding:0 1px;margin:0 1px 0 0;background:rgba(255,189,69,.35)}}
.chunks span:nth-child(even){{background:rgba(61,157,243,.30)}}
"""
CHUNK_STYLE = f"<style>{CHUNK_CSS}</style>"


class ChunkView:
    """Shows every chunk as its own coloured span, like the seed's ``!!`` separators.

    Chunks are grouped: a full group (``CHUNKS_PER_GROUP`` chunks or
    ``CHUNK_GROUP_BYTES``, always an even number so the colours keep alternating)
    is written once, at a refresh, and never touched again; only the open group is re-rendered,
    with the same adaptive interval as ``LiveMarkdown``, so the bytes sent stay O(n)
    whatever the text (groups never wait for a sentence end). The coloured groups
    share one keyed flow container, which ``CHUNK_STYLE`` shows as one run of
    text: a new group goes on the same line, not on a line of its own.
    """

    def __init__(
        self,
        container: Any,
        *,
        separator: str | None = None,
        min_interval_s: float = CHUNK_MIN_INTERVAL_S,
        clock: Clock = time.perf_counter,
        styled: bool = False,
    ) -> None:
        """Prepare the view; with ``separator`` (for example ``"!!"``) chunks are shown as plain text.

        Args:
            container: Where the chunks go (a container of their own).
            separator: Shown between chunks instead of the colours, or ``None``.
            min_interval_s: The open group's shortest refresh interval.
            clock: The time source (tests pass a fake one).
            styled: The page's CSS has ``CHUNK_CSS`` (``ui.style``): the view adds no style element.
        """
        self._container = container
        self._separator = separator
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._slot: Any = None  # the open group's element, once it is drawn (it then replaces itself)
        self._group: list[str] = []
        self._group_bytes = 0
        self._incoming: list[tuple[str, float]] = []  # chunks kept since the last look, not formatted yet
        self._last_render: float | None = None
        self._next_look = 0.0
        self._dirty = False
        self._formatted = 0
        self.count = 0
        # The colours' style and the flow container go out with the first group, not here: written here,
        # they were one more message (one more wake-up of the server's event loop) before the first words.
        self._style_pending = separator is None and not styled
        self._flow_pending = separator is None
        _register(self)

    def _render(self) -> None:
        if self._style_pending:
            self._container.html(CHUNK_STYLE)
            self._style_pending = False
        if self._flow_pending:
            self._container = self._container.container(key=f"{CHUNK_FLOW_KEY}_{next(_view_ids)}")
            self._flow_pending = False
        target = self._slot if self._slot is not None else self._container
        if self._separator is not None:
            self._slot = target.code("".join(self._group), language=None, wrap_lines=True)
        else:
            self._slot = target.html('<div class="chunks">' + "".join(self._group) + "</div>")
        self._dirty = False

    def append(self, text: str, t_s: float) -> None:
        """Add one chunk; like ``LiveMarkdown.append``, it is only kept until the next refresh."""
        self._incoming.append((text, t_s))
        self.count += 1
        now = self._clock()
        if now < self._next_look and len(self._group) + len(self._incoming) < CHUNKS_PER_GROUP:  # most chunks
            return
        for kept_text, kept_t_s in self._incoming:
            self._add(kept_text, kept_t_s)
        self._incoming.clear()
        waited = None if self._last_render is None else now - self._last_render
        interval = refresh_interval(self._group_bytes, self._min_interval_s)
        if waited is None or waited >= interval:
            self._last_render = now
            self._next_look = now + self._min_interval_s
            if self._group_bytes >= CHUNK_GROUP_BYTES:  # full: its last render is also its first
                self._close_group()
            elif self._dirty:
                self._render()
        else:
            self._next_look = self._last_render + interval

    def _add(self, text: str, t_s: float) -> None:
        """Format one kept chunk into the open group; a full group is written at once (a fast stream)."""
        piece = f"{self._separator}{text}" if self._separator is not None else chunk_html(self._formatted, text, t_s)
        self._formatted += 1
        self._group.append(piece)
        self._group_bytes += len(piece.encode())
        self._dirty = True
        if len(self._group) >= CHUNKS_PER_GROUP:
            self._close_group()

    def _close_group(self) -> None:
        """Write the open group for good, and open a new one (shown at the next refresh).

        A closed group has an even number of chunks, so that the colours keep
        alternating across groups; an odd last chunk starts the next group.
        """
        carry = self._group[-1:] if len(self._group) % 2 else []
        if carry:
            self._group = self._group[:-1]
        self._render()
        self._slot = None  # the next group gets a new element
        self._group = carry
        self._group_bytes = sum(len(piece.encode()) for piece in carry)
        self._dirty = bool(carry)

    def close(self) -> None:
        """Render the open group immediately."""
        _unregister(self)
        for kept_text, kept_t_s in self._incoming:
            self._add(kept_text, kept_t_s)
        self._incoming.clear()
        if self._group and self._dirty:
            self._render()
