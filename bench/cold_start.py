"""Cold start: from ``streamlit run`` to the first page rendered in the browser.

Each measurement starts a fresh server (``python -m streamlit run SCRIPT``, with the
project's ``.streamlit/config.toml``), then opens ``/`` in a fresh context of a
headless Chromium that is already running (Playwright, Debian's ``/usr/bin/chromium``),
and stops the clock when the page's title (``h1``) is in the page with a size (a
MutationObserver takes ``Date.now()``; the server's start is ``time.time()``). The lab
(``streamlit_app.py``, which opens on Home) is compared with a bare one-line app
(``st.title("hi")``) measured in the same run: the two alternate (ABBA), and the
ratio is taken between the medians. Goal: ≤ 1.3×.

It also shows the server's memory (RSS) after the first render, and, with
``--imports``, which of the app's own modules are slow to import
(``python -X importtime``, with Streamlit already imported, as in the bare app).

Usage::

    python -m bench.cold_start                 # 5 repeats of each: about 1 minute
    python -m bench.cold_start --repeats 9 --imports
    python -m bench.cold_start --app /path/to/a/variant/streamlit_app.py   # try a change first
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devtools.browser import (
    APP_IDLE,
    ROOT,
    VIEWPORT,
    chromium_browser,
    rss_mb,
    served_app,
    strings,
)

BARE_APP = 'import streamlit as st\n\nst.title("hi")\n'
GOAL = 1.3

#: What the entry script and the Home page import, after ``import streamlit``.
APP_IMPORTS = """
import streamlit
import ui.i18n, ui.sidebar
import ui.elements.code
"""


#: Records ``Date.now()`` when an ``h1`` with the title is first in the page with a
#: size. Playwright's own waiting polls up to every 500 ms, too coarse to time.
TITLE_OBSERVER_JS = """
(() => {
  const title = %s;
  const check = () => {
    if (window.__titleAt) return;
    for (const h1 of document.querySelectorAll('h1')) {
      if (h1.textContent.includes(title) && h1.getBoundingClientRect().height > 0) {
        window.__titleAt = Date.now();
        return;
      }
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def measure(browser: Any, script: Path, title: str) -> tuple[float, float, float]:
    """Seconds from Popen to health, and to the title visible; and the server's RSS in MB."""
    started_wall = time.time()
    with served_app(script, health_poll_s=0.01) as app:
        context = browser.new_context(viewport=VIEWPORT, locale="en-US")
        try:
            context.add_init_script(TITLE_OBSERVER_JS % json.dumps(title))
            page = context.new_page()
            page.goto(app.url, timeout=120_000)
            page.locator("h1", has_text=title).first.wait_for(state="visible", timeout=120_000)
            rendered = page.evaluate("() => window.__titleAt") / 1000 - started_wall
            page.wait_for_selector(APP_IDLE, timeout=120_000)
            memory = rss_mb(app.process.pid)
        finally:
            context.close()
    return app.healthy_s, rendered, memory


def import_report(app_dir: Path, limit: int = 15) -> None:
    """Print the app's slowest imports (cumulative µs), Streamlit itself excluded."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import streamlit\nimport sys\nprint('---', file=sys.stderr)\n" + APP_IMPORTS],
        cwd=app_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    after = completed.stderr.split("---", 1)[1]
    rows = []
    for line in after.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), len(match.group(3)) // 2, match.group(4)))
    total = sum(cumulative for cumulative, depth, _ in rows if depth == 0)
    print(f"\n### What the entry script and Home import on top of Streamlit: {total / 1000:.0f} ms in all\n")
    print("| module | cumulative | nesting |")
    print("| --- | ---: | ---: |")
    for cumulative, depth, name in sorted(rows, reverse=True)[:limit]:
        print(f"| `{name}` | {cumulative / 1000:.0f} ms | {depth} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="measurements of each app (default 5)")
    parser.add_argument("--imports", action="store_true", help="also list the app's slowest imports")
    parser.add_argument("--app", type=Path, default=ROOT / "streamlit_app.py", help="the entry script (default: the lab's)")
    args = parser.parse_args()

    app_title = strings("en")["home"]["title"]
    times: dict[str, list[tuple[float, float, float]]] = {"bare": [], "app": []}
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp, chromium_browser() as browser:
        bare = Path(tmp) / "bare_app.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        targets = {"bare": (bare, "hi"), "app": (args.app.resolve(), app_title)}
        measure(browser, bare, "hi")  # warm the OS file cache and the browser
        for repeat in range(args.repeats):
            order = ("bare", "app") if repeat % 2 == 0 else ("app", "bare")
            for name in order:
                script, title = targets[name]
                result = measure(browser, script, title)
                times[name].append(result)
                print(f"  {name:4} #{repeat + 1}: healthy {result[0]:.2f} s, title {result[1]:.2f} s, RSS {result[2]:.0f} MB", file=sys.stderr)

    med = statistics.median
    bare_s = med(t for _, t, _ in times["bare"])
    app_s = med(t for _, t, _ in times["app"])
    print(f"\n### Cold start: `streamlit run` to the first title visible in Chromium (median of {args.repeats})\n")
    print("| app | server healthy | title visible | min – max | server RSS |")
    print("| --- | ---: | ---: | ---: | ---: |")
    app_label = args.app.name if args.app.resolve() == (ROOT / "streamlit_app.py") else str(args.app)
    for name, label in (("bare", "bare `st.title(\"hi\")`"), ("app", f"the lab (`{app_label}`, Home)")):
        rows = times[name]
        print(
            f"| {label} | {med(h for h, _, _ in rows):.2f} s | {med(t for _, t, _ in rows):.2f} s | "
            f"{min(t for _, t, _ in rows):.2f} – {max(t for _, t, _ in rows):.2f} s | {med(m for _, _, m in rows):.0f} MB |"
        )
    ratio = app_s / bare_s
    print(f"\n**Ratio: {ratio:.2f}×** (goal ≤ {GOAL}×) {'✅' if ratio <= GOAL else '❌'}")
    if args.imports:
        import_report(args.app.resolve().parent)


if __name__ == "__main__":
    main()
