"""``ui.elements.code``: the chain shown is the chain that runs, and showing it costs no LangChain import."""

from __future__ import annotations

import subprocess
import sys

from devtools.browser import ROOT


def test_the_code_shown_on_home_is_read_without_importing_langchain() -> None:
    """Home imports this module before its title: LangChain's import (half a second, fresh) waits until a mode needs it."""
    check = (
        "import sys; import ui.elements.code as code; "
        "assert 'def build_joke_chain' in code.CHAIN_CODE; "
        "print(sorted(name for name in sys.modules if name.startswith(('langchain', 'chains.joke', 'chains.modes'))))"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]", result.stdout
