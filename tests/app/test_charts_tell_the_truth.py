"""Charts tell the truth: arrival from the run's start, one colour per mode, red only for failures, one knee."""

from __future__ import annotations

import asyncio

import pytest

from chains.experiments.sweep import SweepPoint, batch_knee, observed_knee, summarize_sweep
from chains.joke import build_joke_chain
from chains.modes import RunMeta, run_astream, run_batch, run_invoke, run_loop, run_stream
from chains.simulation.simulator import SimulatedChatModel
from chains.timing import RunRecord
from ui.elements.charts import (
    FAILURE_COLOUR,
    FAILURE_PATTERN,
    MODE_COLOURS,
    call_timeline,
    mode_colour,
    runs_timeline,
    runs_token_arrival,
    runs_wall_bars,
    sweep_chart,
    token_arrival,
    wall_time_bars,
)

META = RunMeta(provider="simulator", model="simulated-test")
TOPICS = ["ice cream", "chocolate", "vanilla"]


def chain(**overrides: object):
    fields = {"ttft_s": 0.05, "tokens_per_s": 2000.0, "jitter": 0.0, "seed": 42, **overrides}
    return build_joke_chain(SimulatedChatModel(**fields))


@pytest.fixture(scope="module")
def records() -> list[RunRecord]:
    ok = chain()
    return [
        run_invoke(ok, TOPICS[0], meta=META),
        run_loop(ok, TOPICS, meta=META),
        run_batch(ok, TOPICS, max_concurrency=3, meta=META),
        run_stream(ok, TOPICS[0], meta=META),
    ]


def colours_of(figure) -> dict[str, str]:
    """``{trace name: colour}`` of a figure's bar/line traces."""
    found = {}
    for trace in figure.data:
        colour = getattr(trace.marker, "color", None) if trace.type == "bar" else trace.line.color
        found[trace.name] = colour
    return found


def test_the_palette_has_one_colour_per_mode_and_no_red() -> None:
    assert len(set(MODE_COLOURS.values())) == len(MODE_COLOURS)
    assert FAILURE_COLOUR not in MODE_COLOURS.values()
    assert mode_colour("something else") != FAILURE_COLOUR


def test_wall_bars_colour_each_bar_by_its_mode(records: list[RunRecord]) -> None:
    bars = [trace for trace in wall_time_bars(records).data if trace.type == "bar"]
    assert [trace.marker.color for trace in bars] == [MODE_COLOURS[record.mode] for record in records]


def test_history_bars_use_the_same_colours(records: list[RunRecord]) -> None:
    labels = [f"#{i}" for i in range(len(records))]
    bars = [trace for trace in runs_wall_bars(records, labels).data if trace.type == "bar"]
    assert {trace.marker.color for trace in bars} == {MODE_COLOURS[record.mode] for record in records}


def test_timelines_keep_failed_calls_in_place_in_their_mode_colour_marked(records: list[RunRecord]) -> None:
    failing = run_batch(chain(failure_rate=0.5, seed=3), [f"topic {i}" for i in range(8)], max_concurrency=8, meta=META)
    assert failing.error_count and failing.error_count < 8
    for figure in (call_timeline([records[1], failing]), runs_timeline([records[1], failing], ["a", "b"])):
        colours = {trace.marker.color for trace in figure.data}
        assert colours == {MODE_COLOURS["loop"], MODE_COLOURS["batch"]}, "a run has one colour on every chart"
        (batch_bars,) = [trace for trace in figure.data if trace.marker.color == MODE_COLOURS["batch"]]
        marked = [index for index, shape in enumerate(batch_bars.marker.pattern.shape) if shape == FAILURE_PATTERN]
        failed = [call.index for call in failing.calls if not call.ok]
        assert marked == failed, "each failed call is marked where it is, not moved"
        outlines = list(batch_bars.marker.line.color)
        assert [index for index, colour in enumerate(outlines) if colour == FAILURE_COLOUR] == failed
        assert list(batch_bars.base) == [call.start_s for call in failing.calls], "the calls keep their order"


def test_token_arrival_starts_at_the_runs_start_and_marks_the_first_token(records: list[RunRecord]) -> None:
    stream = records[-1]
    call = stream.calls[0]
    figure = token_arrival([stream])
    line, mark = figure.data
    assert line.x[0] == call.start_s and line.y[0] == 0, "the line starts at 0 tokens when the call starts"
    assert list(line.x[1:]) == [t_s for t_s, _ in call.chunks]
    assert line.line.color == MODE_COLOURS["stream"]
    assert list(mark.x) == [call.first_token_s]
    assert f"{call.first_token_s:.2f}" in mark.text[0]
    assert figure.layout.xaxis.rangemode == "tozero"


def test_async_arrival_uses_the_astream_colour_for_every_call() -> None:
    record = asyncio.run(run_astream(chain(), TOPICS, meta=META))
    lines = [trace for trace in token_arrival([record]).data if trace.mode == "lines+markers"]
    assert len(lines) == 3
    assert {trace.line.color for trace in lines} == {MODE_COLOURS["astream"]}
    history = runs_token_arrival([record], ["#1"])
    assert {trace.line.color for trace in history.data} == {MODE_COLOURS["astream"]}
    assert all(trace.y[0] == 0 for trace in history.data)


def test_sweep_chart_uses_the_mode_colours() -> None:
    points = [SweepPoint(mode, n, 0, 1.0 * (n if mode == "loop" else 1)) for mode in ("loop", "batch") for n in (1, 2, 3)]
    figure = sweep_chart(summarize_sweep(points), pool_size=6, max_n=3)
    assert {trace.line.color for trace in figure.data} == {MODE_COLOURS["loop"], MODE_COLOURS["batch"]}


def batch_points(times: dict[int, float]) -> list[SweepPoint]:
    return [SweepPoint("batch", n, 0, wall_s) for n, wall_s in times.items()]


@pytest.mark.parametrize(
    ("times", "flat", "leaves"),
    [
        ({1: 1.0, 2: 1.0, 4: 1.1, 6: 1.05, 7: 2.0, 8: 2.1}, 6, 7),
        ({1: 1.0, 2: 1.1, 3: 1.2}, 3, None),
        ({2: 1.0, 5: 1.3, 9: 1.45}, 9, None),
        ({1: 1.0, 3: 3.0}, 1, 3),
    ],
)
def test_one_knee_for_the_metric_and_the_text(times: dict[int, float], flat: int, leaves: int | None) -> None:
    summary = summarize_sweep(batch_points(times))
    knee = batch_knee(summary)
    assert (knee.flat_until, knee.leaves_at) == (flat, leaves)
    assert observed_knee(summary) == knee.leaves_at
    if knee.leaves_at is not None:
        assert knee.flat_until < knee.leaves_at
        assert not [n for n in times if knee.flat_until < n < knee.leaves_at], "nothing measured between them"


def test_no_batch_rows_means_no_knee() -> None:
    assert batch_knee([]) == batch_knee(summarize_sweep([SweepPoint("loop", 1, 0, 1.0)]))
    assert batch_knee([]).leaves_at is None and batch_knee([]).flat_until is None


def _lab_results_app(times: dict[int, float], pool: int):
    from streamlit.testing.v1 import AppTest

    def page(times: dict[int, float], pool: int) -> None:
        from chains.experiments.sweep import SweepPoint, SweepState
        from ui.sections.lab import show_sweep_results

        points = [SweepPoint(mode, n, 0, (n if mode == "loop" else wall_s)) for n, wall_s in times.items() for mode in ("loop", "batch")]
        show_sweep_results(SweepState(k=max(times), repeats=1, max_concurrency=pool, points=points))  # a pool of `pool` calls

    app = AppTest.from_function(page, kwargs={"times": times, "pool": pool}, default_timeout=30)
    app.run()
    assert not app.exception
    return app


@pytest.mark.parametrize(("times", "pool"), [({1: 1.0, 2: 1.0, 3: 1.1, 4: 2.0, 5: 2.1}, 6), ({1: 1.0, 2: 1.0, 6: 1.0, 7: 2.1}, 6)])
def test_lab_metric_and_sentence_name_the_same_knee(times: dict[int, float], pool: int) -> None:
    app = _lab_results_app(times, pool)
    knee = batch_knee(summarize_sweep(batch_points(times)))
    metric = next(metric for metric in app.metric if metric.label == "batch leaves the flat line at")
    assert metric.value == f"N = {knee.leaves_at}"
    lesson = "\n".join(str(info.value) for info in app.info)
    assert f"flat up to N = {knee.flat_until}" in lesson
    assert f"leaves the flat line at N = {knee.leaves_at}" in lesson


def test_lab_flat_batch_has_no_knee_and_says_so() -> None:
    app = _lab_results_app({1: 1.0, 4: 1.1, 8: 1.2}, 6)
    metric = next(metric for metric in app.metric if metric.label == "batch leaves the flat line at")
    assert metric.value == "—"
    assert "stayed flat up to N = 8" in "\n".join(str(info.value) for info in app.info)
