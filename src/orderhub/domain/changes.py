"""What happens to an order after intake at the partner's request: cancellation, a new date, deletion;
and the listeners partners register to hear about their orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CancellationState(StrEnum):
    DONE = "done"
    # The order had gone too far (or was finished); ``refusal`` says why.
    REFUSED = "refused"


@dataclass(frozen=True)
class Cancellation:
    id: str
    partner_id: str
    order_id: str
    state: CancellationState
    created_at: datetime
    reason: str | None = None
    requested_for: datetime | None = None
    refusal: str | None = None
    effective_at: datetime | None = None


@dataclass(frozen=True)
class Listener:
    """A partner's callback URL that receives its orders' events, in order, at least once."""

    id: str
    partner_id: str
    callback: str
    query: str | None
    created_at: datetime
    delivered_event_id: int
    failures: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
