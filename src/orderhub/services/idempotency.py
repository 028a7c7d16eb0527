"""Idempotency keys: what makes two requests the same (their fingerprint), and what a key was used for
before (the first order, or a conflict when it came with another request)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from orderhub.domain.errors import IdempotencyConflict
from orderhub.services.ports import UnitOfWork
from orderhub.services.records import StoredIdempotencyKey


def request_fingerprint(body: Any, scope: str = "") -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    if scope:
        canonical = f"{scope}\n{canonical}"
    return hashlib.sha256(canonical.encode()).hexdigest()


# Each idempotency key of a request, its fingerprint, and its stored use, read when called.
StoredKeys = list[tuple[str, str, Callable[[], StoredIdempotencyKey | None]]]


def look_up(uow: UnitOfWork, partner_id: str, fingerprints: Mapping[str, str]) -> StoredKeys:
    """Asks for each key's stored use; the answers are read by ``first_order`` (see
    ``PartnerRepository.idempotency_key_later``: pipelined, the look-ups cost no round trip of their own)."""
    return [
        (key, fingerprint, uow.partners.idempotency_key_later(partner_id, key))
        for key, fingerprint in fingerprints.items()
    ]


def first_order(stored_keys: StoredKeys, earlier: Mapping[str, str] | None = None) -> str | None:
    """The order a key was used for before with the same request; IdempotencyConflict when any key
    came with another (each key is checked: a dialect's natural key, standing for part of the request,
    may match where the Idempotency-Key, standing for all of it, does not); None for keys never used.
    ``earlier``: a key's fingerprint of the request as an earlier release took it (PlaceOrder.earlier_basis),
    which a use stored then may hold."""
    first = None
    for key, fingerprint, read in stored_keys:
        stored = read()
        if stored is None:
            continue
        if stored.request_hash != fingerprint and (earlier is None or stored.request_hash != earlier.get(key)):
            raise IdempotencyConflict(
                "the idempotency key was already used with a different request", field="idempotency_key", key=key
            )
        first = first or stored.order_id
    return first
