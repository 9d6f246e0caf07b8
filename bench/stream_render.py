"""How fast, and how cheaply, does a stream reach the browser, for every answer shape?

Starts ``bench/stream_render_app.py`` under ``streamlit run`` (with the project's
``.streamlit/config.toml``), opens it in headless Chromium (Playwright, Debian's
``/usr/bin/chromium``) and streams the simulator (TTFT 0.3 s, no jitter) at 500 and
at 60 tokens/s, with its answer laid out in each shape of ``chains.simulation.joke_book.REPLY_SHAPES``
(many short paragraphs, one long paragraph, one long list, one long fenced code
block), and three answers with no sentence end that a space follows
(``devtools.answer_shapes``: one paragraph of words, CJK text ending its
sentences with ``。``, one long markdown table), into each renderer: ``ui.elements.live.LiveMarkdown`` and ``ui.elements.live.ChunkView`` by
default; ``--renderer`` adds ``st.write_stream``, a throttled ``st.empty()`` or a
naive one re-rendered on every token. For each run it measures:

* **first lag**: from the model's first chunk (``time.time()`` in the script) to
  the first text visible in the browser (``Date.now()`` in a MutationObserver);
  and from the click to that moment, against the goal TTFT + 100 ms;
* **last lag**: from the model's last chunk to the moment the browser shows the
  whole answer (without the cursor);
* **gaps** between two visible changes while the model streams, p95 and longest
  (the tail must refresh at least 4 times a second: ≤ 250 ms plus one token's gap);
* **bytes**: the payload of every websocket frame the browser received during the
  run (Chrome DevTools Protocol ``Network.webSocketFrameReceived``).

Goals (issue 15): at 2,000 tokens ≤ 100 bytes per token, a log-log slope of the
bytes ≤ 1.2 from the smallest to the largest size, first token ≤ TTFT + 100 ms,
last token ≤ 150 ms after the final chunk.
``--gc`` also runs LiveMarkdown with ``runner.postScriptGC`` false and true (5 runs
each) to show what the garbage collection after a run can cost the final frame.

Usage::

    python -m bench.stream_render                  # 7 shapes × 60 and 500 tokens/s × 250 and 2,000 tokens: ≈ 20 minutes
    python -m bench.stream_render --quick          # one paragraph and a code block, 500 tokens/s
    python -m bench.stream_render --shape paragraph --tps 60 --renderer live --renderer empty_throttled
    python -m bench.stream_render --gc             # add the postScriptGC comparison
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chains.simulation.joke_book import REPLY_SHAPES
from devtools.answer_shapes import TEXT_SHAPES
from devtools.browser import (
    ROOT,
    VIEWPORT,
    app_env,
    chromium_browser,
    normalize,
    open_page,
    served_app,
    wait_for_idle,
)

APP = ROOT / "bench" / "stream_render_app.py"

#: The simulator's shapes, then answers with no sentence end that a space follows (issue 30).
SHAPES = (*REPLY_SHAPES, *TEXT_SHAPES)

RENDERERS = ("live", "chunks", "write_stream", "empty_throttled", "empty_every_token")
DEFAULT_RENDERERS = ("live", "chunks")
LABELS = {
    "live": "LiveMarkdown",
    "chunks": "ChunkView",
    "write_stream": "st.write_stream",
    "empty_throttled": "st.empty, 40 ms",
    "empty_every_token": "st.empty per token",
}
TTFT_S = 0.3
#: Markup that markdown draws as no character (table pipes and separator rows, code fences, emphasis).
MARKUP_CHARS = str.maketrans("", "", "|-:`*#")
SPEEDS = (500.0, 60.0)

#: Records, on every DOM change, the time and the output's text (without the
#: cursor and whitespace): its length and its last 40 characters.
OBSERVER_JS = """
() => {
  const events = [];
  let lastLength = -1;
  const read = () => {
    const el = document.querySelector('.st-key-bench_output');
    if (!el) return;
    const text = el.textContent.replace(/[\\u258c\\u21b5\\u2205]/g, '').replace(/\\s+/g, '');
    if (text.length !== lastLength) {
      lastLength = text.length;
      events.push({t: Date.now(), n: text.length, tail: text.slice(-40)});
    }
  };
  const observer = new MutationObserver(read);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  window.__events = events;
  window.__clicked = null;
  document.addEventListener('click', () => { if (window.__clicked === null) window.__clicked = Date.now(); }, true);
  window.__stop = () => { observer.disconnect(); read(); return {events, clicked: window.__clicked}; };
}
"""


@dataclass
class Run:
    renderer: str
    shape: str
    tokens_per_s: float
    tokens: int
    chunks: int
    first_lag_ms: float
    first_from_click_ms: float
    script_to_chunk_ms: float
    last_lag_ms: float
    longest_gap_ms: float
    p95_gap_ms: float
    bytes: int
    frames: int


class FrameCounter:
    """Adds up websocket payload bytes seen by the page, while ``counting`` is on."""

    def __init__(self) -> None:
        self.counting = False
        self.bytes = 0
        self.frames = 0

    def __call__(self, params: dict[str, Any]) -> None:
        if not self.counting:
            return
        response = params.get("response", {})
        data = response.get("payloadData", "")
        binary = response.get("opcode") == 2  # binary (protobuf): base64 in the protocol
        size = (len(base64.b64decode(data)) if data else 0) if binary else len(data.encode("utf-8"))
        self.bytes += size
        self.frames += 1


def measure(
    browser: Any, base_url: str, out_dir: Path, renderer: str, shape: str, tokens_per_s: float, tokens: int, run_id: str
) -> Run:
    """One stream, in a fresh browser context (a fresh session)."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    try:
        page = context.new_page()
        counter = FrameCounter()
        cdp = context.new_cdp_session(page)
        cdp.on("Network.webSocketFrameReceived", counter)
        cdp.send("Network.enable")
        query = f"renderer={renderer}&shape={shape}&tokens={tokens}&tps={tokens_per_s:g}&ttft={TTFT_S:g}&run={run_id}"
        open_page(page, f"{base_url}/?{query}")
        page.evaluate(OBSERVER_JS)
        result_path = out_dir / f"{run_id}.json"
        counter.counting = True
        page.locator(".st-key-start button").click()
        deadline = time.time() + 120
        while not result_path.exists():
            if time.time() > deadline:
                raise TimeoutError(f"no result from the app for {run_id}")
            page.wait_for_timeout(50)
        wait_for_idle(page, settle_ms=300)
        observed = page.evaluate("() => window.__stop()")
        counter.counting = False
        result = json.loads(result_path.read_text(encoding="utf-8"))
    finally:
        context.close()

    events, clicked_ms = observed["events"], observed["clicked"]
    final = normalize(result["text"])
    first_chunk_ms = result["chunk_times"][0] * 1000
    last_chunk_ms = result["chunk_times"][-1] * 1000
    visible = [event for event in events if event["n"] > 0]
    # Markdown hides its markup (list markers, fences), so "complete" is the first moment the
    # box shows what it shows at the end, once the model's last chunk has arrived.
    complete = [
        event for event in visible if event["n"] == visible[-1]["n"] and event["tail"] == visible[-1]["tail"]
    ] if visible else []
    shown_chars = len(final.translate(MARKUP_CHARS))  # a table's pipes and dashes, a fence's backticks are not shown
    if not complete or visible[-1]["n"] < 0.8 * shown_chars:
        raise RuntimeError(f"{run_id}: the whole answer never showed ({len(final)} chars, saw {visible[-1:] if visible else None})")
    streaming = [event["t"] for event in visible if first_chunk_ms <= event["t"] <= last_chunk_ms]
    gaps = [later - earlier for earlier, later in zip(streaming, streaming[1:], strict=False)]
    return Run(
        renderer=renderer,
        shape=shape,
        tokens_per_s=tokens_per_s,
        tokens=tokens,
        chunks=len(result["chunk_times"]),
        first_lag_ms=visible[0]["t"] - first_chunk_ms,
        first_from_click_ms=visible[0]["t"] - clicked_ms,
        script_to_chunk_ms=first_chunk_ms - result["script_start"] * 1000,
        last_lag_ms=max(0.0, complete[0]["t"] - last_chunk_ms),
        longest_gap_ms=max(gaps, default=0.0),
        p95_gap_ms=statistics.quantiles(gaps, n=20)[-1] if len(gaps) >= 2 else max(gaps, default=0.0),
        bytes=counter.bytes,
        frames=counter.frames,
    )


def median_run(runs: list[Run]) -> Run:
    med = statistics.median
    return Run(
        renderer=runs[0].renderer,
        shape=runs[0].shape,
        tokens_per_s=runs[0].tokens_per_s,
        tokens=runs[0].tokens,
        chunks=int(med(run.chunks for run in runs)),
        first_lag_ms=med(run.first_lag_ms for run in runs),
        first_from_click_ms=med(run.first_from_click_ms for run in runs),
        script_to_chunk_ms=med(run.script_to_chunk_ms for run in runs),
        last_lag_ms=med(run.last_lag_ms for run in runs),
        longest_gap_ms=max(run.longest_gap_ms for run in runs),
        p95_gap_ms=max(run.p95_gap_ms for run in runs),
        bytes=int(med(run.bytes for run in runs)),
        frames=int(med(run.frames for run in runs)),
    )


Key = tuple[str, str, float, int]  # renderer, shape, tokens/s, tokens


def run_server_suite(
    browser: Any,
    sizes: list[int],
    repeats: int,
    renderers: tuple[str, ...],
    shapes: tuple[str, ...],
    speeds: tuple[float, ...],
    extra_args: list[str],
    tag: str,
    *,
    keep_runs: bool = False,
) -> dict[Key, Any]:
    """Start a server with ``extra_args`` and measure every renderer, shape, speed and size ``repeats`` times.

    Returns:
        The median run per ``(renderer, shape, tokens/s, tokens)``, or every run with ``keep_runs``.
    """
    results: dict[Key, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="stream-bench-") as out:
        env = app_env()
        env["STREAM_BENCH_OUT"] = out
        with served_app(APP, extra_args=extra_args, env=env) as app:
            base_url = app.url
            # Warm up: imports, the first script run, the browser's cache.
            measure(browser, base_url, Path(out), "live", "paragraphs", 500.0, 50, f"{tag}-warmup")
            for repeat in range(repeats):
                for speed in speeds:
                    for shape in shapes:
                        for tokens in sizes:
                            order = renderers if repeat % 2 == 0 else tuple(reversed(renderers))
                            for renderer in order:
                                run_id = f"{tag}-{renderer}-{shape}-{speed:g}-{tokens}-{repeat}"
                                run = measure(browser, base_url, Path(out), renderer, shape, speed, tokens, run_id)
                                results.setdefault((renderer, shape, speed, tokens), []).append(run)
                                time.sleep(0.5)  # let the closed session's clean-up pass before the next run
                                print(
                                    f"  [{tag}] {renderer:17} {shape:15} {speed:3.0f}/s {tokens:5} tokens: "
                                    f"click→first {run.first_from_click_ms:4.0f} ms, last +{run.last_lag_ms:5.0f} ms, "
                                    f"gap {run.longest_gap_ms:4.0f} ms, {run.bytes / 1000:8.1f} kB ({run.bytes / run.chunks:.0f} B/token)",
                                    file=sys.stderr,
                                )
    if keep_runs:
        return results
    return {key: median_run(runs) for key, runs in results.items()}


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def print_tables(results: dict[Key, Run], sizes: list[int], repeats: int) -> None:
    goal_first = TTFT_S * 1000 + 100
    small, large = min(sizes), max(sizes)
    keys = sorted({(renderer, shape, speed) for renderer, shape, speed, _ in results}, key=lambda k: (RENDERERS.index(k[0]), -k[2], SHAPES.index(k[1])))
    print(f"\n### Stream rendering in Chromium, TTFT {TTFT_S:.1f} s (median of {repeats})\n")
    sizes_header = " | ".join(f"{size:,} tokens" for size in sorted(sizes))
    print(
        f"| renderer | shape | tokens/s | {sizes_header} | B/token at {large:,} (goal ≤ 100) | log-log slope {small}→{large} (goal ≤ 1.2) | "
        f"click → first visible (goal ≤ {goal_first:.0f} ms) | model's first chunk → visible | last chunk → all visible (goal ≤ 150 ms) | gaps between visible changes while streaming: p95 / longest (goal ≤ 250 ms + a token + 50 ms) |"
    )
    print("| --- | --- | ---: |" + " ---: |" * len(sizes) + " ---: | ---: | ---: | ---: | ---: | ---: |")
    for renderer, shape, speed in keys:
        runs = [results.get((renderer, shape, speed, size)) for size in sorted(sizes)]
        if any(run is None for run in runs):
            continue
        low, high = runs[0], runs[-1]
        per_token = high.bytes / max(high.chunks, 1)
        slope = math.log(high.bytes / low.bytes) / math.log(high.chunks / low.chunks) if len(runs) > 1 and high.chunks != low.chunks else float("nan")
        cells = " | ".join(f"{run.bytes / 1000:,.1f} kB" for run in runs)
        first = max(run.first_from_click_ms for run in runs)
        first_lag = max(run.first_lag_ms for run in runs)
        last = max(run.last_lag_ms for run in runs)
        gap = max(run.longest_gap_ms for run in runs)
        gap_p95 = max(run.p95_gap_ms for run in runs)
        gap_goal = 250 + 1000 / speed + 50  # a token's gap, and 50 ms for the browser's own frames
        print(
            f"| {LABELS[renderer]} | {TEXT_SHAPES.get(shape, shape)} | {speed:.0f} | {cells} | {per_token:.0f} {verdict(per_token <= 100)} | "
            f"{slope:.2f} {verdict(slope <= 1.2)} | {first:.0f} ms {verdict(first <= goal_first)} | {first_lag:.0f} ms | "
            f"{last:.0f} ms {verdict(last <= 150)} | {gap_p95:.0f} ms {verdict(gap_p95 <= gap_goal)} / {gap:.0f} ms {verdict(gap <= gap_goal)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one paragraph and a code block, 500 tokens/s, one repeat")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--tokens", type=int, action="append", help="answer sizes (repeatable); default 250 and 2000")
    parser.add_argument("--shape", action="append", choices=SHAPES, help="answer shapes (repeatable); default all")
    parser.add_argument("--tps", type=float, action="append", help="tokens per second (repeatable); default 500 and 60")
    parser.add_argument("--renderer", action="append", choices=RENDERERS, help=f"renderers (repeatable); default {', '.join(DEFAULT_RENDERERS)}")
    parser.add_argument("--gc", action="store_true", help="also run LiveMarkdown with runner.postScriptGC = true")
    args = parser.parse_args()
    sizes = args.tokens or [250, 2000]
    shapes = tuple(args.shape or (("paragraph", "code") if args.quick else SHAPES))
    speeds = tuple(args.tps or ((500.0,) if args.quick else SPEEDS))
    renderers = tuple(args.renderer or DEFAULT_RENDERERS)
    repeats = 1 if args.quick else args.repeats

    with chromium_browser() as browser:
        started = time.perf_counter()
        results = run_server_suite(browser, sizes, repeats, renderers, shapes, speeds, [], "config")
        print_tables(results, sizes, repeats)
        if args.gc:
            size = 1000
            gc_repeats = max(repeats, 5)
            rows = []
            for value, label in (("false", "false (.streamlit/config.toml)"), ("true", "true (Streamlit's default)")):
                runs = run_server_suite(
                    browser, [size], gc_repeats, ("live",), ("paragraphs",), (500.0,), ["--runner.postScriptGC", value], f"gc-{value}", keep_runs=True
                )[("live", "paragraphs", 500.0, size)]
                rows.append((label, runs))
            print(f"\n### The final frame and `runner.postScriptGC` (LiveMarkdown, {size} tokens, {gc_repeats} runs each)\n")
            print("| postScriptGC | model's last chunk → all visible: median | max | runs over 50 ms |")
            print("| --- | ---: | ---: | ---: |")
            for label, runs in rows:
                lags = [run.last_lag_ms for run in runs]
                print(f"| {label} | {statistics.median(lags):.0f} ms | {max(lags):.0f} ms | {sum(lag > 50 for lag in lags)} of {len(lags)} |")
        print(f"\n(measured in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
