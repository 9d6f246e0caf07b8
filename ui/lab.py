"""The Lab's sweep: its state in the session, its steps, its progress and its results.

The sweep runs step by step (one loop or batch run per step) and keeps its
progress in the session after every step, so a click that interrupts the script
loses nothing. ``pages/lab.py`` lays out the widgets and calls these.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from statistics import median
from typing import Any

import streamlit as st

from chains.modes import run_batch, run_loop
from chains.sweep import (
    SWEEP_MODES,
    SweepPoint,
    batch_knee,
    fit_slope,
    summarize_sweep,
    summary_to_frame,
    sweep_pool_size,
    sweep_to_frame,
    sweep_topics,
)
from chains.timing import LAB_SWEEP_ORIGIN, RunRecord
from chains.tokens import count_tokens
from ui.charts import show_chart, sweep_chart
from ui.format import seconds
from ui.i18n import t
from ui.run import PageRun, PreparedRun, history, start_keeping
from ui.sidebar import active_settings

SWEEP_KEY = "lab_sweep"
START_KEY = "_lab_start_requested"
SETTINGS_KEY = "_lab_settings"

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


def new_sweep(prepared: PreparedRun, k: int, repeats: int, max_concurrency: int | None) -> dict[str, Any]:
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
        # Every run of this sweep shares it: History shows the sweep as one entry.
        "group_id": "g" + uuid.uuid4().hex[:11],
        # What the results are labelled with: when, and on which model.
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "provider": prepared.meta.provider,
        "model": prepared.meta.model,
    }


def sweep_from_history(records: list[RunRecord]) -> dict[str, Any] | None:
    """The latest Lab sweep in History, as sweep state for ``show_sweep_results`` (after a reload).

    Its points are its completed runs, read from their fields (mode, n, wall
    time, errors; the repeat is their order), never from their labels. A run
    that was stopped half-way is no point, so the sweep then shows as stopped.

    Args:
        records: This browser's runs, oldest first.

    Returns:
        The sweep's state (not running, no chain), or ``None`` if History holds no sweep.
    """
    group = next((record.group_id for record in reversed(records) if record.origin == LAB_SWEEP_ORIGIN and record.group_id), None)
    if group is None:
        return None
    runs = [record for record in records if record.group_id == group]
    points: list[SweepPoint] = []
    seen: dict[tuple[str, int], int] = {}
    for record in runs:
        if record.stopped:
            continue
        repeat = seen.get((record.mode, record.n), 0)
        seen[(record.mode, record.n)] = repeat + 1
        points.append(SweepPoint(record.mode, record.n, repeat, record.wall_s, record.error_count))
    if not points:
        return None
    k = max(point.n for point in points)
    repeats = max(seen.values())
    max_concurrency = runs[0].max_concurrency
    planned = [(n, repeat, mode) for n in range(1, k + 1) for repeat in range(repeats) for mode in SWEEP_MODES]
    stopped = any(record.stopped for record in runs) or len(points) < len(planned)
    return {
        "k": k,
        "repeats": repeats,
        "max_concurrency": max_concurrency,
        "pool": sweep_pool_size(max_concurrency),
        "topics": [],
        "chain": None,
        "meta": None,
        "steps": planned,
        "done": len(points),
        "points": points,
        "running": False,
        "stopped": stopped,
        "group_id": group,
        "started_at": runs[0].started_at,
        "provider": runs[0].provider,
        "model": runs[0].model,
        "restored": True,
    }


def run_step(sweep: dict[str, Any], on_call: Any, keeper: PageRun | None = None) -> SweepPoint:
    """Run the sweep's next step (a loop or a batch of N topics) and keep its point and record.

    Args:
        sweep: The sweep's state.
        on_call: Called as each call of the step finishes.
        keeper: Where the step's run goes (made before the sweep's loop: a stopped
            script cannot read the session any more).
    """
    keeper = keeper or start_keeping()
    n, repeat, mode = sweep["steps"][sweep["done"]]
    topics = sweep_topics(sweep["topics"], n, repeat)

    def in_sweep(record: RunRecord) -> RunRecord:
        record.label = f"sweep N={n} repeat={repeat + 1}"
        record.origin = LAB_SWEEP_ORIGIN
        record.group_id = sweep.setdefault("group_id", "g" + uuid.uuid4().hex[:11])
        return record

    def keep_stopped_step(record: RunRecord) -> None:
        # A click stops the script inside on_call: the step's partial run goes to History, marked stopped.
        keeper.on_stopped(in_sweep(record))

    if mode == "loop":
        record = run_loop(sweep["chain"], topics, meta=sweep["meta"], on_result=on_call, on_stopped=keep_stopped_step)
    else:
        record = run_batch(
            sweep["chain"],
            topics,
            max_concurrency=sweep["max_concurrency"],
            meta=sweep["meta"],
            on_result=on_call,
            on_stopped=keep_stopped_step,
        )
    keeper.keep(in_sweep(record))
    point = SweepPoint(mode, n, repeat, record.wall_s, record.error_count)
    sweep["points"].append(point)
    sweep["done"] += 1
    return point


def sweep_caption(sweep: dict[str, Any]) -> str:
    """Which sweep the results come from: ``Sweep run at 14:05:31 · simulator · gpt-4o-mini-like`` (+ from History)."""
    from ui.run import local_time

    if not sweep.get("started_at"):
        return ""
    text = t("store.sweep_at", time=local_time(sweep["started_at"]), provider=sweep.get("provider", ""), model=sweep.get("model", ""))
    return text + (" · " + t("store.sweep_restored") if sweep.get("restored") else "")


def slope_text(summary: list[Any], mode: str) -> str:
    """A mode's fitted slope as ``0.412 s``, or ``—`` with fewer than two N."""
    try:
        slope, _ = fit_slope(summary, mode)
    except ValueError:
        return "—"
    return seconds(slope, 3)


def run_sweep(sweep: dict) -> None:
    """Run the sweep's remaining steps with a progress bar and a live chart, then rerun the page.

    Every element update is a point where Streamlit can stop the script for a
    click: Stop (see ``request_stop``) ends the sweep there; any other click
    pauses it, and the next run of the page resumes at the next step.
    """
    total = len(sweep["steps"])
    if sweep["done"]:
        st.caption(t("lab.resuming", done=sweep["done"], total=total))
    progress = st.progress(sweep["done"] / total, text=t("lab.starting"))
    call_note = st.empty()
    live_chart = st.empty()
    keeper = start_keeping()
    while sweep["running"] and sweep["done"] < total:
        n, repeat, mode = sweep["steps"][sweep["done"]]
        progress.progress(
            sweep["done"] / total,
            text=t(
                "lab.progress",
                done=sweep["done"],
                total=total,
                mode=t(f"modes.{mode}"),
                n=n,
                repeat=repeat + 1,
                repeats=sweep["repeats"],
            ),
        )
        finished: list[int] = []

        def on_call(call, n=n) -> None:
            # Every element update is a point where a click (Stop) can interrupt the script.
            finished.append(call.index)
            call_note.caption(t("lab.calls_done", done=len(finished), n=n))

        point = run_step(sweep, on_call, keeper)
        if point.mode == SWEEP_MODES[-1]:
            show_chart(
                sweep_chart(summarize_sweep(sweep["points"]), pool_size=sweep["pool"], max_n=sweep["k"]),
                key=f"sweep_live_{sweep['done']}",
                container=live_chart,
            )
    sweep["running"] = False
    sweep["chain"] = None
    progress.progress(1.0, text=t("lab.finished"))
    st.rerun()


def show_sweep_results(sweep: dict) -> None:
    """The sweep's metrics, chart, lesson, table and downloads (for the points measured so far)."""
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
        columns[2].metric(
            t("lab.ratio", n=largest),
            f"{means[('loop', largest)] / means[('batch', largest)]:.1f}×",
            help=t("lab.ratio_help"),
        )
    knee = batch_knee(summary)
    columns[3].metric(t("lab.knee"), f"N = {knee.leaves_at}" if knee.leaves_at else "—", help=t("lab.knee_help"))
    measured_max = max(row.n for row in summary)
    one_wave = [row for row in summary if row.mode == "batch" and row.n <= sweep["pool"]]
    if measured_max > sweep["pool"] and len(one_wave) >= 2:
        st.caption(t("lab.one_wave_slope", pool=sweep["pool"], slope=fit_slope(one_wave, "batch")[0]))
    show_chart(sweep_chart(summary, pool_size=sweep["pool"], max_n=sweep["k"]), key="sweep_chart")
    if knee.leaves_at is not None:
        st.info(t("lab.lesson_waves", pool=sweep["pool"], flat=knee.flat_until, knee=knee.leaves_at), icon="💡")
    elif measured_max > sweep["pool"]:
        st.info(t("seed.lab_flat_beyond_pool", pool=sweep["pool"], k=measured_max), icon="💡")
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
