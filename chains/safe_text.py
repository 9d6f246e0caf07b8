"""Keep untrusted text inert: markdown that cannot make the browser fetch anything, and safe CSV cells.

Topics, model answers and imported files are untrusted. Streamlit's markdown
does not render raw HTML (without ``unsafe_allow_html``), but it does render
images, and an image is a request the visitor's browser makes to any URL the
text names. ``inert_markdown`` turns images into plain text, escapes ``<`` so
that no tag can be written, and defuses links with a dangerous scheme.
``csv_cell`` stops spreadsheets from running a cell as a formula.
"""

from __future__ import annotations

import re

_SAFE_LINK_SCHEMES = ("http://", "https://", "mailto:")
# ![alt](url "title") — the alt text may hold nested brackets one level deep.
_INLINE_IMAGE = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\s*\(([^)]*)\)")
# ![alt][ref], ![alt][] and ![ref]
_REFERENCE_IMAGE = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\](\s*\[[^\]]*\])?")
# [ref]: url "title"  (a link reference definition, up to three spaces of indent)
_DEFINITION = re.compile(r"(?m)^( {0,3})\[([^\]]+)\]:\s*(\S+)(.*)$")
# [text](javascript:...) and other inline links
_INLINE_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?([^)]*)\)")
# <scheme:...> autolinks and bare URLs of a scheme that is not http(s)/mailto
_DANGEROUS_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data|file)\s*:")
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_safe_target(target: str) -> bool:
    cleaned = re.sub(r"[\s\x00-\x1f]", "", target).lower()
    return cleaned.startswith(_SAFE_LINK_SCHEMES) or cleaned.startswith(("#", "/")) and not cleaned.startswith("//")


def inert_markdown(text: str | None) -> str:
    """Make untrusted text safe to pass to ``st.markdown`` (and ``st.write``, ``st.caption``...).

    - Images (inline ``![a](u)``, reference-style ``![a][r]``/``![r]``) become
      plain text: ``🖼 a`` followed by the URL as code, so nothing is fetched.
    - Link reference definitions (``[r]: url``) are shown as text, so no
      reference can turn into an image or a link elsewhere.
    - ``<`` is escaped: no raw HTML tag and no ``<url>`` autolink.
    - Links whose target is not http(s), mailto or a relative anchor keep their
      text only; ``javascript:`` and friends are broken up wherever they appear.

    Args:
        text: Any untrusted text (``None`` gives ``""``).

    Returns:
        Markdown that renders the same words and loads nothing.
    """
    if not text:
        return ""
    text = text.replace("\x00", "")
    # "<" alone opens every tag and autolink; ">" is left alone so that block quotes still render.
    # (Inside code spans the entity shows as "&lt;": a cosmetic cost, accepted for safety.)
    text = text.replace("<", "&lt;")

    def image(match: re.Match[str]) -> str:
        alt = match.group(1).strip() or "image"
        return f"🖼 {alt}"

    def inline_image(match: re.Match[str]) -> str:
        target = match.group(2).strip().split()[0] if match.group(2).strip() else ""
        alt = match.group(1).strip() or "image"
        return f"🖼 {alt} (`{target.replace('`', '')}`)" if target else f"🖼 {alt}"

    text = _INLINE_IMAGE.sub(inline_image, text)
    text = _REFERENCE_IMAGE.sub(image, text)
    text = _DEFINITION.sub(lambda m: f"{m.group(1)}\\[{m.group(2)}\\]: `{m.group(3).replace('`', '')}`{m.group(4)}", text)

    def link(match: re.Match[str]) -> str:
        return match.group(0) if _is_safe_target(match.group(2)) else match.group(1)

    text = _INLINE_LINK.sub(link, text)
    # Whatever the patterns above missed (deeper nesting, odd spacing): "!\[" never starts an image.
    text = text.replace("![", "!\\[")
    return _DANGEROUS_SCHEME.sub(lambda m: f"{m.group(1)}\u200b:", text)


def csv_cell(value: object) -> object:
    """Escape one CSV cell so a spreadsheet shows it as text, never as a formula.

    Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading ``'``; NUL bytes are removed. Other values pass unchanged
    (numbers stay numbers).

    Args:
        value: A cell value.

    Returns:
        The value to write.
    """
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")
    return "'" + value if value.startswith(_CSV_FORMULA_START) else value


def plotly_text(text: str | None) -> str:
    """Make untrusted text show as itself in a Plotly label, legend or hover text.

    Plotly reads a few HTML tags in its texts (``<b>``, ``<br>``, ``<a href>``...)
    and ``%{...}`` in a hover template: both are escaped, so a nickname or a
    topic from an imported file is shown as the characters it holds.

    Args:
        text: Any untrusted text (``None`` gives ``""``).

    Returns:
        The text with ``&``, ``<`` and ``>`` as entities, and ``%{`` broken up.
    """
    if not text:
        return ""
    escaped = text.replace("\x00", "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("%{", "%\u200b{")
