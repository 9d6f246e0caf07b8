"""Both languages define the same strings, and every key the code uses exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from chains.errors import ERROR_KINDS
from chains.models import PROVIDERS
from chains.simulation.simulator import PROFILES
from ui.i18n import LANGUAGES, language_from_locale, load_strings

ROOT = Path(__file__).resolve().parents[2]
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_\-.]+)["']""")


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for folder in ("pages", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            keys.update(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    keys.update(LITERAL_KEY.findall((ROOT / "streamlit_app.py").read_text(encoding="utf-8")))
    return keys


def test_both_languages_define_exactly_the_same_keys() -> None:
    english, korean = load_strings("en"), load_strings("ko")
    assert sorted(set(english) - set(korean)) == [], "missing in ko.toml"
    assert sorted(set(korean) - set(english)) == [], "missing in en.toml"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_key_used_in_the_code_exists(language: str) -> None:
    strings = load_strings(language)
    used = _used_keys()
    assert len(used) > 50, "the key scanner found the t() calls"
    assert sorted(used - set(strings)) == []


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_dynamic_key_families_are_complete(language: str) -> None:
    strings = load_strings(language)
    expected = {f"errors.{kind}" for kind in ERROR_KINDS}
    expected |= {f"providers.{provider}" for provider in PROVIDERS}
    expected |= {f"profiles.{name.replace('.', '_')}" for name in PROFILES}
    expected |= {f"modes.{mode}" for mode in ("invoke", "loop", "batch", "stream", "ainvoke", "abatch", "astream")}
    assert sorted(expected - set(strings)) == []


def test_placeholders_match_between_languages() -> None:
    english, korean = load_strings("en"), load_strings("ko")
    mismatched = [key for key in english if _placeholders(english[key]) != _placeholders(korean.get(key, ""))]
    assert mismatched == []


def test_korean_strings_are_really_korean() -> None:
    korean = load_strings("ko")
    hangul = [key for key, text in korean.items() if re.search(r"[\uac00-\ud7a3]", text)]
    assert len(hangul) > 0.6 * len(korean)


@pytest.mark.parametrize(("locale", "language"), [("ko-KR", "ko"), ("ko", "ko"), ("en-US", "en"), (None, "en"), ("fr-FR", "en")])
def test_language_follows_the_browser_locale(locale: str | None, language: str) -> None:
    assert language_from_locale(locale) == language
