"""HTTP Basic credentials read strictly (RFC 7617 §2): the base64 of ``user-id:password`` (RFC 4648 §4)
in its one canonical spelling. A lenient decoder (the framework's drops what is not base64 and takes
any padding, the standard library's takes trailing bits that are not zero) signs in with headers that
no client library sends, and that a filter in front of the service, matching the canonical form, misses.
"""

from __future__ import annotations

import base64
import binascii

from fastapi.security import HTTPBasic, HTTPBasicCredentials
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import HTTPConnection


def basic_user_and_password(encoded: str) -> tuple[str, str] | None:
    """The user-id and password of a Basic header's credentials (after ``Basic ``), or None when they are
    not canonical base64 of UTF-8 text (the charset onapi-order's challenge names) with a colon."""
    encoded = encoded.lstrip(" ")  # RFC 7235 §2.1: one space or more after the scheme
    try:
        raw = base64.b64decode(encoded, validate=True)
        decoded = raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    # Padding beyond a quantum, trailing bits set: decoded alike, spelt otherwise than encoding it does.
    if base64.b64encode(raw).decode() != encoded:
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


class StrictHTTPBasic(HTTPBasic):
    """The framework's HTTP Basic dependency (its challenge, its errors, its OpenAPI scheme), with the
    credentials read by ``basic_user_and_password``."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        authorization = request.headers.get("Authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "basic":
            return await super().__call__(request)  # no credentials: None, or the framework's 401
        read = basic_user_and_password(param)
        if read is None:
            raise self.make_not_authenticated_error()
        return HTTPBasicCredentials(username=read[0], password=read[1])
