"""Human error messages, in the user's language, and never a traceback."""

from __future__ import annotations

import streamlit as st

from chains.errors import APP_GUARD_KINDS, ErrorInfo, classify_error
from chains.security.safe_text import plain_markdown
from chains.timing import CallTiming, RunRecord
from ui.deployment.host import read_host_config
from ui.i18n import t


def error_message(kind: str) -> str:
    """The localized "what happened, what to try" text for an error kind."""
    return t(f"errors.{kind}")


def _may_show_provider_words() -> bool:
    """A provider's own error text is shown only on a private deployment (no host key, not public).

    An error body can quote anything the server knows; on a public deployment
    visitors get the classified message only.
    """
    return not read_host_config().public


def show_error_info(info: ErrorInfo) -> None:
    """Show one categorised error: the explanation, then the provider's own words."""
    message = error_message(info.kind)
    if info.retry_after_s:
        message += " " + t("errors.retry_after", seconds=info.retry_after_s)
    st.error(message, icon="⚠️")
    if info.detail and info.kind not in APP_GUARD_KINDS and _may_show_provider_words():
        st.caption(t("errors.provider_said", detail=plain_markdown(info.detail)))


def show_exception(exc: BaseException, *secrets: str | None) -> None:
    """Classify and show an exception raised outside a runner (for example while building the model)."""
    show_error_info(classify_error(exc, *secrets))


def show_call_error(call: CallTiming) -> None:
    """Show the error of one failed or interrupted call, below its partial output."""
    kind = call.error_kind or "unknown"
    detail = (call.error or "").split(": ", 1)[-1]
    if call.interrupted:
        st.warning(error_message("interrupted"), icon="✂️")
        return
    st.error(f"{error_message(kind)}", icon="⚠️")
    if detail and detail != kind and kind not in APP_GUARD_KINDS and _may_show_provider_words():
        st.caption(t("errors.provider_said", detail=plain_markdown(detail)))


def show_run_problems(record: RunRecord, *, calls_shown: bool = True) -> None:
    """Say a run's failures once: one summary line that names the mode and counts the failed calls.

    Each failure's message is said where it happened: in its call's box when the
    page shows the calls (``calls_shown``), else here, once per kind, inside the
    same summary. A single shown call needs no summary: its box says it all.

    Args:
        record: The run.
        calls_shown: True when the page shows each call of ``record`` with its error.
    """
    failed = [call for call in record.calls if not call.ok]
    retries = sum(call.retries for call in record.calls)
    if retries:
        st.info(t("polish.retries_made", mode=t(f"modes.{record.mode}"), count=retries), icon="🔁")
    if not failed or (calls_shown and record.n == 1):
        return
    mode = t(f"modes.{record.mode}")
    if len(failed) == record.n:  # nothing else to keep: say so, not "the other results are kept"
        text = t("verdict.all_failed" if record.n > 1 else "verdict.one_failed", mode=mode, total=record.n)
    else:
        text = t("polish.run_failed", mode=mode, failed=len(failed), total=record.n)
    if not calls_shown:
        kinds = sorted({"interrupted" if call.interrupted else (call.error_kind or "unknown") for call in failed})
        text += "\n\n" + "\n".join("- " + error_message(kind) for kind in kinds)
    st.warning(text, icon="⚠️")
