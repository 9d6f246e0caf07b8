"""Korean and English strings: one TOML file per language, looked up by dotted key.

Pages never branch on the language; they call ``t("batch.title")``. A unit test
checks that both files define exactly the same keys and placeholders.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st

LANGUAGES: dict[str, str] = {"en": "English", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_KEY = "lang"
_LOCALE_DIR = Path(__file__).parent / "locales"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = str(value)
    return flat


@cache
def load_strings(language: str) -> dict[str, str]:
    """Load one language's strings as a flat ``{"section.key": text}`` dict.

    Args:
        language: ``en`` or ``ko``.

    Returns:
        The strings. Cached: they are read-only and the same for every session.
    """
    with (_LOCALE_DIR / f"{language}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def language_from_locale(locale: str | None) -> str:
    """Pick the UI language for a browser locale such as ``ko-KR`` or ``en-US``."""
    if locale and locale.lower().startswith("ko"):
        return "ko"
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The session's language: the sidebar switch, else the browser's locale."""
    if LANGUAGE_KEY not in st.session_state:
        try:
            locale = st.context.locale
        except Exception:  # noqa: BLE001 - no browser context (for example in AppTest)
            locale = None
        st.session_state[LANGUAGE_KEY] = language_from_locale(locale)
    language = st.session_state[LANGUAGE_KEY]
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **values: Any) -> str:
    """Translate ``key`` into the session's language and fill ``{placeholders}``.

    Args:
        key: A dotted key, for example ``"batch.title"``.
        **values: Values for the string's placeholders.

    Returns:
        The text; the English text if the key is missing in the current language,
        or the key itself if it is missing everywhere (the tests catch both).
    """
    text = load_strings(current_language()).get(key) or load_strings(DEFAULT_LANGUAGE).get(key, key)
    return text.format(**values) if values else text
