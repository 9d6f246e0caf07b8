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
    _mark_first_tokens(figure, records, data["mode"])
    figure.update_layout(showlegend=False, margin={"t": 50, "b": 10})
    return figure


def _mark_first_tokens(figure: go.Figure, records: list[RunRecord], labels: list[str]) -> None:
    """Mark, on each streamed run's bar, when its first token arrived: where streaming *feels* done."""
    import plotly.graph_objects as go

    marks = [
        (label, min(firsts))
        for label, record in zip(labels, records)
        if (firsts := [call.first_token_s for call in record.calls if call.first_token_s is not None])
    ]
    if not marks:
        return
    figure.add_trace(
        go.Scatter(
            x=[label for label, _ in marks],
            y=[first for _, first in marks],
            mode="markers+text",
            marker={"symbol": "line-ew-open", "size": 44, "color": "#1f2937", "line": {"width": 3, "color": "#1f2937"}},
            text=[t("charts.first_token", seconds=first) for _, first in marks],
            # Below the mark: the bar's own label sits at its top.
            textposition="bottom center",
            textfont={"color": "#1f2937"},
            name=t("charts.first_token_name"),
            hovertemplate=t("charts.first_token_name") + ": %{y:.2f} s<extra></extra>",
        )
    )


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


# ----------------------------------------------------------- the Lab and History pages
SWEEP_COLOURS = {"loop": "#ff8c42", "batch": "#3d9df3"}


def sweep_chart(summary: list, *, pool_size: int | None, max_n: int) -> go.Figure:
    """The seed's chart: mean wall time (error bars: std) against N, loop and batch, with fitted lines.

    Args:
        summary: ``chains.sweep.summarize_sweep`` rows.
        pool_size: Calls one batch wave holds; a vertical line marks it when it is below ``max_n``.
        max_n: The sweep's largest N (the x axis runs from 1 to it).

    Returns:
        The figure.
    """
    import plotly.graph_objects as go

    from chains.sweep import SWEEP_MODES, fit_slope

    figure = go.Figure()
    for mode in SWEEP_MODES:
        rows = sorted((row for row in summary if row.mode == mode), key=lambda row: row.n)
        if not rows:
            continue
        colour = SWEEP_COLOURS.get(mode)
        figure.add_trace(
            go.Scatter(
                x=[row.n for row in rows],
                y=[row.mean_s for row in rows],
                error_y={"type": "data", "array": [row.std_s for row in rows], "visible": True, "thickness": 1.2},
                mode="lines+markers",
                name=t(f"modes.{mode}"),
                line={"color": colour, "width": 2},
                marker={"size": 8},
                customdata=[[row.std_s, row.count] for row in rows],
                hovertemplate="N=%{x}<br>%{y:.3f} s ± %{customdata[0]:.3f} s<br>"
                + t("lab.chart_repeats")
                + ": %{customdata[1]}<extra></extra>",
            )
        )
        try:
            slope, intercept = fit_slope(summary, mode)
        except ValueError:
            continue
        xs = [rows[0].n, rows[-1].n]
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=[slope * x + intercept for x in xs],
                mode="lines",
                name=t("lab.chart_fit", mode=t(f"modes.{mode}"), slope=slope),
                line={"color": colour, "dash": "dash", "width": 1.5},
                hoverinfo="skip",
            )
        )
    if pool_size and pool_size < max_n:
        figure.add_vline(
            x=pool_size,
            line={"color": "#7f7f7f", "dash": "dot", "width": 1.5},
            annotation_text=t("lab.chart_waves", pool=pool_size),
            annotation_position="top left",
        )
    figure.update_layout(
        title=t("lab.chart_title"),
        xaxis={"title": t("lab.chart_n"), "dtick": 1, "range": [0.5, max_n + 0.5]},
        yaxis={"title": t("lab.chart_mean"), "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
        margin={"t": 90, "b": 10},
        height=460,
    )
    return figure


def runs_wall_bars(records: list[RunRecord], labels: list[str]) -> go.Figure:
    """A bar per run, each with its own label (runs of the same mode stay apart)."""
    import plotly.express as px

    data = {
        "run": labels,
        "wall_s": [record.wall_s for record in records],
        "mode": [_mode_label(record) for record in records],
        "n": [record.n for record in records],
    }
    figure = px.bar(
        data,
        x="run",
        y="wall_s",
        color="mode",
        text=[f"{value:.2f} s" for value in data["wall_s"]],
        hover_data=["n"],
        labels={"run": t("history.chart_run"), "wall_s": t("charts.wall_s"), "mode": t("charts.mode"), "n": t("charts.n")},
        title=t("charts.wall_title"),
    )
    figure.update_xaxes(type="category", title=None)
    figure.update_layout(margin={"t": 50, "b": 10}, showlegend=False)
    return figure


def runs_timeline(records: list[RunRecord], labels: list[str]) -> go.Figure:
    """Every call of several runs on one time axis (each from its own run's start), coloured by run."""
    import plotly.express as px

    rows = []
    for record, label in zip(records, labels):
        for call in record.calls:
            rows.append(
                {
                    "run": label,
                    "call": f"{label} · #{call.index + 1}",
                    "start_s": call.start_s,
                    "duration_s": max(call.latency_s, 0.001),
                    "end_s": call.end_s,
                    "topic": call.topic[:40],
                    "status": t("charts.ok") if call.ok else t("charts.failed"),
                }
            )
    failures = {"pattern_shape": "status", "pattern_shape_map": {t("charts.ok"): "", t("charts.failed"): "x"}}
    figure = px.bar(
        rows,
        base="start_s",
        x="duration_s",
        y="call",
        color="run",
        **(failures if any(row["status"] != t("charts.ok") for row in rows) else {}),
        orientation="h",
        hover_data={"topic": True, "start_s": ":.3f", "end_s": ":.3f", "duration_s": ":.3f", "status": True},
        labels={"duration_s": t("charts.seconds_from_start"), "call": t("charts.call"), "run": t("history.chart_run")},
        title=t("history.timeline_title"),
        height=max(300, 110 + 22 * len(rows)),
    )
    figure.update_yaxes(autorange="reversed", title=None, type="category")
    figure.update_layout(margin={"t": 50, "b": 10}, legend={"title": None})
    return figure


def runs_token_arrival(records: list[RunRecord], labels: list[str]) -> go.Figure:
    """Cumulative chunks against time for every streamed call of several runs, coloured by run."""
    import plotly.express as px

    rows = []
    for record, label in zip(records, labels):
        for call in record.calls:
            for count, (t_s, _) in enumerate(call.chunks, start=1):
                rows.append({"run": label, "call": f"{label} · #{call.index + 1} {call.topic[:20]}", "t_s": t_s, "tokens": count})
    figure = px.line(
        rows,
        x="t_s",
        y="tokens",
        color="run",
        line_group="call",
        hover_name="call",
        labels={"t_s": t("charts.seconds_from_start"), "tokens": t("charts.cumulative_tokens"), "run": t("history.chart_run")},
        title=t("charts.arrival_title"),
    )
    figure.update_traces(line_shape="hv")
    figure.update_layout(margin={"t": 50, "b": 10}, legend={"title": None})
    return figure
