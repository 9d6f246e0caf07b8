"""Plotly charts built from run records. Plotly is imported inside each function,
so pages that draw no chart never pay for the import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chains.timing import RunRecord
from ui.i18n import t

if TYPE_CHECKING:
    import plotly.graph_objects as go


def _mode_label(record: RunRecord) -> str:
    label = t(f"modes.{record.mode}")
    if record.max_concurrency:
        label += f" (max_concurrency={record.max_concurrency})"
    return label


def wall_time_bars(records: list[RunRecord]) -> go.Figure:
    """A bar per run: its wall time, labelled with the mode and the number of topics."""
    import plotly.express as px

    data = {
        "mode": [_mode_label(record) for record in records],
        "wall_s": [record.wall_s for record in records],
        "n": [record.n for record in records],
    }
    figure = px.bar(
        data,
        x="mode",
        y="wall_s",
        text=[f"{value:.2f} s" for value in data["wall_s"]],
        hover_data=["n"],
        color="mode",
        labels={"mode": t("charts.mode"), "wall_s": t("charts.wall_s"), "n": t("charts.n")},
        title=t("charts.wall_title"),
    )
    figure.update_layout(showlegend=False, margin={"t": 50, "b": 10})
    return figure


def call_timeline(records: list[RunRecord]) -> go.Figure:
    """A Gantt chart: one bar per call from its start to its end, one row per call, per run.

    The loop's bars line up one after another; batch's bars lie on top of each other.
    """
    import plotly.express as px

    rows = []
    for record in records:
        for call in record.calls:
            rows.append(
                {
                    "run": _mode_label(record),
                    "call": f"#{call.index + 1} {call.topic[:24]}",
                    "start_s": call.start_s,
                    "duration_s": max(call.latency_s, 0.001),
                    "end_s": call.end_s,
                    "first_token_s": call.first_token_s,
                    "status": t("charts.ok") if call.ok else t("charts.failed"),
                }
            )
    figure = px.bar(
        rows,
        base="start_s",
        x="duration_s",
        y="call",
        color="status",
        facet_row="run",
        orientation="h",
        hover_data={"start_s": ":.3f", "end_s": ":.3f", "duration_s": ":.3f"},
        labels={"duration_s": t("charts.seconds_from_start"), "call": t("charts.call"), "status": t("charts.status")},
        title=t("charts.timeline_title"),
        color_discrete_map={t("charts.ok"): "#3d9df3", t("charts.failed"): "#ff4b4b"},
        height=max(300, 90 + 26 * len(rows)),
    )
    figure.update_yaxes(autorange="reversed", matches=None, title=None)
    figure.for_each_annotation(lambda annotation: annotation.update(text=annotation.text.split("=", 1)[-1]))
    figure.update_layout(margin={"t": 50, "b": 10})
    return figure


def token_arrival(records: list[RunRecord]) -> go.Figure:
    """Cumulative chunks against time, one line per streamed call: the shape of a stream."""
    import plotly.express as px

    rows = []
    for record in records:
        for call in record.calls:
            for count, (t_s, _) in enumerate(call.chunks, start=1):
                rows.append({"call": f"{_mode_label(record)} · {call.topic[:20]}", "t_s": t_s, "tokens": count})
    figure = px.line(
        rows,
        x="t_s",
        y="tokens",
        color="call",
        markers=True,
        labels={"t_s": t("charts.seconds_from_start"), "tokens": t("charts.cumulative_tokens"), "call": t("charts.call")},
        title=t("charts.arrival_title"),
    )
    figure.update_traces(line_shape="hv", marker={"size": 3})
    figure.update_layout(margin={"t": 50, "b": 10})
    return figure
