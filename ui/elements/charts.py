"""Plotly charts built from run records. Plotly is imported inside each function,
so pages that draw no chart never pay for the import.

Every chart reads at a glance on a projector and on a phone: a short title that
wraps instead of running off the chart, no toolbar over it (``CHART_CONFIG``),
legends below the plot, labels that never sit on each other, one colour per mode
on every chart, and failed calls kept in their place, marked with a pattern and
a red outline.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from chains.models import provider_of_record
from chains.modes import MODES, run_title
from chains.timing import CallTiming, RunRecord
from ui.format import seconds, seconds_template
from ui.i18n import t

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from chains.experiments.steps import StepTrace


#: One colour per mode on every chart. Red (``FAILURE_COLOUR``) means a failure, and nothing else.
MODE_COLOURS: dict[str, str] = {mode.id: mode.colour for mode in MODES.values()}
FAILURE_COLOUR = "#ff4b4b"
FIRST_TOKEN_COLOUR = "#1f2937"
_OTHER_MODE_COLOUR = "#7f7f7f"
#: The pattern of a failed call's bar (with a red outline); its colour stays its mode's.
FAILURE_PATTERN = "x"

#: ``st.plotly_chart(figure, config=CHART_CONFIG)``: no toolbar over the title, no scroll-zoom trap on phones.
CHART_CONFIG: dict[str, Any] = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
#: About how many Latin letters a title line holds in a half-width column or on a phone (a Hangul syllable counts 2).
TITLE_COLUMNS = 40
_TITLE_FONT = {"size": 16}
_TITLE_LINE_PX = 22


def show_chart(figure: go.Figure, *, key: str, container: Any = None) -> None:
    """Draw ``figure`` in ``container`` (default: the page) with the app's chart settings, and its text alternative.

    A chart is a canvas and SVG that a screen reader cannot read: the caption
    under it (``chart_summary``) says its key figures in words.
    """
    import streamlit as st

    from chains.security.safe_text import inert_markdown

    target = container if container is not None else st
    target.plotly_chart(figure, key=key, config=CHART_CONFIG)
    summary = chart_summary(figure)
    if summary:
        target.caption(inert_markdown(summary), help=t("a11y.chart_summary_help"))


#: The most figures a chart's text alternative lists; the rest are counted.
SUMMARY_ITEMS = 10


def _plain(text: Any) -> str:
    """A Plotly label as plain text: line breaks as spaces, no tags, entities decoded."""
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", str(text or ""))).split())


def _figure_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value) if isinstance(value, int) else _plain(value)


def _axis_title(axis: Any) -> str:
    return _plain(axis.title.text) if axis is not None and axis.title is not None else ""


def chart_summary(figure: go.Figure) -> str:
    """A chart's key figures in one line of text: its title, then each bar's value or span, each line's range.

    Built from the figure itself, so it can never disagree with what is drawn:
    a bar's own text label when it has one (``1.29 s``), a bar with a base as
    ``start → end``, a line as its first and last points on the axes' titles.
    """
    items: list[str] = []
    x_title, y_title = _axis_title(figure.layout.xaxis), _axis_title(figure.layout.yaxis)
    for trace in figure.data:
        if trace.type == "bar":
            horizontal = trace.orientation == "h"
            categories = list(trace.y if horizontal else trace.x)
            values = list(trace.x if horizontal else trace.y)
            bases = trace.base
            texts = list(trace.text) if isinstance(trace.text, (list, tuple)) else None
            for index, (category, value) in enumerate(zip(categories, values)):
                name = _plain(category) or _plain(trace.name)
                if bases is not None:  # a span: a call, or a step, from its start to its end
                    start = bases[index] if isinstance(bases, (list, tuple)) else bases
                    owner = _plain(trace.name)
                    items.append(f"{owner + ' ' if owner and owner != name else ''}{name}: {seconds(start)} → {seconds(start + value)}")
                elif texts and index < len(texts) and texts[index]:
                    items.append(f"{name}: {_plain(texts[index])}")
                else:
                    items.append(f"{name}: {_figure_text(value)}")
        elif trace.type == "scatter" and trace.x is not None and len(trace.x):
            xs, ys = list(trace.x), list(trace.y if trace.y is not None else [])
            name = _plain(trace.name)
            if trace.mode and "text" in trace.mode and trace.text is not None:
                labels = trace.text if isinstance(trace.text, (list, tuple)) else [trace.text]
                items.extend(f"{name + ': ' if name else ''}{_plain(label)}" for label in labels if label)
            elif ys and len(xs) == 1:
                items.append(f"{name or '—'}: {x_title} {_figure_text(xs[0])}")
            elif ys:
                items.append(
                    f"{name or '—'}: {x_title} {_figure_text(xs[0])}–{_figure_text(xs[-1])}, {y_title} {_figure_text(ys[0])}–{_figure_text(ys[-1])}"
                )
    if not items:
        return ""
    shown = items[:SUMMARY_ITEMS]
    more = len(items) - len(shown)
    text = "; ".join(shown) + (" " + t("a11y.chart_more", count=more) if more else "")
    title = _plain(figure.layout.title.text) if figure.layout.title is not None else ""
    return t("a11y.chart_summary", title=title or t("a11y.chart"), figures=text)


def mode_colour(mode: str) -> str:
    """The colour of ``mode`` on every chart (grey for an unknown mode, never red)."""
    registered = MODES.get(mode)
    return registered.colour if registered else _OTHER_MODE_COLOUR


def _text_columns(text: str) -> int:
    """The width of ``text`` in Latin-letter columns: wide (Hangul, CJK) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def wrap_text(text: str, columns: int) -> str:
    """Break ``text`` between words into lines of at most ``columns`` (joined with ``<br>``, as Plotly wants)."""
    lines: list[str] = []
    for word in text.split():
        if lines and _text_columns(lines[-1]) + 1 + _text_columns(word) <= columns:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def chart_title(text: str) -> dict[str, Any]:
    """A title that fits its chart: wrapped between words, left-aligned, in a readable size."""
    return {"text": wrap_text(text, TITLE_COLUMNS), "x": 0, "xanchor": "left", "font": _TITLE_FONT}


def _top_margin(title: dict[str, Any], extra: int = 0) -> int:
    """Room above the plot for the title's lines (and ``extra`` pixels, e.g. facet titles)."""
    return 24 + _TITLE_LINE_PX * (title["text"].count("<br>") + 1) + extra


#: Legends go below the plot: beside it they squeeze a phone's chart, above it they meet the title.
_LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0, "title": None}


def _mode_label(record: RunRecord) -> str:
    label = run_title(record, t(f"modes.{record.mode}"))
    tag_key = provider_of_record(record.provider).record_tag_key
    if tag_key:  # a replay never passes for a live run
        label += " · " + t(tag_key)
    return label


def _wall_bars_figure(records: list[RunRecord], labels: list[str], hover_names: list[str]) -> go.Figure:
    """Horizontal bars, one per run, each labelled on the y axis and with its time at its end.

    Horizontal, so that seven modes' names never run together on a phone, and
    every time label has the room to the right of its bar.
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    for record, label, hover in zip(records, labels, hover_names):
        figure.add_trace(
            go.Bar(
                y=[label],
                x=[record.wall_s],
                orientation="h",
                name=_mode_label(record),
                marker={"color": mode_colour(record.mode)},
                text=[seconds(record.wall_s)],
                textposition="outside",
                textfont={"size": 12},
                cliponaxis=False,
                customdata=[[record.n]],
                hovertemplate=f"{hover}<br>{seconds_template('%{x:.2f}')}<br>{t('charts.n')}: %{{customdata[0]}}<extra></extra>",
            )
        )
    title = chart_title(t("charts.wall_title"))
    longest = max((record.wall_s for record in records), default=1.0) or 1.0
    figure.update_layout(
        title=title,
        showlegend=False,
        # Each row as tall as its label's lines (a nickname, a model and a Korean mode name wrap onto several):
        # a fixed 46 px let a 4-line label run into the next one.
        height=_top_margin(title) + 70 + sum(max(46, 17 * (label.count("<br>") + 1) + 16) for label in labels),
        margin={"t": _top_margin(title), "b": 10, "l": 10, "r": 10},
        xaxis={"title": t("charts.wall_s"), "range": [0, longest * 1.3]},
        yaxis={"type": "category", "autorange": "reversed", "categoryorder": "array", "categoryarray": labels},
        bargap=0.3,
    )
    return figure


def wall_time_bars(records: list[RunRecord]) -> go.Figure:
    """A bar per run: its wall time, labelled with the mode; a streamed run's label also says when its first token came."""
    firsts = [_first_token_s(record) for record in records]
    labels = [
        wrap_text(_mode_label(record), 16) + ("" if first is None else "<br>" + t("polish.first_token_line", value=seconds(first)))
        for record, first in zip(records, firsts)
    ]
    figure = _wall_bars_figure(records, labels, [_mode_label(record) for record in records])
    _mark_first_tokens(figure, labels, firsts)
    return figure


def _first_token_s(record: RunRecord) -> float | None:
    """When the run's first token arrived (its earliest call's), or ``None`` when nothing streamed."""
    firsts = [call.first_token_s for call in record.calls if call.first_token_s is not None]
    return min(firsts) if firsts else None


def _mark_first_tokens(figure: go.Figure, labels: list[str], firsts: list[float | None]) -> None:
    """Mark, on each streamed run's bar, when its first token arrived: where streaming *feels* done.

    The mark has no text of its own (text beside it sat on the neighbouring
    bar); the bar's axis label says the time, and so does the mark's hover.
    """
    import plotly.graph_objects as go

    marks = [(label, first) for label, first in zip(labels, firsts) if first is not None]
    if not marks:
        return
    figure.add_trace(
        go.Scatter(
            y=[label for label, _ in marks],
            x=[first for _, first in marks],
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 30, "color": FIRST_TOKEN_COLOUR, "line": {"width": 3, "color": FIRST_TOKEN_COLOUR}},
            text=[t("polish.first_token_line", value=seconds(first)) for _, first in marks],
            name=t("charts.first_token_name"),
            hovertemplate="%{text}<extra></extra>",
        )
    )


def _call_bars(record: RunRecord, y_labels: list[str], *, name: str) -> go.Bar:
    """One horizontal bar per call, from its start to its end, in the run's order.

    A failed or interrupted call keeps its row and its mode's colour, and is
    marked with a pattern and a red outline: the loop's staircase stays whole.
    """
    import plotly.graph_objects as go

    from chains.security.safe_text import plotly_text

    colour = mode_colour(record.mode)
    failed = [not call.ok for call in record.calls]
    return go.Bar(
        y=y_labels,
        x=[max(call.latency_s, 0.001) for call in record.calls],
        base=[call.start_s for call in record.calls],
        orientation="h",
        name=name,
        showlegend=False,
        marker={
            "color": colour,
            "pattern": {"shape": [FAILURE_PATTERN if bad else "" for bad in failed], "fgcolor": FAILURE_COLOUR, "solidity": 0.35},
            "line": {"color": [FAILURE_COLOUR if bad else colour for bad in failed], "width": [2.5 if bad else 0 for bad in failed]},
        },
        # Topics may come from an imported file: escaped, so plotly shows them as text (no tags, no links).
        customdata=[[plotly_text(call.topic[:40]), call.start_s, call.end_s, _status(call)] for call in record.calls],
        hovertemplate="%{customdata[0]}<br>"
        + seconds_template("%{customdata[1]:.2f}")
        + " → "
        + seconds_template("%{customdata[2]:.2f}")
        + "<br>%{customdata[3]}<extra>"
        + name
        + "</extra>",
    )


def _status(call: CallTiming) -> str:
    return t("charts.ok") if call.ok else t("charts.failed")


def _facet_title(record: RunRecord) -> str:
    """A timeline row's title: the mode, and how many of its calls failed (their bars are marked)."""
    failed = sum(1 for call in record.calls if not call.ok)
    title = _mode_label(record)
    return title + (" · " + t("polish.failed_marked", count=failed) if failed else "")


def call_timeline(records: list[RunRecord], title: str | None = None) -> go.Figure:
    """A Gantt chart: one bar per call from its start to its end, one row per call, one panel per run.

    The loop's bars line up one after another; batch's bars lie on top of each other.

    Args:
        records: The runs, one panel each, top to bottom.
        title: The chart's title (default: the loop-and-batch one).

    Returns:
        The figure.
    """
    from plotly.subplots import make_subplots

    rows = max(len(records), 1)
    calls = sum(len(record.calls) for record in records)
    chart_title_ = chart_title(title or t("charts.timeline_title"))
    height = _top_margin(chart_title_) + 60 + 34 * rows + 24 * calls
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.3, 44 / height) if rows > 1 else 0.0,
        row_heights=[max(len(record.calls), 1) for record in records] or None,
        subplot_titles=[_facet_title(record) for record in records],
    )
    for row, record in enumerate(records, start=1):
        labels = [f"#{call.index + 1} {call.topic[:18]}" for call in record.calls]
        figure.add_trace(_call_bars(record, labels, name=_mode_label(record)), row=row, col=1)
        figure.update_yaxes(autorange="reversed", type="category", categoryorder="array", categoryarray=labels, row=row, col=1)
    # Facet titles above their panel, at its left: never under a legend, never off the chart.
    figure.for_each_annotation(lambda annotation: annotation.update(x=0, xanchor="left", font={"size": 13}))
    figure.update_xaxes(title=t("charts.seconds_from_start"), row=rows, col=1)
    figure.update_layout(
        title=chart_title_,
        showlegend=False,
        height=height,
        margin={"t": _top_margin(chart_title_, 22), "b": 10, "l": 10, "r": 10},
        barmode="overlay",
    )
    return figure


def token_arrival(records: list[RunRecord]) -> go.Figure:
    """Cumulative chunks against time from the run's start, one line per streamed call.

    The x axis starts at 0 (the moment Run was pressed), so the wait before the
    first token, the thing a stream does *not* shorten, is part of the picture;
    each call's line starts at 0 tokens when the call starts, and its first token
    is marked. Colours are the modes' colours.
    """
    import plotly.graph_objects as go

    figure = _arrival_figure()
    for record in records:
        colour = mode_colour(record.mode)
        for call in record.calls:
            if not call.chunks:
                continue
            name = f"{_mode_label(record)} · {call.topic[:20]}"
            figure.add_trace(_arrival_line(call, colour, hover_name=name, mode="lines+markers", marker={"size": 3, "color": colour}, name=name))
    firsts = [call.first_token_s for record in records for call in record.calls if call.chunks and call.first_token_s is not None]
    if firsts:
        figure.add_trace(
            go.Scatter(
                x=firsts,
                y=[1] * len(firsts),
                mode="markers",
                marker={"symbol": "diamond", "size": 10, "color": FIRST_TOKEN_COLOUR},
                text=[t("charts.first_token", seconds=first) for first in firsts],
                # One stream: its legend entry says when; several: the hover does.
                name=t("polish.first_token_line", value=seconds(firsts[0])) if len(firsts) == 1 else t("charts.first_token_name"),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    return figure


def _arrival_line(call: CallTiming, colour: str, *, hover_name: str, **style: Any) -> go.Scatter:
    """One streamed call's cumulative chunks against time: 0 tokens at its start, one step up per chunk.

    Args:
        call: A call with chunks.
        colour: The line's colour (its mode's).
        hover_name: What the hover box names the line.
        **style: The rest of the trace (``mode``, ``name``, legend settings).

    Returns:
        The trace.
    """
    import plotly.graph_objects as go

    times = [call.start_s, *(t_s for t_s, _ in call.chunks)]
    return go.Scatter(
        x=times,
        y=list(range(len(times))),
        line={"shape": "hv", "color": colour},
        hovertemplate=seconds_template("%{x:.2f}") + " · %{y}<extra>" + hover_name + "</extra>",
        **style,
    )


def _arrival_figure() -> go.Figure:
    """An empty token-arrival chart with its title, axes and legend.

    The layout is given to the constructor: ``update_layout`` with the same
    nested dicts costs about 5 ms more (Plotly walks every key path against the
    template), for each chart of every run on a busy server.
    """
    import plotly.graph_objects as go

    title = chart_title(t("charts.arrival_title"))
    return go.Figure(
        layout={
            "title": title,
            "xaxis": {"title": t("charts.seconds_from_start"), "rangemode": "tozero"},
            "yaxis": {"title": t("charts.cumulative_tokens"), "rangemode": "tozero"},
            "margin": {"t": _top_margin(title), "b": 10, "l": 10, "r": 10},
            "legend": _LEGEND_BELOW,
        }
    )


# ----------------------------------------------------------- the Lab and History pages
def sweep_chart(summary: list, *, pool_size: int | None, max_n: int) -> go.Figure:
    """The seed's chart: mean wall time (error bars: std) against N, loop and batch, with fitted lines.

    Args:
        summary: ``chains.experiments.sweep.summarize_sweep`` rows.
        pool_size: Calls one batch wave holds; a vertical line marks it when it is below ``max_n``.
        max_n: The sweep's largest N (the x axis runs from 1 to it).

    Returns:
        The figure.
    """
    import plotly.graph_objects as go

    from chains.experiments.sweep import SWEEP_MODES, fit_slope

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
                hovertemplate="N=%{x}<br>"
                + seconds_template("%{y:.3f}")
                + " ± "
                + seconds_template("%{customdata[0]:.3f}")
                + "<br>"
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
    title = chart_title(t("lab.chart_title"))
    figure.update_layout(
        title=title,
        xaxis={"title": t("lab.chart_n"), "dtick": 1, "range": [0.5, max_n + 0.5]},
        yaxis={"title": t("lab.chart_mean"), "rangemode": "tozero"},
        legend=_LEGEND_BELOW,
        margin={"t": _top_margin(title, 10), "b": 10, "l": 10, "r": 10},
        height=480,
    )
    return figure


def runs_wall_bars(records: list[RunRecord], labels: list[str]) -> go.Figure:
    """A bar per run, each with its own label (runs of the same mode stay apart), in its mode's colour."""
    return _wall_bars_figure(records, [wrap_text(label, 22) for label in labels], [f"{label} · {_mode_label(record)}" for record, label in zip(records, labels)])


def runs_timeline(records: list[RunRecord], labels: list[str]) -> go.Figure:
    """Every call of several runs on one time axis (each from its own run's start), in its mode's colour.

    The runs keep their order, and each run's calls keep theirs, failed ones included.
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    categories: list[str] = []
    for record, label in zip(records, labels):
        rows = [f"{label} · #{call.index + 1}" for call in record.calls]
        categories.extend(rows)
        figure.add_trace(_call_bars(record, rows, name=label))
    title = chart_title(t("history.timeline_title"))
    figure.update_yaxes(autorange="reversed", title=None, type="category", categoryorder="array", categoryarray=categories)
    figure.update_xaxes(title=t("charts.seconds_from_start"))
    figure.update_layout(
        title=title,
        showlegend=False,
        barmode="overlay",
        margin={"t": _top_margin(title), "b": 10, "l": 10, "r": 10},
        height=max(300, _top_margin(title) + 70 + 22 * len(categories)),
    )
    return figure


def runs_token_arrival(records: list[RunRecord], labels: list[str]) -> go.Figure:
    """Cumulative chunks against time for every streamed call of several runs, in the runs' mode colours."""
    from chains.security.safe_text import plotly_text

    figure = _arrival_figure()
    named: set[tuple[str, str]] = set()
    for record, label in zip(records, labels):
        colour = mode_colour(record.mode)
        group = (record.owner, record.mode)  # who made it, then how: a group's members side by side
        legend = f"{plotly_text(record.owner)} · {_mode_label(record)}" if record.owner else _mode_label(record)
        for call in record.calls:
            if not call.chunks:
                continue
            hover_name = f"{label} · #{call.index + 1} {plotly_text(call.topic[:20])}"
            figure.add_trace(
                _arrival_line(
                    call,
                    colour,
                    hover_name=hover_name,
                    mode="lines",
                    name=legend,
                    legendgroup=f"{record.mode}:{record.owner}",
                    showlegend=group not in named,
                )
            )
            named.add(group)
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
        trace: A ``chains.experiments.steps.StepTrace``.

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
    categories = [whole, *rows]
    if model is not None and model.first_chunk_s is not None:
        # On a row of its own under the model's: on the model's bar, the marker and its label sat on the bar's
        # own "671.4 ms" text (on a phone the ◆ covered it).
        first_row = "◆ " + t("charts.first_token_name")
        categories.insert(categories.index(rows[trace.steps.index(model)]) + 1, first_row)
        figure.add_trace(
            go.Scatter(
                x=[model.first_chunk_s],
                y=[first_row],
                mode="markers+text",
                marker={"symbol": "diamond", "size": 13, "color": FIRST_TOKEN_COLOUR},
                text=[t("charts.first_token", seconds=model.first_chunk_s)],
                textposition="middle right",
                textfont={"color": FIRST_TOKEN_COLOUR},
                cliponaxis=False,
                name=t("charts.first_token_name"),
                hovertemplate=t("charts.first_token_name") + ": %{x:.3f} s<extra></extra>",
            )
        )
    figure.update_yaxes(autorange="reversed", type="category", title=None, categoryorder="array", categoryarray=categories)
    title = chart_title(t("inside.chart_title"))
    figure.update_layout(
        title=title,
        xaxis={"title": t("charts.seconds_from_start"), "rangemode": "tozero"},
        barmode="overlay",
        showlegend=False,
        margin={"t": _top_margin(title), "b": 10, "r": 60},
        height=max(280, 110 + 44 * len(categories)),
    )
    return figure
