"""No visitor can erase another visitor's runs: the store is bounded per visitor, and the flooder is evicted first.

The attack (issue 25, item 1): one visitor imported big exports under a fresh
run set each time until the single total bound evicted the oldest entries of
every run set, and the victims' eviction notes blamed "200 entries".
"""

from __future__ import annotations

import json

import pytest

from chains.records.store import StoreLimits, StoreQuotaError, new_run_set
from tests.chains.records import test_store
from tests.chains.records.test_store import record

make_store = test_store.make_store  # the fixture: SQLite, PostgreSQL (when given) and memory

VICTIM, ATTACKER = "198.51.100.7", "203.0.113.9"
PAYLOAD = "x" * 4000


def _size() -> int:
    return len(json.dumps(record(text=PAYLOAD).to_dict(), ensure_ascii=False, separators=(",", ":")))


def test_a_flood_of_fresh_run_sets_evicts_only_the_flooder(make_store) -> None:
    size = _size()
    store = make_store(StoreLimits(max_bytes_per_set=size * 4, max_bytes_per_visitor=size * 8, max_total_bytes=size * 10, max_new_sets_per_visitor_hour=1000))
    victim_set = new_run_set()
    for _ in range(2):
        store.add(victim_set, record(text=PAYLOAD), visitor=VICTIM)
    for _ in range(12):  # a fresh run set each time, each one full
        flood_set = new_run_set()
        for _ in range(4):
            store.add(flood_set, record(text=PAYLOAD), visitor=ATTACKER)
    assert len(store.runs(victim_set)) == 2
    assert store.evictions(victim_set) == []
    notes = store.evictions(flood_set)  # the flooder's own older sets went; its last set is whole
    assert len(store.runs(flood_set)) == 4 and notes == []


def test_the_total_bound_evicts_the_largest_holder_first(make_store) -> None:
    size = _size()
    store = make_store(StoreLimits(max_bytes_per_set=size * 10, max_bytes_per_visitor=size * 10, max_total_bytes=size * 6, max_new_sets_per_visitor_hour=1000))
    victim_set, flood_set, other_set = new_run_set(), new_run_set(), new_run_set()
    store.add(victim_set, record(text=PAYLOAD), visitor=VICTIM)
    for _ in range(5):
        store.add(flood_set, record(text=PAYLOAD), visitor=ATTACKER)
    evicted = store.add(other_set, record(text=PAYLOAD), visitor="192.0.2.44")
    assert evicted == []  # the writer lost nothing
    assert len(store.runs(victim_set)) == 1 and len(store.runs(flood_set)) == 4
    assert [note.limit for note in store.evictions(flood_set)] == ["total_bytes"]


def test_an_eviction_note_names_the_limit_that_applied(make_store) -> None:
    size = _size()
    store = make_store(StoreLimits(max_entries_per_set=3, max_bytes_per_set=size * 2, max_bytes_per_visitor=size * 3, max_new_sets_per_visitor_hour=1000))
    first, second = new_run_set(), new_run_set()
    for _ in range(3):
        store.add(first, record(text=PAYLOAD), visitor=VICTIM)
    assert [note.limit for note in store.evictions(first)] == ["set_bytes"]
    store.add(second, record(text=PAYLOAD), visitor=VICTIM)
    store.add(second, record(text=PAYLOAD), visitor=VICTIM)
    assert [note.limit for note in store.evictions(first)] == ["set_bytes", "visitor_bytes"]
    third = new_run_set()
    small = StoreLimits(max_entries_per_set=1)
    counted = make_store(small)
    counted.add(third, record(), visitor=VICTIM)
    counted.add(third, record(), visitor=VICTIM)
    assert [note.limit for note in counted.evictions(third)] == ["entries"]


def test_new_run_sets_are_rate_limited_per_visitor(make_store) -> None:
    store = make_store(StoreLimits(max_new_sets_per_visitor_hour=3))
    for _ in range(3):
        store.add(new_run_set(), record(), visitor=ATTACKER)
    with pytest.raises(StoreQuotaError):
        store.add(new_run_set(), record(), visitor=ATTACKER)
    kept = new_run_set()
    store.add(kept, record(), visitor=VICTIM)  # another visitor is not affected
    store.add(kept, record(), visitor=VICTIM)  # nor a set that exists already
    assert len(store.runs(kept)) == 2


def test_imports_are_rate_limited_per_visitor(make_store) -> None:
    store = make_store(StoreLimits(max_imports_per_visitor_hour=2))
    assert store.take_allowance("imports", ATTACKER, 2) and store.take_allowance("imports", ATTACKER, 2)
    assert not store.take_allowance("imports", ATTACKER, 2)
    assert store.take_allowance("imports", VICTIM, 2)


def test_imports_past_the_hourly_limit_are_refused_on_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    from chains.records.exchange import runs_to_json
    from tests.app.test_share import EN, HISTORY, member_run, stored_runs
    from tests.app_harness import FAST_SIMULATOR, open_app

    app = open_app(monkeypatch, HISTORY, state=FAST_SIMULATOR, env={"PUBLIC_DEPLOYMENT": "true", "RUNS_IMPORTS_PER_HOUR": "1"})
    first, second = runs_to_json([member_run("Ana")]).encode(), runs_to_json([member_run("Min")]).encode()
    app.file_uploader(key="import_runs").set_value([("ana.json", first, "application/json")]).run()
    assert not app.exception and len(stored_runs(app)) == 1
    app.file_uploader(key="import_runs").set_value([("ana.json", first, "application/json"), ("min.json", second, "application/json")]).run()
    assert not app.exception
    assert EN["reason_rate_limited"] in app.error[0].value
    assert len(stored_runs(app)) == 1


def test_a_visitor_past_the_new_sets_limit_keeps_the_run_in_the_tab_and_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.app.test_runs_kept import EN as ALL
    from tests.app.test_share import run_invoke, stored_runs
    from tests.app_harness import FAST_SIMULATOR, open_app

    env = {"PUBLIC_DEPLOYMENT": "true", "RUNS_NEW_SETS_PER_HOUR": "1"}
    first = open_app(monkeypatch, state=FAST_SIMULATOR, env=env)
    run_invoke(first)
    assert len(stored_runs(first)) == 1
    second = open_app(monkeypatch, state=FAST_SIMULATOR, env=env)  # a fresh run set, the same (unknown) visitor
    run_invoke(second)
    assert ALL["store"]["sets_refused"] in [warning.value for warning in second.warning]
    assert stored_runs(second) == [] and len(stored_runs(first)) == 1


def test_a_planted_run_set_link_is_adopted_only_knowingly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 25, item 6: any valid ``?run_set=`` was adopted silently, so a victim's runs landed in the attacker's set."""
    import os

    import sqlalchemy as sa

    from chains.records.store import RunStore, prepare_sqlite, sqlite_url
    from tests.app.test_runs_kept import EN as ALL
    from tests.app.test_runs_kept import reopen
    from tests.app.test_share import run_invoke

    engine = sa.create_engine(sqlite_url(os.environ["RUNS_DB_DIR"]))
    prepare_sqlite(engine)
    planted = new_run_set()
    RunStore(engine).add(planted, record(), visitor=ATTACKER)  # the attacker starts the set, then sends the link
    monkeypatch.setenv("PUBLIC_DEPLOYMENT", "true")
    victim = reopen(monkeypatch, planted)
    assert ALL["store"]["adopted_link"] in [warning.value for warning in victim.warning]
    victim.button(key="adopted_fresh").click().run()
    assert victim.session_state["run_set"] != planted
    assert ALL["store"]["adopted_link"] not in [warning.value for warning in victim.warning]
    run_invoke(victim, "my private medical question")
    store = RunStore(engine)
    assert len(store.runs(planted)) == 1, "nothing of the victim's joined the planted set"
    assert [r.calls[0].topic for r in store.runs(victim.session_state["run_set"])] == ["my private medical question"]
    engine.dispose()


def test_a_reload_of_ones_own_run_set_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.app.test_runs_kept import EN as ALL
    from tests.app.test_runs_kept import reopen
    from tests.app.test_share import run_invoke

    monkeypatch.setenv("PUBLIC_DEPLOYMENT", "true")
    first = reopen(monkeypatch, None)
    run_invoke(first, "cats")
    again = reopen(monkeypatch, first.session_state["run_set"])
    assert not again.exception
    assert ALL["store"]["adopted_link"] not in [warning.value for warning in again.warning]


def test_a_share_link_can_be_rotated_without_deleting_the_runs(make_store) -> None:
    store = make_store()
    run_set = new_run_set()
    store.add(run_set, record(), visitor=VICTIM)
    old = store.view_token(run_set)
    new = store.rotate_view_token(run_set)
    assert new != old and store.shared_runs(old) is None
    assert len(store.shared_runs(new)) == 1 and len(store.runs(run_set)) == 1
    assert store.view_token(run_set) == new


def test_the_notes_and_share_links_of_empty_sets_are_pruned(tmp_path) -> None:
    import sqlalchemy as sa

    from chains.records import store as store_module
    from chains.records.store import RunStore, evictions_table, owners_table, prepare_sqlite, sqlite_url, views_table

    engine = sa.create_engine(sqlite_url(str(tmp_path)))
    prepare_sqlite(engine)
    store = RunStore(engine, StoreLimits(max_entries_per_set=1, max_new_sets_per_visitor_hour=10_000))
    emptied = new_run_set()
    store.add(emptied, record(), visitor=VICTIM)
    store.view_token(emptied)
    with engine.begin() as connection:  # the set emptied long ago: its runs gone, its link and owner left behind
        connection.execute(sa.delete(store_module.runs_table).where(store_module.runs_table.c.run_set == emptied))
        connection.execute(sa.update(views_table).values(created_at=0.0))
        connection.execute(sa.update(owners_table).values(created_at=0.0))
    monkey_total = 5
    store_module.MAX_EVICTION_NOTES_TOTAL, saved = monkey_total, store_module.MAX_EVICTION_NOTES_TOTAL
    try:
        for _ in range(12):  # twelve fresh sets, each evicting once: twelve notes
            fresh = new_run_set()
            store.add(fresh, record(), visitor=ATTACKER)
            store.add(fresh, record(), visitor=ATTACKER)
    finally:
        store_module.MAX_EVICTION_NOTES_TOTAL = saved
    with engine.connect() as connection:
        notes = connection.execute(sa.select(sa.func.count()).select_from(evictions_table)).scalar_one()
        views = connection.execute(sa.select(sa.func.count()).select_from(views_table).where(views_table.c.run_set == emptied)).scalar_one()
        owners = connection.execute(sa.select(sa.func.count()).select_from(owners_table).where(owners_table.c.run_set == emptied)).scalar_one()
    engine.dispose()
    assert notes <= monkey_total and views == 0 and owners == 0


def test_history_rotates_its_share_link_and_keeps_the_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.app.test_share import HISTORY, run_invoke, stored_runs
    from tests.app_harness import FAST_SIMULATOR, open_app

    app = open_app(monkeypatch, state=FAST_SIMULATOR)
    run_invoke(app)
    app.switch_page(HISTORY)
    app.run()
    old_link = app.code[0].value
    app.button(key="share_rotate").click().run()
    assert not app.exception
    assert app.code[0].value != old_link and "?view=" in app.code[0].value
    assert len(stored_runs(app)) == 1


def test_a_store_made_before_eviction_notes_named_their_limit_opens_and_names_it(tmp_path) -> None:
    import sqlalchemy as sa

    from chains.records.store import RunStore, prepare_sqlite, sqlite_url

    engine = sa.create_engine(sqlite_url(str(tmp_path)))
    prepare_sqlite(engine)
    with engine.begin() as connection:  # the notes table as the previous version made it
        connection.exec_driver_sql(
            "CREATE TABLE lcm_evictions (id INTEGER PRIMARY KEY, run_set VARCHAR(64) NOT NULL, entry_id VARCHAR(64) NOT NULL, "
            "mode VARCHAR(32) NOT NULL, origin VARCHAR(32) NOT NULL, started_at VARCHAR(40) NOT NULL, runs INTEGER NOT NULL)"
        )
        connection.exec_driver_sql("INSERT INTO lcm_evictions VALUES (1, 'aaaaaaaaaaaaaaaaaaaa', 'r1', 'invoke', '', '2026-01-01', 1)")
    store = RunStore(engine, StoreLimits(max_entries_per_set=1))
    assert [note.limit for note in store.evictions("aaaaaaaaaaaaaaaaaaaa")] == ["entries"]
    run_set = new_run_set()
    store.add(run_set, record(), visitor=VICTIM)
    store.add(run_set, record(), visitor=VICTIM)
    assert [note.limit for note in store.evictions(run_set)] == ["entries"]
    engine.dispose()
