"""Stream metrics as llmperf and vLLM's benchmark_serving report them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean

from chains.timing import CallTiming


@dataclass(frozen=True)
class StreamMetrics:
    """Latency metrics of one streamed call.

    Attributes:
        ttft_s: Time to first token, from the call's start.
        total_s: Time from the call's start to its end.
        chunk_count: Number of non-empty chunks.
        mean_itl_s: Mean inter-token latency (gap between consecutive chunks).
        p95_itl_s: 95th percentile of the inter-token latency.
        tokens_per_s: Output speed after the first token (chunks per second).
    """

    ttft_s: float | None
    total_s: float
    chunk_count: int
    mean_itl_s: float | None
    p95_itl_s: float | None
    tokens_per_s: float | None


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (``fraction`` in 0..1)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def stream_metrics(call: CallTiming) -> StreamMetrics:
    """Compute TTFT, inter-token latency and throughput from a call's chunk times.

    Args:
        call: A streamed call's timing.

    Returns:
        The metrics; the inter-token figures are ``None`` with fewer than two chunks.
    """
    times = [t for t, _ in call.chunks]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    decode_s = times[-1] - times[0] if len(times) > 1 else 0.0
    return StreamMetrics(
        ttft_s=call.ttft_s,
        total_s=call.latency_s,
        chunk_count=len(times),
        mean_itl_s=fmean(gaps) if gaps else None,
        p95_itl_s=percentile(gaps, 0.95) if gaps else None,
        tokens_per_s=(len(times) - 1) / decode_s if decode_s > 0 else None,
    )
