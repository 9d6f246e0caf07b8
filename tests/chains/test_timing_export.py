"""CSV and JSON exports of run records: exact columns, one row per call, Korean intact."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from chains.joke import build_joke_chain
from chains.modes import RunMeta, run_batch, run_loop, run_stream
from chains.simulation.simulator import SimulatedChatModel
from chains.timing import CSV_COLUMNS, CallTiming, RunRecord, records_to_csv, records_to_frame, records_to_json

META = RunMeta(provider="simulator", model="simulated-test")


@pytest.fixture(scope="module")
def records() -> list[RunRecord]:
    """A loop, a batch with one failure, and a stream, run on a fast simulator."""
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.02, tokens_per_s=2000, jitter=0.1, seed=1))
    failing = build_joke_chain(SimulatedChatModel(ttft_s=0.02, tokens_per_s=2000, seed=3, failure_rate=0.5))
    return [
        run_loop(chain, ["cats", "고양이", "ice cream"], meta=META),
        run_batch(failing, ["cats", "dogs", "pizza", "robots", "coffee", "trains"], max_concurrency=6, meta=META),
        run_stream(chain, "아이스크림", meta=META),
    ]


def read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def test_csv_round_trips_with_exactly_the_columns(records: list[RunRecord]) -> None:
    frame = read_csv(records_to_csv(records))
    assert tuple(frame.columns) == CSV_COLUMNS
    assert len(frame) == sum(len(record.calls) for record in records) == 10
    assert list(frame["run_id"].unique()) == [record.run_id for record in records]
    assert list(frame["mode"]) == ["loop"] * 3 + ["batch"] * 6 + ["stream"]
    assert list(frame["index"]) == [0, 1, 2, 0, 1, 2, 3, 4, 5, 0]


def test_csv_values_match_the_records(records: list[RunRecord]) -> None:
    frame = read_csv(records_to_csv(records))
    calls = [call for record in records for call in record.calls]
    for (_, row), call in zip(frame.iterrows(), calls, strict=True):
        assert row["topic"] == call.topic
        assert row["start_s"] == pytest.approx(call.start_s)
        assert row["end_s"] == pytest.approx(call.end_s)
        assert row["latency_s"] == pytest.approx(call.latency_s)
        assert row["chunk_count"] == len(call.chunks)
        assert bool(row["interrupted"]) is call.interrupted
        if call.error is None:
            assert pd.isna(row["error"])
            assert row["output"] == call.output
        else:
            assert row["error"] == call.error
        if call.first_token_s is None:
            assert pd.isna(row["first_token_s"]) and pd.isna(row["ttft_s"])
        else:
            assert row["ttft_s"] == pytest.approx(call.ttft_s)
    batch = frame[frame["mode"] == "batch"]
    assert batch["error"].notna().any() and batch["error"].isna().any()
    assert (batch["max_concurrency"] == 6).all()


def test_korean_text_survives_the_csv_round_trip(records: list[RunRecord]) -> None:
    frame = read_csv(records_to_csv(records))
    korean = frame[frame["topic"] == "고양이"].iloc[0]
    original = records[0].calls[1]
    assert korean["output"] == original.output
    assert "고양이" in korean["output"]
    assert "\n\n" in korean["output"]
    stream_row = frame[frame["mode"] == "stream"].iloc[0]
    assert stream_row["output"] == records[2].calls[0].output
    assert stream_row["topic"] == "아이스크림"


def test_frame_has_exactly_the_columns_even_when_empty() -> None:
    assert tuple(records_to_frame([]).columns) == CSV_COLUMNS
    assert tuple(read_csv(records_to_csv([])).columns) == CSV_COLUMNS


def test_json_round_trips_with_calls_and_chunks(records: list[RunRecord]) -> None:
    text = records_to_json(records)
    assert "고양이" in text  # written as UTF-8, not \\u escapes
    data = json.loads(text)
    assert [run["mode"] for run in data] == ["loop", "batch", "stream"]
    for run, record in zip(data, records, strict=True):
        assert run["run_id"] == record.run_id
        assert run["n"] == record.n == len(run["calls"])
        assert run["error_count"] == record.error_count
        assert run["wall_s"] == pytest.approx(record.wall_s)
        for call_data, call in zip(run["calls"], record.calls, strict=True):
            assert call_data["output"] == call.output
            assert call_data["latency_s"] == pytest.approx(call.latency_s)
            assert len(call_data["chunks"]) == len(call.chunks)
    stream_call = data[2]["calls"][0]
    assert len(stream_call["chunks"]) >= 10
    assert "".join(text for _, text in stream_call["chunks"]) == stream_call["output"]
    assert all(isinstance(t, float) for t, _ in stream_call["chunks"])
    assert stream_call["ttft_s"] == pytest.approx(records[2].calls[0].ttft_s)


def test_handmade_record_exports() -> None:
    call = CallTiming(index=0, topic='quotes "and", commas', start_s=0.0, end_s=1.5, output="line 1\nline 2, \"quoted\"")
    record = RunRecord(mode="invoke", n=1, wall_s=1.5, max_concurrency=None, provider="openai", model="gpt-4o-mini", calls=[call])
    frame = read_csv(records_to_csv([record]))
    assert frame.loc[0, "topic"] == call.topic
    assert frame.loc[0, "output"] == call.output
    assert frame.loc[0, "latency_s"] == pytest.approx(1.5)
    assert pd.isna(frame.loc[0, "max_concurrency"])
    assert json.loads(records_to_json([record]))[0]["calls"][0]["chunks"] == []
