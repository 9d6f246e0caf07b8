"""How close does the simulator's seed profile land to the seed post's numbers?

Runs the post's experiment (``chains.experiments.seed_post.run_seed_post``: invoke "ice cream",
a loop over "ice cream", "chocolate", "vanilla", batch of the three, then stream)
on the ``seed-blog-gpt-3.5-turbo`` profile with seed 42, exactly as the Home
page's "Reproduce the seed post" button does, and prints measured/post ratios.

Usage::

    python -m bench.seed_reproduction              # 5 repeats, about 30 seconds
    python -m bench.seed_reproduction --repeats 2
"""

from __future__ import annotations

import argparse
import statistics

from chains.experiments.seed_post import SEED_POST_PROFILE, SEED_POST_SECONDS, SEED_POST_SEED, compare_with_the_post, run_seed_post
from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    settings = ModelSettings.simulator(SEED_POST_PROFILE, sim_seed=SEED_POST_SEED, model=f"simulated-{SEED_POST_PROFILE}")
    measured: dict[str, list[float]] = {mode: [] for mode in SEED_POST_SECONDS}
    for _ in range(args.repeats):
        chain = build_joke_chain(make_model(settings))
        for row in compare_with_the_post(run_seed_post(chain)):
            measured[row.mode].append(row.measured_s)
    print(f"Profile {SEED_POST_PROFILE}, seed {SEED_POST_SEED}, {args.repeats} repeats (median)\n")
    print("| mode | post (s) | measured (s) | measured / post |")
    print("| --- | ---: | ---: | ---: |")
    for mode, post_s in SEED_POST_SECONDS.items():
        median = statistics.median(measured[mode])
        print(f"| {mode} | {post_s:.3f} | {median:.3f} | {median / post_s:.3f} |")


if __name__ == "__main__":
    main()
