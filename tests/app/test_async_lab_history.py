"""AppTest tests of the Async, Lab and History pages, on the fast simulator."""

from __future__ import annotations

import io
from dataclasses import replace

import pandas as pd
import pytest

from chains.experiments.sweep import SweepPoint, SweepState, plan_sweep
from chains.joke import build_joke_chain
from chains.modes import RunMeta, async_comparison_calls, run_batch, run_stream
from chains.simulation.simulator import SimulatedChatModel
from chains.timing import CSV_COLUMNS, CallTiming, RunRecord
from tests.app_harness import FAST_SIMULATOR, OVERLAP_SIMULATOR, open_app, texts
from tests.call_structure import assert_all_overlap, assert_sequential, waves
from ui.runs.history import export_csv, export_json, history_rows, history_totals

NEW_PAGES = ["pages/async_modes.py", "pages/lab.py", "pages/history.py"]


def metrics(app) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def seconds(value: str) -> float:
    return float(value.split()[0])


def container_text(app, key: str) -> str:
    box = app.container(key=key)
    return "\n".join(str(element.value) for element in (*box.markdown, *box.caption))


@pytest.mark.parametrize("page", NEW_PAGES)
def test_new_pages_render_without_exception(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(monkeypatch, page)
    assert not app.exception
    assert app.title


@pytest.mark.parametrize("page", NEW_PAGES)
def test_new_pages_render_in_korean(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(monkeypatch, page, state={"lang": "ko"})
    assert not app.exception
    assert any("\uac00" <= char <= "\ud7a3" for char in app.title[0].value + texts(app))


# ---------------------------------------------------------------------- Async
def test_async_page_streams_every_topic_into_its_own_container(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/async_modes.py", state=OVERLAP_SIMULATOR)
    app.text_area(key="topics").set_value("penguins\nvolcanoes\nteapots")
    app.slider(key="abatch_max_concurrency").set_value(1)
    app.button(key="run").click()
    app.run()
    assert not app.exception
    for index, topic in enumerate(["penguins", "volcanoes", "teapots"]):
        shown = container_text(app, f"astream_{index}")
        assert topic in shown, shown
        assert len(shown) > len(topic) + 20, "the box holds the streamed answer, not just its title"
    shown = metrics(app)
    assert {"invoke", "ainvoke", "batch (3 at a time)", "abatch, unset (all 3 at once)", "abatch, max_concurrency=1"} <= set(shown)
    assert {"stream (first topic)", "astream (topics at once: 3)"} <= set(shown)
    # Which calls ran together, from the runs' own call intervals (never from their durations).
    runs = app.session_state["async_last_runs"]
    unbounded, one_at_a_time = (record for record in runs if record.mode == "abatch")
    astream = next(record for record in runs if record.mode == "astream")
    assert (unbounded.max_concurrency, one_at_a_time.max_concurrency) == (None, 1)
    assert_all_overlap(unbounded.calls)
    assert_sequential(one_at_a_time.calls)
    assert waves(one_at_a_time.calls) == 3
    assert_all_overlap(astream.calls)
    assert len(app.get("plotly_chart")) == 2
    assert sum(record.n for record in runs) == async_comparison_calls(3, with_sync=True), "the budget is told the calls that ran"
    assert "Traceback" not in texts(app)


def test_async_page_keeps_the_answers_after_a_rerun(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/async_modes.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("otters\nclouds")
    app.toggle(key="async_with_sync").set_value(False)
    app.button(key="run").click()
    app.run()
    assert not app.exception
    assert "invoke" not in metrics(app), "the sync twins can be left out"
    app.run()
    assert not app.exception
    assert "otters" in container_text(app, "astream_0")
    assert "clouds" in container_text(app, "astream_1")


def test_async_page_runs_twice_against_an_openai_compatible_server(monkeypatch: pytest.MonkeyPatch, openai_server) -> None:
    """Every async run gets a fresh event loop: ChatOpenAI's async client must survive that."""
    state = {"provider": "compatible", "base_url": openai_server.base_url, "model_name": "test-model", "api_key": ""}
    app = open_app(monkeypatch, "pages/async_modes.py", state=state)
    app.text_area(key="topics").set_value("rivers\nkites")
    for _ in range(2):
        app.button(key="run").click()
        app.run()
        assert not app.exception
        assert not app.warning and not app.error, texts(app)
        assert container_text(app, "astream_1").count("kites") >= 1
    assert len(metrics(app)) == 7


# ------------------------------------------------------------------------ Lab
def test_lab_sweep_draws_the_chart_and_runs_the_loop_in_a_row_and_batch_in_one_wave(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/lab.py", state=OVERLAP_SIMULATOR)
    app.slider(key="sweep_k").set_value(3)
    app.slider(key="sweep_repeats").set_value(1)
    app.run()
    assert "**12 model calls**" in texts(app), "the estimate is shown before running"
    app.button(key="run").click()
    app.run()
    assert not app.exception
    assert app.get("plotly_chart"), "the sweep chart is drawn"
    shown = metrics(app)
    assert {"loop: s per extra call", "batch: s per extra call"} <= set(shown), shown
    # The chart's lesson, on the structure of the sweep's runs: the loop's N calls run
    # one after another (N waves), batch's N calls (N <= 3, within the pool) in one wave.
    sweep_runs = [record for record in app.session_state["run_history"] if record.label.startswith("sweep ")]
    assert [(record.mode, record.n) for record in sweep_runs] == [(mode, n) for n in (1, 2, 3) for mode in ("loop", "batch")]
    for record in sweep_runs:
        assert record.error_count == 0
        if record.mode == "loop":
            assert_sequential(record.calls, in_input_order=True)
            assert waves(record.calls) == record.n
        else:
            assert_all_overlap(record.calls)
    assert app.button(key="run").disabled is False and app.button(key="stop").disabled is True
    assert app.get("download_button"), "the sweep points can be downloaded"
    assert len(app.session_state["lab_sweep"].points) == 6


def paused_sweep(done: int) -> SweepState:
    """The Lab's sweep state as it is after ``done`` of its 6 runs (k=3, R=1)."""
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.01, tokens_per_s=2000, jitter=0.0, seed=1))
    steps = plan_sweep(3, 1)
    points = [SweepPoint(step.mode, step.n, step.repeat, 0.1 * step.n if step.mode == "loop" else 0.1) for step in steps[:done]]
    return SweepState(k=3, repeats=1, max_concurrency=None, topics=["a", "b"], chain=chain, meta=RunMeta(), points=points, running=True)


def test_lab_resumes_a_sweep_that_was_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A click on another widget (or leaving the page) interrupts the script: the next run goes on."""
    app = open_app(monkeypatch, "pages/lab.py", state={**FAST_SIMULATOR, "lab_sweep": paused_sweep(2)})
    assert not app.exception
    sweep = app.session_state["lab_sweep"]
    assert sweep.done == 6 and not sweep.running and not sweep.stopped
    assert [(point.mode, point.n) for point in sweep.points][2:] == [("loop", 2), ("batch", 2), ("loop", 3), ("batch", 3)]
    assert sweep.chain is None, "the chain (which may hold a key) is dropped when the sweep ends"


def test_lab_shows_the_points_of_a_stopped_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Stop button's callback leaves the sweep stopped; its points so far are drawn.

    (AppTest cannot click Stop: it is enabled only while the sweep's script runs,
    and AppTest sees only finished runs. The browser check clicks it for real.)
    """
    stopped = replace(paused_sweep(4), running=False, stopped=True, chain=None)
    app = open_app(monkeypatch, "pages/lab.py", state={**FAST_SIMULATOR, "lab_sweep": stopped})
    assert not app.exception
    assert any("stopped after 4 of 6 runs" in warning.value for warning in app.warning)
    assert app.get("plotly_chart")
    assert seconds(metrics(app)["loop: s per extra call"]) == pytest.approx(0.1)
    assert app.button(key="run").disabled is False and app.button(key="stop").disabled is True


# -------------------------------------------------------------------- History
def test_history_lists_runs_from_other_pages_and_offers_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("a\nb\nc")
    app.button(key="run").click()
    app.run()
    app.switch_page("pages/stream.py")
    app.run()
    app.text_area(key="topics").set_value("octopus")
    app.button(key="run").click()
    app.run()
    app.switch_page("pages/history.py")
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["mode"]) == ["for loop of invoke", "batch", "stream"]
    assert list(table["n"]) == [3, 3, 1]
    assert set(table["cost"]) == {"free"}
    assert metrics(app)["Runs"] == "3"
    assert metrics(app)["Estimated cost"] == "free"
    assert len(app.get("download_button")) == 2
    assert app.get("plotly_chart"), "the picked runs are overlaid"

    app.button(key="history_clear").click()
    app.run()
    assert not app.exception
    assert not app.dataframe
    assert any("No runs yet" in info.value for info in app.info)


# --------------------------------------------------------------------- export
@pytest.fixture(scope="module")
def records() -> list[RunRecord]:
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.01, tokens_per_s=2000, jitter=0.1, seed=3))
    meta = RunMeta(provider="simulator", model="simulated-test")
    return [run_batch(chain, ["cats", "고양이, \"quoted\"", "line\nbreak"], meta=meta), run_stream(chain, "아이스크림", meta=meta)]


def test_exported_csv_round_trips_through_pandas(records: list[RunRecord]) -> None:
    # Read run_id as text: older exports have all-digit ids such as "12345678".
    frame = pd.read_csv(io.StringIO(export_csv(records)), dtype={"run_id": str, "topic": str})
    assert tuple(frame.columns) == CSV_COLUMNS
    assert len(frame) == 4
    assert list(frame["topic"]) == ["cats", "고양이, \"quoted\"", "line\nbreak", "아이스크림"]
    assert list(frame["run_id"]) == [records[0].run_id] * 3 + [records[1].run_id]
    assert frame["latency_s"].gt(0).all()
    assert frame["chunk_count"].iloc[-1] == len(records[1].calls[0].chunks) > 0


def test_exported_json_and_table_rows(records: list[RunRecord]) -> None:
    import json

    data = json.loads(export_json(records))["runs"]
    assert [run["mode"] for run in data] == ["batch", "stream"]
    assert data[1]["calls"][0]["chunks"]
    rows = history_rows(records)
    assert [row["run"] for row in rows] == ["#1", "#2"]
    totals = history_totals(records)
    assert totals.runs == 2 and totals.calls == 4 and totals.priced_runs == 0 and totals.simulated_runs == 2


@pytest.mark.parametrize("run_id", ["12345678", "1e234567", "abcdef12"])
def test_exported_run_ids_survive_pandas_as_text(run_id: str) -> None:
    record = RunRecord("invoke", 1, 1.0, None, "simulator", "m", [], run_id=run_id)
    record.calls.append(CallTiming(0, "x", 0.0, 1.0))
    frame = pd.read_csv(io.StringIO(export_csv([record])), dtype={"run_id": str})
    assert frame["run_id"][0] == run_id


def test_cost_is_estimated_for_known_openai_models() -> None:
    priced = RunRecord("invoke", 1, 1.0, None, "openai", "gpt-4o-mini-2024-07-18", [], input_tokens=1_000_000, output_tokens=1_000_000)
    local = RunRecord("invoke", 1, 1.0, None, "compatible", "llama3.2", [], input_tokens=10, output_tokens=10)
    totals = history_totals([priced, local])
    assert totals.cost_usd == pytest.approx(0.75)
    assert totals.priced_runs == 1
    assert history_rows([priced, local])[1]["cost"] == "—"
