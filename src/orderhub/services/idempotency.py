"""Idempotency keys: what makes two requests the same (their fingerprint), and what a key was used for
before (the first order or the refusal it kept, or a conflict when it came with another request)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from orderhub.domain.errors import BusinessRefusal, IdempotencyConflict, IdempotencyKeysDisagree
from orderhub.services.order_commands import EarlierKey, PlacedOrder
from orderhub.services.ports import Database, DuplicateKey, UnitOfWork
from orderhub.services.records import StoredIdempotencyKey


def request_fingerprint(body: Any, scope: str = "") -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    if scope:
        canonical = f"{scope}\n{canonical}"
    return hashlib.sha256(canonical.encode()).hexdigest()


# Each idempotency key of a request, its fingerprint, and its stored use, read when called.
StoredKeys = list[tuple[str, str, Callable[[], StoredIdempotencyKey | None]]]


def look_up(uow: UnitOfWork, partner_id: str, fingerprints: Mapping[str, str]) -> StoredKeys:
    """Asks for each key's stored use; the answers are read by ``first_use`` (see
    ``PartnerRepository.idempotency_key_later``: pipelined, the look-ups cost no round trip of their own)."""
    return [
        (key, fingerprint, uow.partners.idempotency_key_later(partner_id, key))
        for key, fingerprint in fingerprints.items()
    ]


def first_use(stored_keys: StoredKeys, earlier: Mapping[str, str] | None = None) -> StoredIdempotencyKey | None:
    """The use a key was put to before with the same request (its order, or the refusal it kept);
    IdempotencyConflict when any key came with another (each key is checked: a dialect's natural key,
    standing for part of the request, may match where the Idempotency-Key, standing for all of it, does
    not), IdempotencyKeysDisagree when two keys were used for different orders; None for keys never
    used. ``earlier``: a key's fingerprint of the request as an earlier release took it
    (PlaceOrder.earlier_basis), which a use stored then may hold."""
    first = None
    for key, fingerprint, read in stored_keys:
        stored = read()
        if stored is None:
            continue
        if stored.request_hash != fingerprint and (earlier is None or stored.request_hash != earlier.get(key)):
            raise IdempotencyConflict(
                "the idempotency key was already used with a different request", field="idempotency_key", key=key
            )
        orders = (first.order_id, stored.order_id) if first is not None else (None, None)
        if None not in orders and orders[0] != orders[1]:
            raise IdempotencyKeysDisagree(
                "the idempotency keys of this request were used for different orders", field="idempotency_key", key=key
            )
        # A refusal answers before an order: only a key standing for the whole request keeps one (an
        # order a natural key found came from a request without that key).
        if first is None or (stored.order_id is None and first.order_id is not None):
            first = stored
    return first


def earlier_release_order(
    uow: UnitOfWork, partner_id: str, earlier_keys: Callable[[], tuple[EarlierKey, ...]], scope: str
) -> PlacedOrder | None:
    """The order one of ``earlier_keys`` was stored for by an earlier release, when it was this request
    (its EarlierKey.same_request says so of the request the order keeps), as its replay; None otherwise."""
    for earlier in earlier_keys():
        stored = uow.partners.idempotency_key_later(partner_id, earlier.key)()
        if stored is None or stored.order_id is None:
            continue
        if stored.request_hash != request_fingerprint(earlier.basis, scope):
            continue
        order = uow.orders.get(stored.order_id)
        if order is not None and earlier.same_request(order.request):
            return PlacedOrder(order.id, replayed=True)
    return None


def replayed(first: StoredIdempotencyKey) -> PlacedOrder:
    """The answer the keys' first use got, again: its order, or its refusal raised (BusinessRefusal)."""
    if first.order_id is None:
        code = first.refusal or ""
        raise BusinessRefusal(code, f"refused before: {code}", replayed=True)
    return PlacedOrder(first.order_id, replayed=True)


async def keep_refusal(
    db: Database,
    partner_id: str,
    refused: BusinessRefusal,
    kept: Mapping[str, str],
    earlier: Mapping[str, str],
    now: datetime,
) -> PlacedOrder:
    """Keeps ``refused`` as the answer of the keys ``kept`` (each with its fingerprint) and raises it, in a
    write of its own: the refused one was undone, with whatever the intake wrote before refusing. When
    another request took a key meanwhile, answers as that one's retry (or 409), as if it had come first."""

    def keep(uow: UnitOfWork) -> StoredIdempotencyKey | None:
        first = first_use(look_up(uow, partner_id, kept), earlier)
        if first is None:
            for key, fingerprint in kept.items():
                uow.partners.add_idempotency_key(partner_id, key, fingerprint, None, now, refused.code)
        return first

    try:
        first = await db.write(keep)
    except DuplicateKey:
        # Another process committed a key first (possible on PostgreSQL).
        first = await db.read(lambda uow: first_use(look_up(uow, partner_id, kept), earlier))
        if first is None:
            raise
    if first is None:
        raise refused
    return replayed(first)
