"""The bare Stream page: ``bench/load.py``'s same-run baseline (not part of the lab).

What it does, and only that: a Run button (key ``run``) and one bordered
container (key ``stream_output``, the Stream page's answer box). On Run it builds
the same chain on the same model as the app's Stream page with the sidebar's
defaults (the seed's chain, ``chains.joke.build_joke_chain``, around the
simulator with the default latency profile, its jitter and seed 42, the answer
length and shape that the query string names: ``?length=medium&shape=paragraphs``,
the values of the Stream page's radios) and streams the example topic (English)
into that container with ``ui.elements.live.LiveMarkdown``, the app's own append-only,
throttled renderer: the least a page needs so that a long answer costs O(n)
bytes, not O(n²) (a throttled ``st.empty()`` would make the floor higher than
the app's, not lower). ``close()`` ends with the canonical ``st.markdown``, as on
the Stream page.

What it does not do: no ``st.set_page_config``, no navigation, sidebar, CSS,
title, text, topic box, radios, tabs, chunk view, metrics, chart or chart
warm-up, no run records, run store, query-string upkeep, budget or host checks,
no callbacks on the model call (``chain.stream``, not ``chains.modes.run_stream``),
and it keeps nothing between runs. Everything the app draws around the stream
is what ``bench.load`` measures against this page.

Two server settings the app also has, made once after the first run's
imports: ``gc.freeze()`` (see ``ui.style.freeze_startup_objects``), so that
Python's full collections do not walk LangChain's modules in the middle of a
crowd, and the app's GIL switch interval (``ui.style.shorten_gil_switch_interval``).
Without them the floor would be raised by the interpreter's settings, and the
app's ratio to it would look better than it is. ``.streamlit/config.toml`` (``postScriptGC = false``) is
read from the working directory, the checkout, as for the app.
"""

from __future__ import annotations

import gc

import streamlit as st

from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.simulation.joke_book import REPLY_SHAPES
from chains.simulation.profiles import DEFAULT_PROFILE
from ui.elements.live import LiveMarkdown
from ui.i18n import load_strings
from ui.style import shorten_gil_switch_interval

#: The Stream page's answer lengths (``pages/stream.py``, ``ANSWER_LENGTHS``): minimum output tokens.
ANSWER_LENGTHS = {"short": None, "medium": 300, "long": 1000}


@st.cache_resource
def _freeze_imports_once() -> bool:
    """Leave the imported modules out of later full collections, and shorten the GIL's switch interval, once per server (as the app does)."""
    gc.collect()
    gc.freeze()
    shorten_gil_switch_interval()
    return True


length = st.query_params.get("length", "medium")
shape = st.query_params.get("shape", REPLY_SHAPES[0])
run_clicked = st.button("Run", key="run")
output = st.container(key="stream_output", border=True)
if run_clicked and length in ANSWER_LENGTHS and shape in REPLY_SHAPES:
    settings = ModelSettings.simulator(
        DEFAULT_PROFILE, model=f"simulated-{DEFAULT_PROFILE}", sim_min_output_tokens=ANSWER_LENGTHS[length], sim_shape=shape
    )
    chain = build_joke_chain(make_model(settings))
    live = LiveMarkdown(output)
    for piece in chain.stream(load_strings("en")["examples.topic"]):
        live.append(piece)
    live.close()
    _freeze_imports_once()
