"""Failed sign-ins are counted in the database: two processes share the count, a restart keeps it, and
it runs out with the window."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services, build_services
from orderhub.domain.errors import NotAuthenticated, TooManyAttempts
from orderhub.services import auth
from orderhub.services import sign_ins as sign_in_limits
from orderhub.services.auth import MAX_CONCURRENT_HASHES, AuthService, TokenPair
from orderhub.services.sign_ins import (
    FAILURE_WINDOW,
    FAILURES_PER_CLIENT_AND_SOURCE,
    SignIn,
    SignIns,
    failure_key,
)
from orderhub.settings import Settings
from orderhub.store.runtime import SqlDatabase
from tests.clocks import MovableClock
from tests.postgres.test_hung_server import FreezableProxy
from tests.postgres.test_races import race

CLIENT, SECRET = "demo-reseller-1", "demo-reseller-1-secret"
SOURCE = "203.0.113.9"


def sign_in(service: AuthService, secret: str, *, client_id: str = CLIENT, source: str = SOURCE) -> Any:
    async def attempt() -> TokenPair:
        return await service.issue_token(client_id, secret, source=source)

    return outcome(attempt())


def outcome(call: Coroutine[Any, Any, Any]) -> Any:
    try:
        return asyncio.run(call)
    except (NotAuthenticated, TooManyAttempts) as exc:
        return exc


def wrong_until_refused(services: list[AuthService], source: Callable[[int], str]) -> int:
    """Wrong secrets one at a time, in turn at each process, until one is refused: how many failed first.
    Attempts sent at once may refuse each other (each counts the others' charges in flight), so a burst
    may leave a key's count short of its limit; one at a time, each counts all before it."""
    for n in range(sign_in_limits.FAILURES_PER_CLIENT + 1):
        answer = sign_in(services[n % len(services)], "wrong", source=source(n))
        if isinstance(answer, TooManyAttempts):
            return n
        assert isinstance(answer, NotAuthenticated), answer
    raise AssertionError("never refused")


def failure_rows(services: Services) -> int:
    with services.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM sign_in_failures")).scalar_one())


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def test_failures_spread_over_two_processes_lock_the_client_id_at_the_source_out_on_both_and_a_restart_keeps_them(
    pg_url: str, two_processes: tuple[Services, Services], clock: MovableClock
) -> None:
    a, b = (AuthService(services.database, clock=clock) for services in two_processes)
    for attempt in range(FAILURES_PER_CLIENT_AND_SOURCE):
        refused = sign_in(a if attempt % 2 else b, "wrong-secret")
        assert isinstance(refused, NotAuthenticated), attempt
    clock.now += timedelta(seconds=5)
    for process in (a, b):
        locked_out = sign_in(process, SECRET)
        assert isinstance(locked_out, TooManyAttempts)
        assert 1 <= locked_out.retry_after <= 55
    # The partner's other client ids, and this one from another source, still sign in.
    assert isinstance(sign_in(a, "demo-reseller-2-secret", client_id="demo-reseller-2", source="x"), TokenPair)
    assert isinstance(sign_in(b, SECRET, source="198.51.100.7"), TokenPair)
    # A restart: new services on the same database find the failures.
    restarted = build_services(Settings(database_url=pg_url))
    try:
        assert isinstance(sign_in(AuthService(restarted.database, clock=clock), SECRET), TooManyAttempts)
    finally:
        restarted.close()
    # Once the window has passed, the client id is let in again, by either process.
    clock.now += FAILURE_WINDOW
    assert isinstance(sign_in(b, SECRET), TokenPair)


def test_a_burst_of_guesses_at_two_processes_at_once_gets_the_limit_in_each_at_most(
    two_processes: tuple[Services, Services], clock: MovableClock
) -> None:
    a, b = (AuthService(services.database, clock=clock) for services in two_processes)

    def burst(service: AuthService, name: str) -> Any:
        async def guesses() -> list[Any]:
            tries = (service.issue_token(CLIENT, f"{name}-{n}", source=SOURCE) for n in range(25))
            return await asyncio.gather(*tries, return_exceptions=True)

        return guesses

    answers = [answer for each in race(burst(a, "a"), burst(b, "b")) for answer in each]
    failed = sum(isinstance(answer, NotAuthenticated) for answer in answers)
    limit = FAILURES_PER_CLIENT_AND_SOURCE
    assert failed <= 2 * (limit + MAX_CONCURRENT_HASHES - 1)
    assert all(isinstance(answer, NotAuthenticated | TooManyAttempts) for answer in answers)
    assert wrong_until_refused([a, b], lambda _n: SOURCE) == max(0, limit - failed)
    for process in (a, b):
        assert isinstance(sign_in(process, SECRET), TooManyAttempts)


def test_a_burst_spread_over_three_processes_at_once_hashes_no_more_wrong_secrets_than_the_limit(
    pg_url: str, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    verify_secret = auth.verify_secret

    def counted(secret: str, stored: str) -> bool:
        hashed.append(secret)  # one append at a time (the interpreter lock): threads may share the list
        return verify_secret(secret, stored)

    monkeypatch.setattr(auth, "verify_secret", counted)
    processes = [build_services(Settings(database_url=pg_url)) for _ in range(3)]
    try:
        services = [AuthService(process.database, clock=clock) for process in processes]

        def burst(service: AuthService, name: str, guesses: int) -> Any:
            async def at_once() -> list[Any]:
                tries = (service.issue_token(CLIENT, f"{name}-{n}", source=SOURCE) for n in range(guesses))
                return await asyncio.gather(*tries, return_exceptions=True)

            return at_once

        outcomes = race(*(burst(service, name, 14) for service, name in zip(services, "abc", strict=True)))
        answers = [answer for each in outcomes for answer in each]
        assert len(answers) == 42
        assert all(isinstance(answer, NotAuthenticated | TooManyAttempts) for answer in answers), answers
        assert len(hashed) <= FAILURES_PER_CLIENT_AND_SOURCE, len(hashed)
        assert sum(isinstance(answer, NotAuthenticated) for answer in answers) == len(hashed)
        wrong_until_refused(services, lambda _n: SOURCE)
        assert len(hashed) == FAILURES_PER_CLIENT_AND_SOURCE
        clock.now += timedelta(seconds=5)
        for service in services:
            locked_out = sign_in(service, SECRET)
            assert isinstance(locked_out, TooManyAttempts) and 1 <= locked_out.retry_after <= 55
        clock.now += FAILURE_WINDOW
        assert isinstance(sign_in(services[2], SECRET), TokenPair)
    finally:
        for process in processes:
            process.close()


def test_a_burst_from_a_source_each_at_three_processes_hashes_no_more_than_the_client_ids_limit(
    pg_url: str, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every guess from a source of its own (within its limits there): the client id's own count, shared
    by the processes, bounds the hashes. The limit is lowered so that the burst is short."""
    monkeypatch.setattr(sign_in_limits, "FAILURES_PER_CLIENT", 12)
    hashed: list[str] = []

    def wrong(secret: str, stored: str) -> bool:
        hashed.append(secret)  # no scrypt: the count is the point
        return False

    monkeypatch.setattr(auth, "verify_secret", wrong)
    processes = [build_services(Settings(database_url=pg_url)) for _ in range(3)]
    try:
        services = [AuthService(process.database, clock=clock) for process in processes]

        def burst(service: AuthService, name: str) -> Any:
            async def at_once() -> list[Any]:
                tries = (service.issue_token(CLIENT, f"{name}-{n}", source=f"{name}-{n}") for n in range(14))
                return await asyncio.gather(*tries, return_exceptions=True)

            return at_once

        answers = [
            answer
            for each in race(*(burst(service, name) for service, name in zip(services, "abc", strict=True)))
            for answer in each
        ]
        assert all(isinstance(answer, NotAuthenticated | TooManyAttempts) for answer in answers), answers
        assert len(hashed) <= 12, len(hashed)
        assert sum(isinstance(answer, NotAuthenticated) for answer in answers) == len(hashed)
        wrong_until_refused(services, lambda n: f"d-{n}")
        assert len(hashed) == 12  # the client id's count, shared by the processes
        clock.now += timedelta(seconds=5)
        assert isinstance(sign_in(services[0], SECRET, source="198.51.100.7"), TooManyAttempts)
    finally:
        for process in processes:
            process.close()


def test_the_source_limit_is_shared_too(two_processes: tuple[Services, Services], clock: MovableClock) -> None:
    a, b = (AuthService(services.database, clock=clock) for services in two_processes)
    with two_processes[0].engine.begin() as connection:  # 29 failures of made-up ids from one source
        connection.execute(
            sa.text("INSERT INTO sign_in_failures (key, failed_at) VALUES (:key, :at)"),
            [{"key": failure_key("source", SOURCE), "at": clock.now.replace(tzinfo=None)}] * 29,
        )
    assert isinstance(sign_in(a, "wrong", client_id="made-up"), NotAuthenticated)
    assert isinstance(sign_in(b, SECRET), TooManyAttempts)
    assert isinstance(sign_in(b, SECRET, source="198.51.100.7"), TokenPair)


def test_a_flood_of_made_up_client_ids_leaves_one_window_of_rows(
    two_processes: tuple[Services, Services], clock: MovableClock
) -> None:
    services = two_processes[0]
    service = AuthService(services.database, clock=clock)
    start = clock.now
    for index in range(40):
        keys = (failure_key("client", f"made-up-{index}"), failure_key("source", f"192.0.2.{index}"))
        services.database.write_now(lambda uow, keys=keys: uow.sign_ins.charge(keys, start, (start, start), start))
    assert failure_rows(services) == 80
    clock.now = start + FAILURE_WINDOW + timedelta(seconds=1)
    assert isinstance(sign_in(service, "wrong", client_id="made-up-again"), NotAuthenticated)
    assert failure_rows(services) == 3  # the old ones went as the new failure's three keys were recorded


def test_a_client_id_the_database_cannot_hold_is_refused_as_unknown_and_counted(
    two_processes: tuple[Services, Services], clock: MovableClock
) -> None:
    service = AuthService(two_processes[0].database, clock=clock)
    for made_up in ("a\x00b", "x" * 300):
        for _ in range(FAILURES_PER_CLIENT_AND_SOURCE):
            assert isinstance(sign_in(service, "wrong", client_id=made_up, source=made_up), NotAuthenticated)
        assert isinstance(sign_in(service, "wrong", client_id=made_up, source=made_up), TooManyAttempts)


def test_a_sign_in_reads_its_credential_and_its_keys_failures_in_one_round_trip(
    pg_url: str, clock: MovableClock
) -> None:
    url = sa.make_url(pg_url)
    proxy = FreezableProxy(url.port or 5432)
    database = SqlDatabase(str(url.set(host="127.0.0.1", port=proxy.port)), write_timeout=10, writers=1)
    sign_ins = SignIns(database, clock)

    async def check(client_id: str) -> SignIn:
        return await sign_ins.check(client_id, SOURCE)

    try:
        asyncio.run(check("made-up"))  # connected
        before = proxy.settled()
        checked = asyncio.run(check(CLIENT))
        waits = proxy.answers - before
    finally:
        database.close()
        proxy.close()
    assert waits == 1
    assert checked.credential is not None and checked.credential.partner_id == "demo-reseller-1"


def last_signed_in(services: Services, client_id: str = CLIENT) -> Any:
    (credential,) = [c for c in services.partners.list_credentials() if c.client_id == client_id]
    return credential.last_signed_in_at


def test_a_credentials_last_sign_in_is_the_latest_of_every_process_and_a_wrong_secret_is_none(
    two_processes: tuple[Services, Services], clock: MovableClock
) -> None:
    a, b = (AuthService(services.database, clock=clock) for services in two_processes)
    assert last_signed_in(two_processes[0]) is None
    assert isinstance(sign_in(a, "wrong-secret"), NotAuthenticated)
    assert last_signed_in(two_processes[0]) is None

    assert isinstance(sign_in(a, SECRET), TokenPair)
    first = clock.now
    assert last_signed_in(two_processes[1]) == first
    clock.now += timedelta(seconds=5)
    assert isinstance(sign_in(b, SECRET, source="198.51.100.7"), TokenPair)  # a source not known yet
    assert last_signed_in(two_processes[0]) == first + timedelta(seconds=5)
    # Another host's clock a little behind leaves the later sign-in.
    behind = AuthService(two_processes[0].database, clock=lambda: first - timedelta(seconds=30))
    assert isinstance(sign_in(behind, SECRET), TokenPair)
    assert last_signed_in(two_processes[1]) == first + timedelta(seconds=5)


def test_sign_ins_of_one_credential_at_two_processes_at_once_all_succeed_and_record_one_of_them(
    two_processes: tuple[Services, Services], clock: MovableClock
) -> None:
    a, b = (AuthService(services.database, clock=clock) for services in two_processes)

    def burst(service: AuthService, source: str) -> Any:
        async def sign_ins() -> list[Any]:
            tries = (service.issue_token(CLIENT, SECRET, source=f"{source}.{n}") for n in range(MAX_CONCURRENT_HASHES))
            return await asyncio.gather(*tries, return_exceptions=True)

        return sign_ins

    answers = [answer for each in race(burst(a, "192.0.2"), burst(b, "198.51.100")) for answer in each]
    assert all(isinstance(answer, TokenPair) for answer in answers), answers
    assert last_signed_in(two_processes[0]) == clock.now
