"""The business unit a productOrder POST names, read early (before the body) and remembered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

import pytest

from orderhub.domain.errors import AccessDenied, BusinessUnitNotFound
from orderhub.services.line_orders import LineService
from orderhub.services.ports import Database
from tests.services.fakes import FakeUnitOfWork
from tests.services.test_intakes import CHANNEL, CR, RESELLER


class CountingDatabase:
    """Reads run on an in-memory unit of work; the config version is whatever the test sets."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.version = 1
        self.reads = 0

    async def config_version(self) -> int:
        return self.version

    async def read(self, work: Callable[[Any], Any]) -> Any:
        self.reads += 1
        return work(self.uow.as_port())


def service() -> tuple[LineService, CountingDatabase]:
    uow = FakeUnitOfWork()
    uow.lines.units["CR"] = CR
    db = CountingDatabase(uow)
    return LineService(cast(Database, db)), db


def test_a_unit_is_read_once_per_config_version() -> None:
    lines, db = service()
    for _ in range(3):
        assert asyncio.run(lines.business_unit(CHANNEL, "CR")) == CR
    assert db.reads == 1
    # Whatever changed the configuration (a unit added, a partner's units set), it is read again.
    db.uow.lines.units["CR"] = replace(CR, name="Costa Rica (renamed)")
    db.version += 1
    assert asyncio.run(lines.business_unit(CHANNEL, "CR")).name == "Costa Rica (renamed)"
    assert db.reads == 2


def test_an_unknown_unit_is_not_remembered_and_is_found_once_added() -> None:
    lines, db = service()
    for _ in range(2):
        with pytest.raises(BusinessUnitNotFound):
            asyncio.run(lines.business_unit(CHANNEL, "PA"))
    assert db.reads == 2
    db.uow.lines.units["PA"] = replace(CR, id="PA", name="Panama")
    db.version += 1  # adding a unit bumps the version (LineAdmin.add_business_unit)
    assert (
        asyncio.run(
            lines.business_unit(
                replace(CHANNEL, partner=replace(CHANNEL.partner, business_unit_ids=frozenset({"PA"}))), "PA"
            )
        ).id
        == "PA"
    )


def test_a_remembered_unit_is_still_checked_against_each_caller() -> None:
    lines, _ = service()
    assert asyncio.run(lines.business_unit(CHANNEL, "CR")) == CR
    with pytest.raises(AccessDenied):
        asyncio.run(lines.business_unit(RESELLER, "CR"))
