"""A partner's order listing (TMF622 GET /productOrder; `orderhub order list --partner`) is answered from
an index, whatever other partners have stored: on SQLite a read runs on the event loop, so a listing that
read every order stalled every request for as long (0.8 s with a million orders stored)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services, build_services
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Operation, Subject, SubjectKind
from orderhub.services.records import OrderQuery
from orderhub.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'listing.db'}"))
    built.migrate()
    yield built
    built.close()


def plans_of_search(services: Services, query: OrderQuery) -> list[str]:
    """SQLite's plan for each statement the order search runs."""
    statements: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    sa.event.listen(services.engine, "before_cursor_execute", remember)
    try:
        with services.uow_factory(read_only=True) as uow:
            uow.orders.search(query, 0, 20)
    finally:
        sa.event.remove(services.engine, "before_cursor_execute", remember)
    listing = [(sql, params) for sql, params in statements if "FROM orders" in sql]
    assert len(listing) == 2, statements  # the count, then the page
    with services.engine.connect() as connection:
        return [
            " / ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in listing
        ]


@pytest.mark.parametrize(
    "query",
    [
        # TMF622's listing: the caller's partners, its operation.
        OrderQuery(partner_ids=frozenset({"shop"}), operations=(Operation.LINE_PRODUCTS,)),
        OrderQuery(
            partner_ids=frozenset({"shop"}),
            operations=(Operation.LINE_PRODUCTS,),
            states=frozenset({OrderState.FAILED}),
        ),
        # `orderhub order list --partner shop`: any operation.
        OrderQuery(partner_ids=frozenset({"shop"}), operations=None),
    ],
)
def test_a_partners_listing_reads_the_partners_index_not_every_order(services: Services, query: OrderQuery) -> None:
    count, page = plans_of_search(services, query)

    assert "INDEX ix_orders_partner_listing (partner_id=?" in count
    assert "INDEX ix_orders_partner_listing (partner_id=?" in page
    assert "SCAN orders" not in count + page


def test_the_tmf622_listing_is_counted_from_the_index_alone(services: Services) -> None:
    count, _page = plans_of_search(
        services, OrderQuery(partner_ids=frozenset({"shop"}), operations=(Operation.LINE_PRODUCTS,))
    )

    assert "USING COVERING INDEX ix_orders_partner_listing" in count


CORRELATION_ID = frozenset({"case-4711"})
SINCE = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "query",
    [
        # `orderhub order list --correlation-id case-4711`, alone and with each other option.
        OrderQuery(partner_ids=None, operations=None, correlation_ids=CORRELATION_ID),
        OrderQuery(partner_ids=frozenset({"shop"}), operations=None, correlation_ids=CORRELATION_ID),
        OrderQuery(partner_ids=None, operations=None, states=frozenset({OrderState.COMPLETED}),
                   correlation_ids=CORRELATION_ID),
        OrderQuery(partner_ids=None, operations=None, dialects=frozenset({"tmf622"}), correlation_ids=CORRELATION_ID),
        OrderQuery(partner_ids=None, operations=None, subject=Subject(SubjectKind.LINE, "line-1"),
                   correlation_ids=CORRELATION_ID),
        OrderQuery(partner_ids=None, operations=None, created_from=SINCE, created_before=SINCE + timedelta(days=1),
                   correlation_ids=CORRELATION_ID),
        # All of them at once.
        OrderQuery(partner_ids=frozenset({"shop"}), operations=None, states=frozenset(OrderState),
                   dialects=frozenset({"tmf622"}), subject=Subject(SubjectKind.LINE, "line-1"), created_from=SINCE,
                   created_before=SINCE + timedelta(days=1), correlation_ids=CORRELATION_ID),
    ],
)  # fmt: skip
def test_a_correlation_ids_orders_are_read_through_its_index_whatever_else_is_asked(
    services: Services, query: OrderQuery
) -> None:
    """Without statistics SQLite took the index of a state or a subject as narrower, and read every order
    in that state (all completed orders, for `--state completed`) to find the request's one or two."""
    count, page = plans_of_search(services, query)

    assert "USING INDEX ix_orders_correlation_id (correlation_id=?)" in count
    assert "USING INDEX ix_orders_correlation_id (correlation_id=?)" in page
    assert "SCAN orders" not in count + page


EXTERNAL_ID = frozenset({"PO-2026-0001"})


@pytest.mark.parametrize(
    "query",
    [
        # TMF622's listing with `externalId=`, alone and with a state; `orderhub order list --external-id`.
        OrderQuery(partner_ids=frozenset({"shop"}), operations=(Operation.LINE_PRODUCTS,), external_ids=EXTERNAL_ID),
        OrderQuery(partner_ids=frozenset({"shop"}), operations=(Operation.LINE_PRODUCTS,),
                   states=frozenset({OrderState.COMPLETED}), external_ids=EXTERNAL_ID | {"PO-2026-0002"}),
        OrderQuery(partner_ids=None, operations=None, external_ids=EXTERNAL_ID),
    ],
)  # fmt: skip
def test_an_external_ids_orders_are_read_through_its_index(services: Services, query: OrderQuery) -> None:
    """The partner's listing index matches three of the query's columns, and SQLite took it for narrower:
    a partner with a million orders had each read for the one it named."""
    count, page = plans_of_search(services, query)

    assert "USING INDEX ix_orders_external_id (<expr>=?)" in count
    assert "USING INDEX ix_orders_external_id (<expr>=?)" in page
    assert "SCAN orders" not in count + page
