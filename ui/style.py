"""The app's only CSS: Korean line breaking, tables that scroll inside their own box, no sideways page scroll.

Streamlit's theme does the rest; this module adds only what a phone or a
Korean reader needs. ``inject_style`` is called once per script run by
``streamlit_app.py``, after the language is known.
"""

from __future__ import annotations

import gc
import sys
import threading
from typing import Any

import streamlit as st

from ui.elements.live import CHUNK_CSS, LIVE_FLOW_CSS

#: For every language: a wide table (markdown) scrolls inside its own box, and the page never scrolls sideways.
_BASE_CSS = """
[data-testid="stMarkdownContainer"] table {
  display: block;
  max-width: 100%;
  overflow-x: auto;
}
[data-testid="stMarkdownContainer"] th { white-space: nowrap; }
[data-testid="stMarkdownContainer"] td code { white-space: nowrap; }
[data-testid="stMarkdownContainer"] pre, [data-testid="stCode"] { max-width: 100%; overflow-x: auto; }
[data-testid="stWidgetLabel"] p, [data-testid="stMetricLabel"] p { white-space: normal; overflow-wrap: anywhere; }
[data-testid="stMetricLabel"] > div { overflow: visible; }
[data-testid="stMetricValue"] > div { white-space: normal; overflow-wrap: anywhere; }
.st-key-chart_warm_up { display: none; }
[data-testid="stCaptionContainer"] code { color: #111111; }
"""

#: Korean only: break lines between words (eojeol), never inside one ("호출 방/식").
_KOREAN_CSS = """
[data-testid="stApp"] p, [data-testid="stApp"] li, [data-testid="stApp"] td, [data-testid="stApp"] th,
[data-testid="stApp"] h1, [data-testid="stApp"] h2, [data-testid="stApp"] h3, [data-testid="stApp"] label,
[data-testid="stApp"] span, [data-testid="stApp"] summary, [data-testid="stApp"] a {
  word-break: keep-all;
  overflow-wrap: break-word;
}
"""


def style_css(language: str) -> str:
    """The CSS for a UI in ``language`` (``en`` or ``ko``), with the live answers' flow containers and the chunk view's colours (``ui.elements.live``)."""
    return _BASE_CSS + LIVE_FLOW_CSS + CHUNK_CSS + (_KOREAN_CSS if language == "ko" else "")


def inject_style(language: str) -> None:
    """Add the app's CSS to the page (an invisible element, drawn once per run)."""
    st.html(f"<style>{style_css(language)}</style>")


def freeze_startup_objects() -> None:
    """Move every object alive now (the imported modules: Streamlit, LangChain, plotly, pandas) out of the cyclic GC's sight.

    Python's full collections walk every tracked object. With this app's imports
    each took 140–225 ms with the GIL held, and a crowd's runs allocate enough to
    trigger one every few seconds: 40 sessions streaming together stalled three
    times in 7 s. ``gc.freeze`` (the standard library's tool for long-lived
    servers) leaves these objects out of all later collections; garbage made
    afterwards is collected as before, and reference counting still frees any
    object, frozen or not. Called once per server, after the warm-up imports.
    """
    gc.collect()  # what is garbage now is freed, not frozen
    gc.freeze()


#: How long a thread may keep the GIL while another waits for it (Python's default is 5 ms).
GIL_SWITCH_INTERVAL_S = 0.001


def shorten_gil_switch_interval() -> None:
    """Let a thread that gave the GIL away get it back within 1 ms instead of 5 ms, once per server.

    Each element a script draws wakes the server's event loop (a write to its
    self-pipe), and a system call gives the GIL away; getting it back waits until
    the thread that holds it is made to let go, after the switch interval. When a
    study group presses Run together, each of the 40 scripts pays that wait for
    every element it draws above the answer, and the event loop pays it for every
    message it sends. ``sys.setswitchinterval`` is the standard library's knob for
    it; the work itself is unchanged. Called by the warm-up thread.
    """
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


_warm_up_started = False
#: Set when the warm-up thread has imported plotly (or failed): a chart built while numpy is half
#: imported in that thread fails, so the browser's warm-up chart waits for it.
_warm_up_done = threading.Event()
#: The longest the browser's warm-up chart waits for that import (a very busy machine: skip it).
WARM_UP_WAIT_S = 30.0


def warm_up_charts() -> None:
    """Import plotly and build a first figure in a background thread, once per server, so the first chart after a run is quick.

    ``plotly.express`` takes seconds to import on a small machine. The chart
    helpers import it where they draw, so Home never pays for it, but the first
    chart page of a fresh server did: after its calls had ended. The import runs
    off the script thread, after the first page was drawn.
    """
    global _warm_up_started
    if _warm_up_started:
        return
    _warm_up_started = True

    def import_plotly() -> None:
        try:
            build_first_figure()
            freeze_startup_objects()
            shorten_gil_switch_interval()
        finally:
            _warm_up_done.set()

    def build_first_figure() -> None:
        # The import, then one figure of each kind the pages draw, serialized as
        # st.plotly_chart does: Plotly loads its validators on the first figure.
        import plotly.express  # noqa: F401
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        figure = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=["warm", "up"])
        figure.add_trace(
            go.Bar(
                y=["a"],
                x=[1.0],
                base=[0.0],
                orientation="h",
                text=["1 s"],
                customdata=[[1]],
                marker={"color": "#000", "pattern": {"shape": ["x"]}, "line": {"color": ["#f00"], "width": [1]}},
            ),
            row=1,
            col=1,
        )
        figure.add_trace(go.Scatter(x=[0.0, 1.0], y=[0, 1], mode="lines+markers", error_y={"array": [0.1, 0.1]}), row=2, col=1)
        figure.add_vline(x=0.5, annotation_text="warm")
        figure.update_layout(title={"text": "warm", "x": 0}, legend={"orientation": "h"}, margin={"t": 10}, height=300)
        figure.update_yaxes(autorange="reversed", type="category", categoryarray=["a"], row=1, col=1)
        figure.to_json()

    threading.Thread(target=import_plotly, name="plotly-warm-up", daemon=True).start()


#: Session state: the browser of this session has been sent the warm-up chart.
_BROWSER_WARMED_KEY = "_chart_code_warmed_up"


def wait_for_chart_warm_up() -> None:
    """Wait, on a fresh server only, until the warm-up thread has imported plotly, pandas and numpy.

    Two threads importing numpy at once can hand one of them a partially
    initialized module (an ``ImportError`` in the middle of a page). A page that
    runs while the warm-up thread imports waits for it instead: at most the time
    the page would have spent importing them itself. Once the warm-up is done,
    this returns at once.
    """
    if _warm_up_started:
        _warm_up_done.wait(WARM_UP_WAIT_S)


def browser_chart_warm_up_slot() -> Any | None:
    """On a session's first run, an empty slot that ``warm_up_browser_charts`` fills after the page.

    Call it before the page runs. The slot comes before the page's own
    elements, so the next run's first element replaces the warm-up chart at
    once: it never lingers among a later run's charts.

    Returns:
        The slot, or ``None`` once this session's browser has the chart code.
    """
    if st.session_state.get(_BROWSER_WARMED_KEY):
        return None
    return st.empty()


def warm_up_browser_charts(slot: Any | None) -> None:
    """Send one tiny, hidden Plotly chart to this session's browser, once, after the page.

    Streamlit's frontend loads its Plotly code (a 4.7 MB script that takes about
    a second to parse on a small machine) only when a page first shows a Plotly
    chart: that was after a run's calls had ended. An empty chart sent at the end
    of the session's first page makes the browser load that code while a person
    reads the page. It waits for ``warm_up_charts``'s import (once per
    server, after the page was drawn). The chart's box is ``display: none`` (see ``_BASE_CSS``): it takes
    no space and screen readers skip it.

    Args:
        slot: What ``browser_chart_warm_up_slot`` returned before the page ran.
    """
    if slot is None:
        return
    if _warm_up_started and not _warm_up_done.wait(WARM_UP_WAIT_S):
        return  # the session's next run tries again
    with slot.container(key="chart_warm_up"):
        st.plotly_chart({"data": [{"type": "bar", "x": [0], "y": [0]}], "layout": {"height": 10}}, config={"staticPlot": True}, key="chart_warm_up_plot")
    st.session_state[_BROWSER_WARMED_KEY] = True
