"""Partners' event listeners (TMF622 hub) and the delivery steps the dispatcher runs.

The order events table is the outbox: every state change writes its event in the same transaction,
so an event exists exactly when its change was committed. Each listener keeps a cursor (the last event
delivered) and receives the events after it one by one, in order; a failure waits with backoff and
retries the same event, so a listener that is down for a while gets everything once it is back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from orderhub.domain.callbacks import CallbackAddresses, url_host
from orderhub.domain.changes import Cancellation, Listener
from orderhub.domain.errors import InvalidInput, OrderNotFound
from orderhub.domain.identifiers import new_id
from orderhub.domain.order_states import OrderEvent
from orderhub.domain.orders import LISTENED_OPERATIONS, Operation, Order
from orderhub.domain.partners import Principal
from orderhub.services.clock import Clock, set_back_after, utc_now
from orderhub.services.partners import existing_partner
from orderhub.services.ports import Database, UnitOfWork
from orderhub.services.records import CommitMarks, nameable
from orderhub.services.settled_events import SettledEvents, newest_for_a_new_listener

MAX_CALLBACK_LENGTH = 500
# Backoff after consecutive failures: 1 s, 2 s, 4 s ... at most this long between two attempts.
MAX_BACKOFF = timedelta(seconds=30)
# A listener with a query is counted (HubService.backlog) by rendering each event as its delivery would:
# a listener far behind is counted over this many of its next events at most, so the count's cost is bounded.
BACKLOG_COUNTED_AT_MOST = 10_000
_BACKLOG_PAGE = 500


@dataclass(frozen=True)
class PendingEvent:
    # The order as it was right after the event (Order.as_at), however long ago that was.
    order: Order
    event: OrderEvent
    event_id: int
    # The cancellation request a note of one is about (event.cancellation_id), as it is now: what the
    # note renders, so a reason an erasure rewrote since is sent as rewritten.
    cancellation: Cancellation | None = None


# Turns one pending event into the JSON body the listener receives (the hub dialect's event envelope).
RenderEvent = Callable[[PendingEvent], dict[str, Any]]


def chooses_every_event(query: str | None) -> bool:
    """Whether ``chosen`` takes every event whatever its body: then the database counts a backlog."""
    return not query


def chosen(query: str | None, body: dict[str, Any]) -> bool:
    """Whether a listener's query (``name=v1,v2``, checked by the dialect when it was registered: TMF630's
    filter on a field of the event) chooses the event; no query chooses every event."""
    if chooses_every_event(query):
        return True
    assert query is not None
    name, _, values = query.partition("=")
    return str(body.get(name)) in values.split(",")


@dataclass(frozen=True)
class Backlog:
    """How many events a listener would still be sent; ``at_least``: the count stopped at its bound, and
    more events follow that were not looked at."""

    events: int
    at_least: bool = False


class SoleDispatcher(Protocol):
    """Held by the one process that delivers (store.sole_dispatcher): take() says whether it is this one."""

    def take(self) -> bool: ...
    def release(self) -> None: ...


class HubService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = utc_now,
        operations: tuple[Operation, ...] = tuple(sorted(LISTENED_OPERATIONS)),
        lease: timedelta = timedelta(seconds=30),
        callbacks: CallbackAddresses | None = None,
        first_retry: timedelta = timedelta(seconds=1),
        sole_dispatcher: SoleDispatcher | None = None,
        render: RenderEvent | None = None,
    ) -> None:
        self._db = db
        # The body each event is sent as; a listener's query chooses on it (see body_for).
        self._render = render
        # A failed delivery is tried again after this, then after twice as long, … up to MAX_BACKOFF.
        self._first_retry = first_retry
        # Where callbacks may point; the dispatcher checks the same before each delivery.
        self.callbacks = callbacks or CallbackAddresses()
        self._clock = clock
        # Listeners hear about the orders of these operations (the TMF622 API's orders). The domain keeps
        # a snapshot with the events of LISTENED_OPERATIONS' orders only: others' show the order as it is.
        self._operations = tuple(operation.value for operation in operations)
        # How long a listener stays with the worker that claimed it without a word from it: renewed before
        # each delivery, so it must outlast one (the dispatcher's deadline); after a crash, how long the
        # listener waits for another worker.
        self._lease = lease
        # The lease each listener this process delivers to holds now (its end, as stored): renewing or
        # releasing a lease another worker took since (this one ran out) changes nothing of theirs.
        self._held: dict[str, datetime] = {}
        # SQLite: whether this process alone delivers from the file (store.sole_dispatcher).
        self._sole_dispatcher = sole_dispatcher
        # The events that may be sent: none a transaction still in progress can commit before.
        self._settled = SettledEvents()

    async def register(self, principal: Principal, callback: str, query: str | None) -> Listener:
        host = url_host(callback)
        if not host or len(callback) > MAX_CALLBACK_LENGTH:
            raise InvalidInput(
                f"must be an absolute http or https URL of at most {MAX_CALLBACK_LENGTH} characters, without blanks"
                " or control characters",
                field="callback",
            )
        refused = self.callbacks.host_refusal(host)
        if refused is not None:
            raise InvalidInput(f"must reach a public address: {refused}", field="callback")

        # A new listener hears what happens from now on, not the partner's whole history.
        newest = await newest_for_a_new_listener(
            lambda earlier: self._db.read(lambda uow: uow.listeners.commit_marks(earlier))
        )

        def add(uow: UnitOfWork) -> Listener:
            listener = Listener(
                id=new_id(),
                partner_id=principal.partner_id,
                callback=callback,
                query=query,
                created_at=self._clock(),
                delivered_event_id=uow.listeners.last_event_id() if newest is None else newest,
            )
            return uow.listeners.register(listener)

        return await self._db.write(add)

    async def get(self, principal: Principal, listener_id: str) -> Listener:
        def load(uow: UnitOfWork) -> Listener:
            listener = uow.listeners.get(listener_id) if nameable(listener_id) else None
            if listener is None or not principal.can_see(listener.partner_id):
                raise OrderNotFound(f"listener {listener_id} not found", field="id")
            return listener

        return await self._db.read(load)

    async def unregister(self, principal: Principal, listener_id: str) -> None:
        def remove(uow: UnitOfWork) -> None:
            listener = uow.listeners.get(listener_id) if nameable(listener_id) else None
            if listener is None or not principal.can_see(listener.partner_id):
                raise OrderNotFound(f"listener {listener_id} not found", field="id")
            uow.listeners.remove(listener_id)

        await self._db.write(remove)

    # -- delivery: called by the dispatcher's threads ----------------------------------------------

    def listeners(self, partner_id: str | None = None) -> list[Listener]:
        """Every listener, or one partner's, as stored: for the operator (`orderhub hub list`). A partner
        that is not there is refused by name (as `order list` does): a typo is not "no listeners"."""

        def listed(uow: UnitOfWork) -> list[Listener]:
            if partner_id is not None:
                existing_partner(uow, partner_id)
            return uow.listeners.listed(partner_id)

        return self._db.read_now(listed)

    def reclaim_abandoned(self) -> None:
        """At the dispatcher's start: where it is the only one delivering (SQLite, the lock taken), the
        leases it finds are left by a process that stopped without releasing them (a crash), and its
        listeners are served at once. Where another process delivers, they are its own: they run out."""
        if self._sole_dispatcher is not None and self._sole_dispatcher.take():
            self._db.write_now(lambda uow: uow.listeners.release_all())

    def stopped_dispatching(self) -> None:
        if self._sole_dispatcher is not None:
            self._sole_dispatcher.release()

    def claim_due(self, limit: int) -> list[Listener]:
        """Up to ``limit`` listeners with no failure to wait out, those served longest ago first, leased to
        this process for a while (another process running a dispatcher skips them)."""
        now = self._clock()
        set_back = set_back_after(now, max(self._lease, MAX_BACKOFF))

        # Not one this process still delivers to (its lease may have run out, before a renewal that fails).
        def look(uow: UnitOfWork) -> tuple[list[Listener], CommitMarks | None]:
            due = uow.listeners.due(now, limit, self._operations, set_back_after=set_back)
            # Asked only with events to send: an idle service asks nothing more.
            return due, uow.listeners.commit_marks(self._settled.waiting_on) if due else None

        due, marks = self._db.read_now(look)
        if marks is not None:
            self._settled.observe(marks)
        due = [listener for listener in due if listener.id not in self._held]
        if not due:
            return []
        leased = self._db.write_now(
            lambda uow: [
                (listener, uow.listeners.try_lease(listener.id, now, self._lease, set_back_after=set_back))
                for listener in due
            ]
        )
        claimed = []
        for listener, until in leased:
            if until is not None:
                self._held[listener.id] = until
                claimed.append(listener)
        return claimed

    def renew(self, listener_id: str) -> bool:
        """Extend this process's lease on the listener, before a delivery to it; False when the listener
        was removed, or when its lease ran out and another worker took it: then nothing more is sent."""
        held = self._held.get(listener_id)
        if held is None:
            return False
        now = self._clock()
        until = self._db.write_now(lambda uow: uow.listeners.renew_lease(listener_id, held, now, self._lease))
        if until is None:
            self._held.pop(listener_id, None)
            return False
        self._held[listener_id] = until
        return True

    def pending(self, listener: Listener, limit: int = 50) -> list[PendingEvent]:
        """The listener's next events to send: those settled (services.settled_events)."""
        if not self._settled.observed:  # not by this process's dispatcher yet
            self._settled.observe(self._db.read_now(lambda uow: uow.listeners.commit_marks(None)))
        return self._events_after(listener, limit, self._settled.up_to)

    def _events_after(self, listener: Listener, limit: int, up_to: int | None) -> list[PendingEvent]:
        def load(uow: UnitOfWork) -> list[PendingEvent]:
            found = []
            current: dict[str, Order] = {}  # a batch often holds several events of one order
            events = uow.listeners.events_after(listener, self._operations, limit, up_to=up_to)
            for order_id, event, event_id in events:
                order = current.get(order_id) or uow.orders.get(order_id)
                assert order is not None
                current[order_id] = order
                about = uow.cancellations.get(event.cancellation_id) if event.cancellation_id else None
                # Shown as it was right after the event, not as it is now (it may have moved on since).
                found.append(PendingEvent(order.as_at(event), event, event_id, about))
            return found

        return self._db.read_now(load)

    def body_for(self, listener: Listener, pending: PendingEvent) -> dict[str, Any] | None:
        """What the listener is sent for the event; None when its query passes the event over."""
        assert self._render is not None, "HubService was built without the hub dialect's event renderer"
        body = self._render(pending)
        return body if chosen(listener.query, body) else None

    def backlog(self, listener: Listener, at_most: int = BACKLOG_COUNTED_AT_MOST) -> Backlog:
        """How many events the delivery would still send the listener (`orderhub hub list`): its partner's
        events after the last one delivered, as pending() reads them, each that body_for would send.
        Without a query that is every one, counted by the database. With one, each event is rendered and
        chosen as its delivery would be: ``at_most`` of them at most."""
        if chooses_every_event(listener.query):
            return Backlog(self._db.read_now(lambda uow: uow.listeners.count_events_after(listener, self._operations)))
        sent, looked_at, cursor = 0, 0, listener
        while looked_at < at_most:
            # Every event committed, settled or not: what is still to be sent.
            page = self._events_after(cursor, min(_BACKLOG_PAGE, at_most - looked_at), None)
            if not page:
                return Backlog(sent)
            looked_at += len(page)
            sent += sum(1 for pending in page if self.body_for(listener, pending) is not None)
            cursor = replace(cursor, delivered_event_id=page[-1].event_id)
        return Backlog(sent, at_least=bool(self._events_after(cursor, 1, None)))

    def delivered(self, listener_id: str, event_id: int) -> None:
        self._db.write_now(lambda uow: uow.listeners.delivered(listener_id, event_id))

    def failed(self, listener: Listener, error: str) -> datetime:
        """Record a failed delivery; when the same event is tried again."""
        backoff = min(self._first_retry * 2 ** min(listener.failures, 10), MAX_BACKOFF)
        retry_at = self._clock() + backoff
        self._db.write_now(lambda uow: uow.listeners.failed(listener.id, error, retry_at))
        return retry_at

    def release(self, listener_id: str) -> None:
        held = self._held.pop(listener_id, None)
        if held is not None:
            now = self._clock()
            self._db.write_now(lambda uow: uow.listeners.release(listener_id, held, now))
