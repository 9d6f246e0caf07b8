"""Lab: the N-sweep. A for loop of invoke against batch for N = 1..k, with repeats and error bars.

The sweep runs step by step (one loop or batch run per step), and keeps its
progress in the session after every step. Streamlit stops a running script at
its next element update when the user clicks a widget, and reruns it: the Stop
button's callback then marks the sweep stopped, and the points measured so far
stay. Any other click (or leaving the page) only pauses it: the next run of
this page resumes at the next step.
"""

import streamlit as st

from chains.experiments.sweep import (
    MAX_SWEEP_K,
    MAX_SWEEP_REPEATS,
    estimate_sweep_calls,
    estimate_sweep_seconds,
    plan_sweep,
    sweep_pool_size,
)
from ui.elements.code import show_code
from ui.elements.inputs import topics_input
from ui.i18n import t
from ui.navigation import route_through_entrypoint
from ui.run import prepare_run, show_input_notes
from ui.sections.lab import (
    SETTINGS_KEY,
    START_KEY,
    current_sweep,
    request_start,
    request_stop,
    run_sweep,
    seconds_per_call,
    show_sweep_results,
    start_sweep,
    sweep_caption,
)

route_through_entrypoint()  # a deep link on a fresh server runs this page alone: go through streamlit_app.py

SWEEP_NOTES_KEY = "_lab_notes_sweep"
"""The sweep that the last Run started in this session: the input notes belong to it."""
DEFAULT_SETTINGS = {"sweep_k": 8, "sweep_repeats": 2, "sweep_capped": False, "sweep_max_concurrency": 4}

st.title(t("lab.title"))
st.markdown(t("lab.intro"))
text = topics_input("lab", height=120, help_text=t("lab.topics_help"))

sweep = current_sweep()  # after a reload, the last sweep comes back from History
running = bool(sweep and sweep.running)

# Streamlit forgets a widget's value while another page is shown, so the settings
# are kept under a plain key too; a sweep in progress shows its own settings.
saved = st.session_state.setdefault(SETTINGS_KEY, dict(DEFAULT_SETTINGS))
if running:
    saved.update(sweep_k=sweep.k, sweep_repeats=sweep.repeats, sweep_capped=bool(sweep.max_concurrency))
    if sweep.max_concurrency:
        saved["sweep_max_concurrency"] = sweep.max_concurrency
for key, value in saved.items():
    if running or key not in st.session_state:
        st.session_state[key] = value

settings_left, settings_right = st.columns(2)
with settings_left:
    k = st.slider(t("lab.k"), 1, MAX_SWEEP_K, key="sweep_k", disabled=running, help=t("lab.k_help"))
    repeats = st.slider(t("lab.repeats"), 1, MAX_SWEEP_REPEATS, key="sweep_repeats", disabled=running, help=t("lab.repeats_help"))
with settings_right:
    capped = st.toggle(t("batch.set_max_concurrency"), key="sweep_capped", disabled=running, help=t("batch.max_concurrency_help"))
    max_concurrency = st.slider("max_concurrency", 1, 32, key="sweep_max_concurrency", disabled=running) if capped else None
    pool = sweep_pool_size(max_concurrency)
    if max_concurrency is None:
        st.caption(t("lab.pool_default", pool=pool))
    else:
        st.caption(t("lab.pool_capped", pool=pool))
saved.update(sweep_k=k, sweep_repeats=repeats, sweep_capped=capped)
if max_concurrency is not None:
    saved["sweep_max_concurrency"] = max_concurrency

calls = estimate_sweep_calls(k, repeats)
estimate = t("lab.estimate", calls=calls, runs=len(plan_sweep(k, repeats)), k=k, repeats=repeats)
per_call = seconds_per_call()
if per_call is not None:
    estimate += " " + t("lab.estimate_time", seconds=estimate_sweep_seconds(k, repeats, per_call, pool))
st.markdown(estimate)
st.caption(t("lab.cap", max_k=MAX_SWEEP_K, max_repeats=MAX_SWEEP_REPEATS, max_calls=estimate_sweep_calls(MAX_SWEEP_K, MAX_SWEEP_REPEATS)))

button_row = st.container(horizontal=True)
messages = st.container()
if st.session_state.pop(START_KEY, False) and not running:
    with messages:
        prepared = prepare_run(text, planned_calls=calls, largest_run=k)
        if prepared is not None:
            sweep = start_sweep(prepared, k, repeats, max_concurrency)
            running = True
            st.session_state[SWEEP_NOTES_KEY] = sweep
elif sweep is not None and st.session_state.get(SWEEP_NOTES_KEY) is sweep:
    with messages:
        show_input_notes()  # the sweep goes on over several script runs: its topics' notes stay with it

with button_row:
    st.button(t("common.run"), key="run", type="primary", icon="▶️", disabled=running, on_click=request_start)
    st.button(t("lab.stop"), key="stop", icon="⏹️", disabled=not running, on_click=request_stop, help=t("lab.stop_help"))

if running:
    run_sweep(sweep)

if sweep and sweep.points:
    if sweep_caption(sweep):
        st.caption("🕒 " + sweep_caption(sweep))
    show_sweep_results(sweep)

show_code("loop", "batch")
