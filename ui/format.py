"""Numbers as text, in the session's language: one unit style for seconds everywhere ("4.20 s", "4.20초")."""

from __future__ import annotations

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
