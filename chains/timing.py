"""Plain timing records shared by every runner, chart and export.

Times are ``time.perf_counter()`` seconds measured from the start of a run, so
every call in a run shares one clock and one origin.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import fmean
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported lazily: it is only needed for charts and exports.
    import pandas as pd

CSV_COLUMNS: tuple[str, ...] = (
    "run_id",
    "mode",
    "n",
    "max_concurrency",
    "provider",
    "model",
    "started_at",
    "run_wall_s",
    "index",
    "topic",
    "start_s",
    "first_token_s",
    "end_s",
    "latency_s",
    "ttft_s",
    "chunk_count",
    "input_tokens",
    "output_tokens",
    "retries",
    "interrupted",
    "error",
    "output",
    "stopped",
    "origin",
    "group_id",
    "owner",
    "shape",
)

LAB_SWEEP_ORIGIN = "lab_sweep"
"""``RunRecord.origin`` of the runs made by the Lab's N-sweep (they share a ``group_id``)."""


@dataclass
class CallTiming:
    """The timing of one call (one topic) inside a run.

    Attributes:
        index: Position of the topic in the run's input list.
        topic: The topic that was sent.
        start_s: When the call started, seconds from the run's start.
        end_s: When the call ended (result or error), seconds from the run's start.
        first_token_s: When the first non-empty chunk arrived; ``None`` unless streamed.
        chunks: ``(t_s, text)`` for every chunk received, when streamed.
        output: The text produced (possibly partial, if the call failed or was interrupted).
        error: A short, key-free description of the failure, or ``None``.
        error_kind: A machine-readable error category (see ``chains.errors``).
        interrupted: True when a stream ended without a finish reason.
        input_tokens: Prompt tokens reported by the provider, if any.
        output_tokens: Completion tokens reported by the provider, if any.
        retries: How many times the client retried this call.
    """

    index: int
    topic: str
    start_s: float
    end_s: float
    first_token_s: float | None = None
    chunks: list[tuple[float, str]] = field(default_factory=list)
    output: str = ""
    error: str | None = None
    error_kind: str | None = None
    interrupted: bool = False
    input_tokens: int | None = None
    output_tokens: int | None = None
    retries: int = 0

    @property
    def latency_s(self) -> float:
        """Seconds from the call's start to its end."""
        return self.end_s - self.start_s

    @property
    def ttft_s(self) -> float | None:
        """Time to first token, relative to the call's own start."""
        if self.first_token_s is None:
            return None
        return self.first_token_s - self.start_s

    @property
    def ok(self) -> bool:
        """True when the call finished with a complete answer."""
        return self.error is None and not self.interrupted

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict, including the derived latency and TTFT."""
        # Field by field, not dataclasses.asdict: that deep-copies every chunk first (a third of the
        # cost of keeping a 300-chunk stream in the run store), and the chunks are rebuilt here anyway.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["chunks"] = [[round(t, 6), text] for t, text in self.chunks]
        data["latency_s"] = self.latency_s
        data["ttft_s"] = self.ttft_s
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallTiming:
        """Rebuild a call from ``to_dict()``'s output (derived and unknown keys are ignored)."""
        fields = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        fields["chunks"] = [(float(t_s), str(text)) for t_s, text in fields.get("chunks", [])]
        return cls(**fields)


@dataclass
class RunRecord:
    """One run of one mode over one or more topics.

    Attributes:
        mode: ``invoke``, ``loop``, ``batch``, ``stream``, ``ainvoke``, ``abatch``, ``astream``...
        n: Number of topics in the run.
        wall_s: Wall time of the whole run, seconds.
        max_concurrency: The ``max_concurrency`` passed to LangChain, or ``None``.
        provider: ``simulator``, ``openai`` or ``compatible``.
        model: The model name.
        calls: One ``CallTiming`` per topic, ordered by index.
        started_at: ISO-8601 UTC time at which the run started.
        pool_size: The number of calls that could be in flight at once, when known.
        input_tokens: Total prompt tokens reported, if any.
        output_tokens: Total completion tokens reported, if any.
        run_id: A short unique id, used to group exported rows. It starts with a
            letter so that spreadsheets and pandas never read it as a number.
        label: Optional free text (for example the sweep step), shown in history.
        stopped: True when the run was cut short (a rerun, a page switch, Stop)
            before every call finished; the calls keep what had arrived.
        origin: What made the run: a page (``invoke``, ``stream``...) or
            ``lab_sweep`` for a step of the Lab's sweep. Empty when unknown.
        group_id: Runs that belong together (the steps of one sweep) share it;
            ``None`` for a run that stands alone.
        owner: Who made the run: the nickname typed in the sidebar (empty when
            none was typed). Kept when runs are shared, imported or copied.
        shape: The chain it ran: an id of ``chains.experiments.shapes.SHAPES`` (``seed``, the
            seed's chain, for every run made before there were shapes).
    """

    mode: str
    n: int
    wall_s: float
    max_concurrency: int | None
    provider: str
    model: str
    calls: list[CallTiming]
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    pool_size: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    run_id: str = field(default_factory=lambda: "r" + uuid.uuid4().hex[:7])
    label: str = ""
    stopped: bool = False
    origin: str = ""
    group_id: str | None = None
    owner: str = ""
    shape: str = "seed"

    @property
    def error_count(self) -> int:
        """Number of calls that failed or were interrupted."""
        return sum(1 for call in self.calls if not call.ok)

    @property
    def outputs(self) -> list[str]:
        """The outputs, in input order."""
        return [call.output for call in self.calls]

    @property
    def mean_latency_s(self) -> float:
        """Mean per-call latency in seconds (0.0 for an empty run)."""
        return fmean(call.latency_s for call in self.calls) if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the whole record, calls included."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}  # the other fields are scalars
        data["calls"] = [call.to_dict() for call in self.calls]
        data["error_count"] = self.error_count
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Rebuild a record from ``to_dict()``'s output (unknown keys are ignored).

        Args:
            data: A dict made by ``to_dict`` (possibly by an older version).

        Returns:
            The record, calls and chunks included.
        """
        names = {name for name in cls.__dataclass_fields__ if name != "calls"}
        fields = {key: value for key, value in data.items() if key in names}
        calls = [CallTiming.from_dict(call) for call in data.get("calls", [])]
        return cls(calls=calls, **fields)

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one flat dict per call, with exactly ``CSV_COLUMNS`` as keys."""
        rows = []
        for call in self.calls:
            rows.append(
                {
                    "run_id": self.run_id,
                    "mode": self.mode,
                    "n": self.n,
                    "max_concurrency": self.max_concurrency,
                    "provider": self.provider,
                    "model": self.model,
                    "started_at": self.started_at,
                    "run_wall_s": self.wall_s,
                    "index": call.index,
                    "topic": call.topic,
                    "start_s": call.start_s,
                    "first_token_s": call.first_token_s,
                    "end_s": call.end_s,
                    "latency_s": call.latency_s,
                    "ttft_s": call.ttft_s,
                    "chunk_count": len(call.chunks),
                    "input_tokens": call.input_tokens,
                    "output_tokens": call.output_tokens,
                    "retries": call.retries,
                    "interrupted": call.interrupted,
                    "error": call.error,
                    "output": call.output,
                    "stopped": self.stopped,
                    "origin": self.origin,
                    "group_id": self.group_id,
                    "owner": self.owner,
                    "shape": self.shape,
                }
            )
        return rows


def records_to_frame(records: list[RunRecord]) -> pd.DataFrame:
    """Flatten run records into a DataFrame with one row per call.

    Args:
        records: The runs to flatten.

    Returns:
        A DataFrame whose columns are exactly ``CSV_COLUMNS``.
    """
    import pandas as pd

    rows = [row for record in records for row in record.to_rows()]
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


def records_to_csv(records: list[RunRecord]) -> str:
    """Export runs as CSV text, one row per call."""
    from chains.security.safe_text import csv_cell  # Topics and answers are untrusted: no cell may run as a formula.

    return records_to_frame(records).map(csv_cell).to_csv(index=False)


def records_to_json(records: list[RunRecord]) -> str:
    """Export runs as a JSON array of full records (calls and chunks included)."""
    return json.dumps([record.to_dict() for record in records], ensure_ascii=False, indent=2)


class RunClock:
    """A ``perf_counter`` clock whose zero is the start of a run."""

    def __init__(self) -> None:
        """Start the clock now."""
        self.origin = time.perf_counter()

    def now(self) -> float:
        """Seconds since the clock started."""
        return time.perf_counter() - self.origin
