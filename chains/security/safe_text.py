"""Keep untrusted text inert: markdown that cannot make the browser fetch anything, and safe CSV cells.

Topics, model answers and imported files are untrusted. Streamlit's markdown
does not render raw HTML (without ``unsafe_allow_html``), but it does render
images, and an image is a request the visitor's browser makes to any URL the
text names; and it turns ``[text](url)``, bare ``http://`` and ``www.`` addresses
and e-mail addresses into links. Every untrusted string that reaches markdown
goes through one of two helpers here, and nothing else:

* ``inert_markdown`` for text whose formatting is worth keeping (answers, topics,
  notes): images become text, ``<`` is escaped so that no tag can be written, and
  no link leads outside the page (its address is shown as code);
* ``plain_markdown`` for names (models, providers, nicknames, replay names):
  every markdown character is escaped, so the name shows as the characters it holds.

``csv_cell`` stops spreadsheets from running a cell as a formula.
"""

from __future__ import annotations

import re
import unicodedata

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
# A spreadsheet runs a cell that starts with one of these, also after leading spaces or a line break, and reads
# the full-width forms (＝ ＋ － ＠) as the ASCII ones.
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", " ", "\u3000", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Code (fenced blocks and inline spans) is shown as written and never linked: the autolink defusing skips it.
_CODE = re.compile(r"(?ms)^ {0,3}(```|~~~).*?(?:^ {0,3}\1[^\n]*$|\Z)|(`+)(?!`).+?(?<!`)\2(?!`)")
# What GFM turns into a link by itself: scheme://, www. and an e-mail address's @ before a domain.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)(?=[a-z0-9-]+\.)")
_PLAIN_ESCAPES = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$&:=\"'^])")


def _is_safe_target(target: str) -> bool:
    """Only an anchor in the page itself stays a link: anything else may lead outside (even ``/\\host``)."""
    cleaned = re.sub(r"[\s\x00-\x1f]", "", target)
    return cleaned.startswith("#")


def _defuse_autolinks(text: str) -> str:
    """Put a zero-width space where GFM would start a link by itself (outside code, which is never linked)."""
    pieces, last = [], 0
    for match in _CODE.finditer(text):
        pieces.append(_AUTOLINK.sub("\u200b", text[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_AUTOLINK.sub("\u200b", text[last:]))
    return "".join(pieces)


def plain_markdown(text: object) -> str:
    """Show an untrusted name (a model, a provider, a nickname, a replay's name) in markdown as exactly its characters.

    Control and format characters (newlines, bidirectional overrides) are dropped,
    every character that markdown reads is escaped with a backslash, and nothing
    becomes a link, an image, a tag, math or a heading.

    Args:
        text: Any value (``None`` gives ``""``).

    Returns:
        Markdown that renders the same characters and loads or links nothing.
    """
    if text is None:
        return ""
    cleaned = "".join(" " if char in "\n\r\t" else char for char in str(text) if char in "\n\r\t" or unicodedata.category(char)[0] != "C")
    return _PLAIN_ESCAPES.sub(r"\\\1", _AUTOLINK.sub("\u200b", cleaned))


def inert_markdown(text: str | None) -> str:
    """Make untrusted text safe to pass to ``st.markdown`` (and ``st.write``, ``st.caption``...).

    - Images (inline ``![a](u)``, reference-style ``![a][r]``/``![r]``) become
      plain text: ``🖼 a`` followed by the URL as code, so nothing is fetched.
    - Link reference definitions (``[r]: url``) are shown as text, so no
      reference can turn into an image or a link elsewhere.
    - ``<`` is escaped: no raw HTML tag and no ``<url>`` autolink.
    - A link keeps its text, and its address follows as code: only an anchor in
      the page (``#...``) stays a link. Bare addresses (``http://``, ``www.``, an
      e-mail) are not linked either; ``javascript:`` and friends are broken up
      wherever they appear.

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
        if _is_safe_target(match.group(2)):
            return match.group(0)
        target = match.group(2).replace("`", "")
        return f"{match.group(1)} (`{target}`)" if target else match.group(1)

    text = _INLINE_LINK.sub(link, text)
    # Whatever the patterns above missed (deeper nesting, odd spacing): "!\[" never starts an image.
    text = text.replace("![", "!\\[")
    text = _DANGEROUS_SCHEME.sub(lambda m: f"{m.group(1)}\u200b:", text)
    return _defuse_autolinks(text)


def csv_cell(value: object) -> object:
    """Escape one CSV cell so a spreadsheet shows it as text, never as a formula.

    Text that starts with ``=``, ``+``, ``-``, ``@`` (or their full-width forms), a
    tab, a carriage return, a line break or a space gets a leading ``'``; NUL bytes
    are removed. Other values pass unchanged
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
