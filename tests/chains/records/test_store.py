"""The run store on SQLite (always) and PostgreSQL (when ``RUNS_DB_TEST_URL`` gives one; ``.ci/run`` does).

Concurrent writers from many threads, the bounds and their eviction notes, run
sets kept apart, and the failures that must degrade to memory (a read-only
folder, a corrupt file) instead of crashing.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from chains.records.store import (
    MemoryRunStore,
    RunStore,
    StoreError,
    StoreLimits,
    is_valid_run_set,
    metadata,
    new_run_set,
    prepare_sqlite,
    sqlite_url,
)
from chains.timing import CallTiming, RunRecord

PG_URL = os.environ.get("RUNS_DB_TEST_URL", "")


def record(mode: str = "invoke", *, n: int = 1, group_id: str | None = None, text: str = "a joke") -> RunRecord:
    calls = [CallTiming(index=i, topic=f"topic {i}", start_s=0.0, end_s=0.1, output=text) for i in range(n)]
    return RunRecord(mode=mode, n=n, wall_s=0.1, max_concurrency=None, provider="simulator", model="sim", calls=calls, group_id=group_id)


def sqlite_engine(directory: Path) -> sa.Engine:
    engine = sa.create_engine(sqlite_url(str(directory)))
    prepare_sqlite(engine)
    return engine


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """A factory of empty stores with given limits, on each backend."""
    engines: list[sa.Engine] = []

    def factory(limits: StoreLimits = StoreLimits()):
        if request.param == "memory":
            return MemoryRunStore(limits)
        if request.param == "sqlite":
            engine = sqlite_engine(tmp_path)
        else:
            if not PG_URL:
                pytest.skip("No PostgreSQL: set RUNS_DB_TEST_URL (.ci/run starts a server and sets it).")
            engine = sa.create_engine(PG_URL)
            if not engines:
                metadata.drop_all(engine)
        engines.append(engine)
        return RunStore(engine, limits)

    yield factory
    for engine in engines:
        engine.dispose()


def test_run_set_ids_are_unguessable_and_validated() -> None:
    ids = {new_run_set() for _ in range(100)}
    assert len(ids) == 100 and all(is_valid_run_set(value) for value in ids)
    for hostile in ["", "short", "a" * 65, "abc/../../etc/passwd0000", "x' OR 1=1 --aaaaaaaa", "모든모든모든모든모든모든모든모든", None, 42]:
        assert not is_valid_run_set(hostile)


def test_runs_round_trip_per_set(make_store) -> None:
    store = make_store()
    mine, theirs = new_run_set(), new_run_set()
    first, second = record("invoke"), record("stream")
    second.stopped = True
    store.add(mine, first)
    store.add(theirs, record("batch", n=3))
    store.add(mine, second)
    assert [r.to_dict() for r in store.runs(mine)] == [first.to_dict(), second.to_dict()]
    assert store.runs(mine)[1].stopped
    assert [r.mode for r in store.runs(theirs)] == ["batch"]
    assert store.delete_set(mine) == 2
    assert store.runs(mine) == [] and len(store.runs(theirs)) == 1


def test_a_sweep_is_one_entry_and_cannot_push_out_a_run_by_count(make_store) -> None:
    store = make_store(StoreLimits(max_entries_per_set=3))
    run_set = new_run_set()
    store.add(run_set, record("invoke"))
    for _ in range(40):
        assert store.add(run_set, record("loop", group_id="gsweep1")) == []
    assert [r.mode for r in store.runs(run_set)][0] == "invoke"
    assert len(store.runs(run_set)) == 41


def test_count_bound_evicts_the_oldest_entry_and_says_which(make_store) -> None:
    store = make_store(StoreLimits(max_entries_per_set=2))
    run_set = new_run_set()
    oldest = record("invoke")
    store.add(run_set, oldest)
    for _ in range(3):
        store.add(run_set, record("loop", group_id="gsweep1"))
    evicted = store.add(run_set, record("stream"))
    assert [(e.entry_id, e.mode, e.runs) for e in evicted] == [(oldest.run_id, "invoke", 1)]
    evicted = store.add(run_set, record("batch"))
    assert [(e.entry_id, e.runs) for e in evicted] == [("gsweep1", 3)]
    assert [r.mode for r in store.runs(run_set)] == ["stream", "batch"]
    assert [e.entry_id for e in store.evictions(run_set)] == [oldest.run_id, "gsweep1"]
    store.dismiss_evictions(run_set)
    assert store.evictions(run_set) == []


def test_byte_bounds_per_set_and_in_total(make_store) -> None:
    size = len(json.dumps(record(text="x" * 2000).to_dict(), separators=(",", ":")))
    store = make_store(StoreLimits(max_bytes_per_set=int(size * 2.5), max_total_bytes=int(size * 3.5)))
    first, second = new_run_set(), new_run_set()
    for _ in range(3):
        store.add(first, record(text="x" * 2000))
    assert len(store.runs(first)) == 2  # the per-set bound
    store.add(second, record(text="x" * 2000))
    store.add(second, record(text="x" * 2000))
    # The total bound: the oldest entry anywhere goes (here the other set's), the writer's stays.
    assert (len(store.runs(first)), len(store.runs(second))) == (1, 2)
    assert len(store.evictions(first)) == 2


def test_concurrent_writers_from_many_threads_lose_nothing(make_store) -> None:
    store = make_store()
    sets = [new_run_set() for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def writer(index: int) -> None:
        try:
            barrier.wait()
            for _ in range(15):
                store.add(sets[index % 4], record("batch", n=2))
                store.runs(sets[index % 4])
            store.add_to_counter("host_requests", 2)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [len(store.runs(run_set)) for run_set in sets] == [60, 60, 60, 60]
    assert store.counter("host_requests") == 32


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    RunStore(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    engine.dispose()


def test_a_corrupt_file_raises_store_error_only(tmp_path: Path) -> None:
    Path(sqlite_url(str(tmp_path)).removeprefix("sqlite:///")).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        RunStore(sqlite_engine(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else False, reason="root ignores file permissions")
def test_a_read_only_folder_raises_store_error_only(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(StoreError):
            RunStore(sqlite_engine(folder))
    finally:
        folder.chmod(stat.S_IRWXU)


def test_a_read_only_database_fails_on_write_with_store_error(tmp_path: Path) -> None:
    """Works as root too: SQLite itself refuses writes on a read-only connection."""
    engine = sqlite_engine(tmp_path)
    RunStore(engine).add(new_run_set(), record())
    engine.dispose()
    path = sqlite_url(str(tmp_path)).removeprefix("sqlite:///")
    read_only = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    prepare_sqlite(read_only)
    with pytest.raises(StoreError):
        RunStore(read_only).add(new_run_set(), record())
    read_only.dispose()


def test_a_full_disk_raises_store_error_only(tmp_path: Path) -> None:
    """SQLite's "database or disk is full", made real by capping the file's pages."""
    engine = sqlite_engine(tmp_path)
    store = RunStore(engine)
    store.add(new_run_set(), record())

    @sa.event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _):
        used = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {used}")

    engine.dispose()
    with pytest.raises(StoreError, match="full"):
        store.add(new_run_set(), record(text="x" * 200_000))
    engine.dispose()


def test_a_view_token_reads_its_run_set_and_nothing_else(make_store) -> None:
    """A share link's token reads the owner's runs; it is not the run set, and it cannot be used to write."""
    from chains.records.store import is_valid_view_token

    store = make_store()
    owner, other = new_run_set(), new_run_set()
    store.add(owner, record("stream", text="mine"))
    store.add(other, record("batch", text="theirs"))
    token = store.view_token(owner)
    assert is_valid_view_token(token) and token != owner
    assert store.view_token(owner) == token  # one stable link per run set
    assert store.view_token(other) != token
    shared = store.shared_runs(token)
    assert [run.calls[0].output for run in shared] == ["mine"]
    assert store.shared_runs(new_run_set()) is None  # an unknown token
    # Used as if it were a run set, the token reaches a set of its own, never the owner's.
    store.add(token, record("invoke", text="visitor"))
    assert [run.calls[0].output for run in store.runs(owner)] == ["mine"]
    assert store.shared_runs(token) == shared
    # Forgetting the runs also withdraws their share link.
    store.delete_set(owner)
    assert store.shared_runs(token) is None


def test_sessions_asking_for_a_share_link_at_once_get_the_same_token(make_store) -> None:
    store = make_store()
    run_set = new_run_set()
    store.add(run_set, record())
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(store.view_token(run_set))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 8 and len(set(tokens)) == 1


def test_a_stored_run_from_before_owners_existed_reads_back_without_one(make_store) -> None:
    store = make_store()
    run_set = new_run_set()
    store.add(run_set, record(text="old"))
    assert [run.owner for run in store.runs(run_set)] == [""]
    payload = record(text="old").to_dict()
    payload.pop("owner")
    assert RunRecord.from_dict(json.loads(json.dumps(payload))).owner == ""
