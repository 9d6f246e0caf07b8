"""Latency profiles of the simulated chat model.

Kept apart from ``chains.simulation.simulator`` so that the sidebar can list them without
importing LangChain (the app's first page then renders sooner).
"""

from __future__ import annotations

from dataclasses import dataclass

from chains.simulation.tokens import count_tokens

#: The length of a typical simulated joke, for the per-joke estimates.
TYPICAL_JOKE_TOKENS = count_tokens("Why did the ice cream go to therapy?\n\nBecause it had too many layers to unpack!")


def typical_joke_seconds(ttft_s: float, tokens_per_s: float) -> float:
    """About how long a typical joke takes: the time to first token plus its tokens at the given speed.

    The sidebar's estimate and each profile's promise both come from here, so they agree.
    """
    return ttft_s + (TYPICAL_JOKE_TOKENS / tokens_per_s if tokens_per_s > 0 else 0.0)


@dataclass(frozen=True)
class LatencyProfile:
    """How fast a simulated model answers.

    Attributes:
        name: The profile's key.
        ttft_s: Mean time to first token, seconds.
        tokens_per_s: Mean output speed after the first token.
        jitter: Relative spread of both (0.25 means about ±25 %).
        slots: How many requests the simulated server runs at once; the others
            wait in its queue (llama.cpp's ``--parallel``). ``None``: no limit, as a hosted API.
        shared_compute: The running requests share one machine's compute: each
            decodes slower while others run (a small CPU), so together they take
            about as long as one after another.
    """

    name: str
    ttft_s: float
    tokens_per_s: float
    jitter: float
    slots: int | None = None
    shared_compute: bool = False

    @property
    def typical_joke_s(self) -> float:
        """About how long a typical joke takes on this profile (see ``typical_joke_seconds``)."""
        return typical_joke_seconds(self.ttft_s, self.tokens_per_s)


PROFILES: dict[str, LatencyProfile] = {
    profile.name: profile
    for profile in (
        LatencyProfile("gpt-4o-mini-like", ttft_s=0.40, tokens_per_s=60.0, jitter=0.25),
        # Calibrated on the seed post with seed 42: invoke("ice cream") ≈ 1.29 s, the loop of
        # its three topics ≈ 3.1 s, batch of three ≈ 1.3 s (bench/seed_reproduction.py).
        LatencyProfile("seed-blog-gpt-3.5-turbo", ttft_s=0.52, tokens_per_s=40.0, jitter=0.3),
        LatencyProfile("slow-reasoning-like", ttft_s=1.50, tokens_per_s=25.0, jitter=0.3),
        LatencyProfile("fast", ttft_s=0.05, tokens_per_s=400.0, jitter=0.1),
        # A small model served on this kind of machine: llama.cpp's server with a 135M-270M model on a
        # 2-core CPU measured about 0.2 s to the first token and 1.3-1.5 s per joke. With one slot it
        # queues the other requests; with several, they run together but share the two cores.
        LatencyProfile("llama-cpp-cpu-1-slot", ttft_s=0.20, tokens_per_s=16.0, jitter=0.1, slots=1),
        LatencyProfile("llama-cpp-cpu-8-slots", ttft_s=0.20, tokens_per_s=16.0, jitter=0.1, slots=8, shared_compute=True),
    )
}
DEFAULT_PROFILE = "gpt-4o-mini-like"
#: The profile and seed that reproduce the seed post's numbers (see ``chains.experiments.seed_post``).
SEED_POST_PROFILE = "seed-blog-gpt-3.5-turbo"
SEED_POST_SEED = 42
