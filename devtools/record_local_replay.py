"""Record the local model once, as the Stream page runs it, and write a shipped replay profile.

``python -m devtools.record_local_replay`` streams each topic with the app's
``run_stream`` on llama.cpp's server (``chains.local.supervisor``), one topic at a
time, and writes ``chains/simulation/replays/<stem>.json`` with ``profile_from_records``:
real first-token and inter-token times, labelled with what was measured (model,
server, threads, machine class, date). Needs the extra
(``pip install --no-deps -r requirements-local.txt``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime

from chains.joke import build_joke_chain
from chains.local.supervisor import stop_shared_server
from chains.models import ModelSettings, make_model
from chains.modes import RunMeta, run_stream
from chains.records.replay_recording import profile_from_records
from chains.simulation.replay import EXAMPLES_DIR, profile_to_dict

TOPICS = ("ice cream", "chocolate", "vanilla", "strawberry")


def main(argv: list[str] | None = None) -> int:
    """Stream the topics, build the profile, write it, and print its file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--machine", default="this machine class", help="the machine, as the label should say it")
    args = parser.parse_args(argv)
    settings = ModelSettings(
        provider="local", model="local", local_slots=1, local_threads=args.threads, local_max_tokens=args.max_tokens,
        timeout_s=300.0, max_retries=0,
    )  # fmt: skip
    try:
        chain = build_joke_chain(make_model(settings))
        model = chain.steps[-2].model_name  # the seed chain: ... | prompt | ChatOpenAI | parser
        records = [run_stream(chain, topic, meta=RunMeta("local", model)) for topic in TOPICS]
    finally:
        stop_shared_server()
    failed = [call.error for record in records for call in record.calls if not call.ok]
    if failed:
        print(f"a call failed: {failed[0]}", file=sys.stderr)
        return 1
    day = datetime.now(UTC).date().isoformat()
    name = f"SmolLM2-135M-Instruct, llama.cpp, {args.threads} thread{'s' if args.threads > 1 else ''}, {args.machine}, {day}"
    note = (
        f"Measured, not made up: the Stream page's runner on llama.cpp's server (xllamacpp) with {model}, "
        f"1 slot, {args.threads} CPU thread(s), max_tokens {args.max_tokens}, one topic at a time, on the project's "
        "shared 2-core CI-class machine (python -m devtools.record_local_replay)."
    )
    profile = replace(profile_from_records(records, name, note=note), example=False)
    path = EXAMPLES_DIR / f"recorded-smollm2-135m-llama-cpp-{args.threads}-thread-{day}.json"
    path.write_text(json.dumps(profile_to_dict(profile), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
