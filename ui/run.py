"""Start a run from a page: check the input and the budget, build the chain, and own the page run's life.

Where the runs are kept is ``ui.runs.keeping``. A page's run that a rerun cuts
short (a click, a language switch, leaving the page) is kept too, marked
stopped: see ``begin_page_run`` and ``ui.runs.keeping.PageRun``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st
from langchain_core.runnables import Runnable
from streamlit.errors import StreamlitInvalidLayoutContextError

from chains.experiments.shapes import DEFAULT_SHAPE, ChainShape, shape_of
from chains.models import ModelSettings, make_model, provider_for
from chains.modes import RunMeta
from chains.security.netguard import UnsafeURLError
from chains.security.policy import HostKeyRefusedError
from chains.security.safe_text import plain_markdown
from chains.timing import RunRecord
from chains.topics import MAX_TOPIC_CHARS, MAX_TOPICS, TopicList, parse_topics
from ui.deployment.host import read_host_config
from ui.deployment.local_model import wait_for_local_server
from ui.deployment.policy import egress_policy, host_key_meter
from ui.elements.errors import show_exception
from ui.format import local_time, provider_name
from ui.i18n import t
from ui.runs.keeping import PageRun, start_keeping
from ui.sidebar import active_settings

INPUT_NOTES_KEY = "_input_notes"
"""What the last ``read_topics`` left out or shortened, as shown."""
#: The model label of runs on the deployment's default model (its real name is not shown to visitors).
DEPLOYMENT_MODEL_LABEL = "deployment-model"
STOPPED_SUFFIX = "_stopped"
STOP_HANDOVER_WAIT_S = 2.0
"""How long a page waits for a stopped run's thread to hand over its partial record."""


@dataclass
class PreparedRun:
    """What a page needs to call a runner.

    Attributes:
        chain: The chosen chain shape (the seed's chain by default) around the selected model.
        meta: Labels (and secrets to scrub) for the run records.
        topics: The topics to run.
        shape: The chain's shape (``chains.experiments.shapes``): what its stream yields, its code.
    """

    chain: Runnable[str, Any]
    meta: RunMeta
    topics: list[str]
    shape: ChainShape = field(default_factory=lambda: shape_of(DEFAULT_SHAPE))


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
    notes = []
    if parsed.dropped:
        notes.append(t("input.too_many", kept=len(parsed.topics), dropped=parsed.dropped, limit=max_topics))
    if parsed.shortened:
        notes.append(t("input.too_long", count=parsed.shortened, limit=MAX_TOPIC_CHARS))
    st.session_state[INPUT_NOTES_KEY] = notes
    show_input_notes(notes)
    return parsed


def show_input_notes(notes: list[str] | None = None) -> None:
    """The notes of what the last Run left out or shortened (the last ``read_topics``'s, by default).

    A page whose run goes on over several script runs (the Lab's sweep) shows
    them again, so that they stay with the results.
    """
    for note in st.session_state.get(INPUT_NOTES_KEY, []) if notes is None else notes:
        st.info(note, icon="✂️")


def prepare_run(
    text: str | None,
    *,
    calls_per_topic: int = 1,
    max_topics: int = MAX_TOPICS,
    simulator_overrides: dict[str, Any] | None = None,
    planned_calls: int | Callable[[int], int] | None = None,
    largest_run: int | None = None,
    shape: str = DEFAULT_SHAPE,
) -> PreparedRun | None:
    """Validate the topics, check the budget and build the chain.

    Every problem is shown as a message on the page; nothing raises.

    Args:
        text: The topic box's value.
        calls_per_topic: How many model calls the page makes per topic (for the budget).
        planned_calls: The run's total model calls, when it is not topics x
            ``calls_per_topic`` (the Lab's sweep), or a function of the number of
            topics that gives it (the Async page); for the budget.
        largest_run: The most topics one call of ``batch`` will get, when it is
            not the number of topics (the sweep's largest N); for the budget.
        max_topics: The cap for this page.
        simulator_overrides: ``ModelSettings`` fields to change when the simulator
            is selected (for example a longer answer on the Stream page).
        shape: The id of the chain shape to build (``chains.experiments.shapes.SHAPES``); its
            model calls per invoke (branches, attempts) multiply the planned calls.

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
    chosen = shape_of(shape)
    calls = planned_calls(len(topics)) if callable(planned_calls) else planned_calls
    if calls is None:
        calls = len(topics) * calls_per_topic
    calls *= chosen.model_calls  # a shape's model calls per chain call (two branches, a retry...)
    own_key_helps = not (active.on_host_endpoint or active.on_host_cpu)
    if active.metered and not _host_key_affords(host, len(topics) if largest_run is None else largest_run, calls, own_key_helps=own_key_helps):
        return None
    if provider_for(settings.provider).is_local_model and not wait_for_local_server(public=host.public):
        return None
    try:
        chain = chosen.build(make_model(settings, egress_policy(host, metered=active.metered)))
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
    provider, model = record_labels(settings, host)
    meta = RunMeta(provider, model, secrets, shape=chosen.id, provider_words=not host.public)
    return PreparedRun(chain=chain, meta=meta, topics=topics, shape=chosen)


def record_labels(settings: ModelSettings, host: Any) -> tuple[str, str]:
    """The provider and model names written on the records of a run with ``settings``.

    The deployment's model name is not shown to visitors: its runs are labelled
    generically (also when a visitor's own key runs on it because the model field
    is empty). A replay is labelled ``replay``.

    Args:
        settings: The run's model settings.
        host: The deployment's configuration.

    Returns:
        ``(provider, model)`` as they appear on the run records.
    """
    on_host_model = host.has_key and not settings.is_simulated and not str(st.session_state.get("model_name", "")).strip()
    return settings.record_provider, DEPLOYMENT_MODEL_LABEL if on_host_model else settings.model


def _host_key_affords(host: Any, topics_per_run: int, planned_calls: int, *, own_key_helps: bool = True) -> bool:
    """Pre-check a run the host pays for (its key, or its own endpoint); show why when it cannot start.

    The planned calls are checked against what this visitor (and the whole
    deployment) may still send; retries are not counted here. The HTTP
    transport counts every request, retries included, and refuses any request
    past a limit, so this check only spares a run that could not finish.

    Args:
        host: The deployment's configuration.
        topics_per_run: Topics in the largest single run.
        planned_calls: Model calls the run plans to make.
        own_key_helps: False on the host's own non-OpenAI endpoint, where the
            host pays whatever key is typed, so the message does not offer that way out.

    Returns:
        True when the run may start.
    """
    meter = host_key_meter(host)
    left = meter.calls_left()
    if getattr(meter.ledger, "unavailable", False):  # the SQL ledger's database is down: it refuses (fails closed)
        st.warning(t("sql_ledger.unavailable"), icon="💳")
        return False
    if topics_per_run > host.limits.max_topics or planned_calls > left:
        message = "budget.exceeded" if own_key_helps else "budget.exceeded_host_endpoint"
        st.warning(t(message, remaining=left, topics=host.limits.max_topics), icon="💳")
        return False
    return True


def begin_page_run(key: str) -> PageRun:
    """Start a page's run: its last result is cleared, and this run's records collect as they come.

    Until ``finish_page_run``, the ``PageRun`` stays under ``key + STOPPED_SUFFIX``:
    if a rerun stops the script half-way, the page finds there what was kept.

    Args:
        key: The session key of the page's last result.

    Returns:
        The run's keeper: pass ``keeper.on_stopped`` to the runners, and
        ``keeper.keep(record)`` each finished record.
    """
    keeper = start_keeping()
    st.session_state[key] = None
    st.session_state[key + STOPPED_SUFFIX] = keeper
    return keeper


@contextmanager
def stopped_if_superseded() -> Iterator[None]:
    """Stop this script run, as Streamlit would at its next element, when a newer run has taken its boxes over.

    A fragment draws into boxes made outside it (the Stream page's answer and
    chunk boxes) through wrappers that each full run of the app makes anew. A
    full run asked for while the fragment streams (a language switch, another
    page) starts at once in a new script thread, and Streamlit stops the old one
    at its next element; but that element, in a box whose wrapper the new run
    has just dropped, raises ``StreamlitInvalidLayoutContextError`` first. The
    old run is over all the same: ``st.stop()`` ends it as Streamlit would have,
    so the runners keep what had arrived, marked stopped, instead of recording
    a failed call.
    """
    try:
        yield
    except StreamlitInvalidLayoutContextError:
        st.stop()


def finish_page_run(key: str, result: Any) -> None:
    """The page's run completed: ``result`` becomes its last result (restored after a reload, ``ui.runs.preferences``; a refused new run set is said once)."""
    from ui.runs.preferences import note_last_result

    st.session_state[key] = result
    keeper = st.session_state.pop(key + STOPPED_SUFFIX, None)
    if getattr(keeper, "refused", False):
        st.warning(t("store.sets_refused"), icon="⏳")
    note_last_result(key, result)


def stopped_runs(key: str) -> list[RunRecord] | None:
    """The records kept from a page's run that was cut short, or ``None`` if its last run completed.

    When the run was stopped by the rerun that is drawing the page now, its
    script thread may still be handing over the partial record: wait for it
    briefly (at most once).
    """
    keeper = st.session_state.get(key + STOPPED_SUFFIX)
    if keeper is None:
        return None
    if not keeper.settled.is_set():
        keeper.settled.wait(STOP_HANDOVER_WAIT_S)
        keeper.settled.set()
    return keeper.records


def last_runs(key: str, container: Any = None) -> list[RunRecord] | None:
    """A multi-run page's last runs: what a cut-short run kept is shown (in ``container``), the completed runs returned.

    Args:
        key: The session key of the page's last result.
        container: Where to show a cut-short run (default: the page).

    Returns:
        The records of the page's last completed run, or ``None``.
    """
    stopped = stopped_runs(key)
    if stopped is not None:
        with container if container is not None else nullcontext():
            show_stopped_runs(stopped)
    return st.session_state.get(key)


def prepared_on_run_button(text: str | None, **options: Any) -> PreparedRun | None:
    """The page's Run button (key ``run``): when it was pressed, ``prepare_run(text, **options)``; else ``None``."""
    if not st.button(t("common.run"), key="run", type="primary", icon="▶️"):
        return None
    return prepare_run(text, **options)


def last_result(key: str) -> Any:
    """A one-run page's last run: the completed one, else the one that was cut short (if any)."""
    result = st.session_state.get(key)
    if result is not None:
        return result
    stopped = stopped_runs(key)
    return stopped[-1] if stopped else None


def run_caption(record: RunRecord) -> str:
    """Where results come from: ``Run at 14:05:31 · simulator · gpt-4o-mini-like · 3 topics`` (+ stopped)."""
    text = t("store.run_at", time=local_time(record.started_at), provider=plain_markdown(provider_name(record.provider)), model=plain_markdown(record.model), n=record.n)
    return text + (" · " + t("store.stopped_tag") if record.stopped else "")


def show_run_label(record: RunRecord, text: str | None = None) -> None:
    """Label a page's results with the run they come from, and warn when the inputs have changed since.

    Args:
        record: The run whose results follow (for several runs, the one with the most topics).
        text: The topic box's current value, to compare with the run's topics.
    """
    st.caption("🕒 " + run_caption(record), help=t("store.run_at_help"))
    if record.stopped:
        st.warning(t("store.stopped_note"), icon="⏹️")
    from ui.elements.inputs import translations_of

    settings = active_settings().model
    ran = [call.topic for call in record.calls]
    changed_topics = text is not None and all(
        topics[: len(ran)] != ran and topics != ran[: len(topics)]
        for topics in (parse_topics(candidate).topics for candidate in translations_of(text))
    )
    if changed_topics or record_labels(settings, read_host_config()) != (record.provider, record.model):
        st.info(t("store.inputs_changed"), icon="✏️")


def show_stopped_runs(records: list[RunRecord]) -> None:
    """Show what a cut-short multi-run page kept: each run's label and its calls so far."""
    from ui.elements.results import show_call

    st.warning(t("store.page_stopped", runs=len(records)), icon="⏹️")
    for record in records:
        st.caption(f"🕒 {plain_markdown(record.mode)} · " + run_caption(record))
        with st.expander(t("store.stopped_calls", done=sum(call.ok for call in record.calls), n=record.n)):
            for call in record.calls:
                show_call(call)
