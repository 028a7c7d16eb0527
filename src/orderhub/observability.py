"""JSON logs that carry the request's correlation id and never show personal data or secrets."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

# Any address, non-ASCII ones included (an internationalised e-mail is personal data too).
_NOT_IN = r"\s@\"'<>(),;:\[\]/"  # characters no address holds
_EMAIL = re.compile(rf"([^{_NOT_IN}])[^{_NOT_IN}]*@([^{_NOT_IN}]+\.[^{_NOT_IN}.]{{2,}})")
# Personal identity numbers: YYMMDD-XXXX / YYYYMMDD-XXXX, and the 12-digit YYYYMMDDXXXX form.
# ICCIDs (19-20 digits starting 89) are left alone: operators need them.
_IDENTITY = re.compile(r"\b(?:\d{6}|\d{8})[-+]\d{4}\b|\b(?:19|20)\d{10}\b")
_SECRET = re.compile(
    r"(?i)((?:client_secret|secret|password|access_token|refresh_token)[\"']?\s*[:=]\s*[\"']?)[^\s,&\"'}]+"
)
_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def mask_identity(number: str) -> str:
    """An identity number for listings: only its last two characters show."""
    return "*" * max(len(number) - 2, 2) + number[-2:]


def mask(text: str) -> str:
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _IDENTITY.sub("********-****", text)
    text = _CREDENTIALS.sub(r"\1 ***", text)
    return _SECRET.sub(r"\1***", text)


_default_record_factory = logging.getLogRecordFactory()


def _record_with_correlation_id(*args: object, **kwargs: object) -> logging.LogRecord:
    # Captured when the record is made, so it survives handlers that format later or elsewhere.
    record = _default_record_factory(*args, **kwargs)
    record.correlation_id = correlation_id.get()
    return record


logging.setLogRecordFactory(_record_with_correlation_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        if cid:
            # A partner may put anything in it, personal data included.
            entry["correlation_id"] = mask(str(cid))
        for key in ("method", "path", "status", "duration_ms", "partner"):
            if hasattr(record, key):
                value = getattr(record, key)
                # A path can carry an e-mail or an identity number (a client's mistake, or a probe).
                entry[key] = mask(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # orderhub writes its own access log line with the correlation id.
    logging.getLogger("uvicorn.access").disabled = True
