"""One dev package: ``tests/`` and ``bench/`` share ``devtools``, with no ``sys.path`` edits.

That the app never imports ``devtools``, ``bench`` or ``tests``, and that ``bench`` never imports ``tests``, are import
contracts (``[tool.importlinter]`` in ``pyproject.toml``, checked by ``lint-imports``).
"""

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


def test_the_grep_finds_a_sys_path_edit() -> None:
    assert SYS_PATH_EDIT.search("    sys.path.insert(0, str(ROOT))\n")
    assert not SYS_PATH_EDIT.search("    sys_paths = []\n")


def test_bench_has_no_sys_path_edits() -> None:
    assert BENCH_SCRIPTS, "bench/ has scripts"
    found = [str(path.relative_to(ROOT)) for path in BENCH_SCRIPTS if SYS_PATH_EDIT.search(path.read_text(encoding="utf-8"))]
    assert found == [], "bench/ runs as modules (python -m bench.NAME), from the repository root"


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
