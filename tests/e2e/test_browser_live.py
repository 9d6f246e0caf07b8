"""The live answer's pieces in Chromium: one long paragraph streams as one paragraph, and chunk groups as one run.

``ui.elements.live.LiveMarkdown`` writes a long paragraph in pieces, one element each, so
that no refresh resends it all. Only a browser shows whether those pieces look
like one paragraph (the app's CSS on their keyed flow container) or like several.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import (
    assert_no_exception,
    choose_radio,
    click_run,
    open_page,
    screenshot,
    strings,
    wait_for_metrics,
)
from ui.elements.live import STREAMING_CURSOR

pytestmark = pytest.mark.e2e

EN = strings("en")

#: Where the live pieces sit on the screen, measured in one go while the answer streams: for every
#: two paragraphs in a row (and every two chunk groups), how far below the end of the first the
#: second one starts: negative on the same line, a few pixels on the next line (an inline box is
#: shorter than its line), 16 px more after a paragraph's margin.
GAPS_JS = """
() => {
  const gaps = (elements) => {
    const found = [];
    for (let index = 1; index < elements.length; index++) {
      const before = [...elements[index - 1].getClientRects()].pop();
      const after = elements[index].getClientRects()[0];
      found.push(before && after ? after.top - before.bottom : null);
    }
    return found;
  };
  // Chunk groups are inline: the next group starts on the line where the last ended, unless that one ended at the edge.
  const joins = (elements) => {
    const found = [];
    for (let index = 1; index < elements.length; index++) {
      const before = [...elements[index - 1].getClientRects()].pop();
      const after = elements[index].getClientRects()[0];
      const right = elements[index].closest('.stVerticalBlock').getBoundingClientRect().right;
      found.push({sameLine: after.top < before.bottom - 1, atEdge: right - before.right < 40});
    }
    return found;
  };
  const output = document.querySelector('.st-key-stream_output');
  const chunks = document.querySelector('.st-key-chunk_view');
  return {
    pieces: output.querySelectorAll('[data-testid="stMarkdown"]').length,
    gaps: gaps([...output.querySelectorAll('[data-testid="stMarkdownContainer"] > p')]),
    lineHeight: parseFloat(getComputedStyle(output.querySelector('p')).lineHeight),
    chunkJoins: joins([...chunks.querySelectorAll('.chunks')]),
    text: output.innerText,
  };
}
"""


def test_a_long_paragraph_streams_as_one_paragraph(page: Any, warm_app: str) -> None:
    """While it streams, the pieces of one paragraph touch: the next starts on the line where the last ended (or just below)."""
    open_page(page, f"{warm_app}/stream")
    choose_radio(page, page.locator(".st-key-answer_length"), EN["stream"]["length_long"])
    choose_radio(page, page.locator(".st-key-answer_shape"), EN["shapes"]["shape_paragraph"])
    click_run(page)
    page.wait_for_function(
        "() => document.querySelectorAll('.st-key-stream_output [data-testid=\"stMarkdown\"]').length >= 4", timeout=60_000
    )
    layout = page.evaluate(GAPS_JS)
    screenshot(page, "stream-one-paragraph-midstream")
    assert STREAMING_CURSOR in layout["text"], "measured while the answer was still streaming"
    assert layout["pieces"] >= 4 and len(layout["gaps"]) >= 3, layout
    # One paragraph: each piece goes on where the last ended, on its line or the next (less than half a
    # line below the end of the last); a paragraph break would add a margin of 16 px.
    assert all(gap is not None and gap < layout["lineHeight"] / 2 for gap in layout["gaps"]), layout
    joins = layout["chunkJoins"]
    assert joins and all(join["sameLine"] or join["atEdge"] for join in joins) and any(join["sameLine"] for join in joins), joins
    wait_for_metrics(page, EN["metrics"]["ttft"])
    assert_no_exception(page)
    final = page.locator('.st-key-stream_output [data-testid="stMarkdown"]')
    assert final.count() == 1, "the final render is one element"
    assert STREAMING_CURSOR not in final.inner_text()
