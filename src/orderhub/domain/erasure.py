"""Erasing a customer's personal data on request (GDPR art. 17) from what their orders keep.

An order keeps what the partner sent (``Order.request``), which each API echoes back. Erased, the fields
that held the customer's data keep their place and type, holding the marker ``erased``: every API's
answer keeps its documented shape, and a reader sees that something was there. Where in a request the
customer stands is each API's to say (the dialects' ``erasure`` modules); what they found there, and what
the customer record held, is then looked for in the rest of the request (a note that names the customer,
a field the API does not know but kept as sent).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

from orderhub.domain.customers import Customer
from orderhub.domain.orders import Order

ERASED = "erased"
# The order's history says that, and when, without the data.
ERASURE_REASON = "the customer's personal data was erased on request (GDPR art. 17)"


def erased(value: Any, keep: Collection[str] = (), found: list[str] | None = None) -> Any:
    """``value`` with every text and number in it replaced by ``ERASED``, but for the members named in
    ``keep`` (at any depth); objects and lists keep their shape, true, false and null stay. ``found``
    collects what was replaced, as text: to look for it elsewhere (Mentions)."""
    if isinstance(value, dict):
        return {name: item if name in keep else erased(item, keep, found) for name, item in value.items()}
    if isinstance(value, list):
        return [erased(item, keep, found) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if found is not None:
        found.append(str(value))
    return ERASED


class Mentions:
    """The customer's data as it may stand elsewhere in a request: each value distinctive enough that a
    text holding it speaks of the customer (an e-mail, a name of two words or more, a number of six digits
    or more: a phone, an identity number), in any case. A first name or a city alone would take texts
    that speak of something else, and stay where the API does not put them in the customer's place."""

    def __init__(self, values: Iterable[str]) -> None:
        given = {value.strip() for value in values if value.strip() and value.strip() != ERASED}
        distinctive = sorted((value for value in given if _distinctive(value)), key=len, reverse=True)
        self._values = sorted({value.casefold() for value in distinctive})
        # For masked_in: where in a text they stand (the longest first, so one inside another goes whole),
        # and the values themselves, the short ones too, to know a text that is one of them whole.
        self._where = re.compile("|".join(map(re.escape, distinctive)), re.IGNORECASE) if distinctive else None
        self._whole = {value.casefold() for value in given}

    def __bool__(self) -> bool:
        return bool(self._values)

    def holds(self, text: str) -> bool:
        """Whether ``text`` holds one of the values: speaks of the customer."""
        folded = text.casefold()
        return any(known in folded for known in self._values)

    def masked_in(self, value: Any, shown: Callable[[str], str]) -> Any:
        """``value`` with each of the values in its texts shown as ``shown`` shows it (masked, for the
        operator's eyes), the rest of the text kept; a text that is one of them whole, however short (a
        party's id that is the customer's passport number), too. Names of members are left alone."""
        if isinstance(value, dict):
            return {name: self.masked_in(item, shown) for name, item in value.items()}
        if isinstance(value, list):
            return [self.masked_in(item, shown) for item in value]
        if not isinstance(value, str):
            return value
        if value.strip().casefold() in self._whole:
            return shown(value.strip())
        if self._where is None or not self.holds(value):
            return value
        masked = self._where.sub(lambda found: shown(found.group()), value)
        # casefold found it where IGNORECASE does not (a German sharp s against ss): the whole text is shown so.
        return masked if masked != value else shown(value)

    def erase_in(self, value: Any) -> Any:
        """``value`` with each text that holds one of the values replaced by ``ERASED`` (names of members
        are left alone: they are the API's, not the partner's)."""
        if isinstance(value, dict):
            return {name: self.erase_in(item) for name, item in value.items()}
        if isinstance(value, list):
            return [self.erase_in(item) for item in value]
        if isinstance(value, str):
            return ERASED if self.holds(value) else value
        return value


def _distinctive(text: str) -> bool:
    if len(text) < 5 or text == ERASED:
        return False
    return "@" in text or len(text.split()) >= 2 or sum(character.isdigit() for character in text) >= 6


ERASED_ID_PREFIX = "erased-"


def id_eraser() -> Callable[[str], str]:
    """What takes the place of an id a partner sent that held the customer's data (a correlation id, an
    idempotency key): ``erased-`` and a hash of it, so ids that were different stay different (an
    idempotency key is unique per partner and key). The hash is keyed with a secret made for this one
    erasure and then forgotten: a plain hash of an e-mail would tell anyone who guesses the e-mail that
    it was there. 128 bits: no two of a partner's keys meet by chance."""
    key = secrets.token_bytes(32)

    def erased_id(value: str) -> str:
        return ERASED_ID_PREFIX + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]

    return erased_id


def customer_values(customer: Customer) -> list[str]:
    """What the customer record holds that a request may hold too."""
    values = [customer.email, customer.name, customer.identity.number if customer.identity else None]
    return [value for value in values if value]


def note_erasure(order: Order, request: dict[str, Any], now: datetime) -> None:
    """The order keeps ``request`` in place of what the partner sent, and its history a note of it: an
    event that changes no state (listeners hear of it; the order's dates stay as they were)."""
    order.request = request
    order.note(ERASURE_REASON, now)
