"""OAuth2 client-credentials token endpoint (RFC 6749 §4.4), with refresh tokens (§6)."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderhub.access_facts import note_refusal
from orderhub.domain.errors import NotAuthenticated, TooManyAttempts
from orderhub.services.auth import AuthService, TokenPair
from orderhub.services.ports import DatabaseUnavailable
from orderhub.web.basic_auth import basic_user_and_password
from orderhub.web.body_guard import BodyRefused, read_guarded_body, refusal_answer

MAX_FORM_BYTES = 8 * 1024
TOKEN_PATH = "/oauth2/token"


def _error(status: int, error: str, description: str, *, retry_after: int | None = None) -> JSONResponse:
    note_refusal(error)  # the access line gets RFC 6749's code, never the description
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="orderhub"'
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    read = basic_user_and_password(encoded)
    if read is None:
        return None
    client_id, secret = read
    # RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    return unquote_plus(client_id), unquote_plus(secret)


def _client_credentials(authorization: str, fields: dict[str, str]) -> tuple[str, str] | JSONResponse:
    """The client id and secret, from HTTP Basic or from the form (RFC 6749 §2.3.1), or the error.
    §2.3: a client uses one authentication method a request. Basic with a client_secret in the form is
    refused, even when both agree, as is a client_id in the form that is not Basic's: which one was meant
    is no guess to make about credentials. A client_id alone that agrees is allowed (§3.2.1 lets a
    client name itself so, and client libraries send it with Basic). A blank parameter is omitted (§3.1)."""
    form_id, form_secret = fields.get("client_id", ""), fields.get("client_secret", "")
    if authorization.partition(" ")[0].lower() == "basic":
        basic = _basic_credentials(authorization)
        if form_secret or (form_id and (basic is None or form_id != basic[0])):
            return _error(400, "invalid_request", "authenticate with HTTP Basic or with the form, not both")
        if basic is not None:
            return basic
    return form_id, form_secret


def _tokens(pair: TokenPair) -> JSONResponse:
    return JSONResponse(
        {
            "access_token": pair.access_token,
            "token_type": "Bearer",
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_token,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def method_not_allowed() -> JSONResponse:
    """The answer to any method but POST on the token endpoint (GET, TRACE, PROPFIND...: the router
    refuses each one), in RFC 6749's shape as its every answer is."""
    answer = _error(405, "invalid_request", "use POST with a form")
    answer.headers["Allow"] = "POST"
    return answer


def token_router(auth: AuthService, *, body_timeout: float = 10.0) -> APIRouter:
    router = APIRouter(tags=["oauth2"])

    @router.post(TOKEN_PATH, summary="Get a bearer token (client credentials or refresh token)")
    async def token(request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return _error(400, "invalid_request", "send a form: Content-Type application/x-www-form-urlencoded")
        # At most MAX_FORM_BYTES whatever the framing (a chunked body declares no length), in time.
        raw = await read_guarded_body(
            request.receive,
            content_length=request.headers.get("content-length"),
            content_type=None,
            max_bytes=MAX_FORM_BYTES,
            timeout=body_timeout,
            content_encoding=request.headers.get("content-encoding"),
        )
        if raw is None:
            return _error(400, "invalid_request", "the request body did not arrive")  # the client went away
        if isinstance(raw, BodyRefused):
            return refusal_answer(raw, _error(raw.status, "invalid_request", raw.message))
        try:
            pairs = parse_qsl(raw.decode(), keep_blank_values=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            return _error(400, "invalid_request", "the form could not be read")
        fields = dict(pairs)
        if len(fields) < len(pairs):
            # RFC 6749 §3.2: no parameter more than once. Which of two values the client meant is no
            # guess to make (the last one used to win: client_secret=wrong&client_secret=right signed in).
            return _error(400, "invalid_request", "a parameter was sent more than once")
        grant_type = fields.get("grant_type")
        source = request.client.host if request.client else None
        credentials = _client_credentials(request.headers.get("authorization", ""), fields)
        try:
            if grant_type == "client_credentials":
                if isinstance(credentials, JSONResponse):
                    return credentials
                client_id, secret = credentials
                if not client_id or not secret:
                    return _error(401, "invalid_client", "client_id and client_secret are required")
                pair = await auth.issue_token(client_id, secret, source=source)
            elif grant_type == "refresh_token":
                refresh = fields.get("refresh_token")
                if not refresh:
                    return _error(400, "invalid_request", "refresh_token is required")
                # RFC 6749 §6: a confidential client authenticates when it refreshes, as when it signs in.
                if isinstance(credentials, JSONResponse):
                    return credentials
                client_id, secret = credentials
                if not client_id or not secret:
                    return _error(401, "invalid_client", "client_id and client_secret are required to refresh")
                try:
                    pair = await auth.refresh(refresh, client_id=client_id, client_secret=secret, source=source)
                except NotAuthenticated as exc:
                    if exc.message == "client authentication failed":
                        raise
                    return _error(400, "invalid_grant", exc.message)
            elif grant_type is None:
                return _error(400, "invalid_request", "grant_type is required")
            else:
                return _error(400, "unsupported_grant_type", "use client_credentials or refresh_token")
        except NotAuthenticated:
            return _error(401, "invalid_client", "client authentication failed")
        except TooManyAttempts as exc:
            # RFC 6749 has no error for this: the client's authentication was refused, so invalid_client,
            # with the status and Retry-After saying when to try again (README documents the body).
            return _error(429, "invalid_client", exc.message, retry_after=exc.retry_after)
        except DatabaseUnavailable as exc:
            description = "the service cannot reach its database; retry"
            return _error(503, "temporarily_unavailable", description, retry_after=exc.retry_after)
        return _tokens(pair)

    return router
