"""Presentation details of issue 13: units, unset values, History's names and CSV, the CSS, /home."""

from __future__ import annotations

import csv
import io
import re
import string

import pytest

from chains.timing import CSV_COLUMNS, CallTiming, RunRecord
from ui.elements.charts import TITLE_COLUMNS, chart_title, wrap_text
from ui.i18n import load_strings
from ui.runs.history import UNSET, display_rows, export_csv, history_rows, run_name
from ui.style import style_css


def _record(mode: str = "loop", topic: str = "=HYPERLINK(1)", **fields) -> RunRecord:
    record = RunRecord(mode, 1, 0.123456789, fields.pop("max_concurrency", None), "simulator", "simulated-fast", [], **fields)
    record.calls.append(CallTiming(0, topic, 0.00039438999988306023, 0.12345678, output="고양이 농담"))
    return record


def test_csv_is_rounded_to_the_millisecond_with_a_bom_and_keeps_its_columns_and_escaping() -> None:
    text = export_csv([_record()])
    assert text.startswith("\ufeff"), "Excel reads the Korean as UTF-8 only with a BOM"
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == list(CSV_COLUMNS)
    row = dict(zip(rows[0], rows[1]))
    assert row["start_s"] == "0.0" and row["end_s"] == "0.123" and row["run_wall_s"] == "0.123"
    assert row["topic"] == "'=HYPERLINK(1)", "a formula cell is still escaped"
    assert row["output"] == "고양이 농담"


def test_history_names_modes_as_every_other_page_and_shows_a_dash_when_unset() -> None:
    rows = history_rows([_record(), _record("batch", "x", max_concurrency=4)])
    assert [row["mode"] for row in rows] == [load_strings("en")["modes.loop"], "batch"]
    shown = display_rows(rows)
    assert [row["max_concurrency"] for row in shown] == [UNSET, "4"]
    assert "None" not in str(shown)
    assert run_name(_record()) == "for loop of invoke"


@pytest.mark.parametrize("language", ["en", "ko"])
def test_one_unit_style_for_seconds_per_language(language: str) -> None:
    strings = load_strings(language)
    unit = strings["polish.seconds"].format(value="4.20")
    assert unit == {"en": "4.20 s", "ko": "4.20초"}[language]
    for key, text in strings.items():
        assert "(s)" not in text or key.startswith(("sidebar.", "charts.", "lab.chart")), f"{key}: plural with (s): {text}"
        if language == "ko":
            assert ":.2f} s" not in text and ":.3f} s" not in text, f"{key} mixes 's' into Korean: {text}"


def test_chart_titles_wrap_between_words_and_count_hangul_as_wide() -> None:
    title = chart_title("각 호출이 실행된 시간: 반복문은 기다리고, batch는 겹칩니다")
    lines = title["text"].split("<br>")
    assert len(lines) > 1
    assert all(sum(2 if "\uac00" <= ch <= "\ud7a3" else 1 for ch in line) <= TITLE_COLUMNS for line in lines)
    assert wrap_text("for loop of invoke", 12) == "for loop of<br>invoke"


def test_korean_keep_all_only_for_the_korean_ui() -> None:
    assert "keep-all" in style_css("ko")
    assert "keep-all" not in style_css("en")
    assert "overflow-x: auto" in style_css("en"), "wide tables scroll in their own box"


#: Strings whose count placeholders are configured caps, never 1 (a cap of 1 would make the app useless).
CAP_PLACEHOLDERS = {"limit", "max_k", "max_repeats", "max_calls", "megabytes"}
CAP_KEYS = {
    "sidebar.host_key_remaining",  # "{remaining} of {total} calls left · at most {topics} topics per run": caps
    "security.calls_left",
    "share.import_help",  # "at most {runs} runs in one upload": a cap
    "lab.estimate",  # a sweep is at least 2 runs (loop and batch) of 2 calls
    "lab.stopped",  # "after {done} of {total} runs": total is at least 2
}
_COUNTED = re.compile(r"\b1 (calls|topics|runs|files|chunks|times|entries|waves|threads|tokens|answers|points)\b")


def test_no_english_plural_reads_wrong_with_a_count_of_one() -> None:
    """Issue 13: plurals are right, written as phrases. Every count placeholder is tried with 1."""
    wrong = []
    for key, text in load_strings("en").items():
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            filled = text.format(**{name: (99 if name in CAP_PLACEHOLDERS else 1) for name in names})
        except (ValueError, KeyError, IndexError):
            continue  # literal braces (code shown as text): never formatted with values
        if not names or key in CAP_KEYS:
            continue
        if _COUNTED.search(filled):
            wrong.append(f"{key}: {filled[:120]}")
    assert not wrong, "\n".join(wrong)
