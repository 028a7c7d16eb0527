"""Customers: the end users partners order for.

Each API knows its customers by another key: esim-v1 by e-mail, TMF by the related party's
identification (type and number, e.g. a passport), ON-API by personal identity number. A customer
has at least one of them; identity numbers are personal data, masked in logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from orderhub.domain.identifiers import personal_identity_number

_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@([^@\s\x00-\x1f\x7f]{1,253})")


def email_valid(text: str) -> bool:
    """A mailbox of 1-64 characters, an @ and a domain of at most 253 characters in two or more dot-
    separated labels, each of 1-63 characters (RFC 1035), the last of two or more; characters beyond
    ASCII are allowed (internationalised addresses, RFC 6531)."""
    if len(text) > 320:
        return False
    address = _EMAIL.fullmatch(text)
    if address is None:
        return False
    labels = address.group(1).split(".")
    return len(labels) >= 2 and len(labels[-1]) >= 2 and all(1 <= len(label) <= 63 for label in labels)


def email_key(email: str) -> str:
    """What every spelling of one address shares, and how a customer's e-mail is stored and found:
    ``Jane.Doe@Example.com`` is ``jane.doe@example.com``. Domains ignore case (RFC 5321), and so, in
    practice, do mailboxes; partners' systems change it (a sign-up form keeps it as typed, a CRM
    lower-cases it), and a top-up must still find its customer."""
    return email.lower()


@dataclass(frozen=True)
class Identity:
    """An identification document or number: ``kind`` as the partner names it (Passport, PIN...)."""

    kind: str
    number: str


# ON-API's kind of identity: a Swedish personal identity number, kept in its canonical spelling.
PERSONAL_IDENTITY_NUMBER = "personalIdentityNumber"


def personal_identity(text: str, today: date) -> Identity | None:
    """The identity a Swedish personal identity number names, or None when it is no valid number. A
    customer is kept and found by the number's 12 digits ``YYYYMMDDXXXX`` (identifiers.
    personal_identity_number), whichever of its spellings an order sends: ``121212-1212``,
    ``1212121212``, ``20121212-1212`` and ``201212121212`` are one person. Other kinds of identity (TMF's
    identification types) are kept as the partner spells them."""
    number = personal_identity_number(text, today)
    return None if number is None else Identity(PERSONAL_IDENTITY_NUMBER, number)


@dataclass(frozen=True)
class Customer:
    id: str
    partner_id: str
    email: str | None
    created_at: datetime
    country_of_residence: str | None = None
    name: str | None = None
    identity: Identity | None = None
    # When their personal data was erased on request (services.customer_erasure): the record stays, for
    # the orders that refer to it, with no e-mail, name, identity or country.
    erased_at: datetime | None = None


@dataclass(frozen=True)
class CustomerDetails:
    """Who an order is for, as the partner describes them (before they are a stored customer)."""

    identity: Identity | None = None
    name: str | None = None
    email: str | None = None
