"""Strict reading of untrusted JSON uploads: one error type and the checks both file formats share.

History's runs import (``chains.records.exchange``) and the replay profiles
(``chains.simulation.replay``) read files that anybody may have written. Both refuse
with a reason code that the UI translates and a ``where`` in our own words,
never an echo of the file. Each format subclasses ``UntrustedFormatError``
with its own reasons; the checks below raise whichever class they are given.

Plain Python: no LangChain, no Streamlit.
"""

from __future__ import annotations

import json
import math
from typing import Any


class UntrustedFormatError(ValueError):
    """An uploaded file that is not accepted.

    Attributes:
        reason: A reason code from the subclass's ``REASONS``.
        where: The offending field (``runs[2].calls[0].end_s``), our own words only.
    """

    REASONS: tuple[str, ...] = ("too_large", "not_json", "format", "version", "schema", "too_many", "too_long", "bad_number", "empty")

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(f"{reason}: {where}" if where else reason)
        self.reason = reason
        self.where = where


def read_untrusted_json(data: bytes | str, *, max_bytes: int, error: type[UntrustedFormatError]) -> Any:
    """Parse an untrusted JSON file, or raise ``error(reason)``: ``too_large`` (checked before parsing),
    ``not_json`` (not UTF-8, not JSON, nested too deep) or ``bad_number`` (``NaN``, ``Infinity``).

    Args:
        data: The file's bytes (a UTF-8 byte order mark is allowed) or text.
        max_bytes: The largest file accepted.
        error: The exception class to raise.

    Returns:
        The parsed document.
    """
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise error("too_large")

    def refuse_constant(name: str) -> float:
        raise error("bad_number", name)

    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=refuse_constant)
    except error:
        raise
    except (ValueError, RecursionError) as exc:
        raise error("not_json") from exc


def checked_string(value: Any, where: str, limit: int, error: type[UntrustedFormatError]) -> str:
    """``value`` if it is a string of at most ``limit`` characters (NUL bytes removed), else ``error``."""
    if not isinstance(value, str):
        raise error("schema", where)
    if len(value) > limit:
        raise error("too_long", where)
    return value.replace("\x00", "")


def checked_seconds(value: Any, where: str, limit: float, error: type[UntrustedFormatError]) -> float:
    """``value`` as seconds if it is a finite number from 0 to ``limit`` (not a bool), else ``error``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error("schema", where)
    if not math.isfinite(value) or not 0 <= value <= limit:
        raise error("bad_number", where)
    return float(value)
