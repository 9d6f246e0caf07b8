"""Imported text stays inert on every page: no field of a record becomes a link, an image or a tag.

The attack (issue 25, item 2): an export whose sweep had the model name
``![x](http://ATTACKER/pixel.png) [Claim free credits](http://ATTACKER/phish)``
passed the import; Lab's sweep caption then made the browser fetch the pixel and
showed a clickable phishing link. Run labels (``{provider} · {model}``), owners
and replay names were built into markdown the same way, and bare URLs became links.

Every field of the hostile export holds the same string. The checker reads each
markdown body the way GFM would link it: an inline link or image, or a bare
address outside code. ``tests/e2e/test_browser_security.py`` checks the same in Chromium.
"""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa

from chains.records.exchange import runs_to_json
from chains.records.store import RunStore, prepare_sqlite, sqlite_url
from chains.security.safe_text import inert_markdown, plain_markdown
from chains.timing import LAB_SWEEP_ORIGIN, CallTiming, RunRecord
from tests.app_harness import FAST_SIMULATOR, open_app, texts
from ui.runs.share import VIEW_PARAM

ATTACKER = "evil.invalid"
HOSTILE = (  # within every field's import limit (a model name: 200 characters)
    f"![x](http://{ATTACKER}/p.png) [Claim free credits](http://{ATTACKER}/phish) "
    f"http://{ATTACKER}/b www.{ATTACKER} a@{ATTACKER} <img src=http://{ATTACKER}/i> $x^2$"
)
PAGES = ["pages/home.py", "pages/invoke.py", "pages/batch.py", "pages/stream.py", "pages/async_modes.py",
         "pages/inside.py", "pages/compare.py", "pages/lab.py", "pages/history.py"]
_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)


def outside_links(markdown: str) -> list[str]:
    """What GFM would render from ``markdown`` as a link or an image to the attacker's host."""
    outside_code = _CODE.sub(" ", markdown)
    found = re.findall(rf"(?<!\\)\]\(\s*<?[a-z]*:?/*{re.escape(ATTACKER)}[^)]*\)", outside_code)
    found += re.findall(r"(?<!\\)!\[", outside_code)
    found += re.findall(rf"[a-z]+://{re.escape(ATTACKER)}\S*|www\.{re.escape(ATTACKER)}|@{re.escape(ATTACKER)}|(?<!\\)<img", outside_code)
    return found


def hostile_records() -> list[RunRecord]:
    call = CallTiming(index=0, topic=HOSTILE, start_s=0.0, end_s=0.4, first_token_s=0.1, chunks=[(0.1, HOSTILE)], output=HOSTILE)
    failed = CallTiming(index=1, topic=HOSTILE, start_s=0.0, end_s=0.3, output=HOSTILE, error=f"APIError: {HOSTILE}", error_kind="server")
    plain = RunRecord(mode="stream", n=2, wall_s=0.5, max_concurrency=None, provider="compatible", model=HOSTILE,
                      calls=[call, failed], owner=HOSTILE[:40], label=HOSTILE)
    sweep = [
        RunRecord(mode=mode, n=1, wall_s=0.4, max_concurrency=1 if mode == "batch" else None, provider="compatible", model=HOSTILE,
                  calls=[CallTiming(index=0, topic=HOSTILE, start_s=0.0, end_s=0.4, output=HOSTILE)],
                  origin=LAB_SWEEP_ORIGIN, group_id="gsweephostile", label=HOSTILE, owner=HOSTILE[:40])
        for mode in ("loop", "batch")
    ]
    return [plain, *sweep]


def test_the_checker_sees_the_attack_in_the_old_rendering() -> None:
    """The checker is honest: the strings as the pages built them before are caught."""
    for old in (f"Sweep run at 14:05 · compatible · {HOSTILE}", f"[a](https://{ATTACKER}/p)", f"see https://{ATTACKER}/x", "![x](u)"):
        assert outside_links(old), old


@pytest.mark.parametrize("helper", [inert_markdown, plain_markdown])
def test_both_helpers_leave_no_outside_link(helper) -> None:
    for text in (HOSTILE, f"[a](https://{ATTACKER}/p)", f"[a](/\\{ATTACKER}/p)", f"[a](//{ATTACKER})", f"<https://{ATTACKER}>"):
        assert outside_links(helper(text)) == [], (text, helper(text))
    assert "\n" not in plain_markdown("a\nb") and "\u202e" not in plain_markdown("a\u202eb")


def test_code_keeps_its_addresses_as_written() -> None:
    text = "```\ncurl https://example.com/v1\n```\nand `https://example.com`"
    assert inert_markdown(text) == text


def test_a_hostile_export_renders_inert_on_every_page_and_in_the_share_view(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(monkeypatch, "pages/history.py", state=FAST_SIMULATOR)
    app.file_uploader(key="import_runs").set_value([("hostile.json", runs_to_json(hostile_records()).encode(), "application/json")]).run()
    assert not app.exception and not app.error, [error.value for error in app.error]
    shown = {}
    for page in PAGES:
        app.switch_page(page)
        app.run()
        assert not app.exception, page
        shown[page] = texts(app) + "\n".join(str(element.value) for element in app.get("expandable"))
    def visible(body: str) -> str:
        return body.replace("\\", "").replace("\u200b", "")

    assert "Claim free credits" in visible(shown["pages/lab.py"]) and ATTACKER in visible(shown["pages/lab.py"])  # the fields are shown...
    for page, body in shown.items():
        assert outside_links(body) == [], (page, outside_links(body))  # ...and none is a link
    engine = sa.create_engine(sqlite_url(os.environ["RUNS_DB_DIR"]))
    prepare_sqlite(engine)
    token = RunStore(engine).view_token(app.session_state["run_set"])
    engine.dispose()
    viewer = open_app(monkeypatch, state=FAST_SIMULATOR)
    viewer.query_params[VIEW_PARAM] = token
    viewer.switch_page("pages/history.py")
    viewer.run()
    assert not viewer.exception and ATTACKER in visible(texts(viewer))
    assert outside_links(texts(viewer)) == []
