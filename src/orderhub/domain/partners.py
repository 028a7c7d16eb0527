"""Partners (API client accounts), their roles and what they may see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    RESELLER = "RESELLER"
    ACCOUNT_MANAGER = "ACCOUNT_MANAGER"
    # Roles of the dialects to come; a partner holding only these may not use esim-v1.
    BUSINESS_CHANNEL = "BUSINESS_CHANNEL"
    COMMUNICATION_OPERATOR = "COMMUNICATION_OPERATOR"


ESIM_ORDERING_ROLES = frozenset({Role.RESELLER, Role.ACCOUNT_MANAGER})
LINE_ORDERING_ROLES = frozenset({Role.BUSINESS_CHANNEL})
ACCESS_ORDERING_ROLES = frozenset({Role.COMMUNICATION_OPERATOR})
LANGUAGES = frozenset({"en", "sv"})


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    roles: frozenset[Role]
    currencies: frozenset[str]
    product_ids: frozenset[str] = frozenset()
    manager_id: str | None = None
    callback_url: str | None = None
    # The business units whose lines this partner may order for (business channels).
    business_unit_ids: frozenset[str] = frozenset()
    # A communication operator's ON-API id (coId).
    co_id: str | None = None
    # The language of messages its end customers read (ON-API: "en" or "sv").
    language: str = "en"
    # Requests a minute it may send; None: no limit.
    rate_limit_per_minute: int | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: the partner behind a credential, and whose data it may see."""

    partner: Partner
    # The partner itself, plus the resellers it manages when it is an account manager.
    visible_partner_ids: frozenset[str] = field(default_factory=frozenset)
    # The validity (days; None: no end) of each product the partner sells, as the catalog stood when
    # the principal was loaded. Every catalog change moves the store's config version, and a principal
    # is only used while that version stands (services.auth), so an order placed now is made on the
    # catalog as it stood when the order arrived, without asking the catalog again.
    product_validity_days: Mapping[str, int | None] = field(default_factory=dict, compare=False, hash=False)
    # The products of its list that the catalog holds as another kind than an eSIM data product (line
    # offerings, network products): partner commands refuse them, but a list stored before they did
    # may still name one, and esim-v1 must not sell it. Loaded with the validity, as it stood then.
    other_kind_products: frozenset[str] = field(default_factory=frozenset, compare=False, hash=False)

    @property
    def partner_id(self) -> str:
        return self.partner.id

    def has_any_role(self, roles: frozenset[Role]) -> bool:
        return bool(self.partner.roles & roles)

    def can_see(self, partner_id: str) -> bool:
        return partner_id in self.visible_partner_ids
