"""AppTest: the Inside page traces one call and shows its four steps, in English and Korean."""

from __future__ import annotations

import pytest

from tests.app_harness import FAST_SIMULATOR, open_app, texts

PAGE = "pages/inside.py"
TITLES = {"en": "Inside the chain: where one call's time goes", "ko": "체인 들여다보기: 호출 한 번의 시간은 어디에 쓰일까"}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_page_traces_one_call_and_shows_the_four_steps(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    app = open_app(monkeypatch, PAGE, state={**FAST_SIMULATOR, "lang": language})
    assert not app.exception
    assert app.title[0].value == TITLES[language]
    assert app.text_input(key="topics").value.strip(), "the page opens with an example topic"
    app.text_input(key="topics").set_value("penguins")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == 4
    assert [name.split(". ", 1)[1] for name in table.iloc[:, 0]] == [
        "RunnableParallel<topic>",
        "ChatPromptTemplate",
        "SimulatedChatModel",
        "StrOutputParser",
    ]
    assert table.iloc[0, -2] == "penguins"  # the map's input
    steps_metric = next(metric for metric in app.metric if metric.label == ("Steps" if language == "en" else "단계"))
    assert steps_metric.value == "4"
    shown = texts(app)
    assert ("The model took" if language == "en" else "모델이 호출의") in shown
    assert "RunnablePassthrough" in shown  # the map's child is named under it
    chunk_lines = [code.value for code in app.code if code.value.startswith("«")]
    assert chunk_lines[0] == '«{"topic": "penguins"}»'  # what the map emitted: one dict
    assert len(chunk_lines) == 3  # the map, the model and the parser streamed; the prompt did not


def test_a_hostile_topic_stays_text(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, PAGE, state=FAST_SIMULATOR)
    app.text_input(key="topics").set_value("<img src=x onerror=alert(1)> ![p](http://evil.example/p.png)")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    for element in app.markdown:
        assert "<img" not in element.value and "](http://evil.example" not in element.value
    assert "<img" in app.dataframe[0].value.iloc[0, -2]  # shown as cell text, on a canvas


def test_a_failing_model_gives_a_message_and_the_steps_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, PAGE, state={**FAST_SIMULATOR, "sim_failure_rate": 1.0})
    app.button(key="run").click()
    app.run()
    assert not app.exception
    assert any("failed at the step" in warning.value for warning in app.warning)
    assert len(app.dataframe[0].value) == 3


def test_a_replayed_call_is_labelled_as_a_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    from chains.security.safe_text import plain_markdown
    from chains.simulation.replay import example_profiles

    stem, profile = next(iter(example_profiles().items()))
    app = open_app(monkeypatch, PAGE, state={**FAST_SIMULATOR, "sim_replay": f"example:{stem}"})
    app.text_input(key="topics").set_value("vanilla")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    # The model's label is an imported name: shown through plain_markdown, as exactly its characters.
    assert any(caption.value == f"Answered by replay · {plain_markdown(f'replay: {profile.name}')}" for caption in app.caption)
    assert len(app.dataframe[0].value) == 4


def test_the_table_says_the_prompt_returned_one_value_and_shows_numbers_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import tomllib
    from pathlib import Path

    en = tomllib.loads((Path(__file__).resolve().parents[2] / "ui/locales/en.toml").read_text())["inside"]
    app = open_app(monkeypatch, PAGE, state=FAST_SIMULATOR)
    app.button(key="run").click()
    app.run()
    assert not app.exception
    frame = next(table for table in app.dataframe).value
    columns = list(frame.columns)
    assert columns.index(en["col_duration_ms"]) < columns.index(en["col_kind"]) < columns.index(en["col_input"])
    prompt_row = frame[frame[en["col_kind"]] == en["kind_prompt"]].iloc[0]
    assert prompt_row[en["col_chunks_out"]] == en["returned_once"]
    chart = next(chart for chart in app.get("plotly_chart") if "step_timeline" in chart.proto.id)
    figure = json.loads(chart.proto.spec)
    marker = next(trace for trace in figure["data"] if trace["type"] == "scatter")
    bars = {row for trace in figure["data"] if trace["type"] == "bar" for row in trace["y"]}
    assert marker["y"][0] not in bars, "the first-token marker has a row of its own, off the model's bar and its text"
