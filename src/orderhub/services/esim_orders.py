"""The eSIM operations' intake (NEW_ESIM, TOPUP): their rules on stored data, and the customer."""

from __future__ import annotations

from datetime import datetime

from orderhub.domain.customers import Customer, email_key
from orderhub.domain.esim import EsimOrderRequest, check_products_sold, check_topup, validate_esim_order
from orderhub.domain.identifiers import new_id
from orderhub.domain.orders import Operation, OrderItem, Subject, SubjectKind
from orderhub.domain.partners import Principal
from orderhub.services.order_commands import NewOrder
from orderhub.services.ports import UnitOfWork
from orderhub.services.provisioning import EsimReadings


class EsimIntake:
    def validate(self, principal: Principal, request: EsimOrderRequest, now: datetime) -> None:
        validate_esim_order(request, now=now, supported_currencies=principal.partner.currencies)

    def prepare(self, uow: UnitOfWork, principal: Principal, request: EsimOrderRequest, now: datetime) -> NewOrder:
        partner = principal.partner
        # A partner's products exist in the catalog (a foreign key says so) and are never deleted.
        check_products_sold(request, partner.product_ids, principal.other_kind_products)
        subject = None
        customer_id: str | None = None
        if request.operation is Operation.TOPUP:
            assert request.iccid is not None
            # A top-up may target any customer the caller can see (an account manager: its resellers').
            # Top-ups racing for the last subscriptions of one eSIM are counted one after the other.
            uow.profiles.lock(request.iccid)
            profile = uow.profiles.get(request.iccid)
            # The eSIM's own customer, when the caller may see it and the e-mail is theirs: an account
            # manager's resellers may each have a customer with the same e-mail.
            owned = profile.customer_id if profile else None
            owner = uow.partners.get_customer(owned, for_order=True) if owned else None
            if owner is not None and (
                owner.email is None
                or email_key(owner.email) != email_key(request.customer_email)
                or not principal.can_see(owner.partner_id)
            ):
                owner = None
            customer = owner or uow.partners.find_customer(
                principal.visible_partner_ids, request.customer_email, for_order=True
            )
            check_topup(
                request,
                customer_found=customer is not None,
                profile_owned_by_customer=owner is not None,
                active_subscriptions=uow.subscriptions.count_unexpired(request.iccid, now),
                pending_subscriptions=uow.orders.count_open_items_on(
                    Subject(SubjectKind.ESIM, request.iccid), Operation.TOPUP
                ),
            )
            subject = Subject(SubjectKind.ESIM, request.iccid)
            customer_id = customer.id if customer is not None else None
        if customer_id is None:
            # Stored at once; when the partner has a customer of that e-mail already (placed before, or
            # by another process a moment ago), the insert's conflict finds that one. So a new customer,
            # the usual case of a NEW_ESIM, costs one statement, not a look-up and then an insert.
            customer_id = uow.partners.add_customer(
                Customer(
                    id=new_id(),
                    partner_id=partner.id,
                    email=request.customer_email,
                    country_of_residence=request.country_of_residence,
                    created_at=now,
                )
            )
        items = [
            OrderItem(
                seq=seq,
                product_id=s.product_id,
                price=s.price,
                currency=s.currency,
                activation_at=s.activation_at,
            )
            for seq, s in enumerate(request.subscriptions, start=1)
        ]
        known = principal.product_validity_days
        readings = (
            EsimReadings({item.product_id: known[item.product_id] for item in items})
            if all(item.product_id in known for item in items)
            else None
        )
        return NewOrder(items=items, subject=subject, customer_id=customer_id, readings=readings)
