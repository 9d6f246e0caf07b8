"""The SQL ledger of the host key: atomic across threads and replicas, shared on one database, and closed on failure.

The semantics shared with ``InMemoryLedger`` are tested on both in
``tests/chains/security/test_guards.py``; this file tests what only a database adds.
Runs on a SQLite file always, and on PostgreSQL when ``RUNS_DB_TEST_URL`` is set
(``.ci/run`` sets it). No wall-clock assertions: counts only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from chains.errors import classify_error
from chains.joke import build_joke_chain
from chains.models import ModelSettings, make_model
from chains.security.policy import EgressPolicy, bind_host_key
from chains.security.quota import HostKeyLimits, HostKeyMeter, QuotaExceededError
from chains.security.quota_sql import LedgerUnavailableError, SqlLedger, ledger_table
from devtools.openai_server import OpenAICompatibleServer
from tests.ledger_backends import sql_engine

HOST_KEY = "host-secret-456-LEAKCANARY"


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[sa.Engine]]:
    """Two engines on one empty database: two replicas of the app."""
    made = [sql_engine(request.param, tmp_path), sql_engine(request.param, tmp_path)]
    ledger_table.drop(made[0], checkfirst=True)
    yield made
    for engine in made:
        engine.dispose()


def test_concurrent_reservations_from_many_threads_and_two_replicas_never_pass_a_limit(engines: list[sa.Engine]) -> None:
    clock = FakeClock()
    replicas = [SqlLedger(engine, clock=clock) for engine in engines]
    limits = HostKeyLimits(requests_per_hour=37, visitor_requests_per_hour=1000, unknown_requests_per_hour=25)
    threads, attempts = 16, 6
    granted: list[str] = []
    refused: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def visitor(index: int) -> None:
        meter = HostKeyMeter(replicas[index % 2], limits, None if index % 4 == 0 else f"198.51.100.{index}")
        start.wait()
        for _ in range(attempts):
            try:
                meter.before_request()
            except LedgerUnavailableError as exc:  # a database failure would hide a race: it must not happen here
                failures.append(exc)
            except QuotaExceededError as exc:
                with lock:
                    refused.append(exc.bucket)
            else:
                with lock:
                    granted.append(meter.visitor or "unknown")

    workers = [threading.Thread(target=visitor, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert len(granted) == 37, "exactly the deployment's hourly limit, not one more"
    assert len(granted) + len(refused) == threads * attempts
    deployment_hour = limits.request_limits("x")[0]
    assert replicas[0].used(deployment_hour) == replicas[1].used(deployment_hour) == 37
    assert granted.count("unknown") <= 24, "4 threads x 6 attempts on the unknown bucket"
    unknown_hour = limits.request_limits(None)[2]
    assert replicas[1].used(unknown_hour) == granted.count("unknown")


def test_the_shared_unknown_bucket_is_never_overdrawn_by_concurrent_replicas(engines: list[sa.Engine]) -> None:
    clock = FakeClock()
    replicas = [SqlLedger(engine, clock=clock) for engine in engines]
    limits = HostKeyLimits(unknown_requests_per_hour=5)
    threads = 12
    granted = []
    start = threading.Barrier(threads)

    def visitor(index: int) -> None:
        meter = HostKeyMeter(replicas[index % 2], limits, None)
        start.wait()
        for _ in range(3):
            try:
                meter.before_request()
                granted.append(index)
            except QuotaExceededError as exc:
                assert not isinstance(exc, LedgerUnavailableError)

    workers = [threading.Thread(target=visitor, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(granted) == 5


def test_two_replicas_on_one_database_share_requests_and_tokens(engines: list[sa.Engine]) -> None:
    clock = FakeClock()
    first, second = (SqlLedger(engine, clock=clock) for engine in engines)
    limits = HostKeyLimits(visitor_requests_per_hour=3, tokens_per_hour=500, max_tokens_per_call=100)
    HostKeyMeter(first, limits, "203.0.113.5").before_request()
    HostKeyMeter(second, limits, "203.0.113.5").before_request()
    assert HostKeyMeter(first, limits, "203.0.113.5").calls_left() == 1
    HostKeyMeter(first, limits, "203.0.113.5").add_tokens(500)
    with pytest.raises(QuotaExceededError) as refused:
        HostKeyMeter(second, limits, "203.0.113.6").before_request()
    assert refused.value.unit == "tokens", "the tokens one replica counted cap the other"


def test_past_slots_are_pruned_and_a_new_day_starts_from_zero(engines: list[sa.Engine]) -> None:
    clock = FakeClock(86_400.0 * 100)
    ledger = SqlLedger(engines[0], clock=clock)
    limits = HostKeyLimits(visitor_requests_per_day=2)
    meter = HostKeyMeter(ledger, limits, "203.0.113.9")
    meter.before_request()
    meter.before_request()
    with pytest.raises(QuotaExceededError):
        meter.before_request()
    clock.now += 86_400.0
    meter.before_request()
    with engines[0].connect() as connection:
        slots = connection.execute(sa.select(ledger_table.c.time_window, ledger_table.c.slot)).all()
    current = {"hour": int(clock.now // 3600), "day": int(clock.now // 86_400)}
    assert slots and all(slot == current[window] for window, slot in slots), "yesterday's rows are gone"


def broken_ledger(tmp_path: Path) -> SqlLedger:
    """A ledger whose database went away after it was opened."""
    engine = sql_engine("sqlite", tmp_path)
    ledger = SqlLedger(engine, clock=FakeClock())
    ledger.engine = sa.create_engine("sqlite:///" + str(tmp_path / "missing-folder" / "ledger.sqlite"))
    return ledger


def test_a_database_error_fails_closed_and_never_crashes(tmp_path: Path) -> None:
    ledger = broken_ledger(tmp_path)
    meter = HostKeyMeter(ledger, HostKeyLimits(), "203.0.113.1")
    with pytest.raises(LedgerUnavailableError) as refused:
        meter.before_request()
    assert isinstance(refused.value, QuotaExceededError)
    assert classify_error(refused.value).kind == "budget"
    assert "sqlite" not in str(refused.value) and "missing-folder" not in str(refused.value), "no path or URL in the message"
    assert meter.calls_left() == 0
    assert ledger.unavailable, "the UI can say why nothing is sent"
    meter.add_tokens(10)  # after an answer: logged, not raised
    unopened = SqlLedger(sa.create_engine("sqlite:///" + str(tmp_path / "missing-folder" / "other.sqlite")))
    with pytest.raises(LedgerUnavailableError):
        HostKeyMeter(unopened, HostKeyLimits(), None).before_request()
    (tmp_path / "missing-folder").mkdir()
    HostKeyMeter(unopened, HostKeyLimits(), None).before_request()  # the database answers again: so does the ledger
    assert not unopened.unavailable
    assert unopened.used(HostKeyLimits().request_limits(None)[0]) == 1


def test_with_the_ledgers_database_down_the_host_key_sends_nothing(openai_server: OpenAICompatibleServer, tmp_path: Path) -> None:
    bind_host_key(HOST_KEY, openai_server.base_url)
    meter = HostKeyMeter(broken_ledger(tmp_path), HostKeyLimits(), "192.0.2.1")
    policy = EgressPolicy(
        host_key=HOST_KEY, host_base_url=openai_server.base_url, host_models=frozenset({"test-model"}), public=True, meter=meter
    )
    settings = ModelSettings(provider="openai", model="test-model", api_key=HOST_KEY, base_url=openai_server.base_url, timeout_s=5.0, max_retries=2)
    chain = build_joke_chain(make_model(settings, policy))
    with pytest.raises(Exception) as failed:
        chain.invoke("cats")
    assert classify_error(failed.value).kind == "budget"
    assert openai_server.requests_total == 0, "fail closed: not one request with the host's key"


# ------------------------------------------------------------------------ through the app
def test_the_app_counts_the_host_keys_requests_in_the_run_stores_database(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, isolated_run_store: Path
) -> None:
    from chains.records.store import prepare_sqlite, sqlite_url
    from chains.security.quota import DEPLOYMENT_BUCKET, Limit, default_ledger
    from tests.app_harness import open_app

    env = {"OPENAI_API_KEY": HOST_KEY, "OPENAI_BASE_URL": openai_server.base_url, "OPENAI_MODEL": "test-model"}
    app = open_app(monkeypatch, "pages/batch.py", env=env, state={"batch_with_loop": False})
    app.text_area(key="topics").set_value("a\nb")
    app.button(key="run").click()
    app.run(timeout=90)
    assert not app.exception
    assert openai_server.requests_total == 2

    # Another replica: its own engine on the same database file sees the same counts.
    engine = sa.create_engine(sqlite_url(str(isolated_run_store)))
    prepare_sqlite(engine)
    try:
        replica = SqlLedger(engine)
        hour = Limit(DEPLOYMENT_BUCKET, "hour", "requests", 100)
        assert replica.used(hour) == 2
        assert replica.used(Limit(DEPLOYMENT_BUCKET, "hour", "tokens", 100)) > 0, "the answers' tokens too"
    finally:
        engine.dispose()
    assert default_ledger().used(hour) == 0, "the process-wide ledger is only the fallback"


def test_with_the_ledgers_database_down_the_app_says_so_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, openai_server: OpenAICompatibleServer, tmp_path: Path
) -> None:
    import tomllib

    import ui.deployment.policy
    from tests.app_harness import open_app

    broken = broken_ledger(tmp_path)
    monkeypatch.setattr(ui.deployment.policy, "host_ledger", lambda: broken)
    env = {"OPENAI_API_KEY": HOST_KEY, "OPENAI_BASE_URL": openai_server.base_url, "OPENAI_MODEL": "test-model"}
    app = open_app(monkeypatch, "pages/batch.py", env=env, state={"batch_with_loop": False})
    app.text_area(key="topics").set_value("a\nb")
    app.button(key="run").click()
    app.run(timeout=90)
    assert not app.exception
    en = tomllib.loads((Path(__file__).resolve().parents[3] / "ui" / "locales" / "en.toml").read_text(encoding="utf-8"))
    assert en["sql_ledger"]["unavailable"] in [str(warning.value) for warning in app.warning]
    assert openai_server.requests_total == 0
    assert app.text_area(key="topics").value == "a\nb", "nothing the visitor typed is lost"
