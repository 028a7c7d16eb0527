"""Runs after the other API tests (files run in name order): their whole log holds none of the clear
e-mails, identity numbers, secrets or tokens they sent."""

from __future__ import annotations

import re
from pathlib import Path

from orderhub.services.demo import demo_credentials

# What the tests send: e-mails at these domains (their "@" percent-encoded too), these identity numbers,
# the demo secrets.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}(?:@|%40)(example\.com|example\.se|doe\.com)")
_IDENTITY = re.compile(
    r"\b(19121212(?:-|%2D)1212|121212-1212|191212121212|121212\+1212|1212121212|1212121213|20121212-1212|201212121212"
    r"|850101-1236|198501011236)\b"
)


def demo_secrets() -> list[str]:
    return [
        str(entry.get("client_secret", entry.get("password")))
        for entries in demo_credentials().values()
        for entry in entries
    ]


def test_the_logs_of_the_api_tests_hold_no_personal_data_or_secrets(session_log: Path, tokens: dict[str, str]) -> None:
    text = session_log.read_text(encoding="utf-8")
    assert '"status":' in text, "the scan reads real access-log output"
    assert not _EMAIL.search(text), _EMAIL.search(text)
    assert not _IDENTITY.search(text), _IDENTITY.search(text)
    for secret in demo_secrets():
        assert secret not in text, secret
    for token in tokens.values():
        assert token not in text
