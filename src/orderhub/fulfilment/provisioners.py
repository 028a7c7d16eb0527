"""Provisioners turn an accepted order into lines and subscriptions.

Each runs inside the unit of work that also completes the order, and is idempotent: run again for
the same order it finds what it made before instead of making it twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderhub.domain.esim import Subscription, subscription_period
from orderhub.domain.identifiers import ActivationCode, new_id
from orderhub.domain.orders import Operation, Order
from orderhub.services.ports import UnitOfWork
from orderhub.services.provisioning import NotProvisioned, Outcome, Provisioned, Provisioner


def _subscribe(uow: UnitOfWork, order: Order, iccid: str, now: datetime) -> list[Subscription]:
    # Subscriptions are written in the same transaction that completes the order, so an order has
    # either all of them (a re-run finds them) or none.
    existing = uow.subscriptions.of_order(order.id)
    if existing:
        return existing
    validity = uow.catalog.validity_days(item.product_id for item in order.items)
    made = []
    for item in order.items:
        starts_at, ends_at = subscription_period(item.activation_at, validity.get(item.product_id), now)
        subscription = Subscription(
            id=new_id(),
            iccid=iccid,
            order_id=order.id,
            product_id=item.product_id,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        uow.subscriptions.add(subscription, item.seq, now)
        made.append(subscription)
    return made


def _subscription_fields(subscriptions: list[Subscription]) -> dict[str, Any]:
    fields: dict[str, Any] = {"subscription_id": subscriptions[0].id}
    if len(subscriptions) > 1:
        fields["subscription_ids"] = [s.id for s in subscriptions]
    return fields


class NewEsimProvisioner:
    """Hands an inventory profile to the order and starts its subscriptions."""

    runs_inline = True

    def provision(self, uow: UnitOfWork, order: Order, now: datetime) -> Outcome:
        profile = uow.profiles.assigned_to(order.id) or uow.profiles.claim_available(order.id, order.customer_id, now)
        if profile is None:
            return NotProvisioned("no eSIM profile available in inventory")
        code = ActivationCode(profile.smdp_address, profile.matching_id)
        subscriptions = _subscribe(uow, order, profile.iccid, now)
        order.target_iccid = profile.iccid
        return Provisioned(
            {
                "iccid": profile.iccid,
                "matchingId": profile.matching_id,
                "smdpUrl": profile.smdp_address,
                "lpa_url": code.lpa_string,
                **_subscription_fields(subscriptions),
            }
        )


class TopUpProvisioner:
    """Adds subscriptions to the customer's existing eSIM; no new profile, so no matching ID."""

    runs_inline = True

    def provision(self, uow: UnitOfWork, order: Order, now: datetime) -> Outcome:
        assert order.target_iccid is not None
        profile = uow.profiles.get(order.target_iccid)
        if profile is None:
            return NotProvisioned(f"eSIM {order.target_iccid} no longer exists")
        subscriptions = _subscribe(uow, order, profile.iccid, now)
        return Provisioned(
            {"iccid": profile.iccid, "smdpUrl": profile.smdp_address, **_subscription_fields(subscriptions)}
        )


def default_provisioners() -> dict[Operation, Provisioner]:
    return {Operation.NEW_ESIM: NewEsimProvisioner(), Operation.TOPUP: TopUpProvisioner()}
