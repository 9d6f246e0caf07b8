"""The Lab's sweep on the page: where it is kept, its progress and its results.

The sweep itself is ``chains.experiments.sweep.SweepState`` (one run per step, resumable);
it is kept in the session, so a click that interrupts the script between two
steps loses nothing. This module only draws it and drives it; ``pages/lab.py``
lays out the widgets and calls these.
"""

from __future__ import annotations

from statistics import median
from typing import Any

import streamlit as st

from chains.experiments.sweep import (
    SWEEP_MODES,
    SweepState,
    batch_knee,
    fit_slope,
    summarize_sweep,
    summary_to_frame,
    sweep_to_frame,
)
from chains.experiments.verdicts import lab_verdict
from chains.security.safe_text import plain_markdown
from chains.simulation.profiles import typical_joke_seconds
from chains.timing import CallTiming
from ui.elements.charts import show_chart, sweep_chart
from ui.elements.verdicts import lab_sentence
from ui.format import seconds
from ui.i18n import t
from ui.run import PreparedRun
from ui.runs.keeping import history, start_keeping
from ui.sidebar import active_settings

SWEEP_KEY = "lab_sweep"
START_KEY = "_lab_start_requested"
SETTINGS_KEY = "_lab_settings"


def request_start() -> None:
    """The Run button's callback: start a sweep in this run."""
    st.session_state[START_KEY] = True


def request_stop() -> None:
    """The Stop button's callback: it runs before the rerun its click caused, so the sweep ends here."""
    sweep: SweepState | None = st.session_state.get(SWEEP_KEY)
    if sweep is not None:
        sweep.stop()


def start_sweep(prepared: PreparedRun, k: int, repeats: int, max_concurrency: int | None) -> SweepState:
    """Start a sweep on the prepared run's chain and topics, and keep it in the session."""
    sweep = SweepState.start(prepared.chain, prepared.topics, k, repeats, max_concurrency=max_concurrency, meta=prepared.meta)
    st.session_state[SWEEP_KEY] = sweep
    return sweep


def current_sweep() -> SweepState | None:
    """This session's sweep; after a reload, the last one in History."""
    sweep = st.session_state.get(SWEEP_KEY)
    return sweep if sweep is not None else SweepState.from_records(history())


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
        return typical_joke_seconds(settings.sim_ttft_s, settings.sim_tokens_per_s)
    return None


def sweep_caption(sweep: SweepState) -> str:
    """Which sweep the results come from: ``Sweep run at 14:05:31 · simulator · gpt-4o-mini-like`` (+ from History)."""
    from ui.format import local_time, provider_name

    if not sweep.started_at:
        return ""
    text = t("store.sweep_at", time=local_time(sweep.started_at), provider=plain_markdown(provider_name(sweep.provider)), model=plain_markdown(sweep.model))
    return text + (" · " + t("store.sweep_restored") if sweep.restored else "")


def slope_text(summary: list[Any], mode: str) -> str:
    """A mode's fitted slope as ``0.412 s``, or ``—`` with fewer than two N."""
    try:
        slope, _ = fit_slope(summary, mode)
    except ValueError:
        return "—"
    return seconds(slope, 3)


def run_sweep(sweep: SweepState) -> None:
    """Run the sweep's remaining steps with a progress bar and a live chart, then rerun the page.

    Every element update is a point where Streamlit can stop the script for a
    click: Stop (see ``request_stop``) ends the sweep there; any other click
    pauses it, and the next run of the page resumes at the next step.
    """
    if sweep.done:
        st.caption(t("lab.resuming", done=sweep.done, total=sweep.total))
    progress = st.progress(sweep.done / sweep.total, text=t("lab.starting"))
    call_note = st.empty()
    live_chart = st.empty()
    keeper = start_keeping()  # made before the loop: a stopped script cannot read the session any more
    while sweep.running and (step := sweep.next_step) is not None:
        progress.progress(
            sweep.done / sweep.total,
            text=t(
                "lab.progress",
                done=sweep.done,
                total=sweep.total,
                mode=t(f"modes.{step.mode}"),
                n=step.n,
                repeat=step.repeat + 1,
                repeats=sweep.repeats,
            ),
        )
        finished: list[int] = []

        def on_call(call: CallTiming, n: int = step.n, finished: list[int] = finished) -> None:
            # Every element update is a point where a click (Stop) can interrupt the script.
            finished.append(call.index)
            call_note.caption(t("lab.calls_done", done=len(finished), n=n))

        point, record = sweep.run_next(on_call=on_call, on_stopped=keeper.on_stopped)
        keeper.keep(record)
        if point.mode == SWEEP_MODES[-1]:
            show_chart(
                sweep_chart(summarize_sweep(sweep.points), pool_size=sweep.pool, max_n=sweep.k),
                key=f"sweep_live_{sweep.done}",
                container=live_chart,
            )
    progress.progress(1.0, text=t("lab.finished"))
    st.rerun()


def show_sweep_results(sweep: SweepState) -> None:
    """The sweep's metrics, chart, lesson, table and downloads (for the points measured so far)."""
    points = sweep.points
    summary = summarize_sweep(points)
    total = sweep.total
    if sweep.stopped:
        st.warning(t("lab.stopped", done=sweep.done, total=total), icon="⏹️")
    capped_text = f"max_concurrency={sweep.max_concurrency}" if sweep.max_concurrency else t("lab.unset")
    st.caption(t("lab.sweep_of", k=sweep.k, repeats=sweep.repeats, capped=capped_text, runs=len(points)))
    columns = st.columns(4)
    columns[0].metric(t("lab.loop_slope"), slope_text(summary, "loop"), help=t("lab.loop_slope_help"))
    columns[1].metric(t("lab.batch_slope"), slope_text(summary, "batch"), help=t("lab.batch_slope_help"))
    largest = max((row.n for row in summary if row.mode == "batch"), default=None)
    means = {(row.mode, row.n): row.mean_s for row in summary}
    verdict = lab_verdict(points, sweep.pool, summary)
    if verdict.teaches and largest is not None and ("loop", largest) in means and means[("batch", largest)]:
        columns[2].metric(
            t("lab.ratio", n=largest),
            f"{means[('loop', largest)] / means[('batch', largest)]:.1f}×",
            help=t("lab.ratio_help"),
        )
    knee = batch_knee(summary)
    columns[3].metric(t("lab.knee"), f"N = {knee.leaves_at}" if knee.leaves_at else "—", help=t("lab.knee_help"))
    measured_max = max(row.n for row in summary)
    one_wave = [row for row in summary if row.mode == "batch" and row.n <= sweep.pool]
    if measured_max > sweep.pool and len(one_wave) >= 2:
        st.caption(t("lab.one_wave_slope", pool=sweep.pool, slope=fit_slope(one_wave, "batch")[0]))
    show_chart(sweep_chart(summary, pool_size=sweep.pool, max_n=sweep.k), key="sweep_chart")
    kind, lesson = lab_sentence(verdict)
    if kind == "info":
        st.info(lesson, icon="💡")
    else:
        st.warning(lesson, icon="🚫")
    errors = sum(point.errors for point in points)
    if errors:
        st.warning(t("lab.errors", errors=errors), icon="⚠️")
    with st.expander(t("lab.table"), expanded=False):
        st.dataframe(summary_to_frame(summary), hide_index=True, key="sweep_summary")
    download_row = st.container(horizontal=True)
    downloads = (
        ("lab.download_points", sweep_to_frame(points), "sweep_points.csv", "sweep_csv", "📄"),
        ("lab.download_summary", summary_to_frame(summary), "sweep_summary.csv", "sweep_summary_csv", "📈"),
    )
    for label_key, frame, file_name, key, icon in downloads:
        download_row.download_button(
            t(label_key), data=frame.to_csv(index=False), file_name=file_name, mime="text/csv", key=key, icon=icon, on_click="ignore"
        )
    st.caption(t("lab.in_history"))
