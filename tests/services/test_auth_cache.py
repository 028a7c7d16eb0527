"""The credential caches when the configuration moves while a request is being checked: what was read
under the old configuration is never kept for the new one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderhub.services import auth
from orderhub.services.auth import AuthService

LATER = datetime.now(UTC) + timedelta(hours=1)


class GatedDatabase:
    """A store whose config version the test moves, and whose reads each wait for their own gate."""

    def __init__(self) -> None:
        self.version = 1
        self.gates: list[asyncio.Event] = []

    async def config_version(self) -> int:
        return self.version

    def config_version_at_hand(self) -> int | None:
        return None

    async def read(self, work: Any) -> Any:
        result = work(None)
        gate = asyncio.Event()
        self.gates.append(gate)
        await gate.wait()
        return result


def test_a_token_read_before_the_configuration_moved_is_not_kept_for_the_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded = iter(["read under version 1", "read under version 2"])
    monkeypatch.setattr(auth, "_load_token", lambda _uow, _hash: auth._CachedToken(next(loaded), LATER))  # type: ignore[arg-type]

    async def scenario() -> list[object]:
        db = GatedDatabase()
        service = AuthService(db)  # type: ignore[arg-type]
        first = asyncio.ensure_future(service.authenticate("token"))
        await asyncio.sleep(0)  # the first request's read is under way
        db.version = 2  # a credential changed meanwhile
        second = asyncio.ensure_future(service.authenticate("token"))
        await asyncio.sleep(0)
        db.gates[1].set()
        answers = [await second]
        db.gates[0].set()
        answers.append(await first)
        answers.append(await service.authenticate("token"))  # the next request, under version 2
        return answers

    assert asyncio.run(asyncio.wait_for(scenario(), 5)) == [
        "read under version 2",
        "read under version 1",
        "read under version 2",
    ]


def test_a_client_verified_before_the_configuration_moved_is_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> list[object]:
        db = GatedDatabase()
        service = AuthService(db)  # type: ignore[arg-type]
        gates = {1: asyncio.Event(), 2: asyncio.Event()}

        async def verify(_client_id: str, _secret: str, _source: str | None) -> str:
            version = db.version
            await gates[version].wait()
            return f"verified under version {version}"

        monkeypatch.setattr(service, "_verify", verify)
        first = asyncio.ensure_future(service.verify_client("client", "secret"))
        for _ in range(3):
            await asyncio.sleep(0)  # the first verification is under way
        db.version = 2
        # Arrives while the first verification runs, but under the new configuration: not shared.
        second = asyncio.ensure_future(service.verify_client("client", "secret"))
        await asyncio.sleep(0)
        gates[2].set()
        answers = [await second]
        gates[1].set()
        answers.append(await first)
        answers.append(await service.verify_client("client", "secret"))
        return answers

    assert asyncio.run(asyncio.wait_for(scenario(), 5)) == [
        "verified under version 2",
        "verified under version 1",
        "verified under version 2",
    ]
