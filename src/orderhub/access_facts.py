"""What a request's access line tells beyond the request itself: the partner that sent it and, for an
error answer, the error's code (and the field it names).

Both are learnt deep inside a request (where the caller is authenticated, where a dialect renders its
error), far from where the line is written (web.middleware.record_request). A holder made when the
request starts is put in a ContextVar: what is noted in a child context (a FastAPI dependency run on a
thread, a task the request starts) lands in the same object, which a ContextVar set there would not.
On the hot paths the request itself is the holder, and a poll (GET) is not put in the context: its
handler records its partner on it (web.hot_paths.HotStack.serve says why).
"""

from __future__ import annotations

import contextvars

from orderhub.domain.partners import Principal


class AccessFacts:
    """One request's facts for its access line, each None until learnt: ``partner``, the id of the partner
    it was authenticated as; ``reason``, the machine code of the error it was answered with (never the
    error's message, which may quote the request's personal data), and ``field``, the field that error
    names."""

    __slots__ = ("field", "partner", "reason")

    def __init__(self) -> None:
        self.partner: str | None = None
        self.reason: str | None = None
        self.field: str | None = None

    def error_fields(self, status: int) -> dict[str, str]:
        """The error's code and field as the line shows them: only on an error answer (4xx, 5xx), and the
        field only with its code."""
        if self.reason is None or status < 400:
            return {}
        return {"reason": self.reason} if self.field is None else {"reason": self.reason, "field": self.field}


access_facts: contextvars.ContextVar[AccessFacts | None] = contextvars.ContextVar("access_facts", default=None)


def signed_in(principal: Principal) -> Principal:
    """``principal``, noted as who the current request speaks for (its partner's id, no credential)."""
    facts = access_facts.get()
    if facts is not None:  # outside a request (a worker, a test's stand-in) the principal is not read
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
