"""The seed post's experiment, as data and one runner: invoke, the loop of three, batch of three, stream.

The post (a LangChain study blog, gpt-3.5-turbo) measured ``chain.invoke("ice cream")``
at 1.294 s, a ``for`` loop over "ice cream", "chocolate" and "vanilla" at 3.097 s, and
``chain.batch`` of the same three at 1.33 s, then printed ``chain.stream("ice cream")``
with ``print('!!', chunk, end="")``. On the simulator, the ``seed-blog-gpt-3.5-turbo``
profile with seed 42 is calibrated to land near those numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.runnables import Runnable

from chains.modes import OnChunk, RunMeta, run_batch, run_invoke, run_loop, run_stream
from chains.simulation.profiles import SEED_POST_PROFILE, SEED_POST_SEED
from chains.timing import RunRecord

__all__ = ["SEED_POST_PROFILE", "SEED_POST_SEED", "SEED_POST_TOPICS", "SEED_POST_SECONDS", "run_seed_post"]
SEED_POST_TOPICS: tuple[str, ...] = ("ice cream", "chocolate", "vanilla")
#: The post's measurements, seconds, by mode.
SEED_POST_SECONDS: dict[str, float] = {"invoke": 1.294, "loop": 3.097, "batch": 1.33}
#: What the post printed before every chunk: ``print('!!', chunk, end="")``.
SEED_POST_SEPARATOR = "!!"


@dataclass(frozen=True)
class SeedPostRow:
    """One of the post's numbers beside the one measured here.

    Attributes:
        mode: ``invoke``, ``loop`` or ``batch``.
        post_s: The post's time.
        measured_s: This run's wall time.
    """

    mode: str
    post_s: float
    measured_s: float

    @property
    def ratio(self) -> float:
        """Measured over the post's time (1.0 means the same)."""
        return self.measured_s / self.post_s


def print_like_the_post(chunks: list[str]) -> str:
    """The text ``for chunk in chain.stream(...): print('!!', chunk, end="")`` prints."""
    return "".join(f"{SEED_POST_SEPARATOR} {chunk}" for chunk in chunks)


def run_seed_post(
    chain: Runnable[str, str],
    *,
    meta: RunMeta = RunMeta(),
    on_step: Callable[[str], None] | None = None,
    on_chunk: OnChunk | None = None,
) -> list[RunRecord]:
    """Run the post's experiment: invoke, the loop of three, batch of three, then stream.

    Args:
        chain: The seed's chain.
        meta: Labels for the records.
        on_step: Called with the mode name before each step.
        on_chunk: Called for every chunk of the final stream.

    Returns:
        The four run records, in that order.
    """
    topics = list(SEED_POST_TOPICS)
    steps: list[tuple[str, Callable[[], RunRecord]]] = [
        ("invoke", lambda: run_invoke(chain, topics[0], meta=meta)),
        ("loop", lambda: run_loop(chain, topics, meta=meta)),
        ("batch", lambda: run_batch(chain, topics, meta=meta)),
        ("stream", lambda: run_stream(chain, topics[0], meta=meta, on_chunk=on_chunk)),
    ]
    records = []
    for mode, run in steps:
        if on_step is not None:
            on_step(mode)
        records.append(run())
    return records


def compare_with_the_post(records: list[RunRecord]) -> list[SeedPostRow]:
    """The post's three numbers beside the measured wall times (invoke, loop, batch)."""
    by_mode = {record.mode: record for record in records}
    return [
        SeedPostRow(mode, post_s, by_mode[mode].wall_s) for mode, post_s in SEED_POST_SECONDS.items() if mode in by_mode
    ]
