"""One figure, one formatter: a number shown twice on a screen reads the same both times."""

from __future__ import annotations

import re

import pytest

from tests.app_harness import FAST_SIMULATOR, open_app

SECONDS = re.compile(r"(\d+\.\d+)(?: s|초)")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_compare_says_the_stream_total_once(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    app = open_app(monkeypatch, "pages/compare.py", state={**FAST_SIMULATOR, "lang": language})
    app.text_area(key="topics").set_value("a\nb")
    app.button(key="run").click()
    app.run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    stream_total = metrics["stream"]
    caption = next(caption.value for caption in app.caption if caption.value.startswith("stream:"))
    assert SECONDS.findall(caption)[-1] == SECONDS.findall(stream_total)[0], (caption, stream_total)
    assert stream_total.endswith("초" if language == "ko" else " s")


def test_the_race_notes_show_the_metrics_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/stream.py", state=FAST_SIMULATOR)
    app.button(key="race_run").click()
    app.run()
    assert not app.exception
    metric_figures = {SECONDS.findall(metric.value)[0] for metric in app.metric if SECONDS.findall(metric.value)}
    notes = [caption.value for caption in app.caption if caption.value.startswith(("First token after", "Whole answer after"))]
    assert len(notes) == 2
    assert {SECONDS.findall(note)[0] for note in notes} <= metric_figures, (notes, metric_figures)
