"""The SP's set-up of network orders (onapi-order): the offerings of its products, which
communication operator may order which, and its accesses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from orderhub.domain.accesses import ONAPI_ID, Access, AccessService, AccessState, NetworkOffering
from orderhub.domain.catalog import NOT_ONE_LINE, Product, ProductKind, has_control_characters
from orderhub.domain.errors import InvalidInput
from orderhub.domain.identifiers import new_id
from orderhub.domain.partners import ACCESS_ORDERING_ROLES
from orderhub.services.catalog import CatalogService
from orderhub.services.clock import Clock, utc_now
from orderhub.services.partners import existing_partner
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class NetworkOfferingRemoval:
    """What ``access remove-offering`` did."""

    # The offering as it was; None when there was no such offering.
    removed: NetworkOffering | None
    # The communication operators that were allowed to order it: no longer.
    disallowed: list[str] = field(default_factory=list)
    # Orders accepted and not final yet that hold it (ids): they fail when provisioned.
    open_orders: list[str] = field(default_factory=list)


class AccessAdmin:
    """The SP's set-up: offerings of its products, which CO may order which, and its accesses."""

    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def add_product(self, product_id: str, name: str, *, description: str = "", prices: dict | None = None) -> bool:
        """A product of the network (kind network_service) COs order as one of its offerings; an existing
        one is updated. True when it was created."""
        if not ONAPI_ID.match(product_id):
            raise InvalidInput(f"product id {product_id!r} must be 1-36 characters of A-Z, a-z, 0-9, '-', '.'")
        product = Product(product_id, name, ProductKind.NETWORK_SERVICE, description, prices=dict(prices or {}))
        return CatalogService(self._uow, self._clock).add_product(product)

    def add_offerings(self, offerings: Iterable[NetworkOffering]) -> None:
        """New offerings, all or none; one that exists already is refused (the demo's catalog)."""
        with self._uow() as uow:
            known = {(o.product_id, o.offering_id) for o in uow.accesses.all_offerings()}
            for offering in offerings:
                _check_offering(uow, offering)
                if (offering.product_id, offering.offering_id) in known:
                    raise InvalidInput(
                        f"offering {offering.product_id}/{offering.offering_id} exists already", field="offering"
                    )
                uow.accesses.put_offering(offering)
                known.add((offering.product_id, offering.offering_id))
            uow.commit()

    def add_offering(self, offering: NetworkOffering) -> NetworkOffering | None:
        """An offering of a network product; one with the same product and offering id takes the new
        name, as add_product updates a product (a typo in a name COs list is corrected in place, and a
        set-up script can run again). The offering as it stood before, None when it is new. Servers read
        offerings from the store at each request: COs list the new name at once."""
        pair = (offering.product_id, offering.offering_id)
        with self._uow() as uow:
            _check_offering(uow, offering)
            previous = next((o for o in uow.accesses.all_offerings() if (o.product_id, o.offering_id) == pair), None)
            uow.accesses.put_offering(offering)
            uow.commit()
        return previous

    def remove_offering(self, product_id: str, offering_id: str) -> NetworkOfferingRemoval:
        """Stop selling an offering of a network product. New orders for it are refused from the next one
        on, as for an unknown offering (each order reads the offerings in its own transaction). Every
        communication operator's grant of it goes with it, so re-adding it later grants it to no one
        until partner set-offerings does. Services running on accesses stay. Orders accepted and not
        final yet keep their place: they fail when provisioned (the provisioner refuses an offering no
        longer sold) and are named so the operator can tell the CO. Removing what is not there changes
        nothing."""
        with self._uow() as uow:
            if uow.catalog.get(product_id) is None:
                raise InvalidInput(f"no product {product_id}", field="product")
            pair = (product_id, offering_id)
            removed = next((o for o in uow.accesses.all_offerings() if (o.product_id, o.offering_id) == pair), None)
            if removed is None:
                return NetworkOfferingRemoval(None)
            allowed = uow.accesses.partners_allowed(product_id, offering_id)
            open_orders = uow.accesses.open_orders_of_offering(product_id, offering_id)
            if not uow.accesses.remove_offering(product_id, offering_id):
                return NetworkOfferingRemoval(None)  # another operator's removal came first
            uow.partners.bump_config_version()
            uow.commit()
        return NetworkOfferingRemoval(removed, allowed, open_orders)

    def offerings(self) -> list[NetworkOffering]:
        with self._uow(read_only=True) as uow:
            return uow.accesses.all_offerings()

    def allow(self, partner_id: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Replace the offerings (product, offering) a communication operator may order."""
        pairs = frozenset(pairs)
        with self._uow() as uow:
            partner = existing_partner(uow, partner_id)
            if not partner.roles & ACCESS_ORDERING_ROLES:
                # onapi-order refuses any other role (403): the offerings would grant it nothing.
                raise InvalidInput(
                    f"partner {partner_id} is not a COMMUNICATION_OPERATOR: only communication operators order"
                    " on accesses",
                    field="offerings",
                )
            # Named here, all at once: the database's foreign key would refuse the first one, nameless.
            unknown = sorted(pairs - {(o.product_id, o.offering_id) for o in uow.accesses.all_offerings()})
            if unknown:
                raise InvalidInput(f"unknown offerings: {', '.join(f'{p}/{o}' for p, o in unknown)}", field="offerings")
            uow.accesses.set_partner_offerings(partner_id, pairs)
            uow.partners.bump_config_version()
            uow.commit()

    def add_access(self, ref: str, *, blocked: bool = False, active: Iterable[tuple[str, str]] = ()) -> Access:
        """An access of the network; ``active``: (product, offering) services already running on it."""
        if not ONAPI_ID.match(ref):
            # onapi-order's coAccessId is ^[-0-9a-zA-Z.]{1,36}$: any other id could never be ordered on.
            raise InvalidInput(f"access id {ref!r} must be 1-36 characters of A-Z, a-z, 0-9, '-', '.'", field="ref")
        now = self._clock()
        services = list(active)
        state = AccessState.BLOCKED if blocked else (AccessState.ACTIVE if services else AccessState.FREE)
        access = Access(new_id(), ref, state)
        with self._uow() as uow:
            if uow.accesses.by_ref(ref) is not None:
                raise InvalidInput(f"access {ref} exists already", field="ref")
            uow.accesses.add(access, now)
            for product_id, offering_id in services:
                uow.accesses.add_service(
                    AccessService(new_id(), access.id, None, None, product_id, offering_id, now), now
                )
            uow.commit()
        return access

    def set_state(self, ref: str, state: AccessState) -> None:
        with self._uow() as uow:
            access = uow.accesses.by_ref(ref)
            if access is None:
                raise InvalidInput(f"no access {ref}", field="ref")
            uow.accesses.set_state(access.id, state, self._clock())
            uow.commit()


def _check_offering(uow: UnitOfWork, offering: NetworkOffering) -> None:
    """Each problem of an offering on its own: the product, the ids, the name."""
    product = uow.catalog.get(offering.product_id)
    if product is None:
        raise InvalidInput(
            f"no product {offering.product_id}: create it first (orderhub access add-product "
            f"{offering.product_id} --name ...)",
            field="product",
        )
    if product.kind is not ProductKind.NETWORK_SERVICE:
        raise InvalidInput(f"product {product.id} is a {product.kind} product, not a network service", field="product")
    if not ONAPI_ID.match(offering.offering_id):
        raise InvalidInput(
            f"offering id {offering.offering_id!r} must be 1-36 characters of A-Z, a-z, 0-9, '-', '.'", field="offering"
        )
    if not offering.name.strip() or len(offering.name) > 200:
        raise InvalidInput("name must be 1-200 characters", field="name")
    if has_control_characters(offering.name):
        raise InvalidInput(NOT_ONE_LINE, field="name")
