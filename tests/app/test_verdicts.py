"""The pages print their verdict (``chains.experiments.verdicts``), not a fixed sentence: through AppTest.

- A wrong key (the test server's 401): no speed-up, no lesson, no green ✓.
- A server that serves one request at a time (``slots=1``): Batch and Compare
  say the server queued the calls, and never that batch is flat.
- The simulator's default and the seed profile still teach the post's findings.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from chains.simulation.profiles import SEED_POST_PROFILE, SEED_POST_SEED
from devtools.openai_server import OpenAICompatibleServer
from tests.app.test_fault_matrix import remote_state
from tests.app_harness import OVERLAP_SIMULATOR, open_app

FLAT_WORDS = ("stays flat", "stayed near one call", "batch stays near one call")
QUEUED_WORDS = "the server ran at most 1 at a time and queued the rest"


@pytest.fixture
def one_slot_server() -> Iterator[OpenAICompatibleServer]:
    """A local OpenAI-compatible server that generates one reply at a time and queues the rest."""
    with OpenAICompatibleServer(ttft_s=0.25, token_delay_s=0.01, slots=1) as server:
        yield server


def run(app: AppTest, topics: str, *, with_loop: bool | None = None) -> AppTest:
    app.text_area(key="topics").set_value(topics)
    if with_loop is not None:
        app.toggle(key="batch_with_loop").set_value(with_loop)
    app.button(key="run").click()
    app.run(timeout=120)
    assert not app.exception, [element.value for element in app.exception]
    return app


def page_text(app: AppTest) -> str:
    return "\n".join(str(element.value) for group in (app.markdown, app.info, app.warning, app.error, app.caption) for element in group)


def metric_labels(app: AppTest) -> list[str]:
    return [metric.label for metric in app.metric]


@pytest.mark.parametrize("page", ["pages/batch.py", "pages/compare.py"])
def test_a_wrong_key_shows_no_speed_up_no_lesson_and_no_green_tick(monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, page: str) -> None:
    openai_server.fault = "401"
    app = open_app(monkeypatch, page, state=remote_state(openai_server.base_url, "sk-wrong-key-0000"))
    run(app, "cats\ndogs\nowls\nbees\nants", with_loop=True if page.endswith("batch.py") else None)
    text = page_text(app)
    assert "Speed-up" not in metric_labels(app)
    assert not any(words in text for words in FLAT_WORDS), text
    assert "**Why" not in text and "loop grows" not in text
    assert "No lesson from this run" in text
    assert "The other results are kept" not in text
    assert app.status and all(status.state != "complete" for status in app.status), [(s.label, s.state) for s in app.status]


def test_batch_against_a_one_slot_server_says_the_server_queued_the_calls(monkeypatch: pytest.MonkeyPatch, one_slot_server: OpenAICompatibleServer) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state=remote_state(one_slot_server.base_url, "sk-test-local", timeout_s=20.0))
    run(app, "cats\ndogs\nowls", with_loop=True)
    text = page_text(app)
    assert QUEUED_WORDS in text, text
    assert not any(words in text for words in FLAT_WORDS)
    assert "OLLAMA_NUM_PARALLEL" in text and "--parallel" in text
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Client's pool"] == "3"
    assert metrics["Server ran at once"] == "at most 1"
    assert one_slot_server.peak_in_flight == 3, "the client sent all three at once; the server queued them"
    assert all(status.state == "complete" for status in app.status)


def test_compare_against_a_one_slot_server_says_the_server_queued_the_calls(monkeypatch: pytest.MonkeyPatch, one_slot_server: OpenAICompatibleServer) -> None:
    app = open_app(monkeypatch, "pages/compare.py", state=remote_state(one_slot_server.base_url, "sk-test-local", timeout_s=20.0))
    run(app, "cats\ndogs\nowls")
    lesson = "\n".join(str(info.value) for info in app.info)
    assert QUEUED_WORDS in lesson, lesson
    assert "near one call" not in lesson


@pytest.mark.parametrize(
    "state",
    [OVERLAP_SIMULATOR, {"sim_profile": SEED_POST_PROFILE, "sim_seed": SEED_POST_SEED}],
    ids=["default-like", "seed-profile"],
)
def test_the_simulator_still_teaches_the_posts_three_findings(monkeypatch: pytest.MonkeyPatch, state: dict) -> None:
    if "sim_ttft_s" not in state:  # the seed profile, as the sidebar's profile select sets it
        from chains.simulation.profiles import PROFILES

        profile = PROFILES[SEED_POST_PROFILE]
        state = {**state, "sim_ttft_s": profile.ttft_s, "sim_tokens_per_s": profile.tokens_per_s, "sim_jitter": profile.jitter}
    app = open_app(monkeypatch, "pages/compare.py", state=state)
    run(app, "ice cream\nspaghetti\ndumplings")
    lesson = "\n".join(str(info.value) for info in app.info)
    assert "The loop took" in lesson and "it adds one call per topic" in lesson  # loop linear
    assert "batch stayed near one call" in lesson, lesson  # batch flat
    assert "stream took as long as invoke" in lesson, lesson  # stream ≈ invoke


def test_async_against_a_one_slot_server_says_the_server_queued_the_calls(monkeypatch: pytest.MonkeyPatch, one_slot_server: OpenAICompatibleServer) -> None:
    app = open_app(monkeypatch, "pages/async_modes.py", state=remote_state(one_slot_server.base_url, "sk-test-local", timeout_s=20.0))
    app.toggle(key="async_with_sync").set_value(False)
    run(app, "cats\ndogs\nowls")
    lesson = "\n".join(str(info.value) for info in app.info)
    assert "`ainvoke` took" in lesson
    assert "Unset, `abatch` had 3 of 3 in flight at once" in lesson, lesson  # the client sent them together...
    assert QUEUED_WORDS in lesson, lesson  # ...and the server queued them


def test_the_race_against_a_one_slot_server_says_one_waited_for_the_other(monkeypatch: pytest.MonkeyPatch, one_slot_server: OpenAICompatibleServer) -> None:
    app = open_app(monkeypatch, "pages/stream.py", state=remote_state(one_slot_server.base_url, "sk-test-local", timeout_s=20.0))
    app.text_area(key="topics").set_value("cats")
    app.button(key="race_run").click()
    app.run(timeout=120)
    assert not app.exception
    lesson = "\n".join(str(info.value) for info in app.info)
    assert "one waited for the other" in lesson, lesson
    assert "both took about the same time" not in lesson


def test_batch_with_some_failed_calls_compares_only_what_both_sides_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    # The simulator fails the same topics in every mode (its faults are seeded by the topic).
    app = open_app(monkeypatch, "pages/batch.py", state={**OVERLAP_SIMULATOR, "sim_failure_rate": 0.5, "sim_seed": 7})
    run(app, "\n".join(f"topic {i}" for i in range(6)), with_loop=True)
    loop, batch = app.session_state["batch_last_runs"]
    finished = sum(1 for a, b in zip(loop.calls, batch.calls) if a.ok and b.ok)
    assert 0 < finished < 6, "the seed fails some topics, not all"
    text = page_text(app)
    assert f"Compared only on the calls that both sides finished ({finished} of 6)" in text, text
    assert any(status.state == "error" for status in app.status), "no green ✓ for runs with failed calls"


def test_batch_refused_by_a_concurrency_cap_is_throttled_and_says_lower_it(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/batch.py", state={**OVERLAP_SIMULATOR, "sim_max_in_flight": 2})
    run(app, "a\nb\nc\nd", with_loop=True)
    text = page_text(app)
    assert "the provider limited the rate" in text, text
    assert "**Try:** lower the concurrency" in text
    assert not any(words in text for words in FLAT_WORDS)
