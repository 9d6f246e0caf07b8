"""What do the app's runners cost on top of plain LangChain?

For each mode the app's runner (``run_invoke``, ``run_batch``, ``run_stream``,
with their recorder, usage and retry callbacks, and ``on_result``/``on_chunk``
callbacks that collect, as a test would) is timed against a bare LangChain
script making the same call on the same model (``chain.invoke``,
``chain.batch``, ``for chunk in chain.stream``).

The model is the simulator with jitter 0, and every measurement gets a fresh
model, so each call sleeps exactly as long in both variants. The two variants
alternate (ABBA order) and repeat; the overhead is the median of the paired
differences, divided by the median bare time. The CPU time per call (process
time) is shown too: it is the more sensitive measure. Goal: ≤ 2 % per mode.

Usage::

    python -m bench.overhead            # about 90 seconds
    python -m bench.overhead --quick    # about 30 seconds
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from langchain_core.runnables import Runnable

from bench.batch_efficiency import equal_length_topics, markdown_table
from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.modes import RunMeta, run_batch, run_invoke, run_stream

GOAL_PCT = 2.0
SEED = 42
BATCH_N = 8
MODES: tuple[str, ...] = ("invoke", "batch", "stream")


def bare_call(mode: str, chain: Runnable[str, str], topics: Sequence[str]) -> Any:
    """What a plain LangChain script does."""
    if mode == "invoke":
        return chain.invoke(topics[0])
    if mode == "batch":
        return chain.batch(list(topics), config={"max_concurrency": len(topics)})
    return [chunk for chunk in chain.stream(topics[0])]


def app_call(mode: str, chain: Runnable[str, str], topics: Sequence[str]) -> Any:
    """What the app does: its runner, with collecting callbacks."""
    meta = RunMeta(provider="simulator", model="bench")
    results: list[Any] = []
    if mode == "invoke":
        return run_invoke(chain, topics[0], meta=meta, on_result=results.append)
    if mode == "batch":
        return run_batch(chain, topics, max_concurrency=len(topics), meta=meta, on_result=results.append)
    chunks: list[str] = []
    return run_stream(chain, topics[0], meta=meta, on_chunk=lambda _, text, __: chunks.append(text), on_result=results.append)


@dataclass
class Samples:
    """Wall and CPU seconds of one variant of one mode, one entry per repeat."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def timed(call: Callable[[], Any]) -> tuple[float, float]:
    """Return ``(wall_s, cpu_s)`` of ``call()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(profile: str, repeats: int) -> dict[str, dict[str, Samples]]:
    """Time bare and app variants of every mode, alternating, ``repeats`` times.

    Args:
        profile: The simulator's latency profile (jitter is forced to 0).
        repeats: Pairs per mode.

    Returns:
        ``{mode: {"bare": Samples, "app": Samples}}``.
    """
    settings = ModelSettings.simulator(profile, sim_jitter=0.0, sim_seed=SEED)
    topics = equal_length_topics(BATCH_N)
    samples = {mode: {"bare": Samples(), "app": Samples()} for mode in MODES}
    variants: dict[str, Callable[[str, Runnable[str, str], Sequence[str]], Any]] = {"bare": bare_call, "app": app_call}
    for mode in MODES:  # warm up every code path once
        for variant in variants.values():
            variant(mode, build_joke_chain(make_model(settings)), topics if mode == "batch" else topics[:1])
    for repeat in range(repeats):
        order = ("bare", "app") if repeat % 2 == 0 else ("app", "bare")
        for mode in MODES:
            for name in order:
                chain = build_joke_chain(make_model(settings))  # fresh: identical sleeps every time
                mode_topics = topics if mode == "batch" else topics[:1]
                wall, cpu = timed(partial(variants[name], mode, chain, mode_topics))
                samples[mode][name].wall.append(wall)
                samples[mode][name].cpu.append(cpu)
    return samples


def summarize(profile: str, samples: dict[str, dict[str, Samples]]) -> str:
    """One markdown table for one profile."""
    rows = []
    for mode in MODES:
        bare, app = samples[mode]["bare"], samples[mode]["app"]
        bare_wall = statistics.median(bare.wall)
        diff = statistics.median(a - b for a, b in zip(app.wall, bare.wall, strict=True))
        pct = 100 * diff / bare_wall
        calls = BATCH_N if mode == "batch" else 1
        label = f"batch({BATCH_N})" if mode == "batch" else mode
        rows.append(
            [
                label,
                f"{bare_wall:.4f}",
                f"{statistics.median(app.wall):.4f}",
                f"{1000 * diff:+.2f}",
                f"{pct:+.2f} %",
                f"{1000 * statistics.median(bare.cpu) / calls:.2f} → {1000 * statistics.median(app.cpu) / calls:.2f}",
                f"≤ {GOAL_PCT:g} % {'✅' if pct <= GOAL_PCT else '❌'}",
            ]
        )
    headers = ["mode", "bare s", "app s", "Δ ms (median pair)", "overhead", "CPU ms/call bare → app", "goal"]
    return f"**{profile}** (jitter 0)\n\n" + markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print one markdown table per profile.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 repeats (about 30 s)")
    parser.add_argument("--repeats", type=int, default=None, help="pairs per mode (default 15, quick 5)")
    parser.add_argument(
        "--profile",
        action="append",
        default=None,
        help="simulator profile(s) (default: gpt-4o-mini-like and fast)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 15)
    profiles = args.profile or ["gpt-4o-mini-like", "fast"]
    started = time.perf_counter()
    for profile in profiles:
        print(summarize(profile, measure(profile, repeats)))
        print()
    print(f"{repeats} ABBA pairs per mode; total time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
