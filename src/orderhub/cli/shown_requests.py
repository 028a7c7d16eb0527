"""A stored request as `orderhub order show` shows it: what the partner sent, with the customer's identity
data masked as the customer line masks the record's.

The logs' masking (observability.mask) knows e-mails and Swedish and Danish identity numbers by their
form; a passport number, a foreign id or a phone number has no form of its own. Two things tell them here:
the order's customer record (its e-mail and identity number, looked for wherever the request holds them,
as an erasure looks for them: domain.erasure.Mentions), and the names of the fields an API gives its
customer's identity and contact numbers (onapi-order's customerDetails). Names and the invoice address
stay, as the customer line shows the name.
"""

from __future__ import annotations

from typing import Any

from orderhub.domain.customers import Customer
from orderhub.domain.erasure import Mentions
from orderhub.observability import is_uuid, mask, mask_identity

# Fields whose value identifies the customer by its name, wherever they stand: masked whole.
IDENTIFYING_FIELDS = frozenset({"personalIdentityNumber", "customerPhone", "customerMobilePhone", "customerEmail"})


def masked_value(text: str) -> str:
    """A value as the customer line shows the record's: an e-mail by its first letter and its domain, any
    other (an identity number, a phone number) by its last two characters."""
    if "@" in text:
        masked = mask(text)
        if masked != text:
            return masked
    return mask_identity(text)  # an e-mail the pattern does not take (no domain) is masked all the same


def shown_request(request: Any, customer: Customer | None) -> Any:
    """``request`` with the customer's e-mail and identity number masked wherever they stand, the values of
    IDENTIFYING_FIELDS masked, and any other text as the logs show it (e-mails, identity numbers)."""
    own = [customer.email, customer.identity.number if customer.identity else None] if customer else []
    return _shown(request, Mentions(value for value in own if value))


def shown_correlation_id(cid: str, customer: Customer | None) -> str:
    """The partner's X-Correlation-ID of the order: a UUID as it is (as the logs show it: an operator looks
    for it there), anything else as the request's text (a partner may put the customer's e-mail or
    passport number in it)."""
    return cid if is_uuid(cid) else str(shown_request(cid, customer))


def _shown(value: Any, mentions: Mentions) -> Any:
    if isinstance(value, dict):
        return {
            name: masked_value(str(item))
            if name in IDENTIFYING_FIELDS and item is not None and not isinstance(item, bool | dict | list)
            else _shown(item, mentions)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [_shown(item, mentions) for item in value]
    if isinstance(value, str):
        return mask(mentions.masked_in(value, masked_value))
    return value
