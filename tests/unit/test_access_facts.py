"""An access line's partner, and the code and field of the error a request was answered with: the same
on both ways record_request writes it (straight to configure_logging's handler, or as a logging record
when another handler is on the way), masked alike, and never an error code on a success."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from orderhub.access_facts import AccessFacts, access_facts, note_refusal, signed_in_as
from orderhub.observability import JsonFormatter, JsonLogHandler, configure_logging
from orderhub.web.middleware import record_request


@pytest.fixture
def configured_log() -> Iterator[io.StringIO]:
    """The logging configure_logging sets up, its stream captured; restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging("INFO")
    (handler,) = root.handlers
    assert isinstance(handler, JsonLogHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def _facts(partner: str | None, reason: str | None, field: str | None = None) -> AccessFacts:
    facts = AccessFacts()
    facts.partner, facts.reason, facts.field = partner, reason, field
    return facts


# A field path can hold a name the client chose (a member of its body): masked as any value is.
REFUSED = _facts("shop-19900101-1234", "INVALID_REQUEST_PARAMS", "input.customer.jo@doe.com")
CASES = [
    ("POST", "/esim/v1/order", 400, REFUSED),
    ("POST", "/esim/v1/order", 201, _facts("demo-reseller-1", None)),
    ("GET", "/esim/v1/order/x", 401, _facts(None, "UNAUTHORISED")),
    # A code noted on the way to an answer that is no error is not the answer's.
    ("POST", "/2.5/sp_spec/order/", 200, _facts("demo-co-acme", "Bad coId", "coId")),
    ("GET", "/healthz", 200, None),
]


def _through_logging(method: str, path: str, status: int, facts: AccessFacts | None) -> dict[str, object]:
    """record_request's line when another handler is on the way: a record, formatted by JsonFormatter."""
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        record_request(method, path, status, 0.001, facts)
    finally:
        logging.getLogger().removeHandler(handler)
    (record,) = seen
    entry = json.loads(JsonFormatter().format(record))
    assert isinstance(entry, dict)
    return entry


@pytest.mark.parametrize(("method", "path", "status", "facts"), CASES)
def test_both_ways_of_writing_an_access_line_give_the_partner_and_the_error_alike(
    configured_log: io.StringIO, method: str, path: str, status: int, facts: AccessFacts | None
) -> None:
    formatted = _through_logging(method, path, status, facts)
    root = logging.getLogger()
    others = [handler for handler in root.handlers if not isinstance(handler, JsonLogHandler)]
    for handler in others:  # pytest's own capture, added for the test's call: the line goes straight out
        root.removeHandler(handler)
    try:
        record_request(method, path, status, 0.001, facts)  # not on a loop: written at once
    finally:
        for handler in others:
            root.addHandler(handler)
    direct = json.loads(configured_log.getvalue().splitlines()[-1])
    assert {**direct, "ts": None} == {**formatted, "ts": None}
    assert list(direct) == list(formatted)  # the keys in the same order too


def test_an_access_line_names_the_partner_and_the_error_masked_and_no_more(configured_log: io.StringIO) -> None:
    refused = _through_logging("POST", "/esim/v1/order", 400, REFUSED)
    assert refused["partner"] == "shop-********-****"
    assert (refused["reason"], refused["field"]) == ("INVALID_REQUEST_PARAMS", "i***@doe.com")
    accepted = _through_logging("POST", "/2.5/sp_spec/order/", 200, CASES[3][3])
    assert accepted["partner"] == "demo-co-acme"
    assert "reason" not in accepted and "field" not in accepted
    anonymous = _through_logging("GET", "/esim/v1/order/x", 401, CASES[2][3])
    assert anonymous["reason"] == "UNAUTHORISED" and "partner" not in anonymous and "field" not in anonymous


def test_what_is_noted_on_a_thread_or_in_a_task_of_the_request_reaches_its_access_line() -> None:
    async def request() -> AccessFacts:
        facts = AccessFacts()
        token = access_facts.set(facts)
        try:
            await asyncio.to_thread(signed_in_as, "demo-reseller-1")  # a FastAPI dependency declared with def
            await asyncio.create_task(asyncio.to_thread(note_refusal, "ORDER_NOT_FOUND", "id"))
        finally:
            access_facts.reset(token)
        return facts

    facts = asyncio.run(request())
    assert (facts.partner, facts.reason, facts.field) == ("demo-reseller-1", "ORDER_NOT_FOUND", "id")
    # Outside a request there is nothing to note into, and nothing is kept for the next one.
    signed_in_as("demo-reseller-1")
    note_refusal("UNAUTHORISED")
    assert access_facts.get() is None
