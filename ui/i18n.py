"""Korean and English strings: one TOML file per language, looked up by dotted key.

Pages never branch on the language; they call ``t("batch.title")``. A unit test
checks that both files define exactly the same keys and placeholders.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st

LANGUAGES: dict[str, str] = {"en": "English", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_KEY = "lang"
_CHOICES_LANGUAGE_KEY = "_choices_language"
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
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    if st.session_state.get(_CHOICES_LANGUAGE_KEY) != language:
        _keep_choices_across_language_switch()
        st.session_state[_CHOICES_LANGUAGE_KEY] = language
    return language


def _is_plain_choice(value: Any) -> bool:
    """True for the values a labelled choice holds here: a string id, or a list/tuple of them.

    Numbers (sliders, number inputs) travel as numbers, not labels, so they need no help.
    """
    if isinstance(value, (list, tuple)):
        return all(isinstance(item, str) for item in value)
    return isinstance(value, str)


#: Widget keys whose value looks like a choice but cannot be assigned: History's multi-file uploader (a list).
_UNSETTABLE_KEYS = frozenset({"import_runs"})


def _keep_choices_across_language_switch() -> None:
    """Re-assign every keyed choice in the session so a language switch keeps it.

    A radio, select box, segmented control or multiselect sends its value back from
    the browser as the *displayed* (translated) option. After a language switch the
    English label no longer matches any Korean one, so Streamlit resets the widget to
    its default, and the browser shows nothing selected. The widget's key is stable;
    its value, read here before any widget of the new run is drawn, is still decoded
    with the previous run's labels, so it is the stable id ("bang", "long"...).
    Writing it back into ``st.session_state`` makes Streamlit send that value with
    the new labels. Booleans (buttons, toggles), numbers and other objects are left
    alone: a button's value cannot be set, and they do not travel as labels.
    """
    for key in list(st.session_state.keys()):
        if key == LANGUAGE_KEY or key in _UNSETTABLE_KEYS:
            continue
        try:
            value = st.session_state[key]
        except KeyError:  # a widget state the browser sent without its metadata
            continue
        if _is_plain_choice(value):
            st.session_state[key] = value


def _settled_language() -> str:
    """``current_language()``, reading the session only twice when the language is already settled.

    ``t`` and ``option_labels`` run dozens of times per script run; each
    session-state read takes the session's lock, and under a crowd every bit of
    a script's work before its first token waits for the GIL behind the other
    sessions. Once ``current_language`` has set the language and kept the choices
    for it, it returns that language and changes nothing, so this returns the same.
    """
    state = st.session_state
    language = state.get(LANGUAGE_KEY)
    if language in LANGUAGES and state.get(_CHOICES_LANGUAGE_KEY) == language:
        return language
    return current_language()


def t(key: str, **values: Any) -> str:
    """Translate ``key`` into the session's language and fill ``{placeholders}``.

    Args:
        key: A dotted key, for example ``"batch.title"``.
        **values: Values for the string's placeholders.

    Returns:
        The text; the English text if the key is missing in the current language,
        or the key itself if it is missing everywhere (the tests catch both).
    """
    text = load_strings(_settled_language()).get(key) or load_strings(DEFAULT_LANGUAGE).get(key, key)
    return text.format(**values) if values else text


def option_labels(prefix: str) -> Callable[[Any], str]:
    """A ``format_func`` that shows an option id as its text in the session's language.

    Widgets keep the stable ids (``"bang"``, ``"long"``) as their values and show
    ``t(prefix + id)``. The language is bound when this is called, so the function
    gives the same labels wherever it is called (also from ``AppTest``, outside the
    script run). A ``.`` in an id becomes ``_`` in the key.

    Args:
        prefix: The keys' common start, for example ``"stream.chunk_style_"``.

    Returns:
        The ``format_func``.
    """
    strings, fallback = load_strings(_settled_language()), load_strings(DEFAULT_LANGUAGE)

    def label(option: Any) -> str:
        key = f"{prefix}{str(option).replace('.', '_')}"
        return strings.get(key) or fallback.get(key, key)

    return label
