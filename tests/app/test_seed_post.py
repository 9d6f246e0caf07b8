"""The seed post, reproduced: calibrated profile, one click on Home, the post's numbers beside the measured ones."""

from __future__ import annotations

import pytest

from chains.experiments.seed_post import (
    SEED_POST_PROFILE,
    SEED_POST_SECONDS,
    SEED_POST_TOPICS,
    compare_with_the_post,
    print_like_the_post,
    run_seed_post,
)
from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.simulation.profiles import PROFILES, TYPICAL_JOKE_TOKENS, typical_joke_seconds
from tests.app_harness import open_app, texts
from ui.i18n import load_strings
from ui.runs.keeping import HISTORY_KEY
from ui.sections.seed_post import SEED_POST_RESULT


def seed_chain(**overrides: object):
    fields = {"sim_seed": 42, "model": f"simulated-{SEED_POST_PROFILE}", **overrides}
    return build_joke_chain(make_model(ModelSettings.simulator(SEED_POST_PROFILE, **fields)))


def test_print_like_the_post_puts_bangs_before_every_chunk() -> None:
    assert print_like_the_post(["Why", " did", " the"]) == "!! Why!!  did!!  the"


def test_run_seed_post_runs_the_four_steps_on_the_posts_topics() -> None:
    fast = build_joke_chain(make_model(ModelSettings.simulator("fast", sim_jitter=0.0)))
    steps: list[str] = []
    chunks: list[str] = []
    records = run_seed_post(fast, on_step=steps.append, on_chunk=lambda _, piece, __: chunks.append(piece))
    assert steps == ["invoke", "loop", "batch", "stream"] == [record.mode for record in records]
    assert [call.topic for call in records[1].calls] == list(SEED_POST_TOPICS)
    assert [call.topic for call in records[2].calls] == list(SEED_POST_TOPICS)
    assert records[0].outputs[0] == records[1].outputs[0] == records[2].outputs[0] == "".join(chunks)
    rows = compare_with_the_post(records)
    assert [(row.mode, row.post_s) for row in rows] == list(SEED_POST_SECONDS.items())
    assert [row.measured_s for row in rows] == [records[0].wall_s, records[1].wall_s, records[2].wall_s]


def test_the_seed_profile_plans_the_posts_numbers_with_seed_42() -> None:
    """Planned (slept) times, not wall clock: invoke ≈ 1.29 s, the loop ≈ 3.1 s, batch's longest call ≈ 1.3 s."""
    from langchain_core.messages import HumanMessage

    from chains.joke import JOKE_PROMPT

    model = make_model(ModelSettings.simulator(SEED_POST_PROFILE, sim_seed=42, model=f"simulated-{SEED_POST_PROFILE}"))
    planned = []
    for topic in SEED_POST_TOPICS:
        plan = model._plan([HumanMessage(JOKE_PROMPT.format(topic=topic))])
        planned.append(plan.ttft_s + sum(plan.gaps_s))
    assert planned[0] == pytest.approx(1.294, abs=0.03)
    assert sum(planned) == pytest.approx(3.097, abs=0.06)
    assert max(planned) == pytest.approx(1.33, abs=0.06)


def test_every_profile_promise_is_the_sidebar_estimate() -> None:
    for profile in PROFILES.values():
        assert profile.typical_joke_s == typical_joke_seconds(profile.ttft_s, profile.tokens_per_s)
        assert profile.typical_joke_s == pytest.approx(profile.ttft_s + TYPICAL_JOKE_TOKENS / profile.tokens_per_s)
    for language in ("en", "ko"):
        label = load_strings(language)["profiles.seed-blog-gpt-3_5-turbo"]
        assert len(label) <= 26, "the label fits the sidebar; the detail is in help"
        assert "1.3" not in label


@pytest.mark.parametrize("language", ["en", "ko"])
def test_one_click_on_home_reproduces_the_post(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    app = open_app(monkeypatch, state={"lang": language, "sim_profile": "fast", "sim_seed": 3, "sim_failure_rate": 0.3})
    assert not app.exception
    app.button(key="seed_reproduce").click().run()
    assert not app.exception
    assert app.session_state["sim_profile"] == SEED_POST_PROFILE
    assert app.session_state["sim_seed"] == 42
    assert app.session_state["sim_failure_rate"] == 0.0
    assert app.selectbox(key="sim_profile").value == SEED_POST_PROFILE
    metrics = app.metric
    assert len(metrics) == 3
    for metric, post in zip(metrics, ("1.294", "3.097", "1.330")):
        assert post in metric.label
        assert metric.value == load_strings(language)["polish.seconds"].format(value=metric.value.removesuffix(" s").removesuffix("초"))
    shown = texts(app) + " ".join(str(cell) for table in app.table for cell in table.value.to_numpy().ravel())
    for post in ("1.294", "3.097", "1.330"):
        assert load_strings(language)["polish.seconds"].format(value=post) in shown, "one unit style per language"
    assert any("!! " in code.value for code in app.code), "the stream printed with !!"
    records = app.session_state[SEED_POST_RESULT]
    assert [record.mode for record in records] == ["invoke", "loop", "batch", "stream"]
    assert [record.run_id for record in app.session_state[HISTORY_KEY][-4:]] == [record.run_id for record in records]
