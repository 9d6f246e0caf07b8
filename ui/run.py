"""Start a run from a page: check the input and the budget, build the chain, keep the record."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import streamlit as st
from langchain_core.runnables import Runnable

from chains.joke import build_joke_chain
from chains.models import HostKeyRefusedError, make_model
from chains.modes import RunMeta
from chains.netguard import UnsafeURLError
from chains.timing import RunRecord
from chains.topics import MAX_TOPIC_CHARS, MAX_TOPICS, TopicList, parse_topics
from ui.errors import show_exception
from ui.host import egress_policy, host_key_meter, read_host_config
from ui.i18n import t
from ui.sidebar import active_settings

HISTORY_KEY = "run_history"
#: The model label of runs on the deployment's default model (its real name is not shown to visitors).
DEPLOYMENT_MODEL_LABEL = "deployment-model"
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
    host = read_host_config()
    if active.uses_host_key and not _host_key_affords(host, len(topics) if largest_run is None else largest_run, planned_calls if planned_calls is not None else len(topics) * calls_per_topic):
        return None
    try:
        chain = build_joke_chain(make_model(settings, egress_policy(host, metered=active.uses_host_key)))
    except UnsafeURLError as exc:
        st.warning(t(f"security.url_refused_{exc.reason}"), icon="🛡️")
        return None
    except HostKeyRefusedError:
        st.warning(t("security.own_key_needed_endpoint"), icon="🔑")
        return None
    except Exception as exc:  # noqa: BLE001 - shown as a message, never as a traceback
        show_exception(exc, settings.api_key)
        return None
    secrets = tuple(secret for secret in (settings.api_key,) if secret)
    # The deployment's model name is not shown to visitors: label its runs generically
    # (also when a visitor's own key runs on it because the model field is empty).
    on_host_model = host.has_key and not settings.is_simulated and not str(st.session_state.get("model_name", "")).strip()
    label = DEPLOYMENT_MODEL_LABEL if on_host_model else settings.model
    return PreparedRun(chain=chain, meta=RunMeta(settings.record_provider, label, secrets), topics=topics)


def _host_key_affords(host: Any, topics_per_run: int, planned_calls: int) -> bool:
    """Pre-check a run paid by the host's key; show why when it cannot start.

    The planned calls are checked against what this visitor (and the whole
    deployment) may still send; retries are not counted here. The HTTP
    transport counts every request, retries included, and refuses any request
    past a limit, so this check only spares a run that could not finish.

    Args:
        host: The deployment's configuration.
        topics_per_run: Topics in the largest single run.
        planned_calls: Model calls the run plans to make.

    Returns:
        True when the run may start.
    """
    left = host_key_meter(host).calls_left()
    if topics_per_run > host.limits.max_topics or planned_calls > left:
        st.warning(t("budget.exceeded", remaining=left, topics=host.limits.max_topics), icon="💳")
        return False
    return True


def remember(record: RunRecord) -> RunRecord:
    """Keep a finished run in this session's history (newest last, bounded)."""
    history: list[RunRecord] = st.session_state.setdefault(HISTORY_KEY, [])
    history.append(record)
    del history[:-MAX_HISTORY]
    return record


def history() -> list[RunRecord]:
    """This session's runs, oldest first."""
    return st.session_state.get(HISTORY_KEY, [])
