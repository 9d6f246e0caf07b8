"""Plotly charts built from run records. Plotly is imported inside each function,
so pages that draw no chart never pay for the import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chains.modes import MODES, run_title
from chains.timing import RunRecord
from ui.i18n import t

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from chains.steps import StepTrace


#: One colour per mode on every chart. Red (``FAILURE_COLOUR``) means a failure, and nothing else.
MODE_COLOURS: dict[str, str] = {mode.id: mode.colour for mode in MODES.values()}
FAILURE_COLOUR = "#ff4b4b"
FIRST_TOKEN_COLOUR = "#1f2937"
_OTHER_MODE_COLOUR = "#7f7f7f"


def mode_colour(mode: str) -> str:
    """The colour of ``mode`` on every chart (grey for an unknown mode, never red)."""
    registered = MODES.get(mode)
    return registered.colour if registered else _OTHER_MODE_COLOUR


def _colour_map(records: list[RunRecord], labels: list[str]) -> dict[str, str]:
    """``{label: colour of the record's mode}`` for a plotly ``color_discrete_map``."""
    return {label: mode_colour(record.mode) for record, label in zip(records, labels)}


def _mode_label(record: RunRecord) -> str:
    label = run_title(record, t(f"modes.{record.mode}"))
    if record.provider == "replay":  # chains.replay.REPLAY_PROVIDER: a replay never passes for a live run
        label += " · " + t("replay.chart_tag")
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
        color_discrete_map=_colour_map(records, data["mode"]),
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
            marker={"symbol": "line-ew-open", "size": 44, "color": FIRST_TOKEN_COLOUR, "line": {"width": 3, "color": FIRST_TOKEN_COLOUR}},
            text=[t("charts.first_token", seconds=first) for _, first in marks],
            # Below the mark: the bar's own label sits at its top.
            textposition="bottom center",
            textfont={"color": FIRST_TOKEN_COLOUR},
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
                    "status": _mode_label(record) if call.ok else t("charts.failed"),
                }
            )
    colours = _colour_map(records, [_mode_label(record) for record in records])
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
        color_discrete_map={**colours, t("charts.failed"): FAILURE_COLOUR},
        height=max(300, 90 + 26 * len(rows)),
    )
    figure.update_yaxes(autorange="reversed", matches=None, title=None)
    figure.for_each_annotation(lambda annotation: annotation.update(text=annotation.text.split("=", 1)[-1]))
    figure.update_layout(margin={"t": 50, "b": 10}, legend={"title": None})
    return figure


def token_arrival(records: list[RunRecord]) -> go.Figure:
    """Cumulative chunks against time from the run's start, one line per streamed call.

    The x axis starts at 0 (the moment Run was pressed), so the wait before the
    first token, the thing a stream does *not* shorten, is part of the picture;
    each call's line starts at 0 tokens when the call starts, and its first token
    is marked. Colours are the modes' colours.
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    for record in records:
        colour = mode_colour(record.mode)
        for call in record.calls:
            if not call.chunks:
                continue
            name = f"{_mode_label(record)} · {call.topic[:20]}"
            times = [call.start_s, *(t_s for t_s, _ in call.chunks)]
            figure.add_trace(
                go.Scatter(
                    x=times,
                    y=list(range(len(times))),
                    mode="lines+markers",
                    line={"shape": "hv", "color": colour},
                    marker={"size": 3, "color": colour},
                    name=name,
                    hovertemplate="%{x:.2f} s · %{y}<extra>" + name + "</extra>",
                )
            )
    firsts = [call.first_token_s for record in records for call in record.calls if call.chunks and call.first_token_s is not None]
    if firsts:
        figure.add_trace(
            go.Scatter(
                x=firsts,
                y=[1] * len(firsts),
                mode="markers+text" if len(firsts) == 1 else "markers",
                marker={"symbol": "diamond", "size": 10, "color": FIRST_TOKEN_COLOUR},
                text=[t("charts.first_token", seconds=first) for first in firsts],
                textposition="middle right",
                textfont={"color": FIRST_TOKEN_COLOUR},
                name=t("charts.first_token_name"),
                hovertemplate=t("charts.first_token_name") + ": %{x:.2f} s<extra></extra>",
            )
        )
    figure.update_layout(
        title=t("charts.arrival_title"),
        xaxis={"title": t("charts.seconds_from_start"), "rangemode": "tozero"},
        yaxis={"title": t("charts.cumulative_tokens"), "rangemode": "tozero"},
        margin={"t": 50, "b": 10},
        legend={"title": None},
    )
    return figure


# ----------------------------------------------------------- the Lab and History pages
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
        colour = mode_colour(mode)
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
        color_discrete_map=_colour_map(records, data["mode"]),
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
                    "colour": _mode_label(record) if call.ok else t("charts.failed"),
                }
            )
    colours = _colour_map(records, [_mode_label(record) for record in records])
    figure = px.bar(
        rows,
        base="start_s",
        x="duration_s",
        y="call",
        color="colour",
        color_discrete_map={**colours, t("charts.failed"): FAILURE_COLOUR},
        orientation="h",
        hover_data={"run": True, "topic": True, "start_s": ":.3f", "end_s": ":.3f", "duration_s": ":.3f", "status": True, "colour": False},
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
            starts_at_zero = [(call.start_s, "")] if call.chunks else []
            for count, (t_s, _) in enumerate([*starts_at_zero, *call.chunks]):
                rows.append(
                    {
                        "run": label,
                        "mode": _mode_label(record),
                        "call": f"{label} · #{call.index + 1} {call.topic[:20]}",
                        "t_s": t_s,
                        "tokens": count,
                    }
                )
    figure = px.line(
        rows,
        x="t_s",
        y="tokens",
        color="mode",
        color_discrete_map=_colour_map(records, [_mode_label(record) for record in records]),
        line_group="call",
        hover_name="call",
        labels={"t_s": t("charts.seconds_from_start"), "tokens": t("charts.cumulative_tokens"), "mode": t("charts.mode")},
        title=t("charts.arrival_title"),
    )
    figure.update_traces(line_shape="hv")
    figure.update_xaxes(rangemode="tozero")
    figure.update_layout(margin={"t": 50, "b": 10}, legend={"title": None})
    return figure


# ----------------------------------------------------------- the Inside page
#: One colour per kind of step; the model keeps the streaming colour, since it is where the tokens come from.
_STEP_COLOURS: dict[str, str] = {
    "parallel": MODE_COLOURS["batch"],
    "passthrough": MODE_COLOURS["abatch"],
    "prompt": MODE_COLOURS["invoke"],
    "model": MODE_COLOURS["stream"],
    "parser": MODE_COLOURS["loop"],
}


def step_timeline(trace: StepTrace) -> go.Figure:
    """The steps of one call on a time axis: one bar per runnable, the model's first token marked.

    Rows go down in the order the steps started; a runnable inside another (the
    map's ``RunnablePassthrough``) is indented under it. Each bar is labelled
    with its duration and its share of the whole call. A step that never ended
    (the call failed) is red.

    Args:
        trace: A ``chains.steps.StepTrace``.

    Returns:
        The figure.
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    rows = [f"{'└ ' * step.depth}{trace.number(step)}. {step.name}" for step in trace.steps]
    whole = f"0. {trace.root_name or 'chain'}"
    figure.add_trace(
        go.Bar(
            y=[whole],
            x=[max(trace.total_s, 1e-4)],
            base=[0.0],
            orientation="h",
            marker={"color": "rgba(127,127,127,0.35)"},
            text=[f"{trace.total_s * 1000:.1f} ms"],
            textposition="inside",
            name=t("inside.chart_whole"),
            hovertemplate=t("inside.chart_whole") + ": %{x:.4f} s<extra></extra>",
        )
    )
    for row, step in zip(rows, trace.steps):
        share = trace.share(step)
        colour = _STEP_COLOURS.get(step.kind, _OTHER_MODE_COLOUR) if step.finished else FAILURE_COLOUR
        figure.add_trace(
            go.Bar(
                y=[row],
                # A step of a few microseconds still gets a visible sliver.
                x=[max(step.duration_s, trace.total_s * 0.004, 1e-5)],
                base=[step.start_s],
                orientation="h",
                marker={"color": colour},
                text=[f"{step.duration_s * 1000:.1f} ms · {share:.0%}"],
                textposition="outside" if share < 0.5 else "inside",
                cliponaxis=False,
                name=t(f"inside.kind_{step.kind}"),
                customdata=[[step.start_s, step.end_s, step.duration_s * 1000, share, step.chunks_in, step.chunks_out]],
                hovertemplate=(
                    f"{t(f'inside.kind_{step.kind}')}<br>"
                    f"{t('inside.col_start_ms')}: %{{customdata[0]:.4f}} s → %{{customdata[1]:.4f}} s<br>"
                    f"{t('inside.col_duration_ms')}: %{{customdata[2]:.2f}} · %{{customdata[3]:.1%}}<br>"
                    f"{t('inside.col_chunks_in')}: %{{customdata[4]}} · {t('inside.col_chunks_out')}: %{{customdata[5]}}"
                    "<extra></extra>"
                ),
                showlegend=False,
            )
        )
    model = trace.model_step()
    if model is not None and model.first_chunk_s is not None:
        row = rows[trace.steps.index(model)]
        figure.add_trace(
            go.Scatter(
                x=[model.first_chunk_s],
                y=[row],
                mode="markers+text",
                marker={"symbol": "diamond", "size": 13, "color": FIRST_TOKEN_COLOUR},
                text=[t("charts.first_token", seconds=model.first_chunk_s)],
                textposition="top center",
                textfont={"color": FIRST_TOKEN_COLOUR},
                name=t("charts.first_token_name"),
                hovertemplate=t("charts.first_token_name") + ": %{x:.3f} s<extra></extra>",
            )
        )
    figure.update_yaxes(autorange="reversed", type="category", title=None, categoryorder="array", categoryarray=[whole, *rows])
    figure.update_layout(
        title=t("inside.chart_title"),
        xaxis={"title": t("charts.seconds_from_start"), "rangemode": "tozero"},
        barmode="overlay",
        showlegend=False,
        margin={"t": 50, "b": 10, "r": 60},
        height=max(280, 110 + 44 * (len(rows) + 1)),
    )
    return figure
