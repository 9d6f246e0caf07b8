"""History's run labels: whole model names, and chart rows as tall as their labels (Korean included)."""

from __future__ import annotations

import pytest
import streamlit as st

from tests.ui.elements.test_chart_text import record
from ui.elements import charts
from ui.runs import history


@pytest.fixture
def korean() -> None:
    st.session_state["lang"] = "ko"
    yield
    st.session_state.pop("lang", None)


def test_a_simulated_models_name_is_never_cut() -> None:
    run = record("invoke", 1, 1.0)
    run.owner, run.model = "Min", "simulated-seed-blog-gpt-3.5-turbo"
    assert "simulated-seed-blog-gpt-3.5-turbo" in history.run_label(1, run)
    run.model = "m" * 200  # an imported file's
    assert history.run_label(1, run).count("m") <= history.LABEL_MODEL_CHARS + 2 and "…" in history.run_label(1, run)


def test_wall_bars_rows_grow_with_their_labels_lines(korean: None) -> None:
    runs = [record("loop", 2, 1.0), record("invoke", 1, 0.5)]
    for run in runs:
        run.owner, run.model = "Min", "simulated-gpt-4o-mini-like"
    labels = [history.chart_label(position, run) for position, run in enumerate(runs, start=1)]
    short = charts.runs_wall_bars(runs, ["#1", "#2"])
    long = charts.runs_wall_bars(runs, labels)
    lines = max(label.count("<br>") + 1 for label in long.layout.yaxis.categoryarray)
    assert lines >= 3
    assert long.layout.height - short.layout.height >= 2 * 17 * (lines - 2)
