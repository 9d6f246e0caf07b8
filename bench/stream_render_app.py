"""A one-stream Streamlit app for ``bench/stream_render.py`` (not part of the lab).

Open it as ``/?renderer=live|chunks|write_stream|empty_throttled|empty_every_token&shape=paragraph&tokens=1000&tps=500&ttft=0.3&run=ID``
and press *start*. It streams the seed's chain on the simulator (no jitter), with
the answer laid out in ``shape`` (``chains.simulation.joke_book.REPLY_SHAPES``), and renders the
chunks into the container ``bench_output`` in one of these ways:

* ``live``: ``ui.elements.live.LiveMarkdown`` (append-only, adaptive tail), as the Stream page does;
* ``chunks``: ``ui.elements.live.ChunkView`` (the Stream page's chunk-boundary view, coloured spans);
* ``write_stream``: ``st.write_stream``;
* ``empty_throttled``: an ``st.empty()`` re-rendered with the whole text at most every 40 ms;
* ``empty_every_token``: an ``st.empty()`` re-rendered with the whole text on every chunk.

When ``$STREAM_BENCH_OUT`` is set, it writes ``$STREAM_BENCH_OUT/<run>.json`` after
the last render, with every chunk's wall-clock time (``time.time()``), so that the
bench can line them up with ``Date.now()`` in the browser (same machine clock).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

# The lab's process has these loaded once a chart was drawn; they make the heap
# (and so any post-run garbage collection) as big as in the real app.
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import streamlit as st

from chains.joke import build_joke_chain
from chains.simulation.replay import ReplayCall, ReplayProfile
from chains.simulation.simulator import SimulatedChatModel
from devtools.answer_shapes import TEXT_SHAPES, shaped_tokens
from ui.elements.live import ChunkView, LiveMarkdown
from ui.style import inject_style

RENDERERS = ("live", "chunks", "write_stream", "empty_throttled", "empty_every_token")

params = st.query_params
renderer = params.get("renderer", "live")
tokens = int(params.get("tokens", "1000"))
tokens_per_s = float(params.get("tps", "500"))
ttft_s = float(params.get("ttft", "0.3"))
shape = params.get("shape", "paragraphs")
run_id = "".join(c for c in params.get("run", "manual") if c.isalnum() or c in "-_") or "manual"

inject_style("en")  # the app's CSS, as streamlit_app.py adds it to every page
st.title("Stream render bench")
st.caption(f"renderer={renderer} · shape={shape} · {tokens} tokens · {tokens_per_s:.0f} tokens/s · TTFT {ttft_s:.2f} s")
# Like every page of the lab, a collapsed "show the code" expander: the browser loads its code
# highlighter with the page, not with the answer's first code block.
with st.expander("code", expanded=False):
    st.code("answer = chain.stream(topic)", language="python")

if renderer not in RENDERERS:
    st.error(f"renderer must be one of {RENDERERS}")
elif st.button("start", key="start"):
    script_start = time.time()
    if shape in TEXT_SHAPES:  # an answer with no sentence end (devtools.answer_shapes), replayed at the same pace
        words = shaped_tokens(shape, tokens)
        call = ReplayCall(topic="ice cream", ttft_s=ttft_s, gaps_s=(1 / tokens_per_s,) * (len(words) - 1), tokens=tuple(words))
        model = SimulatedChatModel(jitter=0.0, replay=ReplayProfile(name="bench", calls=(call,)))
    else:
        model = SimulatedChatModel(ttft_s=ttft_s, tokens_per_s=tokens_per_s, jitter=0.0, min_output_tokens=tokens, output_shape=shape)
    chain = build_joke_chain(model)
    box = st.container(key="bench_output", border=True)
    chunk_times: list[float] = []
    pieces: list[str] = []

    def chunks():
        for piece in chain.stream("ice cream"):
            if piece:
                chunk_times.append(time.time())
                pieces.append(piece)
                yield piece

    if renderer == "live":
        live = LiveMarkdown(box)
        for piece in chunks():
            live.append(piece)
        live.close()
    elif renderer == "chunks":
        view = ChunkView(box)
        started = time.time()
        for piece in chunks():
            view.append(piece, time.time() - started)
        view.close()
    elif renderer == "write_stream":
        with box:
            st.write_stream(chunks())
    elif renderer == "empty_throttled":
        slot = box.empty()
        text, last = "", 0.0
        for piece in chunks():
            text += piece
            if time.perf_counter() - last >= 0.04:
                slot.markdown(text)
                last = time.perf_counter()
        slot.markdown(text)
    else:
        slot = box.empty()
        text = ""
        for piece in chunks():
            text += piece
            slot.markdown(text)
    rendered = time.time()
    out = os.environ.get("STREAM_BENCH_OUT")
    if out:
        result = {
            "renderer": renderer,
            "shape": shape,
            "script_start": script_start,
            "chunk_times": chunk_times,
            "rendered": rendered,
            "text": "".join(pieces),
        }
        target = Path(out) / f"{run_id}.json"
        target.with_suffix(".tmp").write_text(json.dumps(result), encoding="utf-8")
        target.with_suffix(".tmp").replace(target)
