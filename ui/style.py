"""The app's only CSS: Korean line breaking, tables that scroll inside their own box, no sideways page scroll.

Streamlit's theme does the rest; this module adds only what a phone or a
Korean reader needs. ``inject_style`` is called once per script run by
``streamlit_app.py``, after the language is known.
"""

from __future__ import annotations

import streamlit as st

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
    """The CSS for a UI in ``language`` (``en`` or ``ko``)."""
    return _BASE_CSS + (_KOREAN_CSS if language == "ko" else "")


def inject_style(language: str) -> None:
    """Add the app's CSS to the page (an invisible element, drawn once per run)."""
    st.html(f"<style>{style_css(language)}</style>")


_warm_up_started = False


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

    import threading

    threading.Thread(target=import_plotly, name="plotly-warm-up", daemon=True).start()
