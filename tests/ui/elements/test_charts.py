"""The Plotly charts, built from real runs on the fast simulator (no Streamlit page needed)."""

from __future__ import annotations

import pytest

from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.modes import run_batch, run_invoke, run_loop, run_stream
from chains.timing import RunRecord
from ui.elements.charts import call_timeline, wall_time_bars

TOPICS = ["ice cream", "chocolate", "vanilla"]


@pytest.fixture(scope="module")
def compare_records() -> list[RunRecord]:
    """What the Compare page runs: invoke, the loop, batch and stream, on the fast simulator."""
    # Answers of 60+ tokens: many chunks arrive after the first one.
    chain = build_joke_chain(make_model(ModelSettings.simulator("fast", sim_jitter=0.0, sim_min_output_tokens=60)))
    return [
        run_invoke(chain, TOPICS[0]),
        run_loop(chain, TOPICS),
        run_batch(chain, TOPICS, max_concurrency=3),
        run_stream(chain, TOPICS[0]),
    ]


def test_wall_time_bars_have_one_bar_per_run_at_its_wall_time(compare_records: list[RunRecord]) -> None:
    figure = wall_time_bars(compare_records)
    bars = [trace for trace in figure.data if trace.type == "bar"]
    heights = [float(x) for trace in bars for x in trace.x]  # horizontal bars: the length is x
    assert heights == pytest.approx([record.wall_s for record in compare_records])


def test_wall_time_bars_mark_when_the_stream_showed_its_first_token(compare_records: list[RunRecord]) -> None:
    stream = compare_records[-1]
    figure = wall_time_bars(compare_records)
    marks = [trace for trace in figure.data if trace.type == "scatter"]
    assert len(marks) == 1, "only the streamed run has a first token to mark"
    (mark,) = marks
    assert list(mark.x) == pytest.approx([stream.calls[0].first_token_s])
    # The first token comes before the rest of the answer: 60+ more chunks arrive after it.
    chunk_times = [t for t, _ in stream.calls[0].chunks]
    assert len(chunk_times) >= 60
    assert 0 < mark.x[0] == chunk_times[0] < chunk_times[-1] <= stream.wall_s
    assert f"{stream.calls[0].first_token_s:.2f}" in mark.text[0]


def test_call_timeline_draws_each_call_from_its_start_to_its_end(compare_records: list[RunRecord]) -> None:
    loop, batch = compare_records[1], compare_records[2]
    figure = call_timeline([loop, batch])
    starts = [float(x) for trace in figure.data for x in trace.base]
    widths = [float(x) for trace in figure.data for x in trace.x]
    calls = loop.calls + batch.calls
    assert starts == pytest.approx([call.start_s for call in calls])
    assert widths == pytest.approx([call.latency_s for call in calls])
    loop_starts = [call.start_s for call in loop.calls]
    assert loop_starts == sorted(loop_starts) and loop_starts[-1] >= loop.calls[0].end_s, "the loop's calls follow one another"
    assert max(call.start_s for call in batch.calls) < min(call.end_s for call in batch.calls), "batch's calls overlap"
