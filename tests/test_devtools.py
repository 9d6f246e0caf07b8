"""One dev package: ``tests/`` and ``bench/`` share ``devtools``, with no ``sys.path`` edits, and the app never imports it."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH_SCRIPTS = sorted(path for path in (ROOT / "bench").glob("*.py"))
#: A Streamlit script, run by ``streamlit run`` (it draws the page when imported).
STREAMLIT_SCRIPTS = {"stream_render_app", "bare_stream_app"}  # pages that `streamlit run` serves, with no main()

SYS_PATH_EDIT = re.compile(r"\bsys\.path\b")
IMPORT_FROM_TESTS = re.compile(r"^\s*(?:from\s+tests(?:\.|\s)|import\s+tests\b)", re.MULTILINE)
IMPORT_DEVTOOLS = re.compile(r"^\s*(?:from\s+devtools(?:\.|\s)|import\s+devtools\b)", re.MULTILINE)


def _app_sources() -> list[Path]:
    paths = [ROOT / "streamlit_app.py"]
    for folder in ("chains", "ui", "pages"):
        paths.extend(sorted((ROOT / folder).rglob("*.py")))
    return paths


def test_the_greps_find_what_they_look_for() -> None:
    assert SYS_PATH_EDIT.search("    sys.path.insert(0, str(ROOT))\n")
    assert IMPORT_FROM_TESTS.search("from tests.e2e.helpers import (\n")
    assert IMPORT_FROM_TESTS.search("import tests.openai_server\n")
    assert not IMPORT_FROM_TESTS.search("from testsuite import x\n")
    assert IMPORT_DEVTOOLS.search("    from devtools.browser import served_app\n")
    assert not IMPORT_DEVTOOLS.search("from devtoolsx import y\n")


def test_bench_has_no_sys_path_edits_and_no_imports_from_tests() -> None:
    assert BENCH_SCRIPTS, "bench/ has scripts"
    found = [
        f"{path.relative_to(ROOT)}: {problem}"
        for path in BENCH_SCRIPTS
        for problem, pattern in (("edits sys.path", SYS_PATH_EDIT), ("imports from tests/", IMPORT_FROM_TESTS))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "bench/ runs as modules (python -m bench.NAME) and imports devtools, not tests/"


def test_the_app_never_imports_devtools() -> None:
    found = [str(path.relative_to(ROOT)) for path in _app_sources() if IMPORT_DEVTOOLS.search(path.read_text(encoding="utf-8"))]
    assert found == []


@pytest.mark.parametrize("name", [path.stem for path in BENCH_SCRIPTS if path.stem not in STREAMLIT_SCRIPTS])
def test_every_bench_script_imports_from_the_repository_root(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    assert callable(module.main)


def test_a_bench_script_runs_as_a_module_from_the_repository_root() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.overhead", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout
