"""The chain-shape select box, a live answer per key, the shape's code and its verdict (Stream, Inside, Compare)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from chains.experiments.shapes import SHAPES, ChainShape, Verdict, shape_of
from chains.security.safe_text import inert_markdown
from ui.elements.live import LiveMarkdown
from ui.i18n import option_labels, t

SHAPE_KEY = "chain_shape"
"""The select box's key, the same on every page that offers the shapes."""


def chain_shape_select(container: Any = None) -> ChainShape:
    """The ``chain_shape`` select box (the seed's chain first, the blocking step second) and what the choice shows.

    Args:
        container: Where to draw it (the page by default).

    Returns:
        The chosen shape.
    """
    where = container if container is not None else st
    chosen = where.selectbox(
        t("chain_shapes.label"), list(SHAPES), key=SHAPE_KEY, format_func=option_labels("chain_shapes."), help=t("chain_shapes.help")
    )
    shape = shape_of(chosen)
    where.caption(t(shape.lesson_key))
    return shape


class KeyedAnswer:
    """One live answer per key (a branch, a JSON field), each under its key's name, in ``invoke``'s key order.

    A key that was not expected gets its own view when its first piece comes.
    """

    def __init__(self, container: Any, keys: tuple[str, ...]) -> None:
        """Prepare a labelled view for each of ``keys`` in ``container``."""
        self._container = container
        self._views: dict[str, LiveMarkdown] = {}
        for key in keys:
            self._view(key)

    def _view(self, key: str) -> LiveMarkdown:
        if key not in self._views:
            box = self._container.container(border=True, key=f"answer_key_{len(self._views)}")
            box.caption(inert_markdown(key or "—"))
            self._views[key] = LiveMarkdown(box)
        return self._views[key]

    def append(self, key: str, text: str) -> None:
        """Add a piece of ``key``'s text."""
        self._view(key).append(text)

    def close(self) -> None:
        """Flush every view."""
        for view in self._views.values():
            view.close()


def show_answer(output: str, shape: ChainShape, container: Any = None) -> None:
    """A finished answer: markdown for text, the JSON text for a keyed answer (both inert)."""
    where = container if container is not None else st
    if shape.chunks == "text":
        where.markdown(inert_markdown(output))
    else:
        where.code(output, language="json", wrap_lines=True)


def show_verdict(verdict: Verdict | None) -> None:
    """Print a shape's verdict: good news as information, a stream that does not stream as a warning."""
    if verdict is None:
        return
    text = t(verdict.key, **verdict.values)
    if verdict.good:
        st.info(text, icon="💡")
    else:
        st.warning(text, icon="🧱")


def show_shape_code(shape: ChainShape) -> None:
    """The shape's builder and helpers, as they run (``inspect.getsource``), when it is not the seed's chain."""
    if shape.id != "seed":
        st.caption(t("chain_shapes.code_caption", shape=t(shape.label_key)))
        st.code(shape.code, language="python")
