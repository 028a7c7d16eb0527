"""Domain errors. Each dialect maps them to its own wire envelope and status code."""

from __future__ import annotations


class DomainError(Exception):
    """A request the business refuses. ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """Input that breaks a validation rule."""


class BusinessRefusal(DomainError):
    """A request the business turns down as an answer in its own right, as a declined card is (ON-API's
    REJECTED, given with 200), not as an error of the request: the request's Idempotency-Key keeps it as
    it keeps an order. ``code`` names the reason, as kept; ``replayed``: the answer an earlier request
    with the same key got."""

    def __init__(self, code: str, message: str, *, replayed: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.replayed = replayed


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
    """The same idempotency key came with a different request; ``key`` is the key that clashed (as the
    dialect handed it on), so the dialect can name the header it came in."""

    def __init__(self, message: str, *, field: str | None = None, key: str | None = None) -> None:
        super().__init__(message, field=field)
        self.key = key


class IdempotencyKeysDisagree(IdempotencyConflict):
    """A request's idempotency keys were each used for a different order (each with this request): which
    one it repeats cannot be told, and answering either would hide that the other was meant."""


class NotAuthenticated(DomainError):
    pass


class InvalidToken(NotAuthenticated):
    """A bearer token was sent but does not sign anyone in: unknown, expired, or its credential
    revoked. Clients read RFC 6750's ``invalid_token`` from it as a cue to get a new token."""


class AccessDenied(DomainError):
    pass


class TooManyAttempts(DomainError):
    """Too many failed sign-ins for a client id or from a source: wait ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(DomainError):
    """The partner's requests a minute (``partners.rate_limit_per_minute``) are used up, across every API:
    wait ``retry_after`` seconds (services.rate_limits)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many requests: the partner's limit of requests a minute is used up; retry after the Retry-After delay"
        )
        self.retry_after = retry_after


class BusinessUnitNotFound(DomainError):
    pass


class LineNotFound(DomainError):
    """The MSISDN is not a line of the business unit."""


class OfferingNotAvailable(DomainError):
    """The offering is not sold in that business unit for that plan type."""


class NoActivePlan(DomainError):
    """A data plan or add-on needs an active base plan on the line."""


class CannotCancel(DomainError):
    """The order has gone too far (or is finished) to be cancelled."""


class CannotChange(DomainError):
    """The change is not possible in the order's current state."""
