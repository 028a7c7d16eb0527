"""What order intake takes and gives: a dialect's command (PlaceOrder), an operation's rules
(Intake) and what they decide (NewOrder), and what comes back (PlacedOrder, OrderView)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from orderhub.domain.order_states import OrderEvent, OrderState
from orderhub.domain.orders import Operation, Order, OrderItem, Subject
from orderhub.domain.partners import Principal
from orderhub.metrics import orders_finished
from orderhub.services.ports import UnitOfWork
from orderhub.services.provisioning import IntakeReadings


class OrderRequest(Protocol):
    """An operation's own request (domain.esim.EsimOrderRequest, domain.lines.LineOrderRequest...)."""

    @property
    def operation(self) -> Operation: ...


R = TypeVar("R", bound=OrderRequest)
R_contra = TypeVar("R_contra", bound=OrderRequest, contravariant=True)


@dataclass(frozen=True)
class EarlierKey:
    """A key an earlier release stored for a request, which this one makes no more (it stood for less of
    the request): ``key``, what it stood for (``basis``), and whether a request an order kept
    (Order.request) was this one (``same_request``), which the key alone no longer tells."""

    key: str
    basis: Any
    same_request: Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class PlaceOrder(Generic[R]):
    """A dialect's request to place an order, translated: the one command intake takes."""

    request: R
    # What the partner sent, kept verbatim for the dialect's echo and for idempotency fingerprints.
    raw_request: dict[str, Any]
    dialect: str
    # Keys that make a retry answer the first order (Idempotency-Key, or a dialect's correlation id).
    idempotency_keys: tuple[str, ...] = ()
    correlation_id: str | None = None
    # Give the order a partner-facing number (domain.identifiers.order_reference).
    numbered: bool = False
    # What else, besides the body, makes two requests the same (e.g. the business unit in the path).
    scope: str = ""
    # Keys that stand for part of the request only (a dialect's natural key, e.g. ON-API's access,
    # products, date and customer): the same key with that part the same is a retry, whatever else differs.
    key_basis: Mapping[str, Any] = field(default_factory=dict)
    # What a key of key_basis stood for in earlier releases (the whole request): a use of the key stored
    # then with this is a retry too, as it was then.
    earlier_basis: Mapping[str, Any] = field(default_factory=dict)
    # Keys among idempotency_keys that keep a business refusal of the request (domain.errors.BusinessRefusal,
    # raised by the intake's prepare) as their answer, as they keep an order: the Idempotency-Key. A natural
    # key keeps none: once the reason is gone, the same order sent again without a key may pass.
    refusal_keys: tuple[str, ...] = ()
    # Keys earlier releases stored for this request (see EarlierKey), made and looked up only when the
    # intake refuses the request (an order they name has taken what it asks for): a retry of an order
    # placed before an upgrade then answers that order; an order placed since is found by the keys above.
    earlier_keys: Callable[[], tuple[EarlierKey, ...]] = tuple


@dataclass(frozen=True)
class NewOrder:
    """What an operation's intake decides about a new order; the intake path does the rest."""

    items: list[OrderItem]
    subject: Subject | None = None
    customer_id: str | None = None
    due_at: datetime | None = None
    # Handed to the provisioner when the order is fulfilled in the transaction that accepts it.
    readings: IntakeReadings | None = None


class Intake(Protocol[R_contra]):
    """One operation's rules at intake."""

    def validate(self, principal: Principal, request: R_contra, now: datetime) -> None:
        """The rules that need no stored data (run before the write, outside the write lock)."""
        ...

    def prepare(self, uow: UnitOfWork, principal: Principal, request: R_contra, now: datetime) -> NewOrder:
        """The rules on stored data, inside the accepting transaction; may add what the order needs."""
        ...


@dataclass(frozen=True)
class FinishedOrder:
    """An order that reached a final state, as its metrics count it (by the API that placed it)."""

    dialect: str
    operation: Operation
    state: OrderState

    @classmethod
    def of(cls, order: Order) -> FinishedOrder:
        return cls(order.dialect, order.operation, order.state)

    def count(self) -> None:
        """Counted once its transaction committed, by the process that committed it."""
        orders_finished(self.dialect, self.operation.value, self.state.value).inc()


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    # True when an earlier request with the same idempotency key already placed this order.
    replayed: bool
    # Set when the order was fulfilled in the transaction that accepted it (see FulfilNow).
    finished: FinishedOrder | None = None
    reference: str | None = None
    # The order as that transaction left it when final or scheduled: what reading it back would find.
    settled: Order | None = None
    # The order as accepted (a new one only): what to answer when it cannot be read back (services.ordering).
    accepted: Order | None = None


# Fulfils a just-accepted order in the accepting transaction when it can (FulfilmentService.fulfil_in).
FulfilNow = Callable[[UnitOfWork, Order, datetime, IntakeReadings | None], "FinishedOrder | None"]


@dataclass(frozen=True)
class OrderView:
    order: Order
    events: list[OrderEvent] = field(default_factory=list)
