"""A verdict (``chains.experiments.verdicts``) as the page's sentence, in the user's language, with the measured numbers.

The pages never write a lesson of their own: they pass their records to a
verdict and show what this module makes of it. A verdict that draws no lesson
(failed calls, not enough data) gets a short note instead, and no speed-up.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from chains.experiments.verdicts import (
    FLAT,
    FLAT_BEYOND_POOL,
    FLAT_WITHIN_CALLS,
    MIN_CALLS_TOGETHER,
    QUEUED,
    SAME_TOTAL,
    SAME_TOTAL_TOLERANCE,
    SERVER_LIMITED,
    SHARED_COMPUTE,
    THROTTLED,
    WAVES,
    AsyncVerdict,
    BatchVerdict,
    CompareVerdict,
    LabVerdict,
    StreamVerdict,
)
from chains.timing import RunRecord
from ui.format import seconds
from ui.i18n import t

#: The cases whose sentence is followed by a "Try:" line.
_TRY = {WAVES: "verdict.try_waves", QUEUED: "verdict.try_queued", SHARED_COMPUTE: "verdict.try_shared_compute", THROTTLED: "verdict.try_throttled"}


def status_state(*records: RunRecord) -> str:
    """``st.status``'s state for finished runs: ``complete`` (a green ✓) only when every call succeeded."""
    return "complete" if all(record.error_count == 0 for record in records) else "error"


def done_label(record: RunRecord, done_key: str, **values: Any) -> str:
    """A finished run's status label: the page's ``done_key`` (with ``seconds`` and ``values``) when its calls succeeded, else how many failed."""
    failed = record.error_count
    mode = t(f"modes.{record.mode}")
    if failed and failed == record.n:
        return t("verdict.status_failed" if record.n > 1 else "verdict.one_failed", mode=mode, total=record.n)
    if failed:
        return t("verdict.status_some_failed", mode=mode, failed=failed, total=record.n, seconds=seconds(record.wall_s))
    return t(done_key, seconds=seconds(record.wall_s), **values)


def batch_figures(verdict: BatchVerdict) -> dict[str, Any]:
    """The placeholders every batch sentence may use."""
    return {
        "mode": verdict.mode,
        "n": verdict.compared,
        "pool": verdict.pool,
        "waves": verdict.waves,
        "server": verdict.server_at_once or 1,
        "batch_s": verdict.batch_s or 0.0,
        "one_call_s": verdict.one_call_s or 0.0,
        "times": verdict.times_one_call or 0.0,
        "mean_s": verdict.mean_call_s or 0.0,
        "slowdown": verdict.slowdown or 0.0,
        "start_spread": verdict.start_spread_s,
        "end_spread": verdict.end_spread_s,
        "retries": verdict.retries,
        "refused": verdict.rate_limited,
        "flat_within": FLAT_WITHIN_CALLS,
    }


def batch_sentence(verdict: BatchVerdict, *, with_loop: bool = True, with_try: bool = True) -> str | None:
    """The lesson of a batch verdict, or ``None`` when it draws none.

    Args:
        verdict: The verdict.
        with_loop: Add the loop's sentence (when a loop was measured).
        with_try: Add what to try, for the cases that have something to try.
    """
    if not verdict.teaches:
        return None
    figures = batch_figures(verdict)
    text = t(f"verdict.batch_{verdict.case}", **figures)
    if verdict.case == QUEUED and verdict.first_token_spread_s is not None:
        text += t("verdict.first_tokens_part", spread=verdict.first_token_spread_s)
    if with_loop and verdict.loop_s is not None:
        text += t("verdict.loop_part", loop_s=verdict.loop_s)
    if verdict.partial:
        text += "\n\n" + t("verdict.partial", compared=verdict.compared, n=verdict.n)
    if with_try and verdict.case in _TRY:
        text += "\n\n" + t(_TRY[verdict.case], n=verdict.n, pool=verdict.pool)
    return text


def no_lesson_note(verdict: BatchVerdict) -> str:
    """What a batch verdict that draws no lesson says instead."""
    if verdict.case == "not_enough_data":
        return t("verdict.not_enough_data", min=MIN_CALLS_TOGETHER)
    return t("verdict.failed", failed=verdict.failed, n=verdict.n)


def show_batch_lesson(verdict: BatchVerdict, container: Any = None) -> None:
    """The Batch page's lesson (markdown), or the note that there is none (a warning)."""
    target = container if container is not None else st
    sentence = batch_sentence(verdict)
    if sentence is None and verdict.case == "not_enough_data":  # nothing went wrong: say what would teach
        target.info(no_lesson_note(verdict), icon="✍️")
    elif sentence is None:
        target.warning(no_lesson_note(verdict), icon="🚫")
    else:
        target.markdown(sentence)


def server_value(verdict: BatchVerdict) -> str:
    """The server's measured concurrency for a metric: ``at most 1``, or ``—`` when the timings don't show it."""
    if not verdict.teaches or verdict.server_at_once is None or verdict.case == THROTTLED:
        return "—"
    return t("verdict.server_value", server=verdict.server_at_once)


def stream_share_sentence(verdict: StreamVerdict) -> str | None:
    """The Stream tab's lesson: the first token's share of the total, measured; ``None`` when it draws none."""
    if not verdict.teaches or verdict.ttft_s is None or verdict.stream_s is None:
        return None
    return t("verdict.stream_share", ttft=verdict.ttft_s, share=verdict.first_token_share or 0.0, total=verdict.stream_s)


def race_sentence(verdict: StreamVerdict) -> str | None:
    """The race's lesson: stream against invoke, measured; ``None`` when it draws none."""
    if not verdict.teaches or verdict.plain_s is None:
        return None
    figures = {
        "ttft": verdict.ttft_s or 0.0,
        "share": verdict.first_token_share or 0.0,
        "stream_s": verdict.stream_s or 0.0,
        "invoke_s": verdict.plain_s,
        "ratio": verdict.ratio or 0.0,
        "tolerance": SAME_TOTAL_TOLERANCE,
    }
    key = {SAME_TOTAL: "verdict.race_same", QUEUED: "verdict.race_queued"}.get(verdict.case, "verdict.race_different")
    return t(key, **figures)


def compare_sentences(verdict: CompareVerdict) -> list[str]:
    """The Compare page's claims, one sentence each, from their verdicts; empty when there is no lesson."""
    if not verdict.teaches:
        return []
    sentences = [t("verdict.compare_loop", loop_s=verdict.loop_s, n=verdict.n, times=verdict.loop_times_invoke or 0.0, invoke_s=verdict.invoke_s)]
    batch = verdict.batch
    if batch.case == FLAT:
        sentences.append(t("verdict.compare_batch_flat", **batch_figures(batch)))
    elif batch.teaches:
        sentences.append(batch_sentence(batch, with_loop=False) or "")
    stream = verdict.stream
    if stream.teaches and stream.plain_s is not None:
        figures = {"stream_s": stream.stream_s, "invoke_s": stream.plain_s, "ttft": stream.ttft_s or 0.0, "ratio": stream.ratio or 0.0}
        if stream.case == SAME_TOTAL:
            sentences.append(t("verdict.compare_stream_same", **figures))
        else:
            sentences.append(t("verdict.compare_stream_different", **figures, tolerance=SAME_TOTAL_TOLERANCE))
    return sentences


def async_sentences(verdict: AsyncVerdict, pool: int) -> list[str]:
    """The Async page's lesson: ainvoke against invoke, abatch's overlap, and the server's case when it is not flat."""
    if not verdict.teaches:
        return []
    if verdict.invoke_s is None:
        first = t("verdict.async_alone", ainvoke_s=verdict.ainvoke_s)
    else:
        key = "verdict.async_same" if verdict.ainvoke_same else "verdict.async_different"
        first = t(key, ainvoke_s=verdict.ainvoke_s, invoke_s=verdict.invoke_s, tolerance=SAME_TOTAL_TOLERANCE)
    overlap = t(
        "verdict.async_overlap",
        open_at_once=verdict.open_at_once,
        n=verdict.n,
        max_concurrency=verdict.max_concurrency,
        capped_at_once=verdict.capped_at_once,
        waves=verdict.capped_waves,
        pool=pool,
    )
    sentences = [first + " " + overlap]
    if verdict.astream_same is not None:
        key = "verdict.async_astream_same" if verdict.astream_same else "verdict.async_astream_different"
        sentences[0] += " " + t(key, n=verdict.n, astream_s=verdict.astream_s, stream_s=verdict.stream_s)
    server = verdict.server
    if server is not None and server.teaches and server.case != FLAT:
        sentences.append(batch_sentence(server, with_loop=False) or "")
    return sentences


def lab_sentence(verdict: LabVerdict) -> tuple[str, str]:
    """The Lab's lesson and its kind: ``("info", text)``, or ``("warning", text)`` when the sweep draws none."""
    if verdict.case == WAVES:
        return "info", t("lab.lesson_waves", pool=verdict.pool, flat=verdict.flat_until, knee=verdict.leaves_at)
    if verdict.case == SERVER_LIMITED:
        return "info", t("verdict.lab_server_limited", pool=verdict.pool, flat=verdict.flat_until, knee=verdict.leaves_at)
    if verdict.case == FLAT_BEYOND_POOL:
        return "info", t("seed.lab_flat_beyond_pool", pool=verdict.pool, k=verdict.largest_n)
    if verdict.case == FLAT:
        return "info", t("lab.lesson_flat", pool=verdict.pool, k=verdict.largest_n)
    if verdict.case == "failed":
        return "warning", t("verdict.lab_failed")
    return "warning", t("verdict.lab_not_enough_data")
