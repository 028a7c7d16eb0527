"""What a partner must be, whether created or changed (``partner create``, ``update``, ``set-roles``):
each rule in one place, each problem refused on its own, naming what is wrong."""

from __future__ import annotations

from collections.abc import Iterable

from orderhub.domain.accesses import ONAPI_ID
from orderhub.domain.catalog import NOT_ONE_LINE, ProductKind, currency_valid, has_control_characters
from orderhub.domain.errors import InvalidInput
from orderhub.domain.partners import ACCESS_ORDERING_ROLES, LANGUAGES, LINE_ORDERING_ROLES, Partner, Role
from orderhub.services.ports import UnitOfWork


def role_set(roles: Iterable[str]) -> frozenset[Role]:
    """The roles an operator typed (in any case); at least one, each a known one."""
    try:
        parsed = frozenset(Role(role.upper()) for role in roles)
    except ValueError as exc:
        raise InvalidInput(f"unknown role; known: {', '.join(Role)}", field="roles") from exc
    if not parsed:
        raise InvalidInput("a partner needs at least one role", field="roles")
    return parsed


def currency_set(currencies: Iterable[str]) -> frozenset[str]:
    return frozenset(c.upper() for c in currencies)


def check_partner(partner: Partner) -> None:
    """What a partner must be in itself."""
    if not partner.name.strip() or len(partner.name) > 200:
        raise InvalidInput("name must be 1-200 characters", field="name")
    if has_control_characters(partner.name):
        raise InvalidInput(NOT_ONE_LINE, field="name")
    if partner.business_unit_ids and not partner.roles & LINE_ORDERING_ROLES:
        raise not_a_business_channel(partner.id)
    if not partner.currencies:
        raise InvalidInput("a partner needs at least one currency", field="currencies")
    bad = [c for c in partner.currencies if not currency_valid(c)]
    if bad:
        raise InvalidInput(f"not ISO 4217 currency codes: {', '.join(sorted(bad))}", field="currencies")
    if partner.language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(sorted(LANGUAGES))}", field="language")
    if partner.co_id is not None and not ONAPI_ID.match(partner.co_id):
        raise InvalidInput("co id must be 1-36 characters of A-Z, a-z, 0-9, '-', '.'", field="co_id")
    if partner.co_id is not None and not partner.roles & ACCESS_ORDERING_ROLES:
        # onapi-order answers any other role 403: the coId would only keep it from the CO it belongs to.
        raise InvalidInput(
            f"partner {partner.id} is not a COMMUNICATION_OPERATOR: only communication operators have a co id",
            field="co_id",
        )


# Far above what one CO may usefully send, and within the store's 32-bit column on every backend.
MAX_RATE_LIMIT_PER_MINUTE = 1_000_000


def check_rate_limit(per_minute: int | None) -> None:
    """None (no limit) or 1 to MAX_RATE_LIMIT_PER_MINUTE requests a minute."""
    if per_minute is not None and not 1 <= per_minute <= MAX_RATE_LIMIT_PER_MINUTE:
        raise InvalidInput(
            f"the rate limit must be a whole number of requests a minute from 1 to {MAX_RATE_LIMIT_PER_MINUTE}",
            field="rate_limit",
        )


def check_references(uow: UnitOfWork, partner: Partner) -> None:
    """What a partner names in the store: a coId no other partner has, an ACCOUNT_MANAGER."""
    if partner.co_id is not None and uow.partners.co_id_taken(partner.co_id, other_than=partner.id):
        raise co_id_taken(partner.co_id)
    if partner.manager_id is not None:
        if partner.manager_id == partner.id:
            raise InvalidInput(f"partner {partner.id} cannot be its own manager", field="manager")
        manager = uow.partners.get(partner.manager_id)
        if manager is None or Role.ACCOUNT_MANAGER not in manager.roles:
            raise InvalidInput(f"{partner.manager_id} is not an ACCOUNT_MANAGER partner", field="manager")


def refuse_what_its_roles_cannot_use(uow: UnitOfWork, partner: Partner) -> None:
    """A partner given other roles (``set-roles``) may hold what only a role it no longer has uses:
    business units, a coId, network offerings, partners it manages. Each is refused, naming the command
    that takes it away first, rather than dropped without a word: the operator set it, and an order
    accepted on it fails when due once it is gone (fulfilment checks the partner's units and offerings)."""
    partner_id = partner.id
    if partner.business_unit_ids and not partner.roles & LINE_ORDERING_ROLES:
        units = ", ".join(sorted(partner.business_unit_ids))
        remedy = f"remove them first (orderhub partner set-business-units {partner_id} --none)"
        raise _held(partner, f"orders for business units {units}", Role.BUSINESS_CHANNEL, remedy)
    if partner.co_id is not None and not partner.roles & ACCESS_ORDERING_ROLES:
        remedy = f"clear it first (orderhub partner update {partner_id} --no-co-id)"
        raise _held(partner, f"has co id {partner.co_id}", Role.COMMUNICATION_OPERATOR, remedy)
    if not partner.roles & ACCESS_ORDERING_ROLES:
        granted = ", ".join(f"{o.product_id}/{o.offering_id}" for o in uow.accesses.offerings_for(partner_id))
        if granted:
            remedy = f"remove them first (orderhub partner set-offerings {partner_id} --none)"
            raise _held(partner, f"may order offerings {granted}", Role.COMMUNICATION_OPERATOR, remedy)
    if Role.ACCOUNT_MANAGER not in partner.roles:
        managed = sorted(uow.partners.managed_by(partner_id))
        if managed:
            remedy = f"give each another manager or none first (orderhub partner update {managed[0]} --no-manager)"
            raise _held(partner, f"manages {', '.join(managed)}", Role.ACCOUNT_MANAGER, remedy)


def _held(partner: Partner, holding: str, role: Role, remedy: str) -> InvalidInput:
    return InvalidInput(f"partner {partner.id} {holding}, which needs the {role} role: {remedy}", field="roles")


def co_id_taken(co_id: str | None) -> InvalidInput:
    return InvalidInput(f"co id {co_id} belongs to another partner", field="co_id")


def not_a_business_channel(partner_id: str) -> InvalidInput:
    # Units would grant nothing to another role: a refusal tells the operator of the mix-up.
    return InvalidInput(
        f"partner {partner_id} is not a BUSINESS_CHANNEL: only business channels order for business units",
        field="business_units",
    )


def refuse_unknown_products(uow: UnitOfWork, product_ids: Iterable[str]) -> None:
    """A partner's product list is its esim-v1 catalog: each product must exist and be an eSIM data
    product. Line offerings and network products are granted otherwise (business units, set-offerings);
    in this list esim-v1 would list them and fulfil an order for one with an eSIM profile."""
    wanted = set(product_ids)
    kinds = uow.catalog.kinds(wanted)
    unknown = sorted(wanted - set(kinds))
    if unknown:
        raise InvalidInput(f"unknown products: {', '.join(unknown)}", field="products")
    other = sorted(
        f"{product_id} is a {kind} product" for product_id, kind in kinds.items() if kind is not ProductKind.ESIM_DATA
    )
    if other:
        raise InvalidInput(
            f"a partner's product list (its esim-v1 catalog) holds eSIM data products only: {'; '.join(other)}",
            field="products",
        )


def refuse_unknown_units(uow: UnitOfWork, business_unit_ids: Iterable[str]) -> None:
    unknown = sorted(u for u in business_unit_ids if uow.lines.business_unit(u) is None)
    if unknown:
        raise InvalidInput(f"unknown business units: {', '.join(unknown)}", field="business_units")
