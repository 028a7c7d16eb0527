"""The ``WWW-Authenticate`` challenge of an API that takes bearer tokens (RFC 6750, section 3)."""

from __future__ import annotations

from orderhub.domain.errors import DomainError, InvalidToken


def bearer_challenge(realm: str, refused: DomainError) -> str:
    """A request without a token gets the realm alone; one whose token does not sign anyone in also
    gets ``invalid_token``, which tells a client to get a new token rather than give up."""
    if not isinstance(refused, InvalidToken):
        return f'Bearer realm="{realm}"'
    # The description is one of our own messages, never the token: no quote or backslash to escape.
    return f'Bearer realm="{realm}", error="invalid_token", error_description="{refused.message}"'
