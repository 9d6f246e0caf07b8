"""Latency profiles of the simulated chat model.

Kept apart from ``chains.simulator`` so that the sidebar can list them without
importing LangChain (the app's first page then renders sooner).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LatencyProfile:
    """How fast a simulated model answers.

    Attributes:
        name: The profile's key.
        ttft_s: Mean time to first token, seconds.
        tokens_per_s: Mean output speed after the first token.
        jitter: Relative spread of both (0.25 means about ±25 %).
    """

    name: str
    ttft_s: float
    tokens_per_s: float
    jitter: float


PROFILES: dict[str, LatencyProfile] = {
    profile.name: profile
    for profile in (
        LatencyProfile("gpt-4o-mini-like", ttft_s=0.40, tokens_per_s=60.0, jitter=0.25),
        LatencyProfile("seed-blog-gpt-3.5-turbo", ttft_s=0.55, tokens_per_s=32.0, jitter=0.2),
        LatencyProfile("slow-reasoning-like", ttft_s=1.50, tokens_per_s=25.0, jitter=0.3),
        LatencyProfile("fast", ttft_s=0.05, tokens_per_s=400.0, jitter=0.1),
    )
}
DEFAULT_PROFILE = "gpt-4o-mini-like"
