"""Every page's budget check plans the calls its run makes (issue 25, item 7), counted at the test server.

The bug: with 7 of 8 calls left, Compare planned 3 topics as 6 calls (2 per topic)
but made 8 (invoke and stream of the first topic, loop and batch of all three): 7
went out and the stream was refused halfway. Here each page runs once with exactly
its planned calls left (all go out, none refused: the server's request counter
equals the plan), and once with one fewer (refused before anything is sent).
"""

from __future__ import annotations

import pytest

from chains.experiments.sweep import estimate_sweep_calls
from chains.modes import COMPARE_PLAN, async_comparison_calls, planned_calls
from devtools.openai_server import OpenAICompatibleServer
from tests.app.test_security import PAGE_RUNS, deployment, start_run, warnings
from tests.app_harness import open_app

TOPICS = "cats\nowls\nbats"
#: (page, button) -> the calls its run plans for TOPICS (the Invoke, Stream and Inside pages take the first topic).
PLANS = {
    ("invoke", "run"): 1,
    ("batch", "run"): 2 * 3,  # the loop, then batch
    ("stream", "run"): 1,
    ("stream", "race_run"): 2,
    ("async_modes", "run"): async_comparison_calls(3, with_sync=True),
    ("compare", "run"): planned_calls(COMPARE_PLAN, 3),
    ("lab", "run"): estimate_sweep_calls(2, 1),  # start_run sweeps N = 1 and 2 once
}


def test_compare_plans_what_it_calls() -> None:
    assert planned_calls(COMPARE_PLAN, 3) == 8


@pytest.mark.parametrize(("page", "button"), list(PLANS))
@pytest.mark.parametrize("short", [False, True])
def test_the_pre_check_allows_exactly_the_calls_the_run_makes(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, page: str, button: str, short: bool
) -> None:
    plan = PLANS[(page, button)]
    allowed = str(plan - 1 if short else plan)
    env = deployment(openai_server, HOST_KEY_VISITOR_REQUESTS_PER_HOUR=allowed, HOST_KEY_UNKNOWN_VISITOR_REQUESTS_PER_HOUR=allowed)
    app = open_app(monkeypatch, PAGE_RUNS[page][0], env=env, state={"timeout_s": 5.0, "max_retries": 0})
    start_run(app, page, button, TOPICS)
    assert not app.exception
    if short:
        assert openai_server.requests_total == 0, "refused before anything was sent"
        assert any("calls" in text.lower() for text in warnings(app)), warnings(app)
    else:
        assert openai_server.requests_total == plan, f"{page}: planned {plan}, sent {openai_server.requests_total}"


def test_the_seed_posts_experiment_follows_compares_plan() -> None:
    """Home's "reproduce the post" planned 3 calls a topic (9) for the 8 it makes; it now shares Compare's plan."""
    from chains.experiments.seed_post import SEED_POST_TOPICS, run_seed_post
    from chains.joke import build_joke_chain
    from chains.models import ModelSettings, make_model

    settings = ModelSettings.simulator("gpt-4o-mini-like")
    fast = ModelSettings(**{**settings.__dict__, "sim_ttft_s": 0.0, "sim_tokens_per_s": 10_000.0})
    records = run_seed_post(build_joke_chain(make_model(fast)))
    assert [(record.mode, record.n) for record in records] == [(mode, len(SEED_POST_TOPICS) if every else 1) for mode, every in COMPARE_PLAN]
    assert sum(record.n for record in records) == planned_calls(COMPARE_PLAN, len(SEED_POST_TOPICS))
