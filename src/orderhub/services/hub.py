"""Partners' event listeners (TMF622 hub) and the delivery steps the dispatcher runs.

The order events table is the outbox: every state change writes its event in the same transaction,
so an event exists exactly when its change was committed. Each listener keeps a cursor (the last event
delivered) and receives the events after it one by one, in order; a failure waits with backoff and
retries the same event, so a listener that is down for a while gets everything once it is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from orderhub.domain.callbacks import CallbackAddresses
from orderhub.domain.changes import Listener
from orderhub.domain.errors import InvalidInput, OrderNotFound
from orderhub.domain.identifiers import new_id
from orderhub.domain.order_states import OrderEvent
from orderhub.domain.orders import LISTENED_OPERATIONS, Operation, Order
from orderhub.domain.partners import Principal
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import Database, UnitOfWork

MAX_CALLBACK_LENGTH = 500
# Backoff after consecutive failures: 1 s, 2 s, 4 s ... at most this long between two attempts.
MAX_BACKOFF = timedelta(seconds=30)


@dataclass(frozen=True)
class PendingEvent:
    # The order as it was right after the event (Order.as_at), however long ago that was.
    order: Order
    event: OrderEvent
    event_id: int


class HubService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = utc_now,
        operations: tuple[Operation, ...] = tuple(sorted(LISTENED_OPERATIONS)),
        lease: timedelta = timedelta(seconds=60),
        callbacks: CallbackAddresses | None = None,
        first_retry: timedelta = timedelta(seconds=1),
    ) -> None:
        self._db = db
        # A failed delivery is tried again after this, then after twice as long, … up to MAX_BACKOFF.
        self._first_retry = first_retry
        # Where callbacks may point; the dispatcher checks the same before each delivery.
        self.callbacks = callbacks or CallbackAddresses()
        self._clock = clock
        # Listeners hear about the orders of these operations (the TMF622 API's orders). The domain keeps
        # a snapshot with the events of LISTENED_OPERATIONS' orders only: others' show the order as it is.
        self._operations = tuple(operation.value for operation in operations)
        self._lease = lease

    async def register(self, principal: Principal, callback: str, query: str | None) -> Listener:
        parts = urlsplit(callback)
        try:
            host, _port = parts.hostname, parts.port  # a port that is not a number raises
        except ValueError:
            host = None
        if parts.scheme not in ("http", "https") or not host or len(callback) > MAX_CALLBACK_LENGTH:
            raise InvalidInput(
                f"must be an absolute http or https URL of at most {MAX_CALLBACK_LENGTH} characters", field="callback"
            )
        refused = self.callbacks.host_refusal(host)
        if refused is not None:
            raise InvalidInput(f"must reach a public address: {refused}", field="callback")

        def add(uow: UnitOfWork) -> Listener:
            # A new listener hears what happens from now on, not the partner's whole history.
            listener = Listener(
                id=new_id(),
                partner_id=principal.partner_id,
                callback=callback,
                query=query,
                created_at=self._clock(),
                delivered_event_id=uow.listeners.last_event_id(),
            )
            return uow.listeners.register(listener)

        return await self._db.write(add)

    async def get(self, principal: Principal, listener_id: str) -> Listener:
        def load(uow: UnitOfWork) -> Listener:
            listener = uow.listeners.get(listener_id)
            if listener is None or not principal.can_see(listener.partner_id):
                raise OrderNotFound(f"listener {listener_id} not found", field="id")
            return listener

        return await self._db.read(load)

    async def unregister(self, principal: Principal, listener_id: str) -> None:
        def remove(uow: UnitOfWork) -> None:
            listener = uow.listeners.get(listener_id)
            if listener is None or not principal.can_see(listener.partner_id):
                raise OrderNotFound(f"listener {listener_id} not found", field="id")
            uow.listeners.remove(listener_id)

        await self._db.write(remove)

    # -- delivery: called by the dispatcher's threads ----------------------------------------------

    def claim_due(self) -> list[Listener]:
        """Listeners with no failure to wait out, leased to this process for a while (another process
        running a dispatcher skips them)."""
        now = self._clock()
        due = self._db.read_now(lambda uow: uow.listeners.due(now))
        if not due:
            return []
        until = now + self._lease
        return self._db.write_now(
            lambda uow: [listener for listener in due if uow.listeners.try_lease(listener.id, now, until)]
        )

    def pending(self, listener: Listener, limit: int = 50) -> list[PendingEvent]:
        def load(uow: UnitOfWork) -> list[PendingEvent]:
            found = []
            current: dict[str, Order] = {}  # a batch often holds several events of one order
            for order_id, event, event_id in uow.listeners.events_after(listener, self._operations, limit):
                order = current.get(order_id) or uow.orders.get(order_id)
                assert order is not None
                current[order_id] = order
                # Shown as it was right after the event, not as it is now (it may have moved on since).
                found.append(PendingEvent(order.as_at(event), event, event_id))
            return found

        return self._db.read_now(load)

    def delivered(self, listener_id: str, event_id: int) -> None:
        self._db.write_now(lambda uow: uow.listeners.delivered(listener_id, event_id))

    def failed(self, listener: Listener, error: str) -> datetime:
        """Record a failed delivery; when the same event is tried again."""
        backoff = min(self._first_retry * 2 ** min(listener.failures, 10), MAX_BACKOFF)
        retry_at = self._clock() + backoff
        self._db.write_now(lambda uow: uow.listeners.failed(listener.id, error, retry_at))
        return retry_at

    def release(self, listener_id: str) -> None:
        self._db.write_now(lambda uow: uow.listeners.release(listener_id))
