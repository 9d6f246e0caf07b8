"""The topic box every mode page shares (widget key ``topics``)."""

from __future__ import annotations

import streamlit as st

from ui.i18n import LANGUAGES, load_strings, t

TOPICS_KEY = "topics"
_OWNER_KEY = "_topics_owner"


def _example(one_topic: bool, language: str | None = None) -> str:
    key = "examples.topic" if one_topic else "examples.topics"
    return load_strings(language)[key] if language else t(key)


def topics_input(
    page: str,
    *,
    single: bool = False,
    one_topic: bool | None = None,
    height: int = 140,
    help_text: str | None = None,
) -> str:
    """Draw the topic box with the key ``topics``, keeping its text per page.

    Widgets on different pages share the key ``topics`` (tests find them by it),
    so the text typed on each page is saved and restored when the user comes back.
    Until the user edits it, the box holds example topics in the current language.

    Args:
        page: The page's name, for the saved copy.
        single: A one-line ``st.text_input`` (Invoke) instead of a text area.
        one_topic: Pre-fill one example topic instead of several (for a page that
            runs one topic, so its first Run drops nothing); defaults to ``single``.
        height: The text area's height in pixels.
        help_text: The widget's help tooltip.

    Returns:
        The text in the box.
    """
    saved_key = f"_topics_saved_{page}"
    one_topic = single if one_topic is None else one_topic
    examples = {_example(one_topic, language) for language in LANGUAGES}
    saved = st.session_state.get(saved_key)
    if saved is None or saved in examples:
        saved = _example(one_topic)
    owned = st.session_state.get(_OWNER_KEY) == page and TOPICS_KEY in st.session_state
    if not owned or st.session_state[TOPICS_KEY] in examples:
        st.session_state[TOPICS_KEY] = saved
        st.session_state[_OWNER_KEY] = page
    if single:
        # No ``max_chars``: the browser would drop a longer paste without a word (the box kept its old topic).
        # Every page goes one way instead: ``ui.run.read_topics`` shortens the topic, and a note says so.
        value = st.text_input(t("input.topic_label"), key=TOPICS_KEY, help=help_text)
    else:
        value = st.text_area(t("input.topics_label"), key=TOPICS_KEY, height=height, help=help_text or t("input.topics_help"))
    st.session_state[saved_key] = value
    return value


def translations_of(text: str) -> list[str]:
    """``text`` and, when it is an example topic box, the same example in every language.

    A language switch translates the untouched example (ice cream -> 아이스크림):
    a result made with the English one was made with "the example", not with
    other topics, so the page must not say the topics changed.
    """
    for one_topic in (True, False):
        examples = [_example(one_topic, language) for language in LANGUAGES]
        if text in examples:
            return examples
    return [text]
