"""Records the store hands back that are not domain objects (credentials, tokens, idempotency keys,
eSIM profiles as stored), and the queries use cases hand to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from orderhub.domain.esim import ProfileState
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Operation, Subject
from orderhub.domain.partners import Principal


def nameable(key: str) -> bool:
    """Whether ``key``, an id a request names (an order's, a listener's, an ICCID, a business unit's), may
    be one the store holds: none has a NUL character, which PostgreSQL's text cannot hold (a look-up by
    one is refused there, DataError: a 500 where SQLite finds nothing). One that may not is not found."""
    return "\x00" not in key


@dataclass(frozen=True)
class StoredCredential:
    client_id: str
    partner_id: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None
    last_signed_in_at: datetime | None = None


@dataclass(frozen=True)
class OperatorCommand:
    """An `orderhub` command an operator ran on the database, as the audit trail keeps it."""

    started_at: datetime | None  # none when a release before migration 0029 recorded it
    at: datetime  # when it ended; until it has (exit_code None), when it started
    actor: str  # the login (the one behind sudo, when run with sudo)
    host: str
    command: str  # its words: "customer erase"
    arguments: str  # what followed them, personal data and passwords masked
    exit_code: int | None  # none: still running, or killed before it ended

    @property
    def ended(self) -> bool:
        return self.exit_code is not None


@dataclass(frozen=True)
class CommandsWanted:
    """Which commands of the audit trail an operator asks for: all when nothing is given."""

    command: str | None = None  # these words, or a command they begin ("customer": every customer command)
    actor: str | None = None  # this login, whether it ran the command itself or with sudo, or sudo ran as it
    excluding: int | None = None  # the command of this id: `audit list`'s own, running


@dataclass(frozen=True)
class StoredReason:
    """A reason given in words with a change of an order (an event's, a cancellation's, the order's own): free text a
    partner or an operator wrote."""

    kind: str  # "event", "cancellation" or "order" (what its failure or cancellation reason says)
    row_id: str
    text: str


class InactiveCustomer(NamedTuple):
    """A customer not erased yet, created before a retention cut-off, none of whose orders changed or
    noted anything in its history since (services.customer_retention)."""

    id: str
    partner_id: str
    orders_not_final: bool  # an order of theirs has not ended (an activation months ahead): kept


# A span of time, (after its start, at or before its end]: where failed sign-ins are counted.
Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class RecentFailures:
    """A sign-in key's failures within the window: how many, and when the oldest of them was."""

    count: int
    oldest: datetime | None


@dataclass(frozen=True)
class SignInLookUp:
    """What a sign-in reads, in one statement: the client id's credential (None: there is none), per
    key asked for, its recent failures, and whether its source is known for it (services.sign_ins)."""

    credential: StoredCredential | None
    failures: dict[str, RecentFailures]
    known_source: bool


@dataclass(frozen=True)
class Charged:
    """A sign-in's attempt counted as a failure before its hash: the rows added (one a key, to take back),
    and each key's failures within the window afterwards, those rows and other attempts' included."""

    ids: tuple[int, ...]
    failures: dict[str, RecentFailures]


@dataclass(frozen=True)
class StoredToken:
    client_id: str
    kind: str
    expires_at: datetime
    family: str | None = None
    used_at: datetime | None = None


@dataclass(frozen=True)
class StoredIdempotencyKey:
    """A key's first use: the order it placed, or the business refusal it got (domain.errors.BusinessRefusal's
    code; no order then)."""

    request_hash: str
    order_id: str | None
    refusal: str | None = None


@dataclass(frozen=True)
class StoredProfile:
    iccid: str
    matching_id: str
    smdp_address: str
    state: ProfileState
    order_id: str | None
    customer_id: str | None
    luhn_ok: bool


class OrderStamp(NamedTuple):
    """Whose an order is (None: there is no such order) and its version, which moves with every change
    an API could show of it; and the store's config version, read by the same statement, so that the
    caller's cached credentials are checked against the same moment. (A tuple: made on every poll, and
    a frozen dataclass costs a microsecond to make.)"""

    partner_id: str | None
    version: int
    config_version: int

    def visible_to(self, principal: Principal) -> bool:
        return self.partner_id is not None and principal.can_see(self.partner_id)


@dataclass(frozen=True)
class OrderQuery:
    """Which orders a listing wants (all conditions hold); deleted orders are never listed. None: any
    (the operator's listing, `orderhub order list`, sees every partner's orders of every operation; a
    partner's listing names the partners it may see, and ordering.list_orders holds it to them)."""

    partner_ids: frozenset[str] | None
    operations: tuple[Operation, ...] | None
    states: frozenset[OrderState] | None = None
    # The partner APIs' names, as orders keep them (Order.dialect): esim-v1, tmf-productorder, ...
    dialects: frozenset[str] | None = None
    subject: Subject | None = None
    # TMF622's order numbers (Order.reference), any of them.
    references: frozenset[str] | None = None
    # The ids of the requests that placed them (Order.correlation_id: the X-Correlation-ID the partner sent,
    # or the one the server made), each compared whole.
    correlation_ids: frozenset[str] | None = None
    # The partner's own ids of its orders (TMF622's externalId), any of them; orders of Operation.LINE_PRODUCTS.
    external_ids: frozenset[str] | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


class RequestsToAdd(NamedTuple):
    """A process's requests of one partner that its shared rate-limit bucket has not counted yet, and
    the partner's limit (requests a minute: the bucket's size and its refill)."""

    partner_id: str
    requests: int
    per_minute: int


@dataclass(frozen=True)
class CommitMarks:
    """What the store tells of the event ids committed so far (services.settled_events). ``in_progress``:
    the transactions of orderhub's database in progress as the newest id was read, as the store writes
    them; None where events commit in the order of their ids (SQLite's one writer), and every event read
    is settled."""

    newest_event_id: int
    in_progress: str | None
    # None of those: no transaction that may still commit an event below the newest one.
    idle: bool
    # Every transaction in ``checked`` (the ``in_progress`` of an earlier read, asked about) has ended since.
    checked: str | None
    earlier_ended: bool
