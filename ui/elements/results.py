"""Shared displays of finished calls and runs."""

from __future__ import annotations

from typing import Any

import streamlit as st

from chains.models import provider_of_record
from chains.records.metrics import stream_metrics
from chains.records.pricing import run_cost_usd
from chains.security.safe_text import inert_markdown
from chains.timing import CallTiming, RunRecord
from ui.elements.errors import show_call_error
from ui.format import seconds
from ui.i18n import t


def call_status_line(call: CallTiming, finished_order: int | None = None) -> str:
    """A one-line status for a call: icon, topic, latency, and finishing order if known."""
    icon = "✅" if call.ok else ("✂️" if call.interrupted else "❌")
    order = f" · {t('batch.finished_nth', nth=finished_order)}" if finished_order else ""
    return f"{icon} **{inert_markdown(call.topic)}** · {seconds(call.latency_s)}{order}"


def show_call(call: CallTiming, container: Any = None, finished_order: int | None = None) -> None:
    """Show one call: its status line, its answer (or partial answer) and its error."""
    target = container if container is not None else st.container()
    with target.container():
        st.markdown(call_status_line(call, finished_order))
        if call.output:
            st.markdown(inert_markdown(call.output))
        if not call.ok:
            show_call_error(call)


def pending_line(topic: str) -> str:
    """The line shown for a call that has not finished yet."""
    return f"⏳ {inert_markdown(topic)} …"


def show_usage(record: RunRecord) -> None:
    """Show the tokens a run used and, for known OpenAI models, its estimated cost."""
    if record.input_tokens is None and record.output_tokens is None:
        st.caption(t("usage.not_reported"))
        return
    cost = run_cost_usd(record)
    text = t("usage.tokens", input=record.input_tokens or 0, output=record.output_tokens or 0)
    if cost is not None:
        text += " · " + t("usage.cost", cost=cost)
    elif provider_of_record(record.provider).is_free:
        text += " · " + t("usage.simulated" if provider_of_record(record.provider).is_simulated else "usage.own_cpu")
    st.caption(f"🧮 {t(f'modes.{record.mode}')} · {text}")  # named: Batch shows the loop's and batch's


def show_stream_metrics(call: CallTiming) -> None:
    """Show TTFT, total time, tokens/s and inter-token latency of a streamed call."""
    metrics = stream_metrics(call)
    columns = st.columns(5)
    columns[0].metric(t("metrics.ttft"), seconds(metrics.ttft_s) if metrics.ttft_s is not None else "—", help=t("metrics.ttft_help"))
    columns[1].metric(t("metrics.total"), seconds(metrics.total_s))
    columns[2].metric(t("metrics.tps"), f"{metrics.tokens_per_s:.0f}" if metrics.tokens_per_s else "—", help=t("metrics.tps_help"))
    columns[3].metric(t("metrics.mean_itl"), f"{metrics.mean_itl_s * 1000:.0f} ms" if metrics.mean_itl_s is not None else "—", help=t("metrics.itl_help"))
    columns[4].metric(t("metrics.p95_itl"), f"{metrics.p95_itl_s * 1000:.0f} ms" if metrics.p95_itl_s is not None else "—")
    st.caption(t("metrics.chunks", count=metrics.chunk_count))
