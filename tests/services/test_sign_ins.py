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
from orderhub.services.sign_ins import FAILURES_PER_CLIENT, FAILURES_PER_SOURCE, failure_key
from tests.services.fakes import FakeUnitOfWork

START = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
CLIENT = "channel-1"
RIGHT = "right-secret"
STORED = "stored-hash"


class MovableClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


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


def test_failures_of_a_client_id_lock_it_out_for_every_service_on_the_store_until_the_window_passes(
    hashes: list[str],
) -> None:
    uow, clock = store(), MovableClock()
    first, first_db = service(uow, clock)
    second, _ = service(uow, clock)
    for attempt in range(FAILURES_PER_CLIENT):
        clock.now = START + timedelta(seconds=attempt)
        on = first if attempt % 2 else second  # spread over two processes
        assert isinstance(verify(on, "wrong"), NotAuthenticated)
    assert len(uow.sign_ins.failures) == FAILURES_PER_CLIENT  # one key a failure: no source given
    # Each check was one read (the credential and the counts together), each failure one write.
    assert (first_db.reads, first_db.writes) == (FAILURES_PER_CLIENT // 2, FAILURES_PER_CLIENT // 2)
    clock.now = START + timedelta(seconds=20)
    hashed = len(hashes)
    for locked_out in (first, second, service(uow, clock)[0]):  # the third: a restart
        refused = verify(locked_out, RIGHT)
        assert isinstance(refused, TooManyAttempts)
        assert refused.retry_after == 40  # when the oldest failure leaves the minute
    assert len(hashes) == hashed, "a locked-out client id costs no hash"
    # The partner's other client id is not locked out.
    assert isinstance(verify(first, RIGHT, client_id="channel-2"), Principal)
    # The minute slides: once the oldest failure is out of it, one more try is let in.
    clock.now = START + timedelta(seconds=60)
    assert isinstance(verify(second, RIGHT), Principal)
    assert hashes[-1] == RIGHT


def test_a_burst_of_guesses_sent_at_once_gets_the_limit_and_at_most_one_hash_more(hashes: list[str]) -> None:
    """Every guess of the burst passes the read before any has failed; each is checked again right
    before its hash against the failures recorded since."""
    uow, clock = store(), MovableClock()
    auth_service, _ = service(uow, clock)

    async def burst() -> list[Any]:
        guesses = (auth_service.verify_client(CLIENT, f"guess-{n}", source="203.0.113.9") for n in range(40))
        return await asyncio.gather(*guesses, return_exceptions=True)

    answers = run(burst())
    failed = [a for a in answers if isinstance(a, NotAuthenticated)]
    refused = [a for a in answers if isinstance(a, TooManyAttempts)]
    assert FAILURES_PER_CLIENT <= len(failed) <= FAILURES_PER_CLIENT + auth.MAX_CONCURRENT_HASHES - 1
    assert len(refused) == 40 - len(failed) and all(a.retry_after == 60 for a in refused)
    assert len(hashes) == len(failed)
    assert len(uow.sign_ins.failures) == 2 * len(failed)  # the client id's and the source's
    # Nothing of the burst is kept in the process once it is over: the store holds the count.
    assert auth_service._sign_ins._under_way == {}
    assert isinstance(verify(auth_service, RIGHT), TooManyAttempts)


def test_a_source_is_locked_out_across_client_ids_and_other_sources_are_not(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock()
    auth_service, _ = service(uow, clock)
    for index in range(FAILURES_PER_SOURCE):
        refused = verify(auth_service, "wrong", client_id=f"made-up-{index}", source="203.0.113.9")
        assert isinstance(refused, NotAuthenticated)
    assert isinstance(verify(auth_service, RIGHT, source="203.0.113.9"), TooManyAttempts)
    assert isinstance(verify(auth_service, RIGHT, source="198.51.100.7"), Principal)


def test_a_failure_recorded_purges_what_left_the_window(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock()
    auth_service, _ = service(uow, clock)
    for index in range(5):
        verify(auth_service, "wrong", client_id=f"made-up-{index}", source=f"192.0.2.{index}")
    assert len(uow.sign_ins.failures) == 10
    clock.now = START + timedelta(seconds=61)
    verify(auth_service, "wrong")
    assert uow.sign_ins.failures == [(failure_key("client", CLIENT), clock.now)]


def test_a_client_id_is_counted_as_itself_when_short_and_printable_else_as_its_digest() -> None:
    assert failure_key("client", "demo-channel-1") == "client:demo-channel-1"
    assert failure_key("source", "2001:db8::1") == "source:2001:db8::1"
    made_up = ["x" * 65, "a\x00b", "line\nbreak", "\udcff", "é" * 64 + "!", "sha256:" + "0" * 64]
    keys = [failure_key("client", value) for value in made_up]
    assert all(key.startswith("client:sha256:") and len(key) <= 80 for key in keys)
    assert len(set(keys)) == len(made_up)
    assert failure_key("client", "é" * 64) == "client:" + "é" * 64
