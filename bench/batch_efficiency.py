"""How close does ``batch(N)`` get to the time of one ``invoke``?

For N in 1, 2, 4, 8, 16, 32 this runs the app's ``run_batch`` with
``max_concurrency=N`` and divides its wall time by the wall time of one
``run_invoke`` measured in the same repeat. A ``for`` loop of N ``invoke`` calls
(``run_loop``) is shown for contrast, and so is a bare LangChain
``chain.batch(topics, {"max_concurrency": N})`` ÷ a bare ``chain.invoke``, timed
the same way: where the app misses the goal, the bare column tells whether the
cost is the app's or LangChain's own. Two backends:

- the simulator, ``gpt-4o-mini-like`` latency (TTFT 0.4 s, 60 tokens/s) with
  jitter 0, and topics chosen so that every reply has the same number of tokens:
  every call then sleeps exactly as long, and what remains is LangChain's and
  our own overhead;
- the local OpenAI-compatible test server (``devtools/openai_server.py``) with the
  same latency, through ``ChatOpenAI`` over loopback HTTP. The server runs in
  its own process, so it does not compete with the client for the GIL.

Each ratio is the median wall time over ``--repeats`` runs (3 by default)
divided by the median wall time of one ``invoke``, measured in the same run
right before every batch, so slow drifts of a noisy machine hit both alike.
Goal: batch(N) ÷ invoke ≤ 1.05 up to N = 32.

Usage::

    python -m bench.batch_efficiency            # about 2 minutes
    python -m bench.batch_efficiency --quick    # about 30 seconds
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from langchain_core.runnables import Runnable

from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.modes import RunMeta, run_batch, run_invoke, run_loop
from chains.simulation.joke_book import write_reply
from chains.simulation.simulator import PROFILES
from chains.simulation.tokens import split_tokens
from devtools.openai_server import ServerProcess

NS: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
GOAL = 1.05
PROFILE = "gpt-4o-mini-like"
SEED = 42


@dataclass
class Backend:
    """One thing to measure against: a fresh chain per measurement, and its topics.

    Attributes:
        name: Shown in the table.
        new_chain: Builds a fresh chain (the simulator's reply depends on how often a
            topic was asked, so each measurement gets a fresh model).
        topics: Topics whose replies all take the same time.
        peak_in_flight: Reads (and resets) the server's peak in-flight count, if any.
        meta: Labels for the run records.
    """

    name: str
    new_chain: Callable[[], Runnable[str, str]]
    topics: list[str]
    peak_in_flight: Callable[[], int | None] = lambda: None
    meta: RunMeta = field(default_factory=RunMeta)


def equal_length_topics(n: int, seed: int = SEED) -> list[str]:
    """Pick ``n`` topics whose simulated replies have the same number of tokens.

    The simulator picks a joke from a hash of the seed and the topic, and jokes
    differ in length; with jitter 0 equal lengths mean equal latencies.

    Args:
        n: How many topics.
        seed: The simulator's seed.

    Returns:
        The topics.
    """
    lengths = {f"topic {i}": len(split_tokens(write_reply(f"topic {i}", seed))) for i in range(50 * n)}
    target = statistics.mode(lengths.values())
    return [topic for topic, length in lengths.items() if length == target][:n]


def simulator_backend() -> Backend:
    """The simulator with the ``gpt-4o-mini-like`` profile and no jitter."""
    settings = ModelSettings.simulator(PROFILE, sim_jitter=0.0, sim_seed=SEED)
    return Backend(
        name="simulator",
        new_chain=lambda: build_joke_chain(make_model(settings)),
        topics=equal_length_topics(max(NS)),
        meta=RunMeta(provider="simulator", model=settings.model),
    )


def server_backend(server: ServerProcess) -> Backend:
    """``ChatOpenAI`` against the local test server (one model, reused like a real app)."""
    settings = ModelSettings(
        provider="compatible", model="test-model", base_url=server.base_url, api_key="sk-test-bench", max_retries=0
    )
    chain = build_joke_chain(make_model(settings))

    def peak() -> int:
        value = int(server.stats()["peak_in_flight"])
        server.reset_counters()
        return value

    return Backend(
        name="test server",
        new_chain=lambda: chain,
        topics=[f"owl{i:02d}" for i in range(max(NS))],  # one word each: equal reply lengths
        peak_in_flight=peak,
        meta=RunMeta(provider="compatible", model="test-model"),
    )


@dataclass
class Walls:
    """Wall times of one backend, seconds, one entry per measurement."""

    invoke: list[float] = field(default_factory=list)
    batch: dict[int, list[float]] = field(default_factory=dict)
    bare_invoke: list[float] = field(default_factory=list)
    bare_batch: dict[int, list[float]] = field(default_factory=dict)
    stagger_ms: dict[int, list[float]] = field(default_factory=dict)
    loop: dict[int, list[float]] = field(default_factory=dict)
    peak: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    def ratio(self, walls: list[float] | None) -> float | None:
        """Median of ``walls`` ÷ median invoke (the baseline of this same run)."""
        return statistics.median(walls) / statistics.median(self.invoke) if walls else None

    def bare_ratio(self, n: int) -> float | None:
        """Median bare ``chain.batch`` of ``n`` ÷ median bare ``chain.invoke``."""
        walls = self.bare_batch.get(n)
        return statistics.median(walls) / statistics.median(self.bare_invoke) if walls else None


def _timed(call: Callable[[], object]) -> float:
    """Wall seconds of ``call()``."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(backend: Backend, ns: Sequence[int], loop_max: int, repeats: int) -> Walls:
    """Time one invoke, batch(N) and loop(N) on one backend, interleaved.

    Every batch is preceded by a fresh ``invoke``, so the baseline is sampled as
    often as the batches and drifts of a noisy machine hit both alike.

    Args:
        backend: What to measure.
        ns: The batch sizes.
        loop_max: Measure the loop only up to this N (a loop of N takes N invokes).
        repeats: How many times to measure each N.

    Returns:
        The wall times.
    """
    walls = Walls()
    # Warm up: imports, thread pools, and (for the server) open the connections.
    run_batch(backend.new_chain(), backend.topics[: max(ns)], max_concurrency=max(ns), meta=backend.meta)
    backend.peak_in_flight()
    for _ in range(repeats):
        for n in ns:
            invoke = run_invoke(backend.new_chain(), backend.topics[0], meta=backend.meta)
            walls.errors += invoke.error_count
            walls.invoke.append(invoke.wall_s)
            record = run_batch(backend.new_chain(), backend.topics[:n], max_concurrency=n, meta=backend.meta)
            walls.errors += record.error_count
            walls.batch.setdefault(n, []).append(record.wall_s)
            starts = [call.start_s for call in record.calls]
            walls.stagger_ms.setdefault(n, []).append(1000 * (max(starts) - min(starts)))
            walls.bare_invoke.append(_timed(partial(backend.new_chain().invoke, backend.topics[0])))
            bare_batch = partial(backend.new_chain().batch, backend.topics[:n], {"max_concurrency": n})
            walls.bare_batch.setdefault(n, []).append(_timed(bare_batch))
            peak = backend.peak_in_flight()
            if peak is not None:
                walls.peak[n] = max(walls.peak.get(n, 0), peak)
            if n <= loop_max:
                record = run_loop(backend.new_chain(), backend.topics[:n], meta=backend.meta)
                walls.errors += record.error_count
                walls.loop.setdefault(n, []).append(record.wall_s)
    return walls


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render a markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" ---: " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a markdown table.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, loop up to N=4 (about 30 s)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per N (default 3, quick 1)")
    parser.add_argument("--loop-max", type=int, default=None, help="largest N for the loop (default 8, quick 4)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    loop_max = args.loop_max or (4 if args.quick else 8)
    profile = PROFILES[PROFILE]

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    results: dict[str, Walls] = {}
    results["simulator"] = measure(simulator_backend(), NS, loop_max, repeats)
    with ServerProcess("--ttft", str(profile.ttft_s), "--token-delay", str(1 / profile.tokens_per_s)) as server:
        results["test server"] = measure(server_backend(server), NS, loop_max, repeats)

    sim, srv = results["simulator"], results["test server"]
    rows = []
    for n in NS:
        sim_batch, srv_batch = sim.ratio(sim.batch[n]), srv.ratio(srv.batch[n])
        batch_ok = max(sim_batch or 0.0, srv_batch or 0.0) <= GOAL
        rows.append(
            [
                str(n),
                _fmt(sim_batch),
                _fmt(sim.bare_ratio(n)),
                _fmt(sim.ratio(sim.loop.get(n))),
                _fmt(statistics.median(sim.stagger_ms[n]), 0),
                _fmt(srv_batch),
                _fmt(srv.bare_ratio(n)),
                _fmt(srv.ratio(srv.loop.get(n))),
                _fmt(statistics.median(srv.stagger_ms[n]), 0),
                str(srv.peak.get(n, "—")),
                f"≤ {GOAL:.2f} {'✅' if batch_ok else '❌'}",
            ]
        )
    print(
        f"batch(N) with max_concurrency=N, and a loop of N invokes, ÷ one invoke: medians of {repeats} "
        f"run{'s' if repeats > 1 else ''} each, over the median of {len(sim.invoke)} interleaved invokes "
        f"(loop measured up to N={loop_max})\n"
    )
    print(
        markdown_table(
            [
                "N",
                "simulator batch",
                "sim. bare LangChain batch",
                "simulator loop",
                "sim. start stagger ms",
                "server batch",
                "server bare LangChain batch",
                "server loop",
                "server start stagger ms",
                "server peak in flight",
                "goal (batch)",
            ],
            rows,
        )
    )
    print(
        f"\none invoke: simulator {statistics.median(sim.invoke):.3f} s, test server {statistics.median(srv.invoke):.3f} s "
        f"({profile.name}: TTFT {profile.ttft_s} s, {profile.tokens_per_s:g} tokens/s; simulator jitter 0, equal-length replies)"
    )
    print(
        "start stagger: the last call of the batch started this long after the first; each call's "
        "LangChain/OpenAI-client CPU work runs one at a time under the GIL, so it grows with N"
    )
    print(
        "bare LangChain batch: chain.batch(topics, {'max_concurrency': N}) ÷ chain.invoke, no app code at all; "
        "when it misses the goal too, the cost is LangChain's per-call CPU, not the app's"
    )
    errors = sim.errors + srv.errors
    print(
        f"errors: {errors}; total time {time.perf_counter() - started:.0f} s; "
        f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
