"""Every chart has a short text alternative: its key figures, read from the figure itself."""

from __future__ import annotations

import pytest

from chains.timing import CallTiming, RunRecord
from ui.elements import charts


def record(mode: str, n: int, wall_s: float, *, topic: str = "t") -> RunRecord:
    calls = [
        CallTiming(
            index=i,
            topic=f"{topic}{i}",
            start_s=0.1 * i,
            end_s=0.1 * i + 0.5,
            first_token_s=0.1 * i + 0.2 if mode == "stream" else None,
            chunks=[(0.1 * i + 0.2, "a"), (0.1 * i + 0.4, "b")] if mode == "stream" else [],
        )
        for i in range(n)
    ]
    return RunRecord(mode=mode, n=n, wall_s=wall_s, max_concurrency=None, provider="simulator", model="m", calls=calls)


def test_the_wall_time_text_says_each_modes_time_as_its_bar_does() -> None:
    runs = [record("invoke", 1, 1.288), record("loop", 3, 3.102), record("batch", 3, 1.294)]
    text = charts.chart_summary(charts.wall_time_bars(runs))
    assert "invoke: 1.29 s" in text and "batch: 1.29 s" in text and "3.10 s" in text


def test_the_timeline_text_names_each_calls_run_and_span() -> None:
    text = charts.chart_summary(charts.call_timeline([record("loop", 2, 1.0), record("batch", 2, 0.6)]))
    assert "#2 t1: 0.10 s → 0.60 s" in text
    assert text.count("batch") >= 2


def test_a_long_chart_text_is_capped_and_says_how_many_more() -> None:
    text = charts.chart_summary(charts.call_timeline([record("batch", 30, 1.0)]))
    assert text.count("→") == charts.SUMMARY_ITEMS
    assert "20 more" in text


@pytest.mark.parametrize("hostile", ["<img src=x onerror=alert(1)>", "![x](http://evil/p.png)"])
def test_chart_text_from_an_imported_topic_stays_text(hostile: str) -> None:
    from chains.security.safe_text import inert_markdown

    text = inert_markdown(charts.chart_summary(charts.call_timeline([record("batch", 1, 1.0, topic=hostile)])))
    assert "<img" not in text and "](http" not in text
