"""The fault matrix, through the app: every fault and every input problem on Invoke, Batch and Stream.

Each test drives a page with ``AppTest`` against the local OpenAI-compatible
server (``devtools/openai_server.py``), with the sidebar set through session state
(``provider``, ``base_url``, ``api_key``, ``model_name``, ``timeout_s``,
``max_retries``). For every case it checks that:

- the page shows the localized message for that kind of failure (the text of
  ``ui/locales/en.toml``'s ``errors.*``), which says what to try;
- there is no exception element and no "Traceback" anywhere on the page;
- the app stays usable: with the fault removed, Run again shows the server's reply.

It also checks that retries are shown, that a dropped stream keeps its text and
is recorded as interrupted, that a batch with some failed calls keeps the other
results (on the page and in the export), and that ``max_concurrency`` really
bounds the requests in flight.

Kept fast: small server delays, a 1 s timeout against a 3 s stall, no retries
except in the retry test, and the Batch page's ``for`` loop switched off where
it adds nothing.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from chains.timing import records_to_csv, records_to_json
from chains.topics import MAX_TOPIC_CHARS, MAX_TOPICS, parse_topics
from devtools.openai_server import REPLY_MARKER, OpenAICompatibleServer, split_reply, write_joke
from tests.app_harness import open_app, texts

EN = tomllib.loads((Path(__file__).resolve().parents[2] / "ui" / "locales" / "en.toml").read_text(encoding="utf-8"))
PAGES = {"invoke": "pages/invoke.py", "batch": "pages/batch.py", "stream": "pages/stream.py"}
FAULTS = ("401", "429", "500", "slow", "drop", "down")

#: The error kind (``errors.<kind>`` in the locale files) each fault must show, per page.
EXPECTED_KIND: dict[str, dict[str, str]] = {
    "401": dict.fromkeys(PAGES, "auth"),
    "429": dict.fromkeys(PAGES, "rate_limit"),
    "500": dict.fromkeys(PAGES, "server"),
    "slow": dict.fromkeys(PAGES, "timeout"),
    # A plain request cut mid-body is a connection error; a stream cut after some
    # chunks keeps them and is "interrupted".
    "drop": {"invoke": "connection", "batch": "connection", "stream": "interrupted"},
    "down": dict.fromkeys(PAGES, "connection"),
}


# ------------------------------------------------------------------------------- helpers
def remote_state(base_url: str, api_key: str, *, timeout_s: float = 1.0, max_retries: int = 0) -> dict[str, Any]:
    """Sidebar settings (session state) for the OpenAI-compatible provider at ``base_url``."""
    return {
        "provider": "compatible",
        "base_url": base_url,
        "api_key": api_key,
        "model_name": "test-model",
        "timeout_s": timeout_s,
        "max_retries": max_retries,
    }


def topic_box(app: AppTest, page: str) -> Any:
    """The page's topic widget (a text input on Invoke, a text area elsewhere)."""
    return app.text_input(key="topics") if page == "invoke" else app.text_area(key="topics")


def run_page(app: AppTest, page: str, topics: str, *, with_loop: bool = False, timeout: float = 60) -> AppTest:
    """Type ``topics``, press Run and wait for the script run to end."""
    topic_box(app, page).set_value(topics)
    if page == "batch":
        app.toggle(key="batch_with_loop").set_value(with_loop)
    app.button(key="run").click()
    app.run(timeout=timeout)
    return app


def page_dump(app: AppTest) -> str:
    """Every element of the page (main area and sidebar), protobufs included, as one string.

    The sidebar's own key field is left out: it holds the key this session typed.
    """
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "key", None) != "api_key":
            parts.append(str(proto))
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(app._tree)
    return "\n".join(parts)


def alerts(app: AppTest) -> list[str]:
    """The text of every error, warning and info box."""
    return [str(element.value) for group in (app.error, app.warning, app.info) for element in group]


def assert_clean(app: AppTest) -> None:
    """No exception element, and no traceback anywhere on the page."""
    assert not app.exception, [element.value for element in app.exception]
    dump = page_dump(app)
    assert "Traceback" not in dump
    assert 'File "' not in dump, "a stack frame is shown on the page"


def assert_usable_again(app: AppTest, page: str, server: OpenAICompatibleServer) -> None:
    """With the fault gone, Run again answers from the server."""
    server.set_fault("none")
    before = server.requests_total
    run_page(app, page, "penguins")
    assert_clean(app)
    assert server.requests_total > before, "the second run reached the server"
    assert REPLY_MARKER in texts(app), texts(app)


# ------------------------------------------------------------------------------ the matrix
@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_shows_its_message_and_the_app_stays_usable(
    monkeypatch: pytest.MonkeyPatch,
    openai_server: OpenAICompatibleServer,
    down_base_url: str,
    fake_api_key: str,
    fault: str,
    page: str,
) -> None:
    base_url = down_base_url if fault == "down" else openai_server.base_url
    if fault != "down":
        openai_server.set_fault(fault)
    app = open_app(monkeypatch, PAGES[page], state=remote_state(base_url, fake_api_key))

    run_page(app, page, "cats\nowls" if page == "batch" else "cats")

    assert_clean(app)
    kind = EXPECTED_KIND[fault][page]
    expected = EN["errors"][kind]
    assert any(expected == text for text in alerts(app)), f"no {kind!r} message in {alerts(app)}"
    # Every message names a next step; timeouts point at the sidebar's timeout.
    if kind == "timeout":
        assert "raise the timeout" in expected
    assert REPLY_MARKER not in texts(app) or kind == "interrupted"
    assert fake_api_key not in page_dump(app)
    if fault == "down":
        app.session_state["base_url"] = openai_server.base_url
    assert_usable_again(app, page, openai_server)


@pytest.mark.parametrize("page", list(PAGES))
def test_empty_topic_gets_a_message_and_makes_no_request(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str, page: str
) -> None:
    app = open_app(monkeypatch, PAGES[page], state=remote_state(openai_server.base_url, fake_api_key))

    run_page(app, page, "   \n\n  ")

    assert_clean(app)
    assert EN["input"]["empty"] in alerts(app)
    assert openai_server.requests_total == 0
    assert_usable_again(app, page, openai_server)


@pytest.mark.parametrize("page", list(PAGES))
def test_a_thousand_topics_are_capped_with_a_message(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str, page: str
) -> None:
    limit = MAX_TOPICS if page == "batch" else 1
    app = open_app(monkeypatch, PAGES[page], state=remote_state(openai_server.base_url, fake_api_key, timeout_s=10.0))

    run_page(app, page, "\n".join(f"topic {i}" for i in range(1000)))

    assert_clean(app)
    arrived = len(parse_topics(topic_box(app, page).value, max_topics=10_000).topics)
    assert arrived == 1000
    expected = EN["input"]["too_many"].format(kept=limit, dropped=arrived - limit, limit=limit)
    assert expected in alerts(app), alerts(app)
    assert openai_server.requests_total == limit
    assert sorted(request.topic for request in openai_server.requests) == sorted(f"topic {i}" for i in range(limit))
    assert REPLY_MARKER in texts(app)
    assert_usable_again(app, page, openai_server)


@pytest.mark.parametrize("page", list(PAGES))
def test_a_100_kb_topic_is_shortened_with_a_message(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str, page: str
) -> None:
    app = open_app(monkeypatch, PAGES[page], state=remote_state(openai_server.base_url, fake_api_key, timeout_s=10.0))

    run_page(app, page, "x" * 100_000)

    assert_clean(app)
    assert EN["input"]["too_long"].format(count=1, limit=MAX_TOPIC_CHARS) in alerts(app), alerts(app)
    assert [len(request.topic) for request in openai_server.requests] == [MAX_TOPIC_CHARS]
    assert REPLY_MARKER in texts(app)
    assert_usable_again(app, page, openai_server)


# ---------------------------------------------------------------------------------- retries
@pytest.mark.parametrize("page", list(PAGES))
def test_a_retried_429_is_shown_not_silent(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str, page: str
) -> None:
    openai_server.set_fault("429", times=1)
    app = open_app(monkeypatch, PAGES[page], state=remote_state(openai_server.base_url, fake_api_key, timeout_s=5.0, max_retries=1))

    run_page(app, page, "cats\nowls" if page == "batch" else "cats")

    assert_clean(app)
    n = 2 if page == "batch" else 1
    assert openai_server.requests_total == n + 1, "one call was retried once"
    assert not app.error, "the retry succeeded: no error is shown"
    assert REPLY_MARKER in texts(app)
    retried = [record for record in app.session_state["run_history"][-n:] if any(call.retries for call in record.calls)]
    assert len(retried) == 1, "one run (the loop's or batch's) made the retry"
    (record,) = retried
    said = EN["polish"]["retries_made"].format(mode=EN["modes"][record.mode], count=1)
    assert said in alerts(app), alerts(app)
    assert sum(call.retries for call in record.calls) == 1 and record.error_count == 0


# ------------------------------------------------------------------------ interrupted streams
@pytest.mark.parametrize("fault", ["drop", "truncate", "corrupt"])
def test_an_interrupted_stream_keeps_its_text_and_counts_as_an_error(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str, fault: str
) -> None:
    openai_server.set_fault(fault)
    openai_server.drop_after = 4
    app = open_app(monkeypatch, PAGES["stream"], state=remote_state(openai_server.base_url, fake_api_key))

    run_page(app, "stream", "cats")

    assert_clean(app)
    arrived = "".join(split_reply(write_joke("cats"))[:4])
    output = "\n".join(str(element.value) for element in app.container(key="stream_output").markdown)
    assert arrived.strip() in output, output
    assert write_joke("cats") not in output
    assert EN["stream"]["interrupted_note"] in output
    warnings = [warning.value for warning in app.warning]
    assert warnings.count(EN["errors"]["interrupted"]) == 1, "said once, where it happened"
    summary = EN["polish"]["run_failed"].format(mode=EN["modes"]["stream"], failed=1, total=1)
    assert summary not in alerts(app), "one call, shown with its error: no summary repeats it"
    record = app.session_state["run_history"][-1]
    assert record.mode == "stream"
    call = record.calls[0]
    assert call.interrupted and not call.ok and call.error_kind == "interrupted"
    assert call.output == arrived
    assert record.error_count == 1
    assert_usable_again(app, "stream", openai_server)
    assert not app.session_state["run_history"][-1].calls[0].interrupted


# --------------------------------------------------------------------------- partial failure
def test_a_batch_with_some_failures_keeps_the_other_results_on_the_page_and_in_the_export(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str
) -> None:
    openai_server.set_fault("500", match="FAIL")
    topics = ["cats", "FAIL dogs", "owls", "FAIL bats"]
    app = open_app(monkeypatch, PAGES["batch"], state=remote_state(openai_server.base_url, fake_api_key, timeout_s=5.0))

    run_page(app, "batch", "\n".join(topics), with_loop=True)

    assert_clean(app)
    shown = texts(app)
    for topic in topics:
        icon = "❌" if "FAIL" in topic else "✅"
        assert f"{icon} **{topic}**" in shown, shown
    assert write_joke("cats") in shown and write_joke("owls") in shown
    said = alerts(app)
    loop_summary = EN["polish"]["run_failed"].format(mode=EN["modes"]["loop"], failed=2, total=4)
    batch_summary = EN["polish"]["run_failed"].format(mode=EN["modes"]["batch"], failed=2, total=4)
    # The loop's calls are not shown one by one: its summary says the kind, once.
    assert [text for text in said if text.startswith(loop_summary)] == [f"{loop_summary}\n\n- {EN['errors']['server']}"], said
    # batch's calls are shown (the answers): each says its error there, and the summary only counts.
    assert said.count(batch_summary) == 1, said
    assert said.count(EN["errors"]["server"]) == 2, "one message per failed batch call, in its own box"

    history = app.session_state["run_history"]
    assert [record.mode for record in history] == ["loop", "batch"]
    assert [record.error_count for record in history] == [2, 2]
    rows = list(csv.DictReader(io.StringIO(records_to_csv(history))))
    assert len(rows) == 8
    for row in rows:
        if "FAIL" in row["topic"]:
            assert row["error"].startswith("server:") and not row["output"], row
        else:
            assert not row["error"] and row["output"] == write_joke(row["topic"]), row
    exported = json.loads(records_to_json(history))
    assert [call["error"] is None for record in exported for call in record["calls"]] == [True, False, True, False] * 2
    assert fake_api_key not in records_to_csv(history) + records_to_json(history)


# ------------------------------------------------------------------------ concurrency cap
@pytest.mark.parametrize(("capped", "bounded"), [(True, True), (False, False)])
def test_max_concurrency_bounds_requests_in_flight_through_the_batch_page(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, fake_api_key: str, capped: bool, bounded: bool
) -> None:
    openai_server.ttft_s = 0.5  # long enough for every call of a wave to be in flight together
    app = open_app(monkeypatch, PAGES["batch"], state=remote_state(openai_server.base_url, fake_api_key, timeout_s=10.0))
    if capped:
        app.toggle(key="batch_capped").set_value(True).run()
        app.slider(key="max_concurrency").set_value(3)

    run_page(app, "batch", "\n".join(f"topic {i}" for i in range(8)))

    assert_clean(app)
    assert openai_server.requests_total == 8
    record = app.session_state["run_history"][-1]
    assert record.mode == "batch" and record.error_count == 0 and record.max_concurrency == (3 if capped else None)
    peak = openai_server.peak_in_flight
    pool = next(metric.value for metric in app.metric if metric.label == EN["verdict"]["client_pool"])
    if bounded:
        assert pool == "3"
        assert peak == 3, peak
    else:
        assert int(pool) > 3
        assert peak > 3, f"uncapped, the default pool should overlap more than 3 calls (peak {peak})"
