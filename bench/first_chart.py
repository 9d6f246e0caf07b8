"""First chart after a fresh start: how long after the calls' end does Batch's timeline appear?

Each measurement starts a fresh server (``streamlit run``), opens ``/`` (Home) in a
fresh Chromium context, waits ``--pause`` seconds (a person reading Home), opens
Batch, presses Run (the defaults: the simulator, five topics, loop and batch) and
records, in the page (MutationObserver, ``Date.now()``), when batch's status says it
finished and when the Plotly chart has drawn its SVG. It prints the gap.
Goal: ≤ 1 s. Before issue 13 the first chart came about 3 s after the calls.
"element" is when the chart's element is in the page, "drawn" when Plotly has drawn it.

Usage::

    python -m bench.first_chart                     # this checkout, 3 fresh servers
    python -m bench.first_chart --root /path/to/other/checkout --repeats 3 --pause 0
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from devtools.browser import ROOT, app_env, chromium_browser, open_page, served_app, wait_for_idle

WATCH_JS = """
() => {
  window.__marks = {};
  const observer = new MutationObserver(() => {
    const now = Date.now();
    if (!window.__marks.done && [...document.querySelectorAll('[data-testid="stExpander"] summary, details summary')]
          .some(el => /batch finished|batch 완료/.test(el.innerText))) window.__marks.done = now;
    if (!window.__marks.element && document.querySelector('[data-testid="stPlotlyChart"]')) window.__marks.element = now;
    if (!window.__marks.chart && document.querySelector('[data-testid="stPlotlyChart"] .main-svg')) window.__marks.chart = now;
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def measure_once(browser, root: Path, pause_s: float) -> float:
    env = {**app_env(), "RUNS_DB_DIR": tempfile.mkdtemp(prefix="bench-first-chart-")}
    env.pop("RUNS_DB_URL", None)
    with served_app(env=env, cwd=root) as app:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = context.new_page()
        open_page(page, f"{app.url}/", timeout_ms=90_000)
        page.wait_for_timeout(pause_s * 1000)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Batch").first.click()
        wait_for_idle(page)
        page.evaluate(WATCH_JS)
        page.locator(".st-key-run button").click()
        page.wait_for_function("() => window.__marks.done && window.__marks.chart", timeout=90_000)
        marks = page.evaluate("() => window.__marks")
        context.close()
    print(f"  element after {(marks['element'] - marks['done']) / 1000:.2f} s, drawn after {(marks['chart'] - marks['done']) / 1000:.2f} s", flush=True)
    return (marks["chart"] - marks["done"]) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds on Home before opening Batch")
    args = parser.parse_args()
    with chromium_browser() as browser:
        gaps = [measure_once(browser, args.root.resolve(), args.pause) for _ in range(args.repeats)]
    print(f"{args.root}: chart after the calls' end: " + ", ".join(f"{gap:.2f} s" for gap in gaps) + f" (median {statistics.median(gaps):.2f} s)")


if __name__ == "__main__":
    main()
