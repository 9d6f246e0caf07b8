"""Lab: the N-sweep. A for loop of invoke against batch for N = 1..k, with repeats and error bars.

The sweep runs step by step (one loop or batch run per step), and keeps its
progress in the session after every step. Streamlit stops a running script at
its next element update when the user clicks a widget, and reruns it: the Stop
button's callback then marks the sweep stopped, and the points measured so far
stay. Any other click (or leaving the page) only pauses it: the next run of
this page resumes at the next step.
"""

import math
from statistics import median

import streamlit as st

from chains.modes import run_batch, run_loop
from chains.sweep import (
    MAX_SWEEP_K,
    MAX_SWEEP_REPEATS,
    SWEEP_MODES,
    SweepPoint,
    estimate_sweep_calls,
    estimate_sweep_seconds,
    fit_slope,
    flat_until,
    observed_knee,
    summarize_sweep,
    summary_to_frame,
    sweep_pool_size,
    sweep_to_frame,
    sweep_topics,
)
from chains.topics import parse_topics
from chains.tokens import count_tokens
from ui.charts import sweep_chart
from ui.code import show_code
from ui.i18n import t
from ui.inputs import topics_input
from ui.run import history, prepare_run, remember, session_budget
from ui.sidebar import active_settings

SWEEP_KEY = "lab_sweep"
START_KEY = "_lab_start_requested"
SETTINGS_KEY = "_lab_settings"
DEFAULT_SETTINGS = {"sweep_k": 8, "sweep_repeats": 2, "sweep_capped": False, "sweep_max_concurrency": 4}
TYPICAL_JOKE = "What did the chocolate say to the impatient user?\n\nHold on, I'm still streaming!"


def request_start() -> None:
    """The Run button's callback: start a sweep in this run."""
    st.session_state[START_KEY] = True


def request_stop() -> None:
    """The Stop button's callback: it runs before the rerun its click caused, so the sweep ends here."""
    sweep = st.session_state.get(SWEEP_KEY)
    if sweep and sweep["running"]:
        sweep["running"] = False
        sweep["stopped"] = True
        sweep["chain"] = None


def seconds_per_call() -> float | None:
    """A guess at one call's time: this session's measured invoke/loop calls, else the simulator's settings."""
    settings = active_settings().model
    measured = [
        call.latency_s
        for record in history()
        if record.mode in ("invoke", "loop") and record.provider == settings.provider and record.model == settings.model
        for call in record.calls
        if call.ok
    ]
    if measured:
        return median(measured)
    if settings.is_simulated:
        return settings.sim_ttft_s + count_tokens(TYPICAL_JOKE) / settings.sim_tokens_per_s
    return None


def new_sweep(prepared, k: int, repeats: int, max_concurrency: int | None) -> dict:
    """The sweep's state, kept in the session: its plan, its progress and its points."""
    steps = [(n, repeat, mode) for n in range(1, k + 1) for repeat in range(repeats) for mode in SWEEP_MODES]
    return {
        "k": k,
        "repeats": repeats,
        "max_concurrency": max_concurrency,
        "pool": sweep_pool_size(max_concurrency),
        "topics": prepared.topics,
        "chain": prepared.chain,
        "meta": prepared.meta,
        "steps": steps,
        "done": 0,
        "points": [],
        "running": True,
        "stopped": False,
    }


def run_step(sweep: dict, on_call) -> SweepPoint:
    """Run the sweep's next step (a loop or a batch of N topics) and keep its point and record."""
    n, repeat, mode = sweep["steps"][sweep["done"]]
    topics = sweep_topics(sweep["topics"], n, repeat)
    if mode == "loop":
        record = run_loop(sweep["chain"], topics, meta=sweep["meta"], on_result=on_call)
    else:
        record = run_batch(sweep["chain"], topics, max_concurrency=sweep["max_concurrency"], meta=sweep["meta"], on_result=on_call)
    record.label = f"sweep N={n} repeat={repeat + 1}"
    remember(record)
    point = SweepPoint(mode, n, repeat, record.wall_s, record.error_count)
    sweep["points"].append(point)
    sweep["done"] += 1
    return point


def slope_text(summary, mode: str) -> str:
    """A mode's fitted slope as ``0.412 s``, or ``—`` with fewer than two N."""
    try:
        slope, _ = fit_slope(summary, mode)
    except ValueError:
        return "—"
    return f"{slope:.3f} s"


st.title(t("lab.title"))
st.markdown(t("lab.intro"))
text = topics_input("lab", height=120, help_text=t("lab.topics_help"))

sweep = st.session_state.get(SWEEP_KEY)
running = bool(sweep and sweep["running"])

# Streamlit forgets a widget's value while another page is shown, so the settings
# are kept under a plain key too; a sweep in progress shows its own settings.
saved = st.session_state.setdefault(SETTINGS_KEY, dict(DEFAULT_SETTINGS))
if running:
    saved.update(sweep_k=sweep["k"], sweep_repeats=sweep["repeats"], sweep_capped=bool(sweep["max_concurrency"]))
    if sweep["max_concurrency"]:
        saved["sweep_max_concurrency"] = sweep["max_concurrency"]
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
        st.caption(t("lab.pool_default", pool=pool, next=pool + 1))
    else:
        st.caption(t("lab.pool_capped", pool=pool))
saved.update(sweep_k=k, sweep_repeats=repeats, sweep_capped=capped)
if max_concurrency is not None:
    saved["sweep_max_concurrency"] = max_concurrency

calls = estimate_sweep_calls(k, repeats)
estimate = t("lab.estimate", calls=calls, runs=len(SWEEP_MODES) * k * repeats, k=k, repeats=repeats)
per_call = seconds_per_call()
if per_call is not None:
    estimate += " " + t("lab.estimate_time", seconds=estimate_sweep_seconds(k, repeats, per_call, pool))
st.markdown(estimate)
st.caption(t("lab.cap", max_k=MAX_SWEEP_K, max_repeats=MAX_SWEEP_REPEATS, max_calls=estimate_sweep_calls(MAX_SWEEP_K, MAX_SWEEP_REPEATS)))

button_row = st.container(horizontal=True)
messages = st.container()
if st.session_state.pop(START_KEY, False) and not running:
    with messages:
        topic_count = max(1, len(parse_topics(text).topics))
        prepared = None
        active = active_settings()
        budget_ok = True
        if active.uses_host_key:
            # The budget's per-run topic limit applies to the largest run, N = k.
            budget = session_budget()
            if k > budget.max_topics_per_run or calls > budget.remaining_calls:
                st.warning(t("budget.exceeded", remaining=budget.remaining_calls, topics=budget.max_topics_per_run), icon="💳")
                budget_ok = False
        if budget_ok:
            prepared = prepare_run(text, calls_per_topic=math.ceil(calls / topic_count))
            if prepared is not None and active.uses_host_key:
                budget.used_calls -= len(prepared.topics) * math.ceil(calls / topic_count) - calls
        if prepared is not None:
            sweep = st.session_state[SWEEP_KEY] = new_sweep(prepared, k, repeats, max_concurrency)
            running = True

with button_row:
    st.button(t("common.run"), key="run", type="primary", icon="▶️", disabled=running, on_click=request_start)
    st.button(t("lab.stop"), key="stop", icon="⏹️", disabled=not running, on_click=request_stop, help=t("lab.stop_help"))

if running:
    total = len(sweep["steps"])
    if sweep["done"]:
        st.caption(t("lab.resuming", done=sweep["done"], total=total))
    progress = st.progress(sweep["done"] / total, text=t("lab.starting"))
    call_note = st.empty()
    live_chart = st.empty()
    while sweep["running"] and sweep["done"] < total:
        n, repeat, mode = sweep["steps"][sweep["done"]]
        progress.progress(
            sweep["done"] / total,
            text=t("lab.progress", done=sweep["done"], total=total, mode=t(f"modes.{mode}"), n=n, repeat=repeat + 1, repeats=sweep["repeats"]),
        )
        finished: list[int] = []

        def on_call(call, n=n) -> None:
            # Every element update is a point where a click (Stop) can interrupt the script.
            finished.append(call.index)
            call_note.caption(t("lab.calls_done", done=len(finished), n=n))

        point = run_step(sweep, on_call)
        if point.mode == SWEEP_MODES[-1]:
            live_chart.plotly_chart(
                sweep_chart(summarize_sweep(sweep["points"]), pool_size=sweep["pool"], max_n=sweep["k"]), key=f"sweep_live_{sweep['done']}"
            )
    sweep["running"] = False
    sweep["chain"] = None
    progress.progress(1.0, text=t("lab.finished"))
    st.rerun()

if sweep and sweep["points"]:
    points = sweep["points"]
    summary = summarize_sweep(points)
    total = len(sweep["steps"])
    if sweep["stopped"]:
        st.warning(t("lab.stopped", done=sweep["done"], total=total), icon="⏹️")
    capped_text = f"max_concurrency={sweep['max_concurrency']}" if sweep["max_concurrency"] else t("lab.unset")
    st.caption(t("lab.sweep_of", k=sweep["k"], repeats=sweep["repeats"], capped=capped_text, runs=len(points)))
    columns = st.columns(4)
    columns[0].metric(t("lab.loop_slope"), slope_text(summary, "loop"), help=t("lab.loop_slope_help"))
    columns[1].metric(t("lab.batch_slope"), slope_text(summary, "batch"), help=t("lab.batch_slope_help"))
    largest = max((row.n for row in summary if row.mode == "batch"), default=None)
    means = {(row.mode, row.n): row.mean_s for row in summary}
    if largest is not None and ("loop", largest) in means and means[("batch", largest)]:
        columns[2].metric(t("lab.ratio", n=largest), f"{means[('loop', largest)] / means[('batch', largest)]:.1f}×", help=t("lab.ratio_help"))
    knee = observed_knee(summary)
    columns[3].metric(t("lab.knee"), f"N = {knee}" if knee else "—", help=t("lab.knee_help"))
    measured_max = max(row.n for row in summary)
    one_wave = [row for row in summary if row.mode == "batch" and row.n <= sweep["pool"]]
    if measured_max > sweep["pool"] and len(one_wave) >= 2:
        st.caption(t("lab.one_wave_slope", pool=sweep["pool"], slope=fit_slope(one_wave, "batch")[0]))
    st.plotly_chart(sweep_chart(summary, pool_size=sweep["pool"], max_n=sweep["k"]), key="sweep_chart")
    flat = flat_until(summary, sweep["pool"])
    if measured_max > sweep["pool"]:
        st.info(t("lab.lesson_waves", pool=sweep["pool"], flat=flat or sweep["pool"]), icon="💡")
    else:
        st.info(t("lab.lesson_flat", pool=sweep["pool"], k=measured_max), icon="💡")
    errors = sum(point.errors for point in points)
    if errors:
        st.warning(t("lab.errors", errors=errors), icon="⚠️")
    with st.expander(t("lab.table"), expanded=False):
        st.dataframe(summary_to_frame(summary), hide_index=True, key="sweep_summary")
    download_row = st.container(horizontal=True)
    download_row.download_button(
        t("lab.download_points"),
        data=sweep_to_frame(points).to_csv(index=False),
        file_name="sweep_points.csv",
        mime="text/csv",
        key="sweep_csv",
        icon="📄",
        on_click="ignore",
    )
    download_row.download_button(
        t("lab.download_summary"),
        data=summary_to_frame(summary).to_csv(index=False),
        file_name="sweep_summary.csv",
        mime="text/csv",
        key="sweep_summary_csv",
        icon="📈",
        on_click="ignore",
    )
    st.caption(t("lab.in_history"))

show_code("loop", "batch")
