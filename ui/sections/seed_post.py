"""Home's "Reproduce the seed post": one click sets the seed profile and runs the post's experiment.

LangChain is imported only when the button is pressed, so Home stays quick to load.
"""

from __future__ import annotations

import streamlit as st

from chains.models import default_provider
from chains.simulation.profiles import PROFILES, SEED_POST_PROFILE, SEED_POST_SEED
from ui.format import seconds
from ui.i18n import t

SEED_POST_RESULT = "seed_post_records"
_PENDING = "_seed_post_pending"


def _use_the_seed_profile() -> None:
    """Button callback (runs before the script, so the sidebar draws the new settings)."""
    profile = PROFILES[SEED_POST_PROFILE]
    st.session_state.update(
        provider=default_provider().id,
        sim_profile=SEED_POST_PROFILE,
        sim_ttft_s=profile.ttft_s,
        sim_tokens_per_s=profile.tokens_per_s,
        sim_jitter=profile.jitter,
        sim_seed=SEED_POST_SEED,
        sim_failure_rate=0.0,
        sim_interrupt_rate=0.0,
        sim_max_in_flight=0,
    )
    st.session_state[_PENDING] = True


def seed_post_section() -> None:
    """Draw the button, run the post's experiment when it was pressed, and show the comparison."""
    st.subheader(t("seed.title"))
    st.markdown(t("seed.intro"))
    st.button(t("seed.button"), key="seed_reproduce", type="primary", icon="🔁", on_click=_use_the_seed_profile)
    if st.session_state.pop(_PENDING, False):
        _run()
    records = st.session_state.get(SEED_POST_RESULT)
    if records:
        _show(records)


def _run() -> None:
    from functools import partial

    from chains.experiments.seed_post import SEED_POST_TOPICS, run_seed_post
    from chains.modes import COMPARE_PLAN, planned_calls
    from ui.elements.live import ChunkView
    from ui.run import prepare_run
    from ui.runs.keeping import remember

    # The post's experiment is Compare's plan: invoke and stream of the first topic, loop and batch of all.
    prepared = prepare_run("\n".join(SEED_POST_TOPICS), planned_calls=partial(planned_calls, COMPARE_PLAN))
    if prepared is None:
        return
    with st.status(t("seed.running"), expanded=True) as status:
        chunks = ChunkView(st.container(border=True), separator="!!")
        records = run_seed_post(
            prepared.chain,
            meta=prepared.meta,
            on_step=lambda mode: st.write(t("compare.step", mode=t(f"modes.{mode}"))),
            on_chunk=lambda _, piece, t_s: chunks.append(piece, t_s),
        )
        chunks.close()
        status.update(label=t("seed.done"), state="complete", expanded=False)
    from ui.runs.preferences import note_last_result

    st.session_state[SEED_POST_RESULT] = [remember(record) for record in records]
    note_last_result(SEED_POST_RESULT, st.session_state[SEED_POST_RESULT])  # a reload shows it again


def _show(records: list) -> None:
    from chains.experiments.seed_post import compare_with_the_post, print_like_the_post

    rows = compare_with_the_post(records)
    columns = st.container(key="seed_metrics").columns(len(rows))
    for column, row in zip(columns, rows):
        column.metric(
            t("seed.metric_label", mode=t(f"modes.{row.mode}"), post=row.post_s),
            seconds(row.measured_s),
            delta=t("seed.delta", delta=row.measured_s - row.post_s),
            delta_color="off",
            help=t("seed.metric_help", post=row.post_s, measured=row.measured_s, ratio=row.ratio),
        )
    # st.table, not a markdown table: on a phone it scrolls sideways instead of cutting off its last column.
    header = [cell.strip() for cell in t("seed.table_header").strip("|").split("|")]
    table = [
        dict(zip(header, (t(f"modes.{row.mode}"), seconds(row.post_s, 3), seconds(row.measured_s, 3), f"{row.ratio:.2f}×"), strict=True))
        for row in rows
    ]
    st.table(table, hide_index=True, border="horizontal")
    stream = next((record for record in records if record.mode == "stream"), None)
    if stream is not None and stream.calls and stream.calls[0].chunks:
        with st.container(key="seed_stream"):
            st.markdown(f"**{t('seed.stream_title')}**")
            st.caption(t("seed.stream_caption"))
            st.code(print_like_the_post([piece for _, piece in stream.calls[0].chunks]), language=None, wrap_lines=True)
    st.caption(t("seed.note"))
