"""Order numbers (ORD-YYYYMMDDHHMMSS-NNNN, tmf-productorder and TMF622) are never given twice, also when
the wall clock goes back (an NTP step, a VM resumed, a clock set right by hand) past the minute of
counters the store keeps. On a real database: SQLite, or PostgreSQL with ORDERHUB_TEST_POSTGRES."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orderhub.bootstrap import Services
from orderhub.domain.lines import LineItemRequest, LineOrderRequest, PlanType
from orderhub.services.auth import principal_of
from orderhub.services.intakes import default_intakes
from orderhub.services.order_commands import PlaceOrder
from orderhub.services.ordering import OrderingService
from tests.databases import drop_created
from tests.integration.support import demo_services

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with demo_services(tmp_path / "numbers.db", inventory_size=1, fulfil_inline=False) as built:
        yield built
    drop_created()


def place_at(services: Services, moment: datetime) -> str:
    """A tmf-productorder Addon on the demo's line, placed when the clock says ``moment``; its number."""
    ordering = OrderingService(services.database, default_intakes(), clock=lambda: moment)
    with services.uow_factory(read_only=True) as uow:
        channel = principal_of(uow, "demo-channel-1")
    request = LineOrderRequest("CR", "69877689", (LineItemRequest("OFFER-DP-001", PlanType.ADDON),))
    command = PlaceOrder(request, {"n": uuid.uuid4().hex}, "tmf-productorder", numbered=True, scope="CR")
    placed = asyncio.run(ordering.place(channel, command))
    assert placed.reference is not None
    return placed.reference


def test_a_clock_gone_back_numbers_no_order_again(services: Services) -> None:
    before = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    first = [place_at(services, before), place_at(services, before)]
    later = [place_at(services, before + timedelta(minutes=2))]  # the counters of `before` are dropped then
    # The clock is set back two minutes, to the second the first orders were numbered in.
    after_the_step = [place_at(services, before), place_at(services, before + timedelta(seconds=1))]

    numbers = first + later + after_the_step
    assert len(set(numbers)) == len(numbers), numbers
    # Numbered on from the latest second used until the clock passes it again, not in a second used before.
    assert after_the_step == [later[0][:-4] + "0002", later[0][:-4] + "0003"]


def test_orders_are_numbered_in_their_own_second_while_the_clock_moves_on(services: Services) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    seconds = (0, 0, 1, 61, 61)
    numbers = [place_at(services, start + timedelta(seconds=second)) for second in seconds]
    stamps = [f"ORD-{start + timedelta(seconds=second):%Y%m%d%H%M%S}" for second in seconds]
    assert numbers == [f"{stamp}-{n:04d}" for stamp, n in zip(stamps, (1, 2, 1, 1, 2), strict=True)]
