"""How an operator names one of a partner's end customers, for the commands that act on their personal data
on request (`orderhub customer erase`, `orderhub customer export`): one lookup, so that each command finds
the same customer and refuses a wrong name in the same words."""

from __future__ import annotations

from dataclasses import dataclass

from orderhub.domain.customers import Customer, Identity
from orderhub.domain.errors import InvalidInput
from orderhub.services.partners import existing_partner
from orderhub.services.ports import UnitOfWork


@dataclass(frozen=True)
class CustomerKey:
    """How the operator names the customer: by exactly one of these."""

    email: str | None = None
    identity: Identity | None = None
    customer_id: str | None = None


def named_customer(uow: UnitOfWork, partner_id: str, key: CustomerKey) -> Customer:
    """The partner's customer ``key`` names; InvalidInput when there is no such partner or customer.

    The partner is read only to say that it is not there: a customer found is one of its own (a retention
    run names thousands, and the partner's row cost a fifth of each one's erasure)."""
    given = [value for value in (key.email, key.identity, key.customer_id) if value is not None]
    if len(given) != 1:
        existing_partner(uow, partner_id)
        raise InvalidInput("name the customer by exactly one of e-mail, identity or id", field="customer")
    if key.email is not None:
        found = uow.partners.find_customer([partner_id], key.email)
        named = "that e-mail (an erased customer's is gone: name them by --id)"
    elif key.identity is not None:
        found = uow.partners.find_customer_by_identity([partner_id], key.identity)
        named = f"that identity ({key.identity.kind}; an erased customer's is gone: name them by --id)"
    else:
        assert key.customer_id is not None
        found = uow.partners.get_customer(key.customer_id)
        found = found if found is not None and found.partner_id == partner_id else None
        named = f"id {key.customer_id}"
    if found is None:
        existing_partner(uow, partner_id)
        raise InvalidInput(f"partner {partner_id} has no customer of {named}", field="customer")
    return found
