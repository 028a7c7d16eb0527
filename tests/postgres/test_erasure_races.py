"""A customer erased (`orderhub customer erase`) while an order for them is being taken: the order either
came first (the erasure waits for it and finds it) or makes a new customer; it is never stored for the
customer just erased, with the personal data its request holds.

The order found the customer before the erasure committed and stored itself for them after (its foreign
key waited for the erasure's lock, and found the row still there): an order of an erased customer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from orderhub.bootstrap import Services
from orderhub.domain.customers import PERSONAL_IDENTITY_NUMBER, CustomerDetails, Identity
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.order_commands import PlacedOrder
from tests.postgres.test_access_state_races import ATTEMPTS, CommittedUnderALockWait, placing

# What the erasure does to the customer's row (store.erasure_repository): its lock, then its NULLs.
ERASURE = [
    ("SELECT 1 FROM customers WHERE id = %s FOR UPDATE", ()),
    (
        "UPDATE customers SET email = NULL, name = NULL, identity_type = NULL, identity_value = NULL,"
        " country_of_residence = NULL, erased_at = now() AT TIME ZONE 'UTC' WHERE id = %s",
        (),
    ),
]


def customer_of(services: Services, order_id: str) -> str | None:
    with services.uow_factory(read_only=True) as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        return order.customer_id


def test_an_order_taken_while_its_customer_is_erased_is_not_stored_for_the_erased_customer(
    pg_services: Services, pg_url: str
) -> None:
    services = pg_services
    for _ in range(ATTEMPTS):
        person = CustomerDetails(Identity(PERSONAL_IDENTITY_NUMBER, f"19{uuid.uuid4().int % 10**10:010d}"), "A B")
        first_access, second_access = (f"erase-{uuid.uuid4().hex[:12]}" for _ in range(2))
        for ref in (first_access, second_access):
            AccessAdmin(services.uow_factory).add_access(ref)
        # Activated at once: the customer's only order is final, so the erasure may run.
        first = placing(services, first_access, datetime.now(UTC), person)()
        assert isinstance(first, PlacedOrder)
        erased = customer_of(services, first.order_id)
        assert erased is not None
        erasure = CommittedUnderALockWait(pg_url, [(sql, (erased,)) for sql, _ in ERASURE])
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        seen, second = erasure.around(placing(services, second_access, tomorrow, person))
        if seen:
            break
    else:
        raise AssertionError("the order never waited for the erasure")
    assert isinstance(second, PlacedOrder), second
    assert customer_of(services, second.order_id) not in (None, erased)
