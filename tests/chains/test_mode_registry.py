"""The mode registry is the one place a mode is defined: code, strings, colour, runner."""

from __future__ import annotations

import asyncio
import inspect
import re
from dataclasses import replace

import pytest

from chains.joke import build_joke_chain
from chains.modes import MODES, Mode, RunMeta, find_record
from chains.simulation.simulator import SimulatedChatModel
from chains.timing import RunRecord
from ui.elements.charts import FAILURE_COLOUR, MODE_COLOURS, mode_colour, wall_time_bars
from ui.elements.code import CHAIN_CODE, modes_table
from ui.i18n import LANGUAGES, load_strings

HEX_COLOUR = re.compile(r"^#[0-9a-f]{6}$")


@pytest.mark.parametrize("mode", list(MODES.values()), ids=list(MODES))
def test_every_mode_has_its_code_colour_and_runner(mode: Mode) -> None:
    assert mode.code.strip(), f"{mode.id} has no code to show"
    assert "chain." in mode.code, f"{mode.id}'s code does not call the chain"
    assert HEX_COLOUR.match(mode.colour), f"{mode.id} has no colour"
    assert mode.colour != FAILURE_COLOUR, "red means a failure, never a mode"
    assert MODE_COLOURS[mode.id] == mode_colour(mode.id) == mode.colour


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("mode", list(MODES.values()), ids=list(MODES))
def test_every_mode_has_its_strings_in_every_language(mode: Mode, language: str) -> None:
    strings = load_strings(language)
    for key in (mode.label_key, *mode.table_keys):
        assert strings.get(key, "").strip(), f"{key} is missing in {language}.toml"


def test_the_modes_have_distinct_colours() -> None:
    colours = [mode.colour for mode in MODES.values()]
    assert len(set(colours)) == len(colours)


def test_homes_table_has_one_row_per_mode_in_registry_order() -> None:
    rows = modes_table().splitlines()[2:]
    labels = [row.split("|")[1].strip() for row in rows]
    english = load_strings("en")
    assert labels == [english[mode.label_key] for mode in MODES.values()]


def test_a_mode_added_to_the_registry_alone_shows_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Home's table, the code view and the charts read the registry, not a list of their own."""
    new = replace(MODES["batch"], id="teleport", example="answers = chain.teleport(topics)", colour="#123456")
    monkeypatch.setitem(MODES, "teleport", new)
    assert modes_table().splitlines()[-1].startswith("| modes.teleport |")  # the row is there; its strings are not yet
    assert mode_colour("teleport") == "#123456"
    record = RunRecord(mode="teleport", n=1, wall_s=0.1, max_concurrency=None, provider="simulator", model="m", calls=[])
    bar = wall_time_bars([record]).data[0]
    assert bar.marker.color == "#123456"


def test_find_record_does_not_depend_on_the_order_or_count_of_records() -> None:
    chain = build_joke_chain(SimulatedChatModel(ttft_s=0.0, tokens_per_s=10_000.0, jitter=0.0, seed=1))
    meta = RunMeta()
    capped = asyncio.run(MODES["abatch"].runner(chain, ["a", "b"], max_concurrency=1, meta=meta))
    open_ = asyncio.run(MODES["abatch"].runner(chain, ["a", "b"], meta=meta))
    invoke = MODES["invoke"].runner(chain, "a", meta=meta)
    for records in ([capped, invoke, open_], [open_, capped], [invoke, capped, open_, open_]):
        assert find_record(records, "abatch", capped=True) is capped
        assert find_record(records, "abatch", capped=False) is open_
    assert find_record([capped], "abatch", capped=False) is None
    assert find_record([invoke], "astream") is None


def test_the_chain_shown_is_the_chain_that_runs() -> None:
    assert inspect.getsource(build_joke_chain) in CHAIN_CODE
