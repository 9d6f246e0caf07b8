"""The host key's request ledger in SQL tables, shared by every process and replica on one database.

Plain SQLAlchemy Core, no Streamlit: the same code runs on the run store's
SQLite file and on a deployment's PostgreSQL. It implements the same
``chains.security.quota.Ledger`` protocol, with the same semantics, as ``InMemoryLedger``:
fixed hour and day windows aligned on the clock, all-or-nothing reservations,
and an injectable clock.

One table holds ``(bucket, window, slot) -> requests, tokens``. ``reserve``
checks every limit and increments in ONE transaction:

* the rows it needs are created first (``INSERT ... ON CONFLICT DO NOTHING``),
  in a fixed order, then read with ``SELECT ... FOR UPDATE`` (PostgreSQL locks
  them until the commit, so two replicas cannot both take the last request);
* on SQLite, the engine must be prepared with ``chains.records.store.prepare_sqlite``
  (as the run store's is): every transaction starts with ``BEGIN IMMEDIATE``,
  which takes the database's write lock before the first read.

Rows of past slots are deleted once per hour and process, in their own
transaction after a reservation (a failed clean-up never refuses a request),
so the table stays small.

Failure policy: **fail closed.** When the database cannot be read or written,
``reserve`` raises ``LedgerUnavailableError`` (a ``QuotaExceededError``): the
request with the host's key is not sent, and ``remaining`` says 0. Falling back
to a per-process ledger was rejected: every replica would then grant the whole
budget again (N replicas, N times the bill), and the counts of a database that
flaps would be lost. A refused call is cheaper than an unbounded bill.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from chains.security.quota import DEPLOYMENT_BUCKET, WINDOWS, Limit, QuotaExceededError

logger = logging.getLogger(__name__)

ledger_metadata = sa.MetaData()

ledger_table = sa.Table(
    "lcm_host_key_ledger",
    ledger_metadata,
    sa.Column("bucket", sa.String(200), primary_key=True),
    sa.Column("time_window", sa.String(8), primary_key=True),
    sa.Column("slot", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("requests", sa.BigInteger, nullable=False, default=0),
    sa.Column("tokens", sa.BigInteger, nullable=False, default=0),
    sa.Index("ix_lcm_host_key_ledger_slot", "time_window", "slot"),
)

_DB_ERRORS = (sa.exc.SQLAlchemyError, OSError)


class LedgerUnavailableError(QuotaExceededError):
    """The ledger's database cannot be read or written: the request is refused (fail closed).

    ``chains.errors.classify_error`` reports it as ``budget``, like any refusal by the ledger.
    """

    def __init__(self) -> None:
        """Create the error (its message names no database, no URL and no visitor)."""
        super().__init__(DEPLOYMENT_BUCKET, "hour", "requests")
        self.args = ("host key ledger unavailable: request refused",)


class SqlLedger:
    """The host key's request ledger in a SQL table (see the module's docstring).

    Example:
        >>> engine = sa.create_engine("sqlite:///runs.sqlite")  # doctest: +SKIP
        >>> prepare_sqlite(engine)  # doctest: +SKIP
        >>> meter = HostKeyMeter(SqlLedger(engine), HostKeyLimits(), "203.0.113.7")  # doctest: +SKIP

    Attributes:
        engine: The database (the run store's engine in the app).
        clock: Returns the current time in seconds (inject a fake one in tests).
        unavailable: True when the last use of the database failed (the UI says why nothing is sent).
    """

    kind = "sql"

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """Create the table if needed (never raises: if the database fails now, every request is refused until it answers)."""
        self.engine = engine
        self.clock = clock
        self._pruned_hour: int | None = None
        self._table_ready = False
        self.unavailable = False
        with suppress(LedgerUnavailableError):  # refused per request until the database answers
            self._create_table()

    def _create_table(self) -> None:
        if self._table_ready:
            return
        with self._transaction() as connection:
            ledger_metadata.create_all(connection, checkfirst=True)
        self._table_ready = True

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except QuotaExceededError:
            self.unavailable = False
            raise
        except _DB_ERRORS as exc:
            self.unavailable = True
            # The message may hold a URL with a password: log only the exception's type.
            logger.warning("The host key ledger's database failed (%s); the request is refused.", type(exc).__name__)
            raise LedgerUnavailableError from exc
        self.unavailable = False

    @staticmethod
    def _slot(window: str, now: float) -> int:
        return math.floor(now / WINDOWS[window])

    def _key(self, limit_bucket: str, window: str, now: float) -> tuple[str, str, int]:
        return (limit_bucket, window, self._slot(window, now))

    def _ensure_rows(self, connection: Connection, keys: list[tuple[str, str, int]]) -> None:
        """Create the missing rows of ``keys`` (zero counts), in sorted order, without failing on a race."""
        rows = [{"bucket": b, "time_window": w, "slot": s, "requests": 0, "tokens": 0} for b, w, s in sorted(set(keys))]
        if not rows:
            return
        dialect = connection.dialect.name
        if dialect in ("postgresql", "sqlite"):
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            connection.execute(insert(ledger_table).on_conflict_do_nothing(), rows)
            return
        for row in rows:  # any other database: one savepoint per row
            exists = connection.execute(
                sa.select(ledger_table.c.slot).where(*_match(row["bucket"], row["time_window"], row["slot"]))
            ).first()
            if exists is None:
                try:
                    with connection.begin_nested():
                        connection.execute(ledger_table.insert().values(**row))
                except sa.exc.IntegrityError:
                    pass  # another replica created it in between

    def prune(self, now: float | None = None) -> None:
        """Delete the rows of past slots (they can never be read again); errors are ignored.

        Args:
            now: The current time (the clock's when ``None``).
        """
        now = self.clock() if now is None else now
        try:
            with self._transaction() as connection:
                for window in WINDOWS:
                    connection.execute(
                        ledger_table.delete().where(
                            ledger_table.c.time_window == window, ledger_table.c.slot < self._slot(window, now)
                        )
                    )
        except LedgerUnavailableError:
            return
        self._pruned_hour = self._slot("hour", now)

    def _prune_once_per_hour(self, now: float) -> None:
        if self._pruned_hour != self._slot("hour", now):
            self.prune(now)

    def reserve(
        self, limits: Iterable[Limit], *, also_check: Iterable[Limit] = (), tokens: int = 0, token_buckets: Iterable[str] = ()
    ) -> None:
        """``Ledger.reserve`` in one transaction, so every server process shares the counts.

        Raises:
            QuotaExceededError: When any cap is reached; nothing is counted then.
            LedgerUnavailableError: When the database fails; nothing is sent then.
        """
        limits = tuple(limits)
        checks = (*limits, *also_check)
        token_buckets = tuple(token_buckets) if tokens > 0 else ()
        self._create_table()
        with self._transaction() as connection:
            now = self.clock()
            token_keys = {self._key(bucket, window, now) for bucket in token_buckets for window in WINDOWS}
            keys = sorted({self._key(limit.bucket, limit.window, now) for limit in checks} | token_keys)
            self._ensure_rows(connection, keys)
            used: dict[tuple[str, str, int], Any] = {}
            for key in keys:  # one row at a time, in sorted order: no deadlock between replicas
                row = connection.execute(
                    sa.select(ledger_table.c.requests, ledger_table.c.tokens).where(*_match(*key)).with_for_update()
                ).one()
                used[key] = row
            for limit in checks:
                row = used[self._key(limit.bucket, limit.window, now)]
                if limit.refuses(int(row.requests if limit.unit == "requests" else row.tokens), tokens):
                    raise QuotaExceededError(limit.kind, limit.window, limit.unit)
            for key in sorted({self._key(limit.bucket, limit.window, now) for limit in limits}):
                connection.execute(
                    ledger_table.update().where(*_match(*key)).values(requests=ledger_table.c.requests + 1)
                )
            for key in sorted(token_keys):
                connection.execute(ledger_table.update().where(*_match(*key)).values(tokens=ledger_table.c.tokens + tokens))
        self._prune_once_per_hour(now)

    def record_tokens(self, bucket_keys: Iterable[str], tokens: int) -> None:
        """Add ``tokens`` (counted after a response) to the hour and day windows of each bucket.

        A database error is logged and swallowed: the request was already
        counted and sent, and this is called after the answer, where raising
        would only lose the answer.
        """
        if tokens == 0:
            return
        try:
            self._create_table()
            with self._transaction() as connection:
                now = self.clock()
                keys = sorted({self._key(bucket, window, now) for bucket in bucket_keys for window in WINDOWS})
                self._ensure_rows(connection, keys)
                for key in keys:
                    connection.execute(
                        ledger_table.update().where(*_match(*key)).values(tokens=ledger_table.c.tokens + tokens)
                    )
        except LedgerUnavailableError:
            pass

    def used(self, limit: Limit) -> int:
        """What ``limit``'s bucket has used in the current window.

        Raises:
            LedgerUnavailableError: When the database fails.
        """
        self._create_table()
        with self._transaction() as connection:
            column = ledger_table.c.requests if limit.unit == "requests" else ledger_table.c.tokens
            value = connection.execute(
                sa.select(column).where(*_match(*self._key(limit.bucket, limit.window, self.clock())))
            ).scalar()
        return int(value or 0)

    def remaining(self, limit: Limit) -> int:
        """What ``limit`` still allows in the current window (never negative; 0 when the database fails)."""
        try:
            return max(0, limit.maximum - self.used(limit))
        except LedgerUnavailableError:
            return 0

    def reset(self) -> None:
        """Forget every count (tests, or an operator's decision)."""
        self._create_table()
        with self._transaction() as connection:
            connection.execute(ledger_table.delete())


def _match(bucket: str, window: str, slot: int) -> tuple[Any, ...]:
    return (ledger_table.c.bucket == bucket, ledger_table.c.time_window == window, ledger_table.c.slot == slot)
