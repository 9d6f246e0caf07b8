"""How fast, and how cheaply, does a stream reach the browser?

Starts ``bench/stream_render_app.py`` under ``streamlit run`` (with the project's
``.streamlit/config.toml``), opens it in headless Chromium (Playwright, Debian's
``/usr/bin/chromium``) and streams the simulator at 500 tokens/s (TTFT 0.3 s, no
jitter) with three renderers: ``ui.live.LiveMarkdown``, ``st.write_stream`` and a
naive ``st.empty()`` re-rendered on every token. For each run it measures:

* **first lag**: from the model's first chunk (``time.time()`` in the script) to
  the first text visible in the browser (``Date.now()`` in a MutationObserver);
  and from the script's start to that moment, against the goal TTFT + 100 ms;
* **last lag**: from the model's last chunk to the moment the browser shows the
  whole answer (without the cursor);
* **bytes**: the payload of every websocket frame the browser received during the
  run (Chrome DevTools Protocol ``Network.webSocketFrameReceived``).

Goals: first token ≤ TTFT + 100 ms, last token ≤ 150 ms after the final chunk,
and bytes O(n) for LiveMarkdown where ``write_stream`` grows ~n².
``--gc`` also runs LiveMarkdown with ``runner.postScriptGC`` false and true (5 runs
each) to show what the garbage collection after a run can cost the final frame.

Usage::

    python bench/stream_render.py               # 500/1000/2000 tokens, 3 repeats: about 3 minutes
    python bench/stream_render.py --quick       # 1000 tokens, 1 repeat
    python bench/stream_render.py --gc          # add the postScriptGC comparison
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import (  # noqa: E402
    VIEWPORT,
    app_env,
    find_chromium,
    free_port,
    launch_chromium,
    normalize,
    open_page,
    start_streamlit,
    stop_process,
    wait_for_health,
    wait_for_idle,
)

APP = ROOT / "bench" / "stream_render_app.py"
RENDERERS = ("live", "write_stream", "empty_every_token")
LABELS = {"live": "LiveMarkdown", "write_stream": "st.write_stream", "empty_every_token": "st.empty per token"}
TTFT_S = 0.3
TOKENS_PER_S = 500.0

#: Records, on every DOM change, the time and the output's text (without the
#: cursor and whitespace): its length and its last 40 characters.
OBSERVER_JS = """
() => {
  const events = [];
  let lastLength = -1;
  const read = () => {
    const el = document.querySelector('.st-key-bench_output');
    if (!el) return;
    const text = el.textContent.replace(/\\u258c/g, '').replace(/\\s+/g, '');
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
    tokens: int
    chunks: int
    first_lag_ms: float
    first_from_click_ms: float
    script_to_chunk_ms: float
    last_lag_ms: float
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


def measure(browser: Any, base_url: str, out_dir: Path, renderer: str, tokens: int, run_id: str) -> Run:
    """One stream, in a fresh browser context (a fresh session)."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    try:
        page = context.new_page()
        counter = FrameCounter()
        cdp = context.new_cdp_session(page)
        cdp.on("Network.webSocketFrameReceived", counter)
        cdp.send("Network.enable")
        query = f"renderer={renderer}&tokens={tokens}&tps={TOKENS_PER_S:g}&ttft={TTFT_S:g}&run={run_id}"
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
    complete = [event for event in visible if event["n"] >= len(final) and final.endswith(event["tail"])]
    if not visible or not complete:
        raise RuntimeError(f"{run_id}: the whole answer never showed ({len(final)} chars, saw {visible[-1:] if visible else None})")
    return Run(
        renderer=renderer,
        tokens=tokens,
        chunks=len(result["chunk_times"]),
        first_lag_ms=visible[0]["t"] - first_chunk_ms,
        first_from_click_ms=visible[0]["t"] - clicked_ms,
        script_to_chunk_ms=first_chunk_ms - result["script_start"] * 1000,
        last_lag_ms=complete[0]["t"] - last_chunk_ms,
        bytes=counter.bytes,
        frames=counter.frames,
    )


def median_run(runs: list[Run]) -> Run:
    med = statistics.median
    return Run(
        renderer=runs[0].renderer,
        tokens=runs[0].tokens,
        chunks=int(med(run.chunks for run in runs)),
        first_lag_ms=med(run.first_lag_ms for run in runs),
        first_from_click_ms=med(run.first_from_click_ms for run in runs),
        script_to_chunk_ms=med(run.script_to_chunk_ms for run in runs),
        last_lag_ms=med(run.last_lag_ms for run in runs),
        bytes=int(med(run.bytes for run in runs)),
        frames=int(med(run.frames for run in runs)),
    )


def run_server_suite(
    browser: Any,
    sizes: list[int],
    repeats: int,
    renderers: tuple[str, ...],
    extra_args: list[str],
    tag: str,
    *,
    keep_runs: bool = False,
) -> dict[tuple[str, int], Any]:
    """Start a server with ``extra_args`` and measure every renderer and size ``repeats`` times.

    Returns:
        The median run per ``(renderer, tokens)``, or every run with ``keep_runs``.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    results: dict[tuple[str, int], list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="stream-bench-") as out:
        env = app_env()
        env["STREAM_BENCH_OUT"] = out
        process = start_streamlit(APP, port, extra_args=extra_args, env=env)
        try:
            wait_for_health(base_url, process)
            # Warm up: imports, the first script run, the browser's cache.
            measure(browser, base_url, Path(out), "live", 50, f"{tag}-warmup")
            for repeat in range(repeats):
                for tokens in sizes:
                    order = renderers if repeat % 2 == 0 else tuple(reversed(renderers))
                    for renderer in order:
                        run = measure(browser, base_url, Path(out), renderer, tokens, f"{tag}-{renderer}-{tokens}-{repeat}")
                        results.setdefault((renderer, tokens), []).append(run)
                        time.sleep(0.5)  # let the closed session's clean-up pass before the next run
                        print(
                            f"  [{tag}] {renderer:18} {tokens:5} tokens: click→first {run.first_from_click_ms:4.0f} ms, first +{run.first_lag_ms:4.0f} ms, "
                            f"last +{run.last_lag_ms:6.0f} ms, {run.bytes / 1000:8.1f} kB",
                            file=sys.stderr,
                        )
        finally:
            stop_process(process)
    if keep_runs:
        return results
    return {key: median_run(runs) for key, runs in results.items()}


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def print_tables(results: dict[tuple[str, int], Run], sizes: list[int], repeats: int) -> None:
    goal_first = TTFT_S * 1000 + 100
    print(f"\n### Stream rendering in Chromium: {TOKENS_PER_S:.0f} tokens/s, TTFT {TTFT_S:.1f} s (median of {repeats})\n")
    print(f"| renderer | chunks | click → first token visible (goal ≤ TTFT + 100 = {goal_first:.0f} ms) | script start → model's "
          "first chunk | model's first chunk → visible | model's last chunk → all visible (goal ≤ 150 ms) | "
          "websocket bytes | frames | bytes/chunk |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for renderer in RENDERERS:
        for tokens in sizes:
            run = results.get((renderer, tokens))
            if run is None:
                continue
            print(
                f"| {LABELS[renderer]} | {run.chunks} | {run.first_from_click_ms:.0f} ms {verdict(run.first_from_click_ms <= goal_first)} | "
                f"{run.script_to_chunk_ms:.0f} ms | {run.first_lag_ms:.0f} ms | "
                f"{run.last_lag_ms:.0f} ms {verdict(run.last_lag_ms <= 150)} | "
                f"{run.bytes / 1000:,.1f} kB | {run.frames} | {run.bytes / max(run.chunks, 1):.0f} |"
            )
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        factor = large / small
        print(f"\n### Growth of the bytes from {small} to {large} tokens (×{factor:g} tokens: O(n) → ×{factor:g}, O(n²) → ×{factor * factor:g})\n")
        print("| renderer | bytes ratio | vs LiveMarkdown at " + f"{large} tokens |")
        print("| --- | ---: | ---: |")
        base = results.get(("live", large))
        for renderer in RENDERERS:
            low, high = results.get((renderer, small)), results.get((renderer, large))
            if low is None or high is None:
                continue
            versus = f"{high.bytes / base.bytes:.1f}×" if base else "—"
            print(f"| {LABELS[renderer]} | ×{high.bytes / low.bytes:.2f} | {versus} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1000 tokens, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokens", type=int, action="append", help="answer sizes (repeatable); default 500, 1000, 2000")
    parser.add_argument("--gc", action="store_true", help="also run LiveMarkdown with runner.postScriptGC = true")
    args = parser.parse_args()
    sizes = args.tokens or ([1000] if args.quick else [500, 1000, 2000])
    repeats = 1 if args.quick else args.repeats

    executable = find_chromium()
    if executable is None:
        sys.exit("No Chromium: apt-get install chromium (never `playwright install`).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        try:
            started = time.perf_counter()
            results = run_server_suite(browser, sizes, repeats, RENDERERS, [], "config")
            print_tables(results, sizes, repeats)
            if args.gc:
                size = 1000 if 1000 in sizes else sizes[-1]
                gc_repeats = max(repeats, 5)
                rows = []
                for value, label in (("false", "false (.streamlit/config.toml)"), ("true", "true (Streamlit's default)")):
                    runs = run_server_suite(
                        browser, [size], gc_repeats, ("live",), ["--runner.postScriptGC", value], f"gc-{value}", keep_runs=True
                    )[("live", size)]
                    rows.append((label, runs))
                print(f"\n### The final frame and `runner.postScriptGC` (LiveMarkdown, {size} tokens, {gc_repeats} runs each)\n")
                print("| postScriptGC | model's last chunk → all visible: median | max | runs over 50 ms |")
                print("| --- | ---: | ---: | ---: |")
                for label, runs in rows:
                    lags = [run.last_lag_ms for run in runs]
                    print(f"| {label} | {statistics.median(lags):.0f} ms | {max(lags):.0f} ms | {sum(lag > 50 for lag in lags)} of {len(lags)} |")
            print(f"\n(measured in {time.perf_counter() - started:.0f} s)")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
