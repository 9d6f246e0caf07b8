"""Numbers and times as text, in the session's language: one unit style for seconds everywhere ("4.20 s", "4.20초")."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from ui.i18n import t


def seconds(value: float | None, digits: int = 2) -> str:
    """``value`` seconds as ``4.20 s`` in English and ``4.20초`` in Korean; ``—`` for ``None``."""
    if value is None:
        return "—"
    return t("polish.seconds", value=f"{value:.{digits}f}")


def seconds_template(plotly_value: str) -> str:
    """A Plotly hover/text template for seconds, e.g. ``seconds_template("%{y:.2f}")``."""
    return t("polish.seconds", value=plotly_value)


def provider_name(provider_id: str) -> str:
    """A run's provider as a label shows it, in the session's language (``simulator`` -> ``시뮬레이터``).

    An id this app does not know (from an imported file) is shown as it is.
    """
    key = f"providers_short.{provider_id}"
    name = t(key)
    return provider_id if name == key else name


def local_time(started_at: str) -> str:
    """``HH:MM:SS`` of an ISO-8601 UTC time, in the browser's time zone when it is known (else ``UTC``)."""
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return started_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        zone = st.context.timezone
        if zone:
            return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")
    except Exception:  # noqa: BLE001 - an unknown zone name: show UTC
        pass
    return moment.astimezone(UTC).strftime("%H:%M:%S") + " UTC"
