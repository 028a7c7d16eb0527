"""Log masking of personal data and secrets, and the JSON log format."""

import json
import logging
import sys

import pytest

from orderhub.observability import JsonFormatter, correlation_id, mask


def test_email_is_masked():
    masked = mask("customer john@doe.com ordered")
    assert "john@" not in masked
    assert "john@doe.com" not in masked


def test_email_keeps_first_letter_and_domain_for_support():
    assert mask("john@doe.com") == "j***@doe.com"


@pytest.mark.parametrize("number", ["19811218-9876", "811218-9876", "19811218+9876"])
def test_identity_number_is_masked(number):
    masked = mask(f"personal number {number} given")
    assert number not in masked
    assert "9876" not in masked


@pytest.mark.parametrize(
    "text", ["client_secret=abc123", "password=abc123", "access_token: abc123", "grant&client_secret=abc123&x=1"]
)
def test_secret_value_is_hidden(text):
    masked = mask(text)
    assert "abc123" not in masked


def test_secret_name_stays_visible():
    assert mask("client_secret=abc123") == "client_secret=***"


@pytest.mark.parametrize("iccid", ["8935100202808142061", "89014103211118510720"])
def test_iccid_is_not_masked(iccid):
    assert mask(f"profile {iccid} released") == f"profile {iccid} released"


@pytest.mark.parametrize("text", ['{"client_secret": "abc123"}', "{'password': 'abc123'}"])
def test_quoted_secret_value_is_hidden(text):
    assert "abc123" not in mask(text)


def test_bearer_token_is_hidden():
    assert "eyJabc123" not in mask("Authorization: Bearer eyJabc123")


def test_identity_number_without_separator_is_masked():
    assert "198112189876" not in mask("personal number 198112189876 given")


# --- JSON formatter -----------------------------------------------------------------------------


def record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("orderhub.test", logging.INFO, __file__, 1, message, args, exc_info)


@pytest.fixture
def cid():
    token = correlation_id.set("cid-123")
    yield "cid-123"
    correlation_id.reset(token)


def test_json_formatter_writes_one_json_object_with_correlation_id(cid):
    line = JsonFormatter().format(record("order %s accepted", "ord-1"))
    assert "\n" not in line
    entry = json.loads(line)
    assert isinstance(entry, dict)
    assert entry["correlation_id"] == cid
    assert entry["message"] == "order ord-1 accepted"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "orderhub.test"


def test_json_formatter_omits_correlation_id_when_unset():
    token = correlation_id.set(None)
    try:
        entry = json.loads(JsonFormatter().format(record("hello")))
    finally:
        correlation_id.reset(token)
    assert "correlation_id" not in entry


def test_json_formatter_masks_the_message(cid):
    entry = json.loads(JsonFormatter().format(record("email %s secret=%s", "john@doe.com", "abc123")))
    assert "john@" not in entry["message"]
    assert "abc123" not in entry["message"]


def test_json_formatter_keeps_exception_on_one_line_and_masked(cid):
    try:
        raise ValueError("bad customer john@doe.com")
    except ValueError:
        exc_info = sys.exc_info()
    line = JsonFormatter().format(record("failed", exc_info=exc_info))
    assert "\n" not in line
    entry = json.loads(line)
    assert "ValueError" in entry["exception"]
    assert "john@" not in entry["exception"]
    assert entry["correlation_id"] == cid


def test_json_formatter_copies_request_fields(cid):
    rec = record("request")
    rec.method, rec.path, rec.status = "POST", "/orders", 201
    entry = json.loads(JsonFormatter().format(rec))
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/orders", 201)
