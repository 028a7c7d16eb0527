"""Records the store hands back that are not domain objects (credentials, tokens, idempotency keys,
eSIM profiles as stored), and the queries use cases hand to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orderhub.domain.esim import ProfileState
from orderhub.domain.orders import Operation, OrderState


@dataclass(frozen=True)
class StoredCredential:
    client_id: str
    partner_id: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class StoredToken:
    client_id: str
    kind: str
    expires_at: datetime
    family: str | None = None
    used_at: datetime | None = None


@dataclass(frozen=True)
class StoredIdempotencyKey:
    request_hash: str
    order_id: str


@dataclass(frozen=True)
class StoredProfile:
    iccid: str
    matching_id: str
    smdp_address: str
    state: ProfileState
    order_id: str | None
    customer_id: str | None
    luhn_ok: bool


@dataclass(frozen=True)
class OrderStamp:
    """Whose an order is, and its version (moves with every change an API could show of it)."""

    partner_id: str
    version: int


@dataclass(frozen=True)
class OrderQuery:
    """Which orders a listing wants (all conditions hold); deleted orders are never listed."""

    partner_ids: frozenset[str]
    operations: tuple[Operation, ...]
    states: frozenset[OrderState] | None = None
    reference: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
