"""Where does one call's time go? The seed's chain, step by step (the Inside page's numbers).

For each backend this traces ``--repeats`` calls with ``chains.experiments.steps.trace_steps``
(``astream_events`` v2) and prints, per step, the median duration and share of
the call. It also prints what tracing costs: the median wall time of a plain
``chain.astream`` next to ``astream_events`` on the same model.

Backends:

- the simulator with the ``gpt-4o-mini-like`` profile, jitter 0;
- the simulator with the ``fast`` profile (TTFT 0.05 s, 400 tokens/s), where the
  non-model steps weigh the most;
- the local OpenAI-compatible test server (``devtools/openai_server.py``, TTFT 0.4 s,
  60 tokens/s) through ``ChatOpenAI`` over loopback HTTP.

Usage::

    python -m bench.inside_steps            # about 40 seconds
    python -m bench.inside_steps --repeats 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from chains.experiments.steps import trace_steps
from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from devtools.openai_server import OpenAICompatibleServer


def plain_astream_s(chain, topic: str) -> float:
    async def run() -> float:
        start = time.perf_counter()
        async for _ in chain.astream(topic):
            pass
        return time.perf_counter() - start

    return asyncio.run(run())


def report(name: str, chain, repeats: int) -> None:
    traces = [trace_steps(chain, "ice cream") for _ in range(repeats)]
    plain = statistics.median(plain_astream_s(chain, "ice cream") for _ in range(repeats))
    traced = statistics.median(trace.total_s for trace in traces)
    print(f"\n## {name}  (median of {repeats})")
    print(f"{'step':<28}{'ms':>10}{'share':>9}{'chunks in/out':>16}")
    for position, step in enumerate(traces[0].top_level()):
        durations = [trace.top_level()[position].duration_s for trace in traces]
        shares = [trace.share(trace.top_level()[position]) for trace in traces]
        print(
            f"{step.name:<28}{statistics.median(durations) * 1000:>10.2f}{statistics.median(shares):>9.1%}"
            f"{f'{step.chunks_in}/{step.chunks_out}':>16}"
        )
    first = statistics.median(trace.model_step().first_chunk_s for trace in traces)
    print(f"first token at {first * 1000:.1f} ms; whole call {traced * 1000:.1f} ms traced, {plain * 1000:.1f} ms with plain astream")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    report("simulator gpt-4o-mini-like, jitter 0", build_joke_chain(make_model(ModelSettings.simulator(sim_jitter=0.0))), args.repeats)
    report("simulator fast", build_joke_chain(make_model(ModelSettings.simulator("fast"))), args.repeats)
    with OpenAICompatibleServer(ttft_s=0.4, token_delay_s=1 / 60) as server:
        settings = ModelSettings(provider="compatible", model="test-model", base_url=server.base_url, api_key="not-needed", max_retries=0)
        report("ChatOpenAI -> local test server (TTFT 0.4 s, 60 tok/s)", build_joke_chain(make_model(settings)), args.repeats)


if __name__ == "__main__":
    main()
