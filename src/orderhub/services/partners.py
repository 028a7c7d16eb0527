"""Operator use cases: partners and their credentials."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from orderhub.domain.errors import InvalidInput
from orderhub.domain.partners import LINE_ORDERING_ROLES, Partner
from orderhub.services.auth import hash_secret
from orderhub.services.clock import Clock, utc_now
from orderhub.services.partner_rules import (
    check_partner,
    check_rate_limit,
    check_references,
    co_id_taken,
    currency_set,
    not_a_business_channel,
    refuse_unknown_products,
    refuse_unknown_units,
    refuse_what_its_roles_cannot_use,
    role_set,
)
from orderhub.services.ports import DuplicateKey, UnitOfWork, UnitOfWorkFactory
from orderhub.services.records import StoredCredential

_PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}\Z")


@dataclass(frozen=True)
class IssuedCredential:
    partner_id: str
    client_id: str
    # Shown to the operator once; only its hash is kept.
    client_secret: str


@dataclass(frozen=True)
class PartnerEntry:
    """A partner as the operator lists it."""

    partner: Partner
    # The client ids of its live credentials.
    client_ids: list[str]
    # The (product, offering) pairs it may order on accesses (partner set-offerings).
    offerings: list[tuple[str, str]]


@dataclass(frozen=True)
class PartnerChange:
    """A partner as it was and as it is after ``partner update``."""

    before: Partner
    after: Partner
    # Each currency it was given in which some of its products have no price (product ids): esim-v1
    # lists those products without a price in it. A reminder, not a refusal: prices are the products'.
    unpriced: dict[str, list[str]] = field(default_factory=dict)


class PartnerAdmin:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def create_partner(
        self,
        partner_id: str,
        *,
        name: str,
        roles: Iterable[str],
        currencies: Iterable[str],
        product_ids: Iterable[str] = (),
        manager_id: str | None = None,
        business_unit_ids: Iterable[str] = (),
        co_id: str | None = None,
        language: str = "en",
        rate_limit_per_minute: int | None = None,
    ) -> Partner:
        if not _PARTNER_ID.match(partner_id):
            raise InvalidInput("partner id must be 2-63 characters of a-z, 0-9 and '-'", field="id")
        partner = Partner(
            id=partner_id,
            name=name,
            roles=role_set(roles),
            currencies=currency_set(currencies),
            product_ids=frozenset(product_ids),
            manager_id=manager_id,
            business_unit_ids=frozenset(business_unit_ids),
            co_id=co_id,
            language=language,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        check_partner(partner)
        # Checked where it is set (here and set_rate_limit), not with every change: a partner given a
        # limit above today's range by an earlier version keeps it while its name or roles change.
        check_rate_limit(rate_limit_per_minute)
        with self._uow() as uow:
            if uow.partners.get(partner_id) is not None:
                raise InvalidInput(f"partner {partner_id} already exists", field="id")
            check_references(uow, partner)
            refuse_unknown_products(uow, partner.product_ids)
            refuse_unknown_units(uow, partner.business_unit_ids)
            uow.partners.add(partner, self._clock())
            uow.commit()
        return partner

    def update_partner(
        self,
        partner_id: str,
        *,
        name: str | None = None,
        currencies: Iterable[str] | None = None,
        language: str | None = None,
        co_id: str | None = None,
        manager_id: str | None = None,
        clear_co_id: bool = False,
        clear_manager: bool = False,
    ) -> PartnerChange:
        """Change what ``partner create`` set (None: kept; ``currencies`` replaces the set; ``clear_…``:
        none from now on), checked as create checks it. The partner keeps its id, so its orders, customers
        and credentials stay its own. The config version moves, so running servers use the change from
        the partner's next request on: a currency dropped refuses esim-v1 orders priced in it from then
        on; orders placed before keep the price and currency they were placed with."""
        if co_id is not None and clear_co_id:
            raise InvalidInput("give --co-id or --no-co-id, not both", field="co_id")
        if manager_id is not None and clear_manager:
            raise InvalidInput("give --manager or --no-manager, not both", field="manager")
        with self._uow() as uow:
            before = existing_partner(uow, partner_id)
            after = replace(
                before,
                name=before.name if name is None else name,
                currencies=before.currencies if currencies is None else currency_set(currencies),
                language=before.language if language is None else language,
                co_id=None if clear_co_id else before.co_id if co_id is None else co_id,
                manager_id=None if clear_manager else before.manager_id if manager_id is None else manager_id,
            )
            added = after.currencies - before.currencies
            products = uow.catalog.get_many(after.product_ids) if added else []
            unpriced = {c: sorted(p.id for p in products if c not in p.prices) for c in sorted(added)}
            self._store_change(uow, before, after)
        return PartnerChange(before, after, {c: ids for c, ids in unpriced.items() if ids})

    def set_roles(self, partner_id: str, roles: Iterable[str]) -> PartnerChange:
        """Replace the partner's roles. Refused while it holds what a role it would lose uses (business
        units, a coId, network offerings, partners it manages), naming the command that removes it
        first; then checked as create checks a partner. Its esim-v1 catalog is kept (only esim-v1's roles
        read it). The config version moves, so a token issued before is served with the new roles from
        its next request on."""
        new_roles = role_set(roles)
        with self._uow() as uow:
            before = existing_partner(uow, partner_id)
            after = replace(before, roles=new_roles)
            refuse_what_its_roles_cannot_use(uow, after)
            self._store_change(uow, before, after)
        return PartnerChange(before, after)

    @staticmethod
    def _store_change(uow: UnitOfWork, before: Partner, after: Partner) -> None:
        """``after`` checked as create checks a partner, stored and committed; nothing when unchanged."""
        check_partner(after)
        check_references(uow, after)
        if after == before:
            return  # nothing to write: running servers keep what they have
        try:
            uow.partners.update(after)
        except DuplicateKey:
            # Another operator gave the coId to another partner after it was looked up above.
            raise co_id_taken(after.co_id) from None
        uow.commit()

    def set_rate_limit(self, partner_id: str, per_minute: int | None) -> None:
        """How many requests a minute the partner may send (None: no limit); applies at once."""
        check_rate_limit(per_minute)
        with self._uow() as uow:
            existing_partner(uow, partner_id)
            uow.partners.set_rate_limit(partner_id, per_minute)
            uow.commit()

    def set_products(self, partner_id: str, product_ids: Iterable[str]) -> None:
        product_ids = frozenset(product_ids)
        with self._uow() as uow:
            existing_partner(uow, partner_id)
            refuse_unknown_products(uow, product_ids)
            uow.partners.set_products(partner_id, product_ids)
            uow.commit()

    def withdraw_product(self, product_id: str) -> list[str]:
        """Takes an eSIM product out of every partner's catalog, so esim-v1 neither lists nor sells it from
        each partner's next request on (the config version moves). The product stays in the catalog (its
        orders refer to it), and orders accepted for it are fulfilled. The partners it was withdrawn
        from; none when no partner sold it."""
        with self._uow() as uow:
            refuse_unknown_products(uow, [product_id])
            withdrawn = []
            for partner_id in uow.partners.list_ids():
                partner = uow.partners.get(partner_id)
                if partner is not None and product_id in partner.product_ids:
                    uow.partners.set_products(partner_id, partner.product_ids - {product_id})
                    withdrawn.append(partner_id)
            uow.commit()
        return withdrawn

    def set_business_units(self, partner_id: str, business_unit_ids: Iterable[str]) -> None:
        """Replace the business units a business channel orders for. The store's config version moves,
        so running servers authorise the channel's next request on the new units."""
        business_unit_ids = frozenset(business_unit_ids)
        with self._uow() as uow:
            partner = existing_partner(uow, partner_id)
            if not partner.roles & LINE_ORDERING_ROLES:
                raise not_a_business_channel(partner_id)
            refuse_unknown_units(uow, business_unit_ids)
            uow.partners.set_business_units(partner_id, business_unit_ids)
            uow.commit()

    def issue_credential(
        self, partner_id: str, *, client_id: str | None = None, client_secret: str | None = None
    ) -> IssuedCredential:
        client_id = client_id or f"{partner_id}-{secrets.token_hex(4)}"
        client_secret = client_secret or secrets.token_urlsafe(32)
        with self._uow() as uow:
            existing_partner(uow, partner_id)
            if uow.partners.has_credential(client_id):
                raise InvalidInput(f"client id {client_id} is taken", field="client_id")
            uow.partners.add_credential(client_id, partner_id, hash_secret(client_secret), self._clock())
            uow.commit()
        return IssuedCredential(partner_id, client_id, client_secret)

    def revoke_credential(self, client_id: str) -> StoredCredential | None:
        """Revoke the credential and every token issued to it: the credential as it was (its last sign-in
        says whether someone still used it); None when it was unknown or revoked already."""
        with self._uow() as uow:
            before = uow.partners.get_credential(client_id)
            revoked = uow.partners.revoke_credential(client_id, self._clock())
            uow.commit()
        return before if revoked else None

    def list_credentials(self, partner_id: str | None = None) -> list[StoredCredential]:
        """Every credential, revoked ones too, by partner and oldest first (of one partner, when named):
        what `orderhub credential list` shows while a partner's secret is rotated."""
        with self._uow(read_only=True) as uow:
            if partner_id is not None:
                existing_partner(uow, partner_id)
            partner_ids = uow.partners.list_ids() if partner_id is None else [partner_id]
            return [credential for each in partner_ids for credential in uow.partners.credentials_of(each)]

    def list_partners(self) -> list[PartnerEntry]:
        """Each partner with the client ids of its live credentials and the network offerings it may order."""
        with self._uow(read_only=True) as uow:
            result = []
            for partner_id in uow.partners.list_ids():
                partner = uow.partners.get(partner_id)
                assert partner is not None
                live = [c.client_id for c in uow.partners.credentials_of(partner_id) if c.revoked_at is None]
                offerings = [(o.product_id, o.offering_id) for o in uow.accesses.offerings_for(partner_id)]
                result.append(PartnerEntry(partner, live, offerings))
            return result


def existing_partner(uow: UnitOfWork, partner_id: str) -> Partner:
    """The partner an operator's command names; refused by name when there is none."""
    partner = uow.partners.get(partner_id)
    if partner is None:
        raise InvalidInput(f"no partner {partner_id}", field="partner")
    return partner
