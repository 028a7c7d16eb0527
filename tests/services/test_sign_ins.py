"""Failed sign-ins counted in the store (services.sign_ins), against an in-memory unit of work: what
one AuthService records, another one on the same store (another process, a restart) finds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from orderhub.domain.errors import NotAuthenticated, TooManyAttempts
from orderhub.domain.partners import Partner, Principal, Role
from orderhub.services import auth
from orderhub.services.auth import AuthService
from orderhub.services.ports import Database
from orderhub.services.records import StoredCredential
from orderhub.services.sign_ins import (
    FAILURES_PER_CLIENT_AND_SOURCE,
    FAILURES_PER_SOURCE,
    failure_key,
    pair_key,
)
from tests.clocks import MovableClock
from tests.services.fakes import FakeUnitOfWork

START = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
CLIENT = "channel-1"
RIGHT = "right-secret"
STORED = "stored-hash"


class StoreDatabase:
    """Runs each read and write on one in-memory unit of work, counting them."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.reads = 0
        self.writes = 0

    async def config_version(self) -> int:
        return 1

    def config_version_at_hand(self) -> int | None:
        return None

    async def read(self, work: Callable[[Any], Any]) -> Any:
        self.reads += 1
        return work(self.uow.as_port())

    async def read_statement(self, work: Callable[[Any], Any]) -> Any:
        return await self.read(work)

    async def write(self, work: Callable[[Any], Any]) -> Any:
        self.writes += 1
        return work(self.uow.as_port())

    async def write_statement(self, work: Callable[[Any], Any]) -> Any:
        return await self.write(work)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The secrets checked by the (slow) hash, in order; the right one matches only the stored hash."""
    checked: list[str] = []

    def verify(secret: str, stored: str) -> bool:
        checked.append(secret)
        return secret == RIGHT and stored == STORED

    monkeypatch.setattr(auth, "verify_secret", verify)
    return checked


def store() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    for index, client_id in enumerate((CLIENT, "channel-2")):
        partner = Partner(f"partner-{index}", "Channel", frozenset({Role.BUSINESS_CHANNEL}), frozenset({"USD"}))
        uow.partners.partners[partner.id] = partner
        uow.sign_ins.credentials[client_id] = StoredCredential(client_id, partner.id, STORED, START, None)
    return uow


def service(uow: FakeUnitOfWork, clock: MovableClock) -> tuple[AuthService, StoreDatabase]:
    db = StoreDatabase(uow)
    return AuthService(cast(Database, db), clock=clock), db


def run(call: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(call)


def verify(service: AuthService, secret: str, *, client_id: str = CLIENT, source: str | None = None) -> Any:
    try:
        return run(service.verify_client(client_id, secret, source=source))
    except (NotAuthenticated, TooManyAttempts) as exc:
        return exc


def test_failures_of_a_client_id_at_a_source_lock_it_out_there_for_every_service_on_the_store_until_the_window_passes(
    hashes: list[str],
) -> None:
    uow, clock = store(), MovableClock(START)
    first, first_db = service(uow, clock)
    second, _ = service(uow, clock)
    for attempt in range(FAILURES_PER_CLIENT_AND_SOURCE):
        clock.now = START + timedelta(seconds=attempt)
        on = first if attempt % 2 else second  # spread over two processes
        assert isinstance(verify(on, "wrong"), NotAuthenticated)
    # Two keys a failure, no source given: the client id with no source, and the client id.
    assert len(uow.sign_ins.failures) == 2 * FAILURES_PER_CLIENT_AND_SOURCE
    # Each check was one read (the credential and the counts together), each failure one write.
    half = FAILURES_PER_CLIENT_AND_SOURCE // 2
    assert (first_db.reads, first_db.writes) == (half, half)
    clock.now = START + timedelta(seconds=20)
    hashed = len(hashes)
    for locked_out in (first, second, service(uow, clock)[0]):  # the third: a restart
        refused = verify(locked_out, RIGHT)
        assert isinstance(refused, TooManyAttempts)
        assert refused.retry_after == 40  # when the oldest failure leaves the minute
    assert len(hashes) == hashed, "a locked-out client id costs no hash"
    # The partner's other client id is not locked out, nor is this one at a source known.
    assert isinstance(verify(first, RIGHT, client_id="channel-2"), Principal)
    assert isinstance(verify(service(uow, clock)[0], RIGHT, source="198.51.100.7"), Principal)
    # The minute slides: once the oldest failure is out of it, one more try is let in.
    clock.now = START + timedelta(seconds=60)
    assert isinstance(verify(second, RIGHT), Principal)
    assert hashes[-1] == RIGHT


def test_a_burst_of_guesses_sent_at_once_gets_the_limit_and_no_hash_more(hashes: list[str]) -> None:
    """Every guess of the burst passes the read before any has failed; each is charged before its hash
    and hashes only if the count read back is within the limit."""
    uow, clock = store(), MovableClock(START)
    auth_service, _ = service(uow, clock)

    async def burst() -> list[Any]:
        guesses = (auth_service.verify_client(CLIENT, f"guess-{n}", source="203.0.113.9") for n in range(40))
        return await asyncio.gather(*guesses, return_exceptions=True)

    answers = run(burst())
    failed = [a for a in answers if isinstance(a, NotAuthenticated)]
    refused = [a for a in answers if isinstance(a, TooManyAttempts)]
    assert len(failed) == FAILURES_PER_CLIENT_AND_SOURCE
    assert len(refused) == 40 - len(failed) and all(a.retry_after == 60 for a in refused)
    assert len(hashes) == len(failed)
    assert len(uow.sign_ins.failures) == 3 * len(failed)  # the client id's at the source, the source's, its own
    assert isinstance(verify(auth_service, RIGHT, source="203.0.113.9"), TooManyAttempts)


def test_a_source_is_locked_out_across_client_ids_and_other_sources_are_not(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock(START)
    auth_service, _ = service(uow, clock)
    for index in range(FAILURES_PER_SOURCE):
        refused = verify(auth_service, "wrong", client_id=f"made-up-{index}", source="203.0.113.9")
        assert isinstance(refused, NotAuthenticated)
    assert isinstance(verify(auth_service, RIGHT, source="203.0.113.9"), TooManyAttempts)
    assert isinstance(verify(auth_service, RIGHT, source="198.51.100.7"), Principal)


def test_a_failure_recorded_purges_what_left_the_window(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock(START)
    auth_service, _ = service(uow, clock)
    for index in range(5):
        verify(auth_service, "wrong", client_id=f"made-up-{index}", source=f"192.0.2.{index}")
    assert len(uow.sign_ins.failures) == 15
    clock.now = START + timedelta(seconds=61)
    verify(auth_service, "wrong")
    assert uow.sign_ins.failures == [(pair_key(CLIENT, None), clock.now), (failure_key("client", CLIENT), clock.now)]


def test_a_client_id_is_counted_as_itself_when_short_and_printable_else_as_its_digest() -> None:
    assert failure_key("client", "demo-channel-1") == "client:demo-channel-1"
    assert failure_key("source", "2001:db8::1") == "source:2001:db8::1"
    made_up = ["x" * 65, "a\x00b", "line\nbreak", "\udcff", "é" * 64 + "!", "sha256:" + "0" * 64]
    keys = [failure_key("client", value) for value in made_up]
    assert all(key.startswith("client:sha256:") and len(key) <= 80 for key in keys)
    assert len(set(keys)) == len(made_up)
    assert failure_key("client", "é" * 64) == "client:" + "é" * 64


def bursts(
    services: list[AuthService], guesses: int, *, client_id: Callable[[int], str], source: Callable[[int], str]
) -> list[Any]:
    """``guesses`` wrong secrets sent at once, spread over ``services`` (processes on one store) in turn."""

    async def all_at_once() -> list[Any]:
        tries = (
            services[n % len(services)].verify_client(client_id(n), f"guess-{n}", source=source(n))
            for n in range(guesses)
        )
        return await asyncio.gather(*tries, return_exceptions=True)

    answers: list[Any] = run(all_at_once())
    assert all(isinstance(answer, NotAuthenticated | TooManyAttempts) for answer in answers)
    return answers


def test_a_burst_spread_over_processes_hashes_no_more_guesses_than_the_limit_in_all(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock(START)
    processes = [service(uow, clock)[0] for _ in range(4)]
    answers = bursts(processes, 60, client_id=lambda _n: CLIENT, source=lambda _n: "203.0.113.9")
    assert len(hashes) == FAILURES_PER_CLIENT_AND_SOURCE
    assert sum(isinstance(answer, NotAuthenticated) for answer in answers) == FAILURES_PER_CLIENT_AND_SOURCE
    clock.now = START + timedelta(seconds=59)
    for process in processes:
        refused = verify(process, RIGHT, source="203.0.113.9")
        assert isinstance(refused, TooManyAttempts) and refused.retry_after == 1
    clock.now = START + timedelta(seconds=60)
    assert isinstance(verify(processes[0], RIGHT, source="203.0.113.9"), Principal)


def test_a_source_guessing_many_client_ids_over_processes_at_once_is_held_to_its_limit(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock(START)
    processes = [service(uow, clock)[0] for _ in range(3)]
    bursts(processes, 90, client_id=lambda n: f"made-up-{n}", source=lambda _n: "203.0.113.9")
    assert len(hashes) == FAILURES_PER_SOURCE
    assert isinstance(verify(processes[1], RIGHT, source="203.0.113.9"), TooManyAttempts)
    assert isinstance(verify(processes[1], RIGHT, source="198.51.100.7"), Principal)


def test_each_attempt_is_charged_before_its_hash_and_a_right_secret_takes_its_charge_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uow, clock = store(), MovableClock(START)
    charged_while_hashed: list[int] = []

    def verify_secret(secret: str, stored: str) -> bool:
        charged_while_hashed.append(len(uow.sign_ins.failures))
        return secret == RIGHT and stored == STORED

    monkeypatch.setattr(auth, "verify_secret", verify_secret)
    # Every sign-in on its own service: each hashes (a service trusts a pair it checked for a while).
    limit = FAILURES_PER_CLIENT_AND_SOURCE
    for attempt in range(limit + 1):
        clock.now = START + timedelta(seconds=attempt)
        assert isinstance(verify(service(uow, clock)[0], RIGHT), Principal), attempt
    # Its own charge, only that: a row for each of its 2 keys, then, its source known after the first
    # sign-in, for the client id at the source alone (the client id's own count is not charged there).
    assert charged_while_hashed == [2] + [1] * limit
    assert uow.sign_ins.failures == []
    # Sequential failures as ever: the limit's worth, each charged before its hash, then 429 without one.
    first = START + timedelta(seconds=20)
    for attempt in range(limit):
        clock.now = first + timedelta(seconds=attempt)
        assert isinstance(verify(service(uow, clock)[0], "wrong"), NotAuthenticated), attempt
    assert charged_while_hashed[-limit:] == list(range(1, limit + 1))
    clock.now = first + timedelta(seconds=15)
    hashed = len(charged_while_hashed)
    refused = verify(service(uow, clock)[0], RIGHT)
    assert isinstance(refused, TooManyAttempts) and refused.retry_after == 45
    assert len(charged_while_hashed) == hashed and len(uow.sign_ins.failures) == limit
    clock.now = first + timedelta(seconds=60)  # the oldest failure has left the window
    assert isinstance(verify(service(uow, clock)[0], RIGHT), Principal)
