"""A bounded store of run records, keyed by run set, on any SQLAlchemy engine.

Plain SQLAlchemy Core, no Streamlit: the same code runs on the embedded SQLite
file (the default) and on a deployment's PostgreSQL, and tests drive it with a
bare ``Engine``. ``ui/deployment/store.py`` gets the engine from ``st.connection`` and
decides which run set a browser session uses.

A *run set* is one browser's runs: an unguessable id (``new_run_set``) kept in
the page's URL. An *entry* is what History lists as one line: a run, or all the
runs of one Lab sweep (the runs that share a ``group_id``). The bounds count
entries, so a sweep of 160 runs is one entry and cannot push out an invoke run
by its numbers alone.

Every method raises ``StoreError`` (and nothing else) when the database cannot
be read or written, so the caller can fall back to ``MemoryRunStore``.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from chains.security.quota import visitor_bucket
from chains.timing import RunRecord

RUN_SET_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
"""What a run set id may look like: URL-safe base64, 16 to 64 characters."""

SQLITE_BUSY_TIMEOUT_MS = 10_000
MAX_EVICTION_NOTES = 50
"""Eviction notes kept per run set (the oldest go first)."""
MAX_EVICTION_NOTES_TOTAL = 20_000
"""Eviction notes kept in the whole store (the oldest go first): the per-set bound alone lets fresh sets grow it."""
IDLE_RECORD_S = 86_400.0
"""A share link or an owner row of a set that holds no runs is deleted after this long."""
RATE_WINDOW_S = 3600.0
"""The window of the per-visitor rate limits (new run sets, imports): one clock hour."""

#: The limits an eviction note can name (``EvictedEntry.limit``; the page translates them).
EVICTION_LIMITS = ("entries", "set_bytes", "visitor_bytes", "total_bytes")


def new_run_set() -> str:
    """A fresh, unguessable run set id (24 URL-safe characters, 144 random bits)."""
    return secrets.token_urlsafe(18)


def is_valid_run_set(value: object) -> bool:
    """True when ``value`` is a string that could be a run set id (it comes from a URL: hostile input)."""
    return isinstance(value, str) and RUN_SET_PATTERN.fullmatch(value) is not None


def new_view_token() -> str:
    """A fresh, unguessable read-only view token (32 URL-safe characters, 192 random bits)."""
    return secrets.token_urlsafe(24)


def is_valid_view_token(value: object) -> bool:
    """True when ``value`` could be a view token (it comes from a URL: hostile input)."""
    return is_valid_run_set(value)


def entry_id(record: RunRecord) -> str:
    """The History entry a run belongs to: its group (a sweep), or the run itself."""
    return record.group_id or record.run_id


class StoreError(Exception):
    """The store could not be read or written (full disk, read-only folder, corrupt file, server down...)."""


class StoreQuotaError(Exception):
    """A visitor started more new run sets this hour than allowed; nothing was written.

    Not a ``StoreError``: the store works, and falling back to memory would dodge the limit.
    """


@dataclass(frozen=True)
class StoreLimits:
    """The bounds of the store; the oldest entries are evicted first.

    A run set belongs to the visitor who wrote into it first (``chains.security.quota.visitor_bucket``
    of the same id as the host key's budget), so one visitor's sets share one bound, and
    when the total is full the visitor who holds the most goes first: a flood of fresh
    run sets evicts only the flooder's own runs.

    Attributes:
        max_entries_per_set: History entries per run set (a sweep counts once).
        max_bytes_per_set: Stored bytes per run set.
        max_bytes_per_visitor: Stored bytes over all the run sets of one visitor.
        max_total_bytes: Stored bytes over every run set.
        max_new_sets_per_visitor_hour: Run sets one visitor may start per clock hour.
        max_imports_per_visitor_hour: Imports (uploads) one visitor may make per clock hour.
    """

    max_entries_per_set: int = 200
    max_bytes_per_set: int = 8_000_000
    max_bytes_per_visitor: int = 32_000_000
    max_total_bytes: int = 256_000_000
    max_new_sets_per_visitor_hour: int = 20
    max_imports_per_visitor_hour: int = 20


@dataclass(frozen=True)
class EvictedEntry:
    """A History entry that a bound removed, so that the page can say which.

    Attributes:
        entry_id: The run's id, or the sweep's group id.
        mode: The mode of its first run.
        origin: The origin of its first run (``lab_sweep`` for a sweep).
        started_at: When its first run started (ISO-8601 UTC).
        runs: How many runs it held.
        limit: The bound that removed it (one of ``EVICTION_LIMITS``).
    """

    entry_id: str
    mode: str
    origin: str
    started_at: str
    runs: int
    limit: str = "entries"


@dataclass
class _Entry:
    entry_id: str
    first: int
    runs: int
    size: int
    mode: str
    origin: str
    started_at: str


def plan_store_evictions(
    run_set: str,
    owned: list[tuple[str, _Entry]],
    *,
    keep: str,
    limits: StoreLimits,
    total_bytes: int,
    every: Any,
) -> list[tuple[str, _Entry, str]]:
    """What to evict after a write, and which bound removes each entry.

    In order: the written set's own bounds (entries, bytes), then the bytes of
    every set its owner holds, then the total, where the owner that holds the
    most bytes loses its oldest entry first, again and again.

    Args:
        run_set: The set just written to.
        owned: Every entry of the sets of ``run_set``'s owner, as ``(run_set, entry)``.
        keep: The entry just written (never evicted).
        limits: The bounds.
        total_bytes: The bytes of the whole store, the write included.
        every: A callable returning every entry as ``(run_set, owner, entry)``; called only when the total is over.

    Returns:
        ``(run_set, entry, limit)`` for each entry to evict.
    """
    plan: list[tuple[str, _Entry, str]] = []
    gone: set[tuple[str, str]] = set()

    def drop(owner_set: str, entry: _Entry, limit: str) -> None:
        plan.append((owner_set, entry, limit))
        gone.add((owner_set, entry.entry_id))

    mine = sorted((entry for owner_set, entry in owned if owner_set == run_set), key=lambda entry: entry.first)
    count, size = len(mine), sum(entry.size for entry in mine)
    for entry in mine:
        over_count = count > limits.max_entries_per_set
        if not (over_count or size > limits.max_bytes_per_set):
            break
        if entry.entry_id == keep:
            continue
        drop(run_set, entry, "entries" if over_count else "set_bytes")
        count, size = count - 1, size - entry.size
    left = sorted(((s, e) for s, e in owned if (s, e.entry_id) not in gone), key=lambda item: item[1].first)
    size = sum(entry.size for _, entry in left)
    for owner_set, entry in left:
        if size <= limits.max_bytes_per_visitor:
            break
        if owner_set == run_set and entry.entry_id == keep:
            continue
        drop(owner_set, entry, "visitor_bytes")
        size -= entry.size
    total = total_bytes - sum(entry.size for _, entry, _ in plan)
    if total <= limits.max_total_bytes:
        return plan
    holders: dict[str, list[tuple[str, _Entry]]] = {}
    for owner_set, owner, entry in every():
        if (owner_set, entry.entry_id) in gone or (owner_set == run_set and entry.entry_id == keep):
            continue
        holders.setdefault(owner, []).append((owner_set, entry))
    held = {owner: sum(entry.size for _, entry in items) for owner, items in holders.items()}
    for items in holders.values():
        items.sort(key=lambda item: item[1].first, reverse=True)  # the oldest last, popped first
    while total > limits.max_total_bytes and held:
        owner = max(held, key=lambda name: held[name])
        owner_set, entry = holders[owner].pop()
        drop(owner_set, entry, "total_bytes")
        total -= entry.size
        held[owner] -= entry.size
        if not holders[owner]:
            del held[owner]
    return plan


def rate_counter(kind: str, visitor: str | None, now: float) -> str:
    """The counter of one visitor's ``kind`` (``sets``, ``imports``) in the current clock hour."""
    return f"rate:{kind}:{visitor_bucket(visitor)}:{math.floor(now / RATE_WINDOW_S)}"


def _payload(record: RunRecord) -> str:
    return json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":"))


def _note(entry: _Entry, limit: str = "entries") -> EvictedEntry:
    return EvictedEntry(entry.entry_id, entry.mode, entry.origin, entry.started_at, entry.runs, limit)


metadata = sa.MetaData()

def _entry_table(name: str, *columns: sa.Column) -> sa.Table:
    """A table whose rows belong to one saved entry of one run set.

    Args:
        name: The table's name.
        *columns: The columns that follow the row id, the run set and the entry id.

    Returns:
        The table, registered in ``metadata``.
    """
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_set", sa.String(64), nullable=False, index=True),
        sa.Column("entry_id", sa.String(64), nullable=False),
        *columns,
    )


def _entry_label_columns() -> list[sa.Column]:
    """The columns that name an entry (mode, origin, start time); new ones each call, as a column belongs to one table."""
    return [
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
    ]


runs_table = _entry_table(
    "lcm_runs",
    sa.Column("run_id", sa.String(64), nullable=False),
    *_entry_label_columns(),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("saved_at", sa.Float, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)

evictions_table = _entry_table(
    "lcm_evictions",
    *_entry_label_columns(),
    sa.Column("runs", sa.Integer, nullable=False),
    sa.Column("limit_name", sa.String(32), nullable=False, server_default="entries"),
)

owners_table = sa.Table(
    "lcm_run_set_owners",
    metadata,
    sa.Column("run_set", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(80), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
)
"""Who started each run set (``chains.security.quota.visitor_bucket``): the per-visitor bound adds up their sets."""

counters_table = sa.Table(
    "lcm_counters",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)


views_table = sa.Table(
    "lcm_views",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("run_set", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)
"""Read-only share links: a view token reads its run set's runs, and nothing else (one token per run set)."""

prefs_table = sa.Table(
    "lcm_prefs",
    metadata,
    sa.Column("run_set", sa.String(64), primary_key=True),
    sa.Column("saved_at", sa.Float, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)
"""A run set's non-secret preferences (language, nickname, sidebar settings, each page's last result), as JSON."""

#: The largest preferences document kept for one run set, in bytes (they are a few hundred).
MAX_PREFS_BYTES = 8_000
#: The most run sets whose preferences are kept; the least recently saved go first.
MAX_PREFS_SETS = 20_000


def prepare_sqlite(engine: Engine) -> None:
    """Make a SQLite engine safe for many sessions (threads) at once.

    On every new connection: WAL mode (readers never block the writer), a busy
    timeout (a writer waits for another instead of failing), and
    ``synchronous=NORMAL``. Every transaction starts with ``BEGIN IMMEDIATE``,
    so a read-then-write transaction takes the write lock up front and cannot
    fail half-way on a lock upgrade. Does nothing on other databases.

    Args:
        engine: A new engine, before it has opened connections.
    """
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below says when a transaction starts.
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _add_missing_columns(connection: Connection) -> None:
    """Add the columns that later versions gave to existing tables (``create_all`` only creates new tables)."""
    present = {column["name"] for column in sa.inspect(connection).get_columns(evictions_table.name)}
    if "limit_name" not in present:
        connection.exec_driver_sql(f"ALTER TABLE {evictions_table.name} ADD COLUMN limit_name VARCHAR(32) NOT NULL DEFAULT 'entries'")


class RunStore:
    """Run records in SQL tables, bounded, keyed by run set.

    Example:
        >>> engine = sa.create_engine("sqlite:///runs.sqlite")  # doctest: +SKIP
        >>> prepare_sqlite(engine)  # doctest: +SKIP
        >>> store = RunStore(engine)  # doctest: +SKIP
        >>> store.add(run_set, record)  # doctest: +SKIP
        []
    """

    kind = "sql"

    def __init__(self, engine: Engine, limits: StoreLimits | None = None) -> None:
        """Create the tables if needed and check that the database answers.

        Raises:
            StoreError: The database cannot be opened, created or read.
        """
        self.engine = engine
        self.limits = limits or StoreLimits()
        with self._transaction() as connection:
            metadata.create_all(connection, checkfirst=True)
            _add_missing_columns(connection)
            connection.execute(sa.select(sa.func.count()).select_from(runs_table)).scalar_one()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise StoreError(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc

    def add(self, run_set: str, record: RunRecord, *, visitor: str | None = None) -> list[EvictedEntry]:
        """Keep ``record`` in ``run_set``, then evict the oldest entries that no longer fit.

        Args:
            run_set: A valid run set id.
            record: The run (no secrets: records never hold any).
            visitor: Who writes (``ui.deployment.host.visitor_id``): a set's first writer owns it.

        Returns:
            The entries of ``run_set`` evicted to make room.

        Raises:
            StoreQuotaError: ``run_set`` is new and ``visitor`` started too many sets this hour.
        """
        payload = _payload(record)
        entry = entry_id(record)
        with self._transaction() as connection:
            owner = self._owner(connection, run_set, visitor)
            connection.execute(
                runs_table.insert().values(
                    run_set=run_set,
                    entry_id=entry,
                    run_id=record.run_id,
                    mode=record.mode,
                    origin=record.origin,
                    started_at=record.started_at,
                    size_bytes=len(payload.encode()),
                    saved_at=time.time(),
                    payload=payload,
                )
            )
            owned_sets = sa.select(owners_table.c.run_set).where(owners_table.c.owner == owner)
            owned = self._entries(connection, runs_table.c.run_set.in_(owned_sets))
            total = connection.execute(sa.select(sa.func.coalesce(sa.func.sum(runs_table.c.size_bytes), 0))).scalar_one()
            plan = plan_store_evictions(
                run_set,
                [(owner_set, item) for owner_set, _, item in owned],
                keep=entry,
                limits=self.limits,
                total_bytes=int(total),
                every=lambda: self._entries(connection, None),
            )
            self._evict(connection, plan)
            if plan:
                self._prune(connection, time.time())
        return [_note(item, limit) for owner_set, item, limit in plan if owner_set == run_set]

    def _prune(self, connection: Connection, now: float) -> None:
        """Bound the tables that only grow: eviction notes in total, and the share links and owners of empty sets."""
        newest = connection.execute(sa.select(sa.func.max(evictions_table.c.id))).scalar()
        if newest is not None:
            connection.execute(evictions_table.delete().where(evictions_table.c.id <= newest - MAX_EVICTION_NOTES_TOTAL))
        holding = sa.select(runs_table.c.run_set).distinct()
        for table, column in ((views_table, views_table.c.created_at), (owners_table, owners_table.c.created_at)):
            connection.execute(table.delete().where(column < now - IDLE_RECORD_S, table.c.run_set.not_in(holding)))

    def prune(self, now: float | None = None) -> None:
        """Prune now (``_prune``); ``add`` does it whenever a bound evicted something."""
        with self._transaction() as connection:
            self._prune(connection, time.time() if now is None else now)

    def _owner(self, connection: Connection, run_set: str, visitor: str | None) -> str:
        """The owner of ``run_set``; a new set is registered to ``visitor``, within the hourly limit."""
        owner = connection.execute(sa.select(owners_table.c.owner).where(owners_table.c.run_set == run_set)).scalar()
        if owner is not None:
            return owner
        now = time.time()
        if self._count(connection, rate_counter("sets", visitor, now)) > self.limits.max_new_sets_per_visitor_hour:
            raise StoreQuotaError("too many new run sets this hour")
        owner = visitor_bucket(visitor)
        try:
            with connection.begin_nested():
                connection.execute(owners_table.insert().values(run_set=run_set, owner=owner, created_at=now))
        except sa.exc.IntegrityError:  # another session registered it in between
            owner = connection.execute(sa.select(owners_table.c.owner).where(owners_table.c.run_set == run_set)).scalar_one()
        return owner

    def _entries(self, connection: Connection, where: Any) -> list[tuple[str, str, _Entry]]:
        """Every entry matching ``where`` (``None``: all), as ``(run_set, owner, entry)``."""
        columns = runs_table.c
        first = sa.func.min(columns.id)
        query = sa.select(
            columns.run_set, columns.entry_id, first, sa.func.count(), sa.func.sum(columns.size_bytes)
        ).group_by(columns.run_set, columns.entry_id)
        if where is not None:
            query = query.where(where)
        groups = connection.execute(query).all()
        firsts = [row[2] for row in groups]
        details = {}
        owners: dict[str, str] = {}
        if firsts:
            for row in connection.execute(
                sa.select(columns.id, columns.mode, columns.origin, columns.started_at).where(columns.id.in_(firsts))
            ):
                details[row.id] = row
            sets = {row[0] for row in groups}
            for row in connection.execute(sa.select(owners_table).where(owners_table.c.run_set.in_(sets))):
                owners[row.run_set] = row.owner
        entries = []
        for owner_set, entry, first_id, count, size in groups:
            detail = details[first_id]
            item = _Entry(entry, first_id, count, int(size or 0), detail.mode, detail.origin, detail.started_at)
            entries.append((owner_set, owners.get(owner_set, visitor_bucket(None)), item))
        return entries

    def _evict(self, connection: Connection, victims: list[tuple[str, _Entry, str]]) -> None:
        for owner, item, limit in victims:
            connection.execute(
                runs_table.delete().where(runs_table.c.run_set == owner, runs_table.c.entry_id == item.entry_id)
            )
            connection.execute(
                evictions_table.insert().values(
                    run_set=owner,
                    entry_id=item.entry_id,
                    mode=item.mode,
                    origin=item.origin,
                    started_at=item.started_at,
                    runs=item.runs,
                    limit_name=limit,
                )
            )
        for owner in {owner for owner, _, _ in victims}:
            keep = (
                sa.select(evictions_table.c.id)
                .where(evictions_table.c.run_set == owner)
                .order_by(evictions_table.c.id.desc())
                .limit(MAX_EVICTION_NOTES)
            )
            connection.execute(
                evictions_table.delete().where(evictions_table.c.run_set == owner, evictions_table.c.id.not_in(keep.scalar_subquery()))
            )

    def _count(self, connection: Connection, name: str) -> int:
        """Add one to a counter in this transaction and return it."""
        updated = connection.execute(
            counters_table.update().where(counters_table.c.name == name).values(value=counters_table.c.value + 1)
        ).rowcount
        if not updated:
            try:
                with connection.begin_nested():
                    connection.execute(counters_table.insert().values(name=name, value=1))
            except sa.exc.IntegrityError:  # another replica created it in between
                connection.execute(counters_table.update().where(counters_table.c.name == name).values(value=counters_table.c.value + 1))
        return int(connection.execute(sa.select(counters_table.c.value).where(counters_table.c.name == name)).scalar_one())

    def owner_of(self, run_set: str) -> str | None:
        """Who started ``run_set`` (a ``chains.security.quota.visitor_bucket``), or ``None`` when nobody wrote to it yet."""
        with self._transaction() as connection:
            return connection.execute(sa.select(owners_table.c.owner).where(owners_table.c.run_set == run_set)).scalar()

    def take_allowance(self, kind: str, visitor: str | None, per_hour: int) -> bool:
        """Count one ``kind`` (``imports``...) for ``visitor`` this hour; False when that is over ``per_hour``.

        The counters of past hours are deleted on the way.
        """
        now = time.time()
        name = rate_counter(kind, visitor, now)
        with self._transaction() as connection:
            current = name.rsplit(":", 1)[1]
            connection.execute(
                counters_table.delete().where(counters_table.c.name.like("rate:%"), ~counters_table.c.name.like(f"%:{current}"))
            )
            return self._count(connection, name) <= per_hour

    def runs(self, run_set: str) -> list[RunRecord]:
        """The runs of ``run_set``, oldest first (a run that cannot be read back is skipped)."""
        with self._transaction() as connection:
            payloads = connection.execute(
                sa.select(runs_table.c.payload).where(runs_table.c.run_set == run_set).order_by(runs_table.c.id)
            ).scalars().all()
        return _decode(payloads)

    def evictions(self, run_set: str) -> list[EvictedEntry]:
        """The entries of ``run_set`` that bounds removed and that nobody dismissed yet, oldest first."""
        with self._transaction() as connection:
            rows = connection.execute(
                sa.select(evictions_table).where(evictions_table.c.run_set == run_set).order_by(evictions_table.c.id)
            ).all()
        return [EvictedEntry(row.entry_id, row.mode, row.origin, row.started_at, row.runs, row.limit_name) for row in rows]

    def dismiss_evictions(self, run_set: str) -> None:
        """Forget the eviction notes of ``run_set``."""
        with self._transaction() as connection:
            connection.execute(evictions_table.delete().where(evictions_table.c.run_set == run_set))

    def delete_set(self, run_set: str) -> int:
        """Delete every run (and note) of ``run_set``; return how many runs were deleted."""
        with self._transaction() as connection:
            deleted = connection.execute(runs_table.delete().where(runs_table.c.run_set == run_set)).rowcount
            connection.execute(evictions_table.delete().where(evictions_table.c.run_set == run_set))
            connection.execute(views_table.delete().where(views_table.c.run_set == run_set))  # its share link dies with it
            connection.execute(owners_table.delete().where(owners_table.c.run_set == run_set))
        return deleted

    def add_to_counter(self, name: str, amount: int = 1) -> int:
        """Add ``amount`` to a named counter (shared by every replica on the same database) and return it.

        A small generic API for deployment-wide counts (for example requests made
        with the host's key).
        """
        with self._transaction() as connection:
            updated = connection.execute(
                counters_table.update().where(counters_table.c.name == name).values(value=counters_table.c.value + amount)
            ).rowcount
            if not updated:
                try:
                    with connection.begin_nested():
                        connection.execute(counters_table.insert().values(name=name, value=amount))
                except sa.exc.IntegrityError:  # another replica created it in between
                    connection.execute(
                        counters_table.update().where(counters_table.c.name == name).values(value=counters_table.c.value + amount)
                    )
            return int(connection.execute(sa.select(counters_table.c.value).where(counters_table.c.name == name)).scalar_one())

    def counter(self, name: str) -> int:
        """A named counter's value (0 when it was never added to)."""
        with self._transaction() as connection:
            value = connection.execute(sa.select(counters_table.c.value).where(counters_table.c.name == name)).scalar()
        return int(value or 0)

    def view_token(self, run_set: str) -> str:
        """The read-only view token of ``run_set``, made on first use (the same one afterwards).

        The run set id is the write capability of a set; the token only reads it
        (``shared_runs``), so it is what a share link holds.
        """
        views = views_table.c
        with self._transaction() as connection:
            token = connection.execute(sa.select(views.token).where(views.run_set == run_set)).scalar()
            if token is None:
                try:
                    with connection.begin_nested():
                        token = new_view_token()
                        connection.execute(views_table.insert().values(token=token, run_set=run_set, created_at=time.time()))
                except sa.exc.IntegrityError:  # another session made it in between
                    token = connection.execute(sa.select(views.token).where(views.run_set == run_set)).scalar_one()
        return token

    def rotate_view_token(self, run_set: str) -> str:
        """A new view token for ``run_set``: the old share link stops working, and no run is touched."""
        with self._transaction() as connection:
            connection.execute(views_table.delete().where(views_table.c.run_set == run_set))
            token = new_view_token()
            connection.execute(views_table.insert().values(token=token, run_set=run_set, created_at=time.time()))
        return token

    def save_prefs(self, run_set: str, prefs: dict[str, Any]) -> None:
        """Keep ``run_set``'s preferences (replacing the last ones); a document over ``MAX_PREFS_BYTES`` is not kept."""
        payload = _prefs_payload(prefs)
        if payload is None:
            return
        with self._transaction() as connection:
            updated = connection.execute(
                prefs_table.update().where(prefs_table.c.run_set == run_set).values(payload=payload, saved_at=time.time())
            ).rowcount
            if not updated:
                try:
                    with connection.begin_nested():
                        connection.execute(prefs_table.insert().values(run_set=run_set, payload=payload, saved_at=time.time()))
                except sa.exc.IntegrityError:  # another tab saved first
                    connection.execute(prefs_table.update().where(prefs_table.c.run_set == run_set).values(payload=payload, saved_at=time.time()))
                else:
                    self._bound_prefs(connection)

    def _bound_prefs(self, connection: Connection) -> None:
        """Forget the least recently saved preferences beyond ``MAX_PREFS_SETS``."""
        extra = connection.execute(sa.select(sa.func.count()).select_from(prefs_table)).scalar_one() - MAX_PREFS_SETS
        if extra > 0:
            oldest = sa.select(prefs_table.c.run_set).order_by(prefs_table.c.saved_at).limit(extra).scalar_subquery()
            connection.execute(prefs_table.delete().where(prefs_table.c.run_set.in_(oldest)))

    def prefs(self, run_set: str) -> dict[str, Any]:
        """``run_set``'s preferences as saved (empty when none, or when the row is damaged)."""
        with self._transaction() as connection:
            payload = connection.execute(sa.select(prefs_table.c.payload).where(prefs_table.c.run_set == run_set)).scalar()
        return _read_prefs(payload)

    def shared_runs(self, token: str) -> list[RunRecord] | None:
        """The runs that ``token`` shows, oldest first, or ``None`` for an unknown token."""
        with self._transaction() as connection:
            run_set = connection.execute(sa.select(views_table.c.run_set).where(views_table.c.token == token)).scalar()
            if run_set is None:
                return None
            payloads = connection.execute(
                sa.select(runs_table.c.payload).where(runs_table.c.run_set == run_set).order_by(runs_table.c.id)
            ).scalars().all()
        return _decode(payloads)


def _prefs_payload(prefs: dict[str, Any]) -> str | None:
    payload = json.dumps(prefs, ensure_ascii=False, sort_keys=True)
    return payload if len(payload.encode()) <= MAX_PREFS_BYTES else None


def _read_prefs(payload: str | None) -> dict[str, Any]:
    try:
        prefs = json.loads(payload) if payload else {}
    except ValueError:
        return {}
    return prefs if isinstance(prefs, dict) else {}


def _decode(payloads: list[str]) -> list[RunRecord]:
    records = []
    for payload in payloads:
        try:
            records.append(RunRecord.from_dict(json.loads(payload)))
        except (ValueError, TypeError, KeyError):
            continue  # one damaged row must not hide the others
    return records


class MemoryRunStore:
    """The same API in this process's memory: the fallback when the database fails.

    Runs survive a reload while the server process lives, not a restart.
    """

    kind = "memory"

    def __init__(self, limits: StoreLimits | None = None) -> None:
        """An empty store with ``limits`` (the defaults when ``None``)."""
        self.limits = limits or StoreLimits()
        self._lock = threading.Lock()
        self._rows: list[dict[str, Any]] = []
        self._notes: dict[str, list[EvictedEntry]] = {}
        self._counters: dict[str, int] = {}
        self._views: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        self._prefs: dict[str, str] = {}
        self._next_id = 1

    def _entries(self) -> list[tuple[str, str, _Entry]]:
        groups: dict[tuple[str, str], _Entry] = {}
        for row in self._rows:
            key = (row["run_set"], row["entry_id"])
            if key not in groups:
                groups[key] = _Entry(row["entry_id"], row["id"], 0, 0, row["mode"], row["origin"], row["started_at"])
            groups[key].runs += 1
            groups[key].size += row["size"]
        unknown = visitor_bucket(None)
        return [(owner_set, self._owners.get(owner_set, unknown), item) for (owner_set, _), item in groups.items()]

    def _evict(self, victims: list[tuple[str, _Entry, str]]) -> None:
        doomed = {(owner, item.entry_id) for owner, item, _ in victims}
        self._rows = [row for row in self._rows if (row["run_set"], row["entry_id"]) not in doomed]
        for owner, item, limit in victims:
            notes = self._notes.setdefault(owner, [])
            notes.append(_note(item, limit))
            del notes[:-MAX_EVICTION_NOTES]

    def _count(self, name: str) -> int:
        self._counters[name] = self._counters.get(name, 0) + 1
        return self._counters[name]

    def add(self, run_set: str, record: RunRecord, *, visitor: str | None = None) -> list[EvictedEntry]:
        """See ``RunStore.add``."""
        payload = _payload(record)
        entry = entry_id(record)
        with self._lock:
            owner = self._owners.get(run_set)
            if owner is None:
                name = rate_counter("sets", visitor, time.time())
                if self._counters.get(name, 0) >= self.limits.max_new_sets_per_visitor_hour:
                    raise StoreQuotaError("too many new run sets this hour")
                self._count(name)
                owner = self._owners[run_set] = visitor_bucket(visitor)
            self._rows.append(
                {
                    "id": self._next_id,
                    "run_set": run_set,
                    "entry_id": entry,
                    "mode": record.mode,
                    "origin": record.origin,
                    "started_at": record.started_at,
                    "size": len(payload.encode()),
                    "payload": payload,
                }
            )
            self._next_id += 1
            every = self._entries()
            plan = plan_store_evictions(
                run_set,
                [(owner_set, item) for owner_set, holder, item in every if holder == owner],
                keep=entry,
                limits=self.limits,
                total_bytes=sum(row["size"] for row in self._rows),
                every=lambda: every,
            )
            self._evict(plan)
            if plan:
                holding = {row["run_set"] for row in self._rows}
                self._views = {token: owner for token, owner in self._views.items() if owner in holding}
                self._owners = {owner_set: owner for owner_set, owner in self._owners.items() if owner_set in holding or owner_set == run_set}
        return [_note(item, limit) for owner_set, item, limit in plan if owner_set == run_set]

    def owner_of(self, run_set: str) -> str | None:
        """See ``RunStore.owner_of``."""
        with self._lock:
            return self._owners.get(run_set)

    def take_allowance(self, kind: str, visitor: str | None, per_hour: int) -> bool:
        """See ``RunStore.take_allowance``."""
        name = rate_counter(kind, visitor, time.time())
        with self._lock:
            current = name.rsplit(":", 1)[1]
            for old in [key for key in self._counters if key.startswith("rate:") and not key.endswith(f":{current}")]:
                del self._counters[old]
            return self._count(name) <= per_hour

    def runs(self, run_set: str) -> list[RunRecord]:
        """See ``RunStore.runs``."""
        with self._lock:
            payloads = [row["payload"] for row in self._rows if row["run_set"] == run_set]
        return _decode(payloads)

    def evictions(self, run_set: str) -> list[EvictedEntry]:
        """See ``RunStore.evictions``."""
        with self._lock:
            return list(self._notes.get(run_set, []))

    def dismiss_evictions(self, run_set: str) -> None:
        """See ``RunStore.dismiss_evictions``."""
        with self._lock:
            self._notes.pop(run_set, None)

    def delete_set(self, run_set: str) -> int:
        """See ``RunStore.delete_set``."""
        with self._lock:
            before = len(self._rows)
            self._rows = [row for row in self._rows if row["run_set"] != run_set]
            self._notes.pop(run_set, None)
            self._owners.pop(run_set, None)
            self._views = {token: owner for token, owner in self._views.items() if owner != run_set}
            return before - len(self._rows)

    def add_to_counter(self, name: str, amount: int = 1) -> int:
        """See ``RunStore.add_to_counter``."""
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + amount
            return self._counters[name]

    def counter(self, name: str) -> int:
        """See ``RunStore.counter``."""
        with self._lock:
            return self._counters.get(name, 0)

    def view_token(self, run_set: str) -> str:
        """See ``RunStore.view_token``."""
        with self._lock:
            for token, owner in self._views.items():
                if owner == run_set:
                    return token
            token = new_view_token()
            self._views[token] = run_set
            return token

    def rotate_view_token(self, run_set: str) -> str:
        """See ``RunStore.rotate_view_token``."""
        with self._lock:
            self._views = {token: owner for token, owner in self._views.items() if owner != run_set}
            token = new_view_token()
            self._views[token] = run_set
            return token

    def save_prefs(self, run_set: str, prefs: dict[str, Any]) -> None:
        """See ``RunStore.save_prefs``."""
        payload = _prefs_payload(prefs)
        if payload is not None:
            with self._lock:
                self._prefs.pop(run_set, None)  # re-inserted last: the dict's order is the saving order
                self._prefs[run_set] = payload
                while len(self._prefs) > MAX_PREFS_SETS:
                    del self._prefs[next(iter(self._prefs))]

    def prefs(self, run_set: str) -> dict[str, Any]:
        """See ``RunStore.prefs``."""
        with self._lock:
            return _read_prefs(self._prefs.get(run_set))

    def shared_runs(self, token: str) -> list[RunRecord] | None:
        """See ``RunStore.shared_runs``."""
        with self._lock:
            run_set = self._views.get(token)
            if run_set is None:
                return None
            payloads = [row["payload"] for row in self._rows if row["run_set"] == run_set]
        return _decode(payloads)


def sqlite_url(directory: str) -> str:
    """The SQLAlchemy URL of the run store's file in ``directory``."""
    from pathlib import Path

    return "sqlite:///" + str(Path(directory) / "langchain-call-modes-runs.sqlite")
