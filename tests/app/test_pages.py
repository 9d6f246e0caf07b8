"""AppTest tests: every page renders, and every mode page runs on the fast simulator."""

from __future__ import annotations

import pytest

from chains.local.supervisor import unavailable_reason
from tests.app_harness import FAST_SIMULATOR, MODE_PAGES, OVERLAP_SIMULATOR, PAGES, open_app, texts
from tests.call_structure import assert_all_overlap, assert_sequential
from ui.i18n import load_strings

EN_STRINGS = {"input": {key.split(".", 1)[1]: value for key, value in load_strings("en").items() if key.startswith("input.")}}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(monkeypatch, page)
    assert not app.exception
    assert app.title, "every page has a title"


@pytest.mark.parametrize("page", MODE_PAGES)
def test_mode_pages_have_the_stable_widget_keys(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(monkeypatch, page)
    topics = app.text_input(key="topics") if page == "pages/invoke.py" else app.text_area(key="topics")
    assert topics.value.strip(), "the page opens with example topics"
    assert app.button(key="run").label
    assert any("chain" in code.value for code in app.code), "the page shows the LangChain code"


def test_sidebar_offers_all_providers_and_the_simulator_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch)
    provider = app.selectbox(key="provider")
    assert provider.value == "simulator"
    offered = {"Built-in simulator (offline)", "OpenAI", "OpenAI-compatible server"}
    if unavailable_reason(public=False) is None:  # the local model's extra is installed (requirements-local.txt)
        offered.add("Local model (llama.cpp)")
    assert set(provider.options) == offered
    assert app.slider(key="sim_ttft_s").value == pytest.approx(0.4)


def test_invoke_page_shows_the_answer_and_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/invoke.py", state=FAST_SIMULATOR)
    app.text_input(key="topics").set_value("penguins")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    assert "penguins" in texts(app)
    latency = next(metric for metric in app.metric if metric.label == "Latency")
    assert latency.value.endswith(" s") and float(latency.value.split()[0]) > 0


def test_batch_page_runs_loop_and_batch_and_shows_the_speedup(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=OVERLAP_SIMULATOR)
    app.text_area(key="topics").set_value("a\nb\nc\nd")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["for loop total"].endswith(" s") and metrics["batch total"].endswith(" s"), metrics
    loop, batch = app.session_state["batch_last_runs"]
    assert (loop.mode, batch.mode) == ("loop", "batch")
    assert_sequential(loop.calls, in_input_order=True)
    assert_all_overlap(batch.calls)
    assert metrics["Client's pool"] == "4"
    assert texts(app).count("finished #") == 4
    assert app.get("plotly_chart"), "the timeline is drawn"


def test_batch_page_keeps_results_when_some_calls_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    state = {**FAST_SIMULATOR, "sim_failure_rate": 0.5, "sim_seed": 7}
    app = open_app(monkeypatch, "pages/batch.py", state=state)
    app.text_area(key="topics").set_value("\n".join(f"topic {i}" for i in range(8)))
    app.toggle(key="batch_with_loop").set_value(False)
    app.button(key="run").click()
    app.run()
    assert not app.exception
    shown = texts(app)
    assert "✅" in shown and "❌" in shown, shown
    assert ": calls failed: " in shown and "The other results are kept." in shown
    assert "Traceback" not in shown


def test_stream_page_streams_into_the_output_container(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/stream.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("octopus")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    output = app.container(key="stream_output")
    streamed = "\n".join(str(element.value) for element in output.markdown)
    assert "octopus" in streamed
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Time to first token"].endswith(" s")
    assert float(metrics["Time to first token"].split()[0]) < float(metrics["Total time"].split()[0])


def test_compare_page_runs_every_mode_and_draws_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/compare.py", state=FAST_SIMULATOR)
    app.text_area(key="topics").set_value("x\ny\nz")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    labels = [metric.label for metric in app.metric]
    assert labels == ["invoke", "for loop of invoke", "batch", "stream"]
    assert len(app.get("plotly_chart")) == 2


@pytest.mark.parametrize("page", MODE_PAGES)
def test_empty_topics_get_a_message_and_nothing_runs(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(monkeypatch, page, state=FAST_SIMULATOR)
    widget = app.text_input(key="topics") if page == "pages/invoke.py" else app.text_area(key="topics")
    widget.set_value("  \n \n")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    assert any("Type at least one topic" in warning.value for warning in app.warning)
    assert not app.metric


def test_too_many_and_too_long_topics_are_capped_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=FAST_SIMULATOR)
    topics = ["x" * 100_000] + [f"t{i}" for i in range(999)]
    app.text_area(key="topics").set_value("\n".join(topics))
    app.toggle(key="batch_with_loop").set_value(False)
    app.button(key="run").click()
    app.run(timeout=120)
    assert not app.exception
    shown = texts(app)
    assert EN_STRINGS["input"]["too_many"].format(kept=32, limit=32, dropped=968) in shown
    assert EN_STRINGS["input"]["too_long"].format(limit=200, count=1) in shown
    assert next(metric for metric in app.metric if metric.label == "Client's pool").value != "—"


def test_korean_language_switch_translates_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state={"lang": "ko"})
    assert not app.exception
    assert app.title[0].value == "batch: 여러 입력을 한꺼번에"
    assert "아이스크림" in app.text_area(key="topics").value


def test_typed_topics_survive_a_visit_to_another_page(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py")
    app.text_area(key="topics").set_value("penguins\nkoalas")
    app.run()
    app.switch_page("pages/home.py")
    app.run()
    app.switch_page("pages/batch.py")
    app.run()
    assert app.text_area(key="topics").value == "penguins\nkoalas"
