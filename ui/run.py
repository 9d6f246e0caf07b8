"""Start a run from a page: check the input and the budget, build the chain, keep the record."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import streamlit as st
from langchain_core.runnables import Runnable

from chains.budget import BudgetExceededError
from chains.joke import build_joke_chain
from chains.models import make_model
from chains.modes import RunMeta
from chains.timing import RunRecord
from chains.topics import MAX_TOPIC_CHARS, MAX_TOPICS, TopicList, parse_topics
from ui.errors import show_exception
from ui.host import session_budget
from ui.i18n import t
from ui.sidebar import active_settings

HISTORY_KEY = "run_history"
MAX_HISTORY = 200


@dataclass
class PreparedRun:
    """What a page needs to call a runner.

    Attributes:
        chain: The seed's chain around the selected model.
        meta: Labels (and secrets to scrub) for the run records.
        topics: The topics to run.
    """

    chain: Runnable[str, str]
    meta: RunMeta
    topics: list[str]


def read_topics(text: str | None, *, max_topics: int = MAX_TOPICS) -> TopicList | None:
    """Parse the topic box and explain any limit that applied.

    Args:
        text: The text area's value.
        max_topics: The cap for this page.

    Returns:
        The topics, or ``None`` (after showing a message) when there are none.
    """
    parsed = parse_topics(text, max_topics=max_topics)
    if parsed.empty:
        st.warning(t("input.empty"), icon="✍️")
        return None
    if parsed.dropped:
        st.info(t("input.too_many", kept=len(parsed.topics), dropped=parsed.dropped, limit=max_topics), icon="✂️")
    if parsed.shortened:
        st.info(t("input.too_long", count=parsed.shortened, limit=MAX_TOPIC_CHARS), icon="✂️")
    return parsed


def prepare_run(
    text: str | None,
    *,
    calls_per_topic: int = 1,
    max_topics: int = MAX_TOPICS,
    simulator_overrides: dict[str, Any] | None = None,
    planned_calls: int | None = None,
    largest_run: int | None = None,
) -> PreparedRun | None:
    """Validate the topics, check the budget and build the chain.

    Every problem is shown as a message on the page; nothing raises.

    Args:
        text: The topic box's value.
        calls_per_topic: How many model calls the page makes per topic (for the budget).
        planned_calls: The run's total model calls, when it is not topics x
            ``calls_per_topic`` (the Lab's sweep); for the budget.
        largest_run: The most topics one call of ``batch`` will get, when it is
            not the number of topics (the sweep's largest N); for the budget.
        max_topics: The cap for this page.
        simulator_overrides: ``ModelSettings`` fields to change when the simulator
            is selected (for example a longer answer on the Stream page).

    Returns:
        The prepared run, or ``None`` when it must not start.
    """
    parsed = read_topics(text, max_topics=max_topics)
    if parsed is None:
        return None
    active = active_settings()
    settings = active.model
    if settings.is_simulated and simulator_overrides:
        settings = replace(settings, **simulator_overrides)
    topics = parsed.topics
    if active.uses_host_key:
        calls = len(topics) * calls_per_topic if planned_calls is None else planned_calls
        budget = session_budget()
        try:
            budget.check(calls, topics=len(topics) if largest_run is None else largest_run)
        except BudgetExceededError:
            st.warning(
                t("budget.exceeded", remaining=budget.remaining_calls, topics=budget.max_topics_per_run), icon="💳"
            )
            return None
        budget.consume(calls)
    try:
        chain = build_joke_chain(make_model(settings))
    except Exception as exc:  # noqa: BLE001 - shown as a message, never as a traceback
        show_exception(exc, settings.api_key)
        return None
    secrets = tuple(secret for secret in (settings.api_key,) if secret)
    return PreparedRun(chain=chain, meta=RunMeta(settings.provider, settings.model, secrets), topics=topics)


def remember(record: RunRecord) -> RunRecord:
    """Keep a finished run in this session's history (newest last, bounded)."""
    history: list[RunRecord] = st.session_state.setdefault(HISTORY_KEY, [])
    history.append(record)
    del history[:-MAX_HISTORY]
    return record


def history() -> list[RunRecord]:
    """This session's runs, oldest first."""
    return st.session_state.get(HISTORY_KEY, [])
