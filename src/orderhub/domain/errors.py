"""Domain errors. Each dialect maps them to its own wire envelope and status code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orderhub.domain.orders import OrderState


class DomainError(Exception):
    """A request the business refuses. ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """Input that breaks a validation rule."""


class ProductNotFound(DomainError):
    pass


class CustomerMustExist(DomainError):
    pass


class EmailAndIccidDoNotMatch(DomainError):
    pass


class SubscriptionLimitReached(DomainError):
    pass


class OrderNotFound(DomainError):
    pass


class SimNotFound(DomainError):
    pass


class IdempotencyConflict(DomainError):
    """The same idempotency key came with a different request."""


class NotAuthenticated(DomainError):
    pass


class AccessDenied(DomainError):
    pass


class IllegalTransition(Exception):
    """A state change the state machine forbids: always a bug in the caller, never an input error."""

    def __init__(self, order_id: str, from_state: OrderState, to_state: OrderState) -> None:
        super().__init__(f"order {order_id}: illegal transition {from_state} -> {to_state}")
        self.from_state = from_state
        self.to_state = to_state
