"""JSON logs that carry the request's correlation id and never show personal data or secrets."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import sys
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import TextIO

import orjson

from orderhub.access_facts import AccessFacts

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

# Any address, non-ASCII ones included (an internationalised e-mail is personal data too), its "@" also as %40.
_NOT_IN = r"\s@\"'<>(),;:\[\]/"  # characters no address holds
_EMAIL = re.compile(rf"([^{_NOT_IN}])[^{_NOT_IN}]*(@|%40)([^{_NOT_IN}]+\.[^{_NOT_IN}.]{{2,}})")
# Personal identity numbers: YYMMDD-XXXX / YYYYMMDD-XXXX (the separator also percent-encoded, %2D or %2B), the
# 12-digit YYYYMMDDXXXX form, and the 10-digit YYMMDDXXXX form when its month and day are a date's (day + 60 for a
# coordination number), wherever they stand, next to letters too ("pin191212121212"). Digits on either side make
# it part of a longer number: ICCIDs (19-20 digits starting 89) are left alone, operators need them.
_IDENTITY = re.compile(
    r"(?<!\d)(?:(?:\d{6}|\d{8})(?:[-+]|%2[BbDd])\d{4}"
    r"|(?:19|20)\d{10}"
    r"|\d\d(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]|[6-8]\d|9[01])\d{4})(?!\d)"
)
# A UUID (an order's, a listener's, a request's) is an id, not personal data, whatever digits it holds.
_UUID = re.compile(r"(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])")
_HIDDEN = "********-****"
_SECRET = re.compile(
    r"(?i)((?:client_secret|secret|password|access_token|refresh_token|api[_-]?key|signature|\bsig)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s,&\"'}]+"
)
_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]+)")
# A URL's user and password (a listener's callback may carry them), up to the authority's last "@", as httpx reads it.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")


def _credential(found: re.Match[str]) -> str:
    """A scheme and its credential, the credential hidden; words after "basic" or "bearer" in a sentence
    ("offering iptv/basic is no longer allowed") stay: no credential is a short lower-case word."""
    value = found.group(2)
    if len(value) < 16 and value.isalpha() and value.islower():
        return found.group(0)
    return f"{found.group(1)} ***"


def _masked_identities(text: str) -> str:
    ids = [found.span() for found in _UUID.finditer(text)]  # what is in one is part of an id
    return _IDENTITY.sub(lambda m: m[0] if any(s <= m.start() and m.end() <= e for s, e in ids) else _HIDDEN, text)


def mask_identity(number: str) -> str:
    """An identity number for listings: only its last two characters show."""
    return "*" * max(len(number) - 2, 2) + number[-2:]


# What each pattern above cannot match without: most texts a log line masks (paths, correlation ids,
# messages) hold none of it, and looking costs a fraction of a substitution (four texts an access
# line). On ASCII text (str.isascii() is free) plain checks say the same as the patterns' (?i) and \d
# would; other text is asked with patterns of the same flags (the long s matches s, the Kelvin sign k).
_SIX_DIGITS = re.compile(r"\d{6}")
_SIX_ASCII_DIGITS = re.compile(r"[0-9]{6}")
_WORD = re.compile(r"(?i)bearer|basic|secret|password|token|key|sig")
_CREDENTIAL_WORD = re.compile(r"(?i)bearer|basic")


def mask(text: str) -> str:
    if "@" in text or "%40" in text:  # %40: an X-Correlation-ID built from a URL's query
        text = _URL_USERINFO.sub(r"\1***@", text)
        text = _EMAIL.sub(r"\1***\2\3", text)
    ascii_only = text.isascii()
    if (_SIX_ASCII_DIGITS if ascii_only else _SIX_DIGITS).search(text) is not None:
        text = _masked_identities(text)
    if ascii_only:
        lowered = text.lower()
        credential = "bearer" in lowered or "basic" in lowered
        words = ("secret", "password", "token", "key", "sig")
        if not (credential or any(word in lowered for word in words)):
            return text
    else:
        if _WORD.search(text) is None:
            return text
        credential = _CREDENTIAL_WORD.search(text) is not None
    if credential:
        text = _CREDENTIALS.sub(_credential, text)
    return _SECRET.sub(r"\1***", text)


def masked_correlation_id(cid: str) -> str:
    """A correlation id as log lines show it: a UUID as it is, anything else masked (a partner may
    put anything in it, personal data included)."""
    return cid if is_uuid(cid) else mask(cid)


def is_uuid(text: str) -> bool:
    """A UUID as orderhub makes them: an id, never personal data."""
    return _UUID.fullmatch(text) is not None


# An access line masks its path and correlation id; the same ones come back again and again (an order
# polled until it is done, a route without ids, a client that sends one id per session), and a hit
# costs a tenth of masking. Bounded, and only short texts: what it holds is what requests carried in.
_remembered_path = lru_cache(maxsize=4096)(mask)
_remembered_correlation_id = lru_cache(maxsize=1024)(masked_correlation_id)
_REMEMBERED_LENGTH = 256


def masked_path(path: str) -> str:
    """``mask(path)``, remembered for the paths that come back."""
    return _remembered_path(path) if len(path) <= _REMEMBERED_LENGTH else mask(path)


def masked_request_correlation_id(cid: str) -> str:
    """``masked_correlation_id(cid)``, remembered for the ids that come back."""
    return _remembered_correlation_id(cid) if len(cid) <= _REMEMBERED_LENGTH else masked_correlation_id(cid)


_default_record_factory = logging.getLogRecordFactory()


def _record_with_correlation_id(*args: object, **kwargs: object) -> logging.LogRecord:
    # Captured when the record is made, so it survives handlers that format later or elsewhere.
    record = _default_record_factory(*args, **kwargs)
    record.correlation_id = correlation_id.get()
    return record


logging.setLogRecordFactory(_record_with_correlation_id)


def log_timestamp(created: float) -> str:
    """``created`` (seconds since the epoch) as a log line shows it: UTC, milliseconds."""
    global _last_second, _last_milli
    milli = int(created * 1000)
    if _last_milli[0] == milli:
        return _last_milli[1]  # under load, most lines share their millisecond with the one before
    second, fraction = divmod(milli, 1000)
    if _last_second[0] != second:
        _last_second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    _last_milli = (milli, f"{_last_second[1]}.{fraction:03d}+00:00")
    return _last_milli[1]


_last_second: tuple[int, str] = (-1, "")
_last_milli: tuple[int, str] = (-1, "")


def json_line(entry: dict[str, object]) -> str:
    try:
        return orjson.dumps(entry).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(entry)  # what orjson refuses (a lone surrogate, an integer past 64 bits)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": log_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        if cid:
            entry["correlation_id"] = masked_correlation_id(str(cid))
        for key in ("method", "path", "status", "duration_ms", "partner", "reason", "field"):
            if hasattr(record, key):
                value = getattr(record, key)
                # A path can carry an e-mail or an identity number (a client's mistake, or a probe).
                entry[key] = mask(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json_line(entry)


# Partner ids as access lines show them, masked as any text (an operator may put an identity number in
# one): as many as there are partners, and a dict look-up costs half of an lru_cache hit.
_shown_partners: dict[str, str] = {}
_PLAIN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Past this many access lines waiting for the end of the loop's turn, they are written at once.
MAX_PENDING_ACCESS_LINES = 256


class JsonLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The process's log output as configure_logging sets it up: one JSON object a line.

    Access lines can skip logging's machinery (``access_line``): through it, a record, a formatter, a
    write and a flush cost ~20 us a request, as much as the rest of a poll. They are the same JSON
    objects, masked alike, and the lines of one turn of the event loop go out in one write; any other
    line first writes out those before it, so the order stays that of the events.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())
        self._pending: list[str] = []
        # The loop (and its thread) that will write out the pending lines at the end of its turn.
        self._flush_loop: asyncio.AbstractEventLoop | None = None
        self._flush_thread = 0

    def access_line(
        self, logger: str, method: str, path: str, status: int, duration_ms: float, facts: AccessFacts | None = None
    ) -> None:
        if method in _PLAIN_METHODS:
            # Nothing to mask in a method; the message is its parts, each masked, and the status.
            shown_path = masked_path(path)
            message = f"{method} {shown_path} {status}"
        else:
            shown_path, message, method = mask(path), mask(f"{method} {path} {status}"), mask(method)
        cid = correlation_id.get()
        # One literal, in the order JsonFormatter writes the keys: a dict built up key by key costs as
        # much again. Every request has a correlation id (RequestContextMiddleware, HotStack).
        entry: dict[str, object] = {
            "ts": log_timestamp(time.time()),
            "level": "INFO",
            "logger": logger,
            "message": message,
            "correlation_id": masked_request_correlation_id(cid) if cid else None,
            "method": method,
            "path": shown_path,
            "status": status,
            "duration_ms": duration_ms,
        }
        if not cid:
            del entry["correlation_id"]
        if facts is not None:
            partner = facts.partner
            if partner is not None:
                entry["partner"] = _shown_partners.get(partner) or _shown_partners.setdefault(partner, mask(partner))
            if facts.reason is not None:
                for key, value in facts.error_fields(status).items():
                    entry[key] = mask(value)
        line = json_line(entry)
        with self.lock:  # type: ignore[union-attr]
            self._pending.append(line)
            if len(self._pending) >= MAX_PENDING_ACCESS_LINES:
                self._write_pending()
                return
            scheduled = self._flush_loop
            # The running loop of this thread has its flush coming: nothing more to do (asking asyncio
            # for the running loop costs a getpid() call, once a line would be once a request).
            if scheduled is not None and self._flush_thread == threading.get_ident() and scheduled.is_running():
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self._write_pending()  # not on an event loop: no turn to wait for
                return
            loop.call_soon(self.flush)
            self._flush_loop, self._flush_thread = loop, threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        self._write_pending()
        super().emit(record)

    def flush(self) -> None:
        self._write_pending()
        super().flush()

    def _write_pending(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._flush_loop = None
            if not self._pending:
                return
            lines, self._pending = self._pending, []
            try:
                self.stream.write("\n".join(lines) + "\n")
            except Exception:
                # As logging does with a line it cannot write: reported on stderr, never raised.
                self.handleError(logging.makeLogRecord({"msg": lines[0]}))


def configure_logging(level: str = "INFO") -> None:
    # A record looks up its thread and process names and ids when it is made: ~10 us per access line
    # for fields these JSON lines never show.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = JsonLogHandler(sys.stderr)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # orderhub writes its own access log line with the correlation id.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs each request's whole URL at INFO: a listener's callback, with the user, password or key
    # it may carry. The dispatcher says itself what went wrong with a delivery.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
