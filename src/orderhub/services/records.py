"""Records the store hands back that are not domain objects: credentials, tokens, idempotency keys and
eSIM profiles as stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orderhub.domain.esim import ProfileState


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
