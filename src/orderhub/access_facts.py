"""What a request's access line tells beyond the request itself: the partner that sent it and, for an
error answer, the error's code (and the field it names).

Both are learnt deep inside a request (where the caller is authenticated, where a dialect renders its
error), far from where the line is written (web.middleware.record_request). A holder made when the
request starts is put in a ContextVar: what is noted in a child context (a FastAPI dependency run on a
thread, a task the request starts) lands in the same object, which a ContextVar set there would not.
"""

from __future__ import annotations

import contextvars

from orderhub.domain.partners import Principal


class AccessFacts:
    """One request's facts for its access line; each None until learnt. Class attributes for defaults:
    made once a request, a holder without an ``__init__`` costs the least to make."""

    partner: str | None = None
    # The machine code of the error the dialect answered (never its message, which may quote the
    # request's personal data), and the field that error names, if any.
    reason: str | None = None
    field: str | None = None


access_facts: contextvars.ContextVar[AccessFacts | None] = contextvars.ContextVar("access_facts", default=None)


def signed_in(principal: Principal) -> Principal:
    """``principal``, noted as who the current request speaks for (its partner's id, no credential)."""
    facts = access_facts.get()
    if facts is not None:
        facts.partner = principal.partner.id
    return principal


def signed_in_as(partner_id: str) -> str:
    """``partner_id``, noted as the partner the current request speaks for."""
    facts = access_facts.get()
    if facts is not None:
        facts.partner = partner_id
    return partner_id


def note_refusal(reason: str, field: str | None = None) -> None:
    """The error code the current request is answered with, and the field it names. The last one noted
    stands: an error answered instead of another (a 500 for a failure while answering) replaces it."""
    facts = access_facts.get()
    if facts is not None:
        facts.reason = reason
        facts.field = field
