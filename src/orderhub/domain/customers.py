"""Customers: the end users partners order for.

Each API knows its customers by another key: esim-v1 by e-mail, TMF by the related party's
identification (type and number, e.g. a passport), ON-API by personal identity number. A customer
has at least one of them; identity numbers are personal data, masked in logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}\Z")


def email_valid(text: str) -> bool:
    return len(text) <= 320 and _EMAIL.match(text) is not None


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


@dataclass(frozen=True)
class Customer:
    id: str
    partner_id: str
    email: str | None
    created_at: datetime
    country_of_residence: str | None = None
    name: str | None = None
    identity: Identity | None = None


@dataclass(frozen=True)
class CustomerDetails:
    """Who an order is for, as the partner describes them (before they are a stored customer)."""

    identity: Identity | None = None
    name: str | None = None
    email: str | None = None
