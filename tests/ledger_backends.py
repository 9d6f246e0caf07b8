"""Ledgers for tests, on each backend: memory, a SQLite file, and PostgreSQL when ``RUNS_DB_TEST_URL`` is set."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from chains.records.store import prepare_sqlite, sqlite_url
from chains.security.quota import InMemoryLedger
from chains.security.quota_sql import SqlLedger, ledger_table

PG_URL = os.environ.get("RUNS_DB_TEST_URL", "")


def sql_engine(backend: str, directory: Path) -> sa.Engine:
    """A new engine on ``backend`` (``sqlite``: a file in ``directory``, prepared as the app's; ``postgresql``)."""
    if backend == "sqlite":
        engine = sa.create_engine(sqlite_url(str(directory)))
        prepare_sqlite(engine)
        return engine
    if not PG_URL:
        pytest.skip("No PostgreSQL: set RUNS_DB_TEST_URL (.ci/run starts a server and sets it).")
    return sa.create_engine(PG_URL, pool_size=20)


@contextmanager
def ledger_factory(backend: str, directory: Path) -> Iterator[Callable[..., object]]:
    """Yield ``factory(clock)`` making ledgers that share one empty database (or one memory each)."""
    engines: list[sa.Engine] = []

    def factory(clock: Callable[[], float]) -> object:
        if backend == "memory":
            return InMemoryLedger(clock=clock)
        engine = sql_engine(backend, directory)
        if not engines:
            ledger_table.drop(engine, checkfirst=True)
        engines.append(engine)
        return SqlLedger(engine, clock=clock)

    try:
        yield factory
    finally:
        for engine in engines:
            engine.dispose()
