"""Failed sign-ins counted in the real store when the wall clock steps (an NTP step on a VM): a step back
does not stretch a lockout by its length, and another host's clock ahead by less than the tolerated skew
still counts. Runs on
SQLite, and on PostgreSQL with ORDERHUB_TEST_POSTGRES."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from orderhub.bootstrap import Services
from orderhub.domain.errors import NotAuthenticated, TooManyAttempts
from orderhub.services.auth import AuthService, TokenPair
from orderhub.services.clock import CLOCK_SKEW_TOLERATED
from orderhub.services.sign_ins import FAILURES_PER_CLIENT_AND_SOURCE
from tests.clocks import MovableClock
from tests.integration.support import demo_services

pytestmark = pytest.mark.integration

CLIENT, SECRET = "demo-reseller-1", "demo-reseller-1-secret"
SOURCE = "203.0.113.9"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with demo_services(tmp_path / "sign-ins.db", inventory_size=5) as built:
        yield built


def sign_in(service: AuthService, secret: str) -> Any:
    try:
        return asyncio.run(service.issue_token(CLIENT, secret, source=SOURCE))
    except (NotAuthenticated, TooManyAttempts) as exc:
        return exc


def lock_out(service: AuthService) -> None:
    for attempt in range(FAILURES_PER_CLIENT_AND_SOURCE):
        assert isinstance(sign_in(service, f"wrong-{attempt}"), NotAuthenticated), attempt
    assert isinstance(sign_in(service, SECRET), TooManyAttempts)


def test_a_clock_stepped_back_an_hour_does_not_keep_a_lockout_for_that_hour(services: Services) -> None:
    clock = MovableClock()
    service = AuthService(services.database, clock=clock)
    lock_out(service)
    clock.now -= timedelta(hours=1)
    # The failures now lie an hour in the future: they counted for the minute they were meant to, no more.
    assert isinstance(sign_in(service, SECRET), TokenPair)


@pytest.mark.parametrize("seconds_ahead", [3, 55])
def test_failures_stamped_by_a_host_ahead_within_the_tolerated_skew_still_lock_out(
    services: Services, seconds_ahead: int
) -> None:
    """README: hosts' clocks agree to within a minute. Failures one host stamped that far ahead lock the
    client id out at the others too (they were ignored past 5 s: a guesser alternating hosts got more)."""
    ahead, behind = MovableClock(), MovableClock()
    ahead.now = behind.now + timedelta(seconds=seconds_ahead)
    lock_out(AuthService(services.database, clock=ahead))
    refused = sign_in(AuthService(services.database, clock=behind), SECRET)
    assert isinstance(refused, TooManyAttempts)
    assert 60 + seconds_ahead <= refused.retry_after <= 61 + seconds_ahead


def test_failures_stamped_further_ahead_than_the_tolerated_skew_do_not_count(services: Services) -> None:
    ahead, behind = MovableClock(), MovableClock()
    ahead.now = behind.now + CLOCK_SKEW_TOLERATED + timedelta(seconds=5)
    lock_out(AuthService(services.database, clock=ahead))
    assert isinstance(sign_in(AuthService(services.database, clock=behind), SECRET), TokenPair)
