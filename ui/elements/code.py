"""The exact LangChain code behind each mode, shown on every page."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from ui.i18n import t

if TYPE_CHECKING:
    from chains.experiments.shapes import ChainShape

#: The module that builds the seed's chain; read as text, not imported (see ``_chain_code``).
CHAIN_MODULE = "chains.joke"


def _chain_code() -> str:
    """The module that builds the chain, as it runs here, and how a model is put in it.

    Read from its file, not through ``inspect`` on the imported module: importing
    it imports LangChain (half a second on a fresh server), and Home, which shows
    this code, would then draw its title only after that import.
    """
    spec = importlib.util.find_spec(CHAIN_MODULE)
    source = Path(spec.origin).read_text(encoding="utf-8") if spec is not None and spec.origin else ""
    imports, _, definitions = source.split("from __future__ import annotations\n", 1)[-1].strip().partition("\n\n")
    return (
        f"{imports}\nfrom langchain_openai import ChatOpenAI\n\n{definitions}\n\n\n"
        'chain = build_joke_chain(ChatOpenAI(model="gpt-4o-mini", timeout=30, max_retries=2))\n'
    )


CHAIN_CODE = _chain_code()
"""The chain shown on Home and in "Show the code": the source of ``chains/joke.py``, which the app runs."""


def show_code(*modes: str, expanded: bool = False, shape: ChainShape | None = None) -> None:
    """Show the chain, the chosen chain shape's builder (when it is not the seed's) and the calls for ``modes``."""
    from chains.modes import MODES
    from ui.elements.shapes import show_shape_code

    with st.expander(t("common.show_code"), expanded=expanded, icon="🧑‍💻"):
        st.code(CHAIN_CODE, language="python")
        if shape is not None:
            show_shape_code(shape)
        for mode in modes:
            st.code(MODES[mode].code, language="python")


def modes_list() -> str:
    """``modes_table`` as a markdown list, one item per mode with its cells named.

    Four columns of prose do not fit a phone: a table then scrolls sideways, and
    a scrolling region without focusable content cannot be reached by keyboard
    (axe-core's ``scrollable-region-focusable``, for a markdown table and ``st.table`` alike).
    """
    from chains.modes import MODES  # here, not at the top: Home's title does not wait for LangChain's import

    header = [t("house.col_io"), t("house.col_how"), t("house.col_when")]
    items = []
    for mode in MODES.values():
        cells = "; ".join(f"*{name}:* {t(key)}" for name, key in zip(header, mode.table_keys, strict=True))
        items.append(f"- **{t(mode.label_key)}**: {cells}")
    return "\n".join(items)


def modes_table() -> str:
    """Home's table of the modes, one row per mode of the registry, in the current language."""
    from chains.modes import MODES

    header = [t("house.col_method"), t("house.col_io"), t("house.col_how"), t("house.col_when")]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for mode in MODES.values():
        cells = [t(mode.label_key), *(t(key) for key in mode.table_keys)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
