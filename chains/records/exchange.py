"""Exchange runs between members of a study group: the JSON export, and its strict import.

History's JSON download (``runs_to_json``) is a small document with a format
name and a version around the full run records. ``parse_runs`` reads such a
file back from anybody, so it treats it as hostile: a cap on the file's size,
on the number of runs, calls and chunks, on every string's length; numbers
must be finite and in range; the mode must be one of ``chains.modes.MODES``,
the chain shape one of ``chains.experiments.shapes.SHAPES`` and the provider a known one. Anything else raises ``ExchangeError`` with a
reason code the UI translates, and nothing is half-read. The export of older
versions of the app (a bare JSON array of records) is still accepted.

Text is kept as text: a topic that holds ``<script>`` stays those characters.
Whoever shows it keeps it inert (``chains.security.safe_text``, ``st.dataframe``).

Plain Python: no Streamlit.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import datetime
from typing import Any

from chains.security.untrusted import UntrustedFormatError, checked_seconds, checked_string, read_untrusted_json
from chains.timing import CallTiming, RunRecord
from chains.topics import MAX_TOPIC_CHARS

FORMAT = "langchain-call-modes-runs"
VERSION = 1
#: The largest file accepted, in bytes.
MAX_FILE_BYTES = 2_000_000
MAX_RUNS_PER_FILE = 200
#: Runs accepted in one upload (all its files together); the store keeps 200 History entries anyway.
MAX_RUNS_PER_IMPORT = 200
MAX_CALLS_PER_RUN = 256
MAX_CHUNKS_PER_CALL = 4_000
MAX_OUTPUT_CHARS = 20_000
MAX_CHUNK_CHARS = 2_000
MAX_ERROR_CHARS = 1_000
MAX_MODEL_CHARS = 200
MAX_LABEL_CHARS = 200
MAX_ID_CHARS = 64
MAX_SHORT_CHARS = 40
#: The longest nickname (sidebar and imports).
MAX_OWNER_CHARS = 40
#: The longest time accepted anywhere in a run, in seconds (a run is minutes, not hours).
MAX_SECONDS = 3_600.0
MAX_COUNT = 100_000_000
MAX_RETRIES = 100

_ORIGIN = re.compile(r"[a-z0-9_]*")
_SPACES = re.compile(r"\s+")


class ExchangeError(UntrustedFormatError):
    """A runs file that is not accepted.

    Attributes:
        reason: ``too_large``, ``not_json``, ``format``, ``version``, ``schema``,
            ``too_many``, ``too_long``, ``bad_number``, ``unknown_mode``,
            ``unknown_provider``, ``unknown_shape`` or ``empty``.
        where: The offending field (``runs[2].calls[0].end_s``), our own words only.
    """

    REASONS = (*UntrustedFormatError.REASONS, "unknown_mode", "unknown_provider", "unknown_shape")


def clean_owner(text: object) -> str:
    """A nickname as it is kept: no control or format characters, single spaces, at most ``MAX_OWNER_CHARS``.

    Markup is kept as the characters it is made of (``<b>`` stays ``<b>``): the
    places that show a nickname keep it inert.
    """
    if not isinstance(text, str):
        return ""
    visible = "".join(" " if char.isspace() else char for char in text if char.isspace() or not unicodedata.category(char).startswith("C"))
    return _SPACES.sub(" ", visible).strip()[:MAX_OWNER_CHARS].strip()


def known_modes() -> frozenset[str]:
    """The mode ids a run may have (``chains.modes.MODES``)."""
    from chains.modes import MODES  # LangChain is imported only when a file is read

    return frozenset(MODES)


def known_shapes() -> frozenset[str]:
    """The chain shape ids a run may have (``chains.experiments.shapes.SHAPES``): an allow-list, like the modes."""
    from chains.experiments.shapes import SHAPES

    return frozenset(SHAPES)


def _shape(value: Any, where: str) -> str:
    text = _string(value, where, MAX_SHORT_CHARS)
    if text not in known_shapes():
        raise ExchangeError("unknown_shape", where)
    return text


def known_providers() -> frozenset[str]:
    """The provider labels a run may have: every registered provider (``replay`` is one)."""
    from chains.models import PROVIDERS

    return frozenset(PROVIDERS)


# ------------------------------------------------------------------ export
def runs_to_dict(records: Iterable[RunRecord]) -> dict[str, Any]:
    """The JSON-ready document that ``parse_runs`` reads back."""
    return {"format": FORMAT, "version": VERSION, "runs": [record.to_dict() for record in records]}


def runs_to_json(records: Iterable[RunRecord]) -> str:
    """History's JSON export: the format, the version and the full records (calls and chunks included)."""
    return json.dumps(runs_to_dict(records), ensure_ascii=False, indent=2)


def fresh_copies(records: Iterable[RunRecord]) -> list[RunRecord]:
    """Copies of ``records`` with new run ids (and new sweep group ids), the rest kept (owner and origin too).

    A copy never collides with the original, nor with a second copy of it: the
    runs of one sweep stay together under one new group id.
    """
    groups: dict[str, str] = {}
    copies = []
    for record in records:
        duplicate = copy.deepcopy(record)
        duplicate.run_id = "r" + uuid.uuid4().hex[:7]
        if record.group_id is not None:
            duplicate.group_id = groups.setdefault(record.group_id, "g" + uuid.uuid4().hex[:11])
        copies.append(duplicate)
    return copies


#: The fields that differ between a run and its copy (``fresh_copies``): left out of its fingerprint.
_COPY_FIELDS = ("run_id", "group_id")


def content_fingerprint(record: RunRecord) -> str:
    """A digest of what a run measured and said, the same for the run, its export read back and any copy of it.

    Its ids (``run_id``, a sweep's ``group_id``) are left out, as ``fresh_copies``
    changes them; everything else (calls, chunks, times, owner, model) counts.
    """
    data = record.to_dict()
    for name in _COPY_FIELDS:
        data.pop(name, None)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def new_runs(records: Iterable[RunRecord], kept: Iterable[RunRecord]) -> tuple[list[RunRecord], int]:
    """The runs of ``records`` whose content is in neither ``kept`` nor earlier in ``records``, and how many were skipped."""
    seen = {content_fingerprint(record) for record in kept}
    fresh, skipped = [], 0
    for record in records:
        fingerprint = content_fingerprint(record)
        if fingerprint in seen:
            skipped += 1
            continue
        seen.add(fingerprint)
        fresh.append(record)
    return fresh, skipped


# ------------------------------------------------------------------ import
def parse_runs(data: bytes | str) -> list[RunRecord]:
    """Read runs from an untrusted JSON export, strictly.

    Args:
        data: The file's bytes (or text): ``runs_to_json``'s document, or an
            older export's bare array of records.

    Returns:
        The runs, with the ids they had in the file (see ``fresh_copies``).

    Raises:
        ExchangeError: For anything that is not a valid export within the caps.
    """
    document = read_untrusted_json(data, max_bytes=MAX_FILE_BYTES, error=ExchangeError)
    if isinstance(document, list):  # the export before the format had a name: a bare array of records
        runs = document
    elif isinstance(document, dict):
        if document.get("format") != FORMAT:
            raise ExchangeError("format")
        if type(document.get("version")) is not int or document["version"] != VERSION:
            raise ExchangeError("version")
        if set(document) != {"format", "version", "runs"} or not isinstance(document["runs"], list):
            raise ExchangeError("schema", "(top)")
        runs = document["runs"]
    else:
        raise ExchangeError("format")
    if not runs:
        raise ExchangeError("empty", "runs")
    if len(runs) > MAX_RUNS_PER_FILE:
        raise ExchangeError("too_many", "runs")
    modes, providers = known_modes(), known_providers()
    return [_run(run, f"runs[{index}]", modes, providers) for index, run in enumerate(runs)]


def _string(value: Any, where: str, limit: int) -> str:
    return checked_string(value, where, limit, ExchangeError)


def _optional_string(value: Any, where: str, limit: int) -> str | None:
    return None if value is None else _string(value, where, limit)


def _seconds(value: Any, where: str) -> float:
    return checked_seconds(value, where, MAX_SECONDS, ExchangeError)


def _optional_seconds(value: Any, where: str) -> float | None:
    return None if value is None else _seconds(value, where)


def _count(value: Any, where: str, limit: int = MAX_COUNT, *, least: int = 0) -> int:
    if type(value) is not int:
        raise ExchangeError("schema", where)
    if not least <= value <= limit:
        raise ExchangeError("bad_number", where)
    return value


def _optional_count(value: Any, where: str, limit: int = MAX_COUNT, *, least: int = 0) -> int | None:
    return None if value is None else _count(value, where, limit, least=least)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ExchangeError("schema", where)
    return value


def _started_at(value: Any, where: str) -> str:
    text = _string(value, where, MAX_SHORT_CHARS)
    try:
        datetime.fromisoformat(text)
    except ValueError as exc:
        raise ExchangeError("schema", where) from exc
    return text


def _origin(value: Any, where: str) -> str:
    text = _string(value, where, MAX_SHORT_CHARS)
    if not _ORIGIN.fullmatch(text):
        raise ExchangeError("schema", where)
    return text


def _owner(value: Any, where: str) -> str:
    return clean_owner(_string(value, where, MAX_OWNER_CHARS))


def _chunks(value: Any, where: str) -> list[tuple[float, str]]:
    if not isinstance(value, list):
        raise ExchangeError("schema", where)
    if len(value) > MAX_CHUNKS_PER_CALL:
        raise ExchangeError("too_many", where)
    chunks = []
    for index, chunk in enumerate(value):
        if not isinstance(chunk, list) or len(chunk) != 2:
            raise ExchangeError("schema", f"{where}[{index}]")
        chunks.append((_seconds(chunk[0], f"{where}[{index}]"), _string(chunk[1], f"{where}[{index}]", MAX_CHUNK_CHARS)))
    return chunks


Check = Callable[[Any, str], Any]

#: How each field of a call is checked; ``latency_s`` and ``ttft_s`` are derived (checked, then recomputed).
CALL_FIELDS: dict[str, Check] = {
    "index": lambda value, where: _count(value, where, MAX_CALLS_PER_RUN),
    "topic": lambda value, where: _string(value, where, MAX_TOPIC_CHARS),
    "start_s": _seconds,
    "end_s": _seconds,
    "first_token_s": _optional_seconds,
    "chunks": _chunks,
    "output": lambda value, where: _string(value, where, MAX_OUTPUT_CHARS),
    "error": lambda value, where: _optional_string(value, where, MAX_ERROR_CHARS),
    "error_kind": lambda value, where: _optional_string(value, where, MAX_SHORT_CHARS),
    "interrupted": _flag,
    "input_tokens": _optional_count,
    "output_tokens": _optional_count,
    "retries": lambda value, where: _count(value, where, MAX_RETRIES),
}
_CALL_DERIVED = {"latency_s", "ttft_s"}
_CALL_REQUIRED = {"index", "topic", "start_s", "end_s"}

#: How each field of a run is checked (``calls``, ``mode`` and ``provider`` are checked in ``_run``).
RUN_FIELDS: dict[str, Check] = {
    "n": lambda value, where: _count(value, where, MAX_CALLS_PER_RUN),
    "wall_s": _seconds,
    "max_concurrency": lambda value, where: _optional_count(value, where, 10_000, least=1),
    "model": lambda value, where: _string(value, where, MAX_MODEL_CHARS),
    "started_at": _started_at,
    "pool_size": lambda value, where: _optional_count(value, where, 10_000),
    "input_tokens": _optional_count,
    "output_tokens": _optional_count,
    "run_id": lambda value, where: _string(value, where, MAX_ID_CHARS),
    "label": lambda value, where: _string(value, where, MAX_LABEL_CHARS),
    "stopped": _flag,
    "origin": _origin,
    "group_id": lambda value, where: _optional_string(value, where, MAX_ID_CHARS),
    "owner": _owner,
    "shape": _shape,
}
_RUN_DERIVED = {"error_count"}
_RUN_REQUIRED = {"mode", "n", "wall_s", "max_concurrency", "provider", "model", "calls"}


def _known_keys(value: Any, where: str, checked: Iterable[str], derived: set[str], required: set[str]) -> None:
    if not isinstance(value, dict):
        raise ExchangeError("schema", where)
    keys = set(value)
    if not keys >= required or keys - set(checked) - derived:
        raise ExchangeError("schema", where)


def _call(value: Any, where: str) -> CallTiming:
    _known_keys(value, where, CALL_FIELDS, _CALL_DERIVED, _CALL_REQUIRED)
    checked = {key: CALL_FIELDS[key](item, f"{where}.{key}") for key, item in value.items() if key in CALL_FIELDS}
    if "latency_s" in value:
        _seconds(value["latency_s"], f"{where}.latency_s")
    if "ttft_s" in value:
        _optional_seconds(value["ttft_s"], f"{where}.ttft_s")
    call = CallTiming(**checked)
    if call.end_s < call.start_s:
        raise ExchangeError("bad_number", f"{where}.end_s")
    return call


def _run(value: Any, where: str, modes: frozenset[str], providers: frozenset[str]) -> RunRecord:
    _known_keys(value, where, {*RUN_FIELDS, "mode", "provider", "calls"}, _RUN_DERIVED, _RUN_REQUIRED)
    if value["mode"] not in modes:
        raise ExchangeError("unknown_mode", f"{where}.mode")
    if value["provider"] not in providers:
        raise ExchangeError("unknown_provider", f"{where}.provider")
    calls = value["calls"]
    if not isinstance(calls, list):
        raise ExchangeError("schema", f"{where}.calls")
    if len(calls) > MAX_CALLS_PER_RUN:
        raise ExchangeError("too_many", f"{where}.calls")
    if "error_count" in value:
        _count(value["error_count"], f"{where}.error_count", MAX_CALLS_PER_RUN)
    checked = {key: RUN_FIELDS[key](item, f"{where}.{key}") for key, item in value.items() if key in RUN_FIELDS}
    return RunRecord(
        mode=value["mode"],
        provider=value["provider"],
        calls=[_call(call, f"{where}.calls[{index}]") for index, call in enumerate(calls)],
        **checked,
    )


def record_fields() -> set[str]:
    """Every field of ``RunRecord`` (a test checks that each one is validated here)."""
    return {field.name for field in fields(RunRecord)}


def call_fields() -> set[str]:
    """Every field of ``CallTiming``."""
    return {field.name for field in fields(CallTiming)}
