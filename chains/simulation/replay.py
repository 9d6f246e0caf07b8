"""Replay profiles: a real model's timing, recorded once, replayed offline by the simulator.

A ``ReplayProfile`` holds, per recorded call, the topic, the time to first token,
every inter-token delay and the tokens themselves (so the text). It is built
from streamed runs on OpenAI or a compatible server (``chains.records.replay_recording``),
exported as JSON (``profile_to_json``) and read back with strict validation
(``parse_profile``): a format name and version, a size cap on the file, caps on
the number of calls and tokens, on every string's length and on every delay.
Anything else raises ``ReplayFormatError`` with a reason code the UI translates,
and nothing is half-loaded.

Plain Python: no LangChain, no Streamlit (the sidebar imports this module).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from chains.security.untrusted import UntrustedFormatError, checked_seconds, checked_string, read_untrusted_json

FORMAT = "langchain-call-modes-replay"
VERSION = 1
#: The largest file accepted, in bytes.
MAX_FILE_BYTES = 1_000_000
MAX_CALLS = 64
MAX_TOKENS_PER_CALL = 4_000
MAX_TOKEN_CHARS = 200
MAX_TOPIC_CHARS = 400
MAX_NAME_CHARS = 80
MAX_NOTE_CHARS = 500
MAX_LABEL_CHARS = 80
#: The longest time to first token and the longest inter-token delay accepted, in seconds.
MAX_TTFT_S = 120.0
MAX_GAP_S = 30.0
EXAMPLES_DIR = Path(__file__).parent / "replays"

#: Everything but letters, digits, spaces and a few harmless signs (see ``ReplayProfile.label``).
_LABEL_UNSAFE = re.compile(r"[^\w\s\-.,:()/+'@·]|_")
_TOP_KEYS = {"format", "version", "name", "example", "note", "source", "recorded_at", "calls"}
_CALL_KEYS = {"topic", "ttft_s", "gaps_s", "tokens"}


class ReplayFormatError(UntrustedFormatError):
    """A replay file that is not accepted.

    Attributes:
        reason: ``too_large``, ``not_json``, ``format``, ``version``, ``schema``,
            ``too_many``, ``too_long``, ``bad_number`` or ``empty``.
        where: The offending field (``calls[2].gaps_s[5]``), our own words only.
    """


@dataclass(frozen=True)
class ReplayCall:
    """One recorded call.

    Attributes:
        topic: The topic it answered.
        ttft_s: Seconds from the call's start to its first token.
        gaps_s: The delay before each later token (one fewer than ``tokens``).
        tokens: The tokens as they arrived.
    """

    topic: str
    ttft_s: float
    gaps_s: tuple[float, ...]
    tokens: tuple[str, ...]

    @property
    def text(self) -> str:
        """The whole answer."""
        return "".join(self.tokens)


@dataclass(frozen=True)
class ReplayProfile:
    """A set of recorded calls, with where they came from.

    Attributes:
        name: A short name, shown in the sidebar and in every replayed run's model label.
        calls: The recorded calls.
        source_provider: The provider recorded (``openai``, ``compatible``).
        source_model: The model recorded.
        recorded_at: ISO-8601 time of the recording.
        example: True for a shipped, illustrative profile (not a real measurement).
        note: Free text about the recording.
    """

    name: str
    calls: tuple[ReplayCall, ...]
    source_provider: str = ""
    source_model: str = ""
    recorded_at: str = ""
    example: bool = False
    note: str = ""

    @property
    def label(self) -> str:
        """The model label of replayed runs: says it is a replay, and of what.

        The name comes from a file someone else may have made, and the label
        travels into run records, captions and exports: only letters, digits,
        spaces and ``- . , : ( ) / + ' @ ·`` are kept, so no markdown or HTML
        can be written with it wherever it is shown.
        """
        return f"replay: {_LABEL_UNSAFE.sub('', ' '.join(self.name.split()))}"[:MAX_LABEL_CHARS]

    def call_for(self, topic: str) -> ReplayCall:
        """The recorded call to replay for ``topic``: the same topic if recorded, else a fixed pick.

        The pick depends on the topic only, so every mode replays the same call for it.
        """
        wanted = topic.strip().casefold()
        for call in self.calls:
            if call.topic.strip().casefold() == wanted:
                return call
        return self.calls[zlib.crc32(wanted.encode()) % len(self.calls)]


# ------------------------------------------------------------------ JSON
def profile_to_dict(profile: ReplayProfile) -> dict[str, Any]:
    """The profile as the JSON-ready dict that ``parse_profile`` reads back."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": profile.name,
        "example": profile.example,
        "note": profile.note,
        "source": {"provider": profile.source_provider, "model": profile.source_model},
        "recorded_at": profile.recorded_at,
        "calls": [
            {"topic": call.topic, "ttft_s": round(call.ttft_s, 6), "gaps_s": [round(gap, 6) for gap in call.gaps_s], "tokens": list(call.tokens)}
            for call in profile.calls
        ],
    }


def profile_to_json(profile: ReplayProfile) -> str:
    """The profile as JSON text (UTF-8, not ASCII-escaped)."""
    return json.dumps(profile_to_dict(profile), ensure_ascii=False, indent=1)


def parse_profile(data: bytes | str) -> ReplayProfile:
    """Read a replay profile from untrusted JSON, strictly.

    Args:
        data: The file's bytes (or text).

    Returns:
        The profile.

    Raises:
        ReplayFormatError: For anything that is not a valid profile within the caps.
    """
    document = read_untrusted_json(data, max_bytes=MAX_FILE_BYTES, error=ReplayFormatError)
    if not isinstance(document, dict):
        raise ReplayFormatError("schema", "(top)")
    if document.get("format") != FORMAT:
        raise ReplayFormatError("format")
    if type(document.get("version")) is not int or document["version"] != VERSION:
        raise ReplayFormatError("version")
    unknown = set(document) - _TOP_KEYS
    if unknown or not set(document) >= _TOP_KEYS:
        raise ReplayFormatError("schema", "(top)")
    source = document["source"]
    if not isinstance(source, dict) or set(source) != {"provider", "model"}:
        raise ReplayFormatError("schema", "source")
    if not isinstance(document["example"], bool):
        raise ReplayFormatError("schema", "example")
    calls = document["calls"]
    if not isinstance(calls, list):
        raise ReplayFormatError("schema", "calls")
    if not calls:
        raise ReplayFormatError("empty", "calls")
    if len(calls) > MAX_CALLS:
        raise ReplayFormatError("too_many", "calls")
    name = _string(document["name"], "name", MAX_NAME_CHARS).strip()
    if not name:
        raise ReplayFormatError("schema", "name")
    return ReplayProfile(
        name=name,
        calls=tuple(_call(call, f"calls[{index}]") for index, call in enumerate(calls)),
        source_provider=_string(source["provider"], "source.provider", MAX_LABEL_CHARS),
        source_model=_string(source["model"], "source.model", MAX_LABEL_CHARS),
        recorded_at=_string(document["recorded_at"], "recorded_at", MAX_LABEL_CHARS),
        example=document["example"],
        note=_string(document["note"], "note", MAX_NOTE_CHARS),
    )


def _string(value: Any, where: str, limit: int) -> str:
    return checked_string(value, where, limit, ReplayFormatError)


def _seconds(value: Any, where: str, limit: float) -> float:
    return checked_seconds(value, where, limit, ReplayFormatError)


def _call(value: Any, where: str) -> ReplayCall:
    if not isinstance(value, dict) or set(value) != _CALL_KEYS:
        raise ReplayFormatError("schema", where)
    tokens, gaps = value["tokens"], value["gaps_s"]
    if not isinstance(tokens, list) or not isinstance(gaps, list):
        raise ReplayFormatError("schema", where)
    if not tokens:
        raise ReplayFormatError("empty", f"{where}.tokens")
    if len(tokens) > MAX_TOKENS_PER_CALL:
        raise ReplayFormatError("too_many", f"{where}.tokens")
    if len(gaps) != len(tokens) - 1:
        raise ReplayFormatError("schema", f"{where}.gaps_s")
    return ReplayCall(
        topic=_string(value["topic"], f"{where}.topic", MAX_TOPIC_CHARS),
        ttft_s=_seconds(value["ttft_s"], f"{where}.ttft_s", MAX_TTFT_S),
        gaps_s=tuple(_seconds(gap, f"{where}.gaps_s[{index}]", MAX_GAP_S) for index, gap in enumerate(gaps)),
        tokens=tuple(_string(token, f"{where}.tokens[{index}]", MAX_TOKEN_CHARS) for index, token in enumerate(tokens)),
    )


@cache
def _shipped_profiles() -> dict[str, ReplayProfile]:
    """Every profile in ``chains/simulation/replays/``, by file stem (read-only, the same for everyone)."""
    return {path.stem: parse_profile(path.read_bytes()) for path in sorted(EXAMPLES_DIR.glob("*.json"))}


def example_profiles() -> dict[str, ReplayProfile]:
    """The shipped example profiles, by file stem: hand-made timings that say ``"example": true``."""
    return {stem: profile for stem, profile in _shipped_profiles().items() if profile.example}


def recorded_profiles() -> dict[str, ReplayProfile]:
    """The shipped recordings of a real model, by file stem (``"example": false``).

    Each is a measurement, and its name says of what: the model, the server, its
    threads, the machine class and the date (``devtools/record_local_replay.py``).
    """
    return {stem: profile for stem, profile in _shipped_profiles().items() if not profile.example}
