"""The live renderer (ui/elements/live.py) with a fake container that records every element update.

No timing: a fake clock advances by one token's gap per chunk, and the tests
assert on the updates, their bytes and the final text, which do not depend on speed.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import pytest

from chains.security.safe_text import inert_markdown
from chains.simulation.joke_book import REPLY_SHAPES
from chains.simulation.simulator import SimulatedChatModel
from chains.simulation.tokens import split_tokens
from devtools.answer_shapes import TEXT_SHAPES, shaped_tokens
from ui.elements import live as live_module
from ui.elements.live import (
    BUSY_MAX_INTERVAL_S,
    CHUNK_FLOW_KEY,
    LIVE_FLOW_KEY,
    MAX_INTERVAL_S,
    QUIET_SERVER_VIEWS,
    STREAMING_CURSOR,
    ChunkView,
    LiveMarkdown,
    refresh_interval,
    safe_cut,
    settled_split,
    shows_words,
    table_header,
)

#: What one delta costs on the websocket besides its text (protobuf metadata, measured ≈ 60–90 bytes).
DELTA_OVERHEAD = 100


@dataclass
class Update:
    path: tuple[str, ...]
    kind: str
    body: str
    t: float

    @property
    def bytes(self) -> int:
        return len(self.body.encode()) + DELTA_OVERHEAD


@dataclass
class Recorder:
    """Every element update, in order, with the fake time it happened at."""

    updates: list[Update] = field(default_factory=list)
    now: float = 0.0
    slots: int = 0
    empties: int = 0

    def clock(self) -> float:
        return self.now


class FakeContainer:
    """Stands in for a Streamlit container, an ``st.empty`` slot and its ``container()``.

    As in Streamlit, an element call on a container adds a new element and returns
    that element's own delta generator, which replaces the element when called again.
    """

    def __init__(self, recorder: Recorder, path: tuple[str, ...] = (), *, element: bool = False) -> None:
        self.recorder, self.path, self.element = recorder, path, element

    def _child(self, kind: str, *, element: bool = False) -> FakeContainer:
        self.recorder.slots += 1
        return FakeContainer(self.recorder, (*self.path, f"{kind}{self.recorder.slots}"), element=element)

    def empty(self) -> FakeContainer:
        if self.element:  # emptying a slot clears it
            self._record("empty", "")
            return self
        self.recorder.empties += 1  # a new st.empty: a delta with no text
        return self._child("empty", element=True)

    def container(self, key: str | None = None) -> FakeContainer:
        return self._child(f"box[{key}]" if key else "box")

    def _record(self, kind: str, body: str) -> FakeContainer:
        target = self if self.element else self._child("element", element=True)
        self.recorder.updates.append(Update(target.path, kind, body, self.recorder.now))
        return target

    def markdown(self, body: str) -> FakeContainer:
        return self._record("markdown", body)

    def html(self, body: str) -> FakeContainer:
        return self._record("html", body)

    def code(self, body: str, **_: object) -> FakeContainer:
        return self._record("code", body)


#: The simulator's shapes and the answers with no sentence end that a space follows (issue 30).
ALL_SHAPES = (*REPLY_SHAPES, *TEXT_SHAPES)


def answer_tokens(shape: str, tokens: int, topic: str = "ice cream") -> list[str]:
    """An answer in ``shape`` as the model streams it."""
    if shape in TEXT_SHAPES:
        return shaped_tokens(shape, tokens)
    model = SimulatedChatModel(ttft_s=0, tokens_per_s=0, jitter=0, min_output_tokens=tokens, output_shape=shape)
    return split_tokens(str(model.invoke(f"Tell me a short joke about {topic}").content))


def answer(shape: str, tokens: int, topic: str = "ice cream") -> str:
    return "".join(answer_tokens(shape, tokens, topic))


def stream_into_live(text: str | list[str], tokens_per_s: float) -> tuple[Recorder, LiveMarkdown, int]:
    recorder = Recorder()
    view = LiveMarkdown(FakeContainer(recorder), clock=recorder.clock)
    pieces = split_tokens(text) if isinstance(text, str) else text
    for piece in pieces:
        recorder.now += 1 / tokens_per_s
        view.append(piece)
    view.close()
    return recorder, view, len(pieces)


def stream_into_chunks(text: str | list[str], tokens_per_s: float, separator: str | None = None) -> tuple[Recorder, int]:
    recorder = Recorder()
    view = ChunkView(FakeContainer(recorder), separator=separator, clock=recorder.clock)
    pieces = split_tokens(text) if isinstance(text, str) else text
    for piece in pieces:
        recorder.now += 1 / tokens_per_s
        view.append(piece, recorder.now)
    view.close()
    return recorder, len(pieces)


def total_bytes(recorder: Recorder) -> int:
    return sum(update.bytes for update in recorder.updates)


def slope(small: tuple[int, int], large: tuple[int, int]) -> float:
    """Log-log slope of bytes against tokens between two (tokens, bytes) points."""
    return math.log(large[1] / small[1]) / math.log(large[0] / small[0])


# ------------------------------------------------------------- LiveMarkdown
@pytest.mark.parametrize("tokens_per_s", [60, 500])
@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_bytes_stay_linear_for_every_shape(shape: str, tokens_per_s: float) -> None:
    small_recorder, _, small_tokens = stream_into_live(answer_tokens(shape, 250), tokens_per_s)
    large_recorder, view, large_tokens = stream_into_live(answer_tokens(shape, 2000), tokens_per_s)
    large_bytes = total_bytes(large_recorder)
    assert large_bytes / large_tokens <= 100
    assert slope((small_tokens, total_bytes(small_recorder)), (large_tokens, large_bytes)) <= 1.2
    assert view.blocks_written >= 8  # the long answer was cut into pieces, whatever its shape


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_final_render_is_the_whole_inert_text_in_one_element(shape: str) -> None:
    text = answer(shape, 600)
    recorder, _, _ = stream_into_live(answer_tokens(shape, 600), 500)
    final = recorder.updates[-1]
    assert final.kind == "markdown" and final.body == inert_markdown(text)
    assert len(final.path) == 1  # the view's root slot: it replaces every live piece
    assert all(len(update.path) > 1 for update in recorder.updates[:-1])


@pytest.mark.parametrize("shape", REPLY_SHAPES)
def test_live_pieces_add_up_to_the_text(shape: str) -> None:
    """Written pieces (each slot's last update) plus the tail show every word, in order, while streaming."""
    text = answer(shape, 600)
    recorder = Recorder()
    view = LiveMarkdown(FakeContainer(recorder), cursor="", clock=recorder.clock)
    for piece in split_tokens(text):
        recorder.now += 0.01
        view.append(piece)
    shown: dict[tuple[str, ...], str] = {}
    for update in recorder.updates:
        shown[update.path] = update.body
    fences = re.compile(r"^```(?:python)?\n?", re.MULTILINE)
    live_words = fences.sub("", "".join(shown.values()).replace("&#32;", " ")).split()[:-1]  # the last word may be still arriving
    assert live_words == fences.sub("", inert_markdown(text)).split()[: len(live_words)]
    assert len(live_words) >= len(text.split()) * 0.9


def visible_text(shown: dict[tuple[str, ...], str]) -> str:
    """What the live elements show, in order, as comparable text: no cursor, no fence lines, no whitespace."""
    text = "".join(shown.values()).replace(STREAMING_CURSOR, "")
    return re.sub(r"\s+", "", re.sub(r"^```.*$", "", text, flags=re.MULTILINE))


@pytest.mark.parametrize("tokens_per_s", [60, 500])
@pytest.mark.parametrize("shape", [*REPLY_SHAPES, "no_sentence_end", "cjk"])
def test_the_shown_text_only_grows_even_between_the_deltas_of_a_cut(shape: str, tokens_per_s: float) -> None:
    """A cut writes the piece where the tail was, then the rest in a new element: after each delta, no text is taken back."""
    recorder = Recorder()
    view = LiveMarkdown(FakeContainer(recorder), clock=recorder.clock)
    for piece in answer_tokens(shape, 900):
        recorder.now += 1 / tokens_per_s
        view.append(piece)
    assert view.blocks_written >= 4
    shown: dict[tuple[str, ...], str] = {}
    before = ""
    for update in recorder.updates:
        shown[update.path] = update.body
        now = visible_text(shown)
        assert now.startswith(before), f"text taken back: ...{before[-40:]!r} -> ...{now[-40:]!r}"
        before = now


def test_the_views_draw_no_placeholders() -> None:
    """Each element's own delta generator replaces it: only the answer's root is an ``st.empty`` (one delta per run)."""
    text = answer("paragraph", 600)
    recorder, view, _ = stream_into_live(text, 60)
    chunks, _ = stream_into_chunks(text, 60)
    assert view.blocks_written >= 5
    assert (recorder.empties, chunks.empties) == (1, 0)


@pytest.mark.parametrize("tokens_per_s", [60, 500])
def test_tail_refreshes_at_least_four_times_a_second_and_first_at_once(tokens_per_s: float) -> None:
    recorder, _, _ = stream_into_live(answer("paragraph", 1000), tokens_per_s)
    times = [update.t for update in recorder.updates]
    assert times[0] == pytest.approx(1 / tokens_per_s)  # the first chunk shows at once
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) <= MAX_INTERVAL_S + 1 / tokens_per_s + 1e-9


@pytest.mark.parametrize(
    "opening",
    [
        ["```", "python", "\n"],
        ["```python\n"],
        ["\n", "\n"],
        ["-"],  # the simulator's list answers open with a bare bullet: an empty list item, no words
        ["1."],
        ["* "],
        ["#", "#"],
        [">", " -"],
    ],
)
def test_the_first_words_show_at_once_even_after_a_fence_line_or_blank_lines(opening: list[str]) -> None:
    """Until the tail shows a word, no refresh waits: a code block's first line, or a list's first item, shows with its own chunk."""
    recorder = Recorder()
    view = LiveMarkdown(FakeContainer(recorder), clock=recorder.clock)
    for piece in [*opening, " print", "(1)"]:
        recorder.now += 0.01  # 100 tokens a second: far inside the refresh interval
        view.append(piece)
    shown = [update.body for update in recorder.updates if "print" in update.body]
    assert shown and shown[0].replace(STREAMING_CURSOR, "").rstrip().endswith("print"), "the first word waited for the interval"
    assert not any("(1)" in update.body for update in recorder.updates), "once a word shows, refreshes are throttled again"


@pytest.mark.parametrize(
    ("tail", "words"),
    [("-", False), ("1.", False), ("> - ", False), ("##", False), ("-\n*", False), ("- Why", True), ("42", True), ("#hashtag", True), ("---", True)],
)
def test_a_tail_of_bare_block_markers_shows_no_words(tail: str, words: bool) -> None:
    assert shows_words(tail) is words


def test_close_shows_the_last_chunk_at_once() -> None:
    recorder = Recorder()
    view = LiveMarkdown(FakeContainer(recorder), clock=recorder.clock)
    view.append("Hello")
    view.append(" world")  # inside the interval: not shown yet
    assert recorder.updates[-1].body.startswith("Hello ")
    assert "world" not in recorder.updates[-1].body
    view.close()
    assert recorder.updates[-1].body == "Hello world"


def test_interrupted_note_is_added_to_the_final_render() -> None:
    recorder = Recorder()
    view = LiveMarkdown(FakeContainer(recorder), clock=recorder.clock)
    view.append("Half an answer")
    view.close(interrupted_note="stopped")
    assert recorder.updates[-1].body == "Half an answer\n\n*stopped*"


def test_code_block_is_cut_into_closed_fences_with_the_same_language() -> None:
    text = answer("code", 800)
    recorder, _view, _ = stream_into_live(text, 500)
    written = [update.body for update in recorder.updates[:-1] if update.body.endswith("```\n")]
    assert len(written) >= 3
    assert all(body.startswith("```python\n") and body.count("```") == 2 for body in written)


def test_model_text_stays_inert_on_every_path() -> None:
    sentence = "Look at this ![cat](http://evil.example/a.png) now. A <script>alert(1)</script> joke here. "
    text = sentence * 60 + "\n\n```html\n" + "<img src=x onerror=alert(1)>\n" * 80 + "```\n"
    recorder, view, _ = stream_into_live(text, 500)
    assert view.blocks_written >= 5
    for update in recorder.updates:
        assert "![" not in update.body
        assert "<script" not in update.body and "<img" not in update.body


# ----------------------------------------------------------------- safe cuts
@pytest.mark.parametrize(
    "block",
    [
        "Some **bold words. And more** and then " * 6 + "x",
        "Look at `code. with dots` here and " * 10 + "x",
        "A [link. text](https://example.com/a. b) and " * 10 + "x",
        "| a | b |\n|---|---|\n" + "| one. two | three. |\n" * 20,
        "words and words " * 10 + "then `an open code span with spaces and no end " * 4,
        "words and words " * 10 + "then **open emphasis with spaces and no end " * 4,
        "words and words " * 10 + "then [an open link text with spaces](and an open target " * 4,
        "abcdefghij" * 30 + "`openspan" + "klmnopqrst" * 10,
    ],
)
def test_safe_cut_never_opens_an_inline_span_and_cuts_a_table_between_rows(block: str) -> None:
    cut = safe_cut(block, min_chars=10)
    assert cut, "every one of these blocks has a cut"
    head = block[:cut]
    assert head.count("`") % 2 == 0 and head.count("*") % 2 == 0 and head.count("[") == head.count("]")
    assert head.count("(") == head.count(")")
    if block.startswith("|"):
        assert head.startswith(table_header(block)) and len(head) > len(table_header(block))
        assert head.endswith("\n") and block[cut:].startswith("|")


def test_safe_cut_at_the_last_space_when_no_sentence_ends() -> None:
    block = "".join(shaped_tokens("no_sentence_end", 120))
    cut = safe_cut(block, min_chars=100)
    assert cut > len(block) - 12 and block[cut - 1] == " " and block[cut:].startswith("tok")


def test_safe_cut_after_a_cjk_sentence_end_with_no_space() -> None:
    block = "今天的冰淇淋特别好吃。我们在公园里散步！" * 20 + "为什么冰淇淋"
    cut = safe_cut(block, min_chars=100)
    assert block[cut - 1] == "！" and block[cut:] == "为什么冰淇淋"


def test_safe_cut_anywhere_outside_a_span_when_there_is_no_space() -> None:
    block = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 12  # base64, a long URL, minified code: one word
    cut = safe_cut(block, min_chars=100)
    assert len(block) - 3 <= cut < len(block) and block[cut].isalpha()
    assert safe_cut("x" * 400 + "\\" + "y", min_chars=100) != 401  # never right after a backslash escape
    assert safe_cut("x" * 400 + "&amp" + "y", min_chars=100) <= 400  # nor inside a character reference


def test_safe_cut_keeps_a_heading_or_a_list_item_whole() -> None:
    assert safe_cut("# " + "word " * 100, min_chars=50) == 0
    assert safe_cut("- " + "word " * 100, min_chars=50) == 0


def test_a_table_is_cut_only_after_its_header_and_its_later_rows_between_rows() -> None:
    header = "| a | b |\n|---|:-:|\n"
    assert table_header(header + "| 1 | 2 |\n") == header
    assert table_header("| a | b |\n|---|:-") == ""  # the delimiter row is not complete yet
    assert safe_cut(header, min_chars=1) == 0
    rows = "| 1 | 2 |\n" * 30 + "| 3 | 4"
    assert safe_cut(rows, min_chars=10, in_table=True) == len(rows) - len("| 3 | 4")


def test_safe_cut_in_a_list_cuts_before_an_item() -> None:
    block = "".join(f"- item {index}. It has two sentences. Really.\n" for index in range(20)) + "- open ite"
    cut = safe_cut(block, min_chars=50)
    assert cut > 0 and block[cut:].startswith("- ")


def written_pieces(recorder: Recorder) -> list[tuple[tuple[str, ...], str]]:
    """Each live element's last text (the written pieces, then the tail), in order, without the final render."""
    shown: dict[tuple[str, ...], str] = {}
    for update in recorder.updates:
        if len(update.path) > 1:
            shown[update.path] = update.body.replace(STREAMING_CURSOR, "")
    return list(shown.items())


@pytest.mark.parametrize("shape", ["paragraphs", "paragraph", "list", *TEXT_SHAPES])
def test_the_pieces_concatenate_back_to_the_text(shape: str) -> None:
    """Without a table piece's repeated header and the joined space's ``&#32;``, the pieces are the text, character for character."""
    text = answer(shape, 1500)
    recorder, view, _ = stream_into_live(answer_tokens(shape, 1500), 500)
    assert view.blocks_written >= 5
    pieces = [body for _, body in written_pieces(recorder)]
    header = table_header(text)
    if header:
        assert all(piece.startswith(header) for piece in pieces), "every piece of a table repeats its header"
        pieces = [pieces[0], *(piece.removeprefix(header) for piece in pieces[1:])]
    assert "".join(piece.removesuffix("&#32;") for piece in pieces) == inert_markdown(text)


@pytest.mark.parametrize("shape", ["paragraph", "no_sentence_end", "cjk", "table"])
def test_the_pieces_of_one_block_share_one_flow_container(shape: str) -> None:
    """One long block, many pieces: all in one keyed flow container, which the app's CSS shows as one paragraph (or table)."""
    recorder, view, _ = stream_into_live(answer_tokens(shape, 1500), 500)
    flows = {path[-2] for path, _ in written_pieces(recorder)}
    assert view.blocks_written >= 5 and len(flows) == 1 and LIVE_FLOW_KEY in flows.pop()
    joined = [body for _, body in written_pieces(recorder)][:-1]
    if shape in ("paragraph", "no_sentence_end"):  # cut at a space that markdown would drop at a paragraph's end
        assert all(body.endswith(" &#32;") for body in joined)
    if shape == "cjk":
        assert all(body[-1] in "。！？" or body[-1].isalpha() for body in joined)


def test_a_new_paragraph_starts_a_new_flow_container() -> None:
    text = "".join(f"Paragraph {index} is a short one with no sentence end\n\n" for index in range(40))
    recorder, view, _ = stream_into_live(text, 500)
    flows = [path[-2] for path, _ in written_pieces(recorder)]
    assert view.blocks_written >= 5 and len(set(flows)) == len(flows)  # each piece ends at a blank line here
    assert not any(body.endswith("&#32;") for _, body in written_pieces(recorder))


def test_safe_cut_in_a_paragraph_cuts_after_a_sentence() -> None:
    block = "This is one sentence. " * 30 + "And an open one"
    cut = safe_cut(block, min_chars=100)
    assert cut > 100 and block[:cut].endswith(". ") and block[cut:] == "And an open one"


def test_settled_split_keeps_a_fence_open() -> None:
    head, tail = settled_split("para\n\n```\ncode\n\nmore\n")
    assert head == "para\n\n" and tail == "```\ncode\n\nmore\n"


# ------------------------------------------------------- the adaptive interval
def test_refresh_interval_grows_with_the_tail_and_the_load_but_stays_bounded() -> None:
    quiet = refresh_interval(100, min_interval_s=0.05, open_views=1)
    assert refresh_interval(300, min_interval_s=0.05, open_views=1) > quiet
    assert refresh_interval(100, min_interval_s=0.05, open_views=80) > quiet
    assert refresh_interval(10**6, open_views=QUIET_SERVER_VIEWS) == MAX_INTERVAL_S  # one stream alone: >= 5 a second
    assert MAX_INTERVAL_S < refresh_interval(100, open_views=80) <= BUSY_MAX_INTERVAL_S  # a class: backs off more
    assert refresh_interval(10**6, open_views=10**4) == BUSY_MAX_INTERVAL_S


def test_open_views_are_counted_until_closed() -> None:
    before = live_module.open_view_count()
    recorder = Recorder()
    views = [LiveMarkdown(FakeContainer(recorder)), ChunkView(FakeContainer(recorder))]
    assert live_module.open_view_count() == before + 2
    views[0].close()
    views[1].close()
    assert live_module.open_view_count() == before


# ------------------------------------------------------------------ ChunkView
@pytest.mark.parametrize("shape", ["paragraph", *TEXT_SHAPES])
@pytest.mark.parametrize("separator", [None, "!!"])
@pytest.mark.parametrize("tokens_per_s", [60, 500])
def test_chunk_view_bytes_stay_linear(tokens_per_s: float, separator: str | None, shape: str) -> None:
    small, small_tokens = stream_into_chunks(answer_tokens(shape, 250), tokens_per_s, separator)
    large, large_tokens = stream_into_chunks(answer_tokens(shape, 2000), tokens_per_s, separator)
    assert total_bytes(large) / large_tokens <= 100
    assert slope((small_tokens, total_bytes(small)), (large_tokens, total_bytes(large))) <= 1.2


def test_chunk_view_groups_share_one_flow_container() -> None:
    recorder, _ = stream_into_chunks(answer_tokens("cjk", 600), 500)
    groups = {update.path for update in recorder.updates if "<span" in update.body}
    assert len(groups) >= 5 and len({path[:-1] for path in groups}) == 1
    assert CHUNK_FLOW_KEY in groups.pop()[-2]


@pytest.mark.parametrize("tokens_per_s", [40, 55, 60, 65, 500])
def test_chunk_view_shows_every_chunk_once_in_order_in_even_groups(tokens_per_s: float) -> None:
    text = answer("paragraphs", 600)
    recorder, count = stream_into_chunks(text, tokens_per_s)
    last_per_slot: dict[tuple[str, ...], str] = {}
    for update in recorder.updates:
        if update.kind == "html" and "<span" in update.body:
            last_per_slot[update.path] = update.body
    groups = [re.findall(r"<span title=\"#(\d+) ", body) for body in last_per_slot.values()]
    indexes = [int(index) for group in groups for index in group]
    assert indexes == list(range(count))
    assert all(len(group) % 2 == 0 for group in groups[:-1])
    sent = sum(update.body.count("<span") for update in recorder.updates)
    assert sent <= 1.5 * count  # at a real model's speed a group is mostly written once, when it is full


def test_close_flushes_the_last_words_before_the_canonical_render() -> None:
    text = answer("paragraph", 400)
    recorder = Recorder()
    view = LiveMarkdown(FakeContainer(recorder), clock=recorder.clock)
    for piece in split_tokens(text):
        recorder.now += 0.01  # pieces are cut at refreshes
        view.append(piece)
    last_word = text.split()[-1]
    assert recorder.updates[-1].t < recorder.now, "the last chunk arrived inside the interval: not shown yet"
    before = len(recorder.updates)
    view.close()
    flushed, canonical = recorder.updates[before:]
    assert flushed.body.endswith(inert_markdown(last_word)) and len(flushed.body) < len(text) / 2
    assert canonical.body == inert_markdown(text)


def test_a_stray_asterisk_does_not_let_the_tail_grow_for_ever() -> None:
    text = "A *stray star. " + "This sentence goes on. " * 400
    recorder, view, count = stream_into_live(text, 60)
    assert view.blocks_written >= 10
    assert total_bytes(recorder) / count <= 100
    assert recorder.updates[-1].body == inert_markdown(text)


# ------------------------------------------------- nothing before the first words
def test_a_live_view_draws_nothing_until_its_first_words() -> None:
    recorder = Recorder()
    view = LiveMarkdown(FakeContainer(recorder), clock=recorder.clock)
    assert recorder.updates == [] and recorder.empties == 0, "made before the model's first token, the view sends nothing yet"
    view.append("Why")
    assert [update.body for update in recorder.updates if update.kind == "markdown"][-1].startswith("Why")
    view.close()
    assert recorder.updates[-1].kind == "markdown" and recorder.updates[-1].body == "Why"


def test_a_live_view_that_got_nothing_stays_empty() -> None:
    recorder = Recorder()
    LiveMarkdown(FakeContainer(recorder), clock=recorder.clock).close()
    assert recorder.updates == [] and recorder.empties == 0


@pytest.mark.parametrize("styled", [False, True])
def test_a_chunk_view_on_a_styled_page_adds_no_style_of_its_own(styled: bool) -> None:
    recorder = Recorder()
    view = ChunkView(FakeContainer(recorder), clock=recorder.clock, styled=styled)
    view.append("Why", 0.1)
    view.close()
    styles = [update for update in recorder.updates if update.kind == "html" and "<style>" in update.body]
    assert len(styles) == (0 if styled else 1)
    groups = [update for update in recorder.updates if update.kind == "html" and "<span" in update.body]
    assert groups and CHUNK_FLOW_KEY in groups[-1].path[-2], "the groups still share a flow container"


def test_the_pages_css_has_the_chunk_views_colours() -> None:
    from ui.elements.live import CHUNK_CSS
    from ui.style import style_css

    assert CHUNK_CSS in style_css("en") and CHUNK_CSS in style_css("ko")
