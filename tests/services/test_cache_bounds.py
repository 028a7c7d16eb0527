"""Every cache a process keeps for as long as it runs has a bound, whatever the number of distinct keys
clients send over months: access tokens and verified client secrets (services.auth), business units
(services.line_orders), SQLite's instant texts (store.fastsql), the rate limiter's buckets (one per
partner that sent; services.rate_limits). The rendered orders: tests/unit/test_rendered_orders.py."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from orderhub.domain.errors import AccessDenied
from orderhub.services import auth, line_orders
from orderhub.services.auth import AuthService
from orderhub.services.line_orders import LineService
from orderhub.services.ports import Database
from orderhub.services.rate_limits import RateLimiter
from orderhub.store import fastsql
from tests.services.fakes import FakeUnitOfWork
from tests.services.test_intakes import CHANNEL, CR
from tests.services.test_line_service import CountingDatabase

LATER = datetime.now(UTC) + timedelta(hours=1)
BOUND = 50


class StillDatabase:
    """A store whose configuration never moves: only the caches' own bounds can empty them."""

    async def config_version(self) -> int:
        return 1

    def config_version_at_hand(self) -> int | None:
        return None

    async def read(self, work: Any) -> Any:
        return work(None)


def test_access_tokens_and_verified_clients_are_kept_up_to_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "MAX_CACHED_TOKENS", BOUND)
    monkeypatch.setattr(auth, "_load_token", lambda _uow, token_hash: auth._CachedToken(token_hash, LATER))  # type: ignore[arg-type]
    service = AuthService(cast(Database, StillDatabase()))

    async def verify(client_id: str, _secret: str, _source: str | None) -> str:
        return client_id

    monkeypatch.setattr(service, "_verify", verify)

    async def many_distinct_callers() -> list[int]:
        sizes = []
        for number in range(10 * BOUND):
            await service.authenticate(f"token-{number}")
            await service.verify_client(f"client-{number}", "secret")
            sizes.append(len(service._cache) + len(service._verified) + len(service._verifying))
        return sizes

    sizes = asyncio.run(many_distinct_callers())
    assert max(sizes) <= BOUND + 2  # started again once past the bound (the bound, and the pair that passed it)


def test_business_units_are_kept_up_to_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_orders, "MAX_CACHED_UNITS", BOUND)
    uow = FakeUnitOfWork()
    for number in range(10 * BOUND):
        uow.lines.units[f"U{number}"] = replace(CR, id=f"U{number}", name=f"Unit {number}")
    lines = LineService(cast(Database, CountingDatabase(uow)))
    sizes = []
    for number in range(10 * BOUND):
        with pytest.raises(AccessDenied):  # read (and kept), then refused: the channel sells in CR only
            asyncio.run(lines.business_unit(CHANNEL, f"U{number}"))
        sizes.append(len(lines._units))
    assert max(sizes) <= BOUND


def test_instant_texts_are_kept_up_to_the_bound() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    texts = [fastsql.FastSql.time(cast(Any, _SqliteStub()), start + timedelta(seconds=n)) for n in range(5_000)]
    assert texts[1] == "2030-01-01 00:00:01.000000"
    assert len(fastsql._texts) <= fastsql._MAX_TEXTS


class _SqliteStub:
    _sqlite = True


def test_the_rate_limiter_keeps_one_bucket_a_partner() -> None:
    limiter = RateLimiter()
    for _ in range(3):
        for partner in range(BOUND):
            limiter.retry_after(f"partner-{partner}", 600)
    assert len(limiter._buckets) == BOUND
