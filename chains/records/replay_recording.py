"""Turn real-model runs into a replay profile: their streamed calls' timing and text.

The recording half of ``chains.simulation.replay``. It lives with the records,
not with the simulator, because it reads which providers are real
(``chains.models``), and the factory that builds the simulator must not be
imported back by it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from chains.models import provider_of_record
from chains.simulation.replay import (
    MAX_CALLS,
    MAX_GAP_S,
    MAX_LABEL_CHARS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_TOKEN_CHARS,
    MAX_TOKENS_PER_CALL,
    MAX_TOPIC_CHARS,
    MAX_TTFT_S,
    ReplayCall,
    ReplayFormatError,
    ReplayProfile,
)


def profile_from_records(records: Iterable[Any], name: str, *, note: str = "") -> ReplayProfile:
    """Build a replay profile from the streamed calls of real-model runs.

    Only calls that streamed and finished are kept (``invoke`` and ``batch``
    see no tokens, so they hold no inter-token timing). Each is cut to the caps.

    Args:
        records: ``chains.timing.RunRecord`` objects.
        name: The profile's name.
        note: Free text.

    Returns:
        The profile.

    Raises:
        ReplayFormatError: ``empty`` when no run on a real provider streamed a finished call.
    """
    calls: list[ReplayCall] = []
    providers: list[str] = []
    models: list[str] = []
    for record in records:
        if not provider_of_record(record.provider).recordable:  # the simulator's own runs are not real timings
            continue
        for call in record.calls:
            chunks = [(t_s, text) for t_s, text in call.chunks if text][:MAX_TOKENS_PER_CALL]
            if not call.ok or not chunks or len(calls) >= MAX_CALLS:
                continue
            times = [call.start_s, *(t_s for t_s, _ in chunks)]
            gaps = [max(later - earlier, 0.0) for earlier, later in itertools.pairwise(times)]
            calls.append(
                ReplayCall(
                    topic=call.topic[:MAX_TOPIC_CHARS],
                    ttft_s=min(gaps[0], MAX_TTFT_S),
                    gaps_s=tuple(min(gap, MAX_GAP_S) for gap in gaps[1:]),
                    tokens=tuple(text[:MAX_TOKEN_CHARS] for _, text in chunks),
                )
            )
            providers.append(record.provider)
            models.append(record.model)
    if not calls:
        raise ReplayFormatError("empty")
    return ReplayProfile(
        name=name.strip()[:MAX_NAME_CHARS] or "recording",
        calls=tuple(calls),
        source_provider=providers[0],
        source_model=models[0][:MAX_LABEL_CHARS],
        recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        note=note[:MAX_NOTE_CHARS],
    )
