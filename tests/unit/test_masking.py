"""Log masking of personal data and secrets, and the JSON log format."""

import asyncio
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderhub import observability
from orderhub.observability import (
    JsonFormatter,
    JsonLogHandler,
    configure_logging,
    correlation_id,
    mask,
)
from orderhub.web.middleware import direct_access_handler


def test_email_is_masked():
    masked = mask("customer john@doe.com ordered")
    assert "john@" not in masked
    assert "john@doe.com" not in masked


def test_email_keeps_first_letter_and_domain_for_support():
    assert mask("john@doe.com") == "j***@doe.com"


@pytest.mark.parametrize("text", ["cust-anna.berg%40example.se", "ANNA%40EXAMPLE.SE-1", "anna%2Bx%40example.se"])
def test_an_email_with_its_at_sign_percent_encoded_is_masked(text):
    """As a partner's X-Correlation-ID may carry it (a path is decoded before it is logged): it was logged whole."""
    masked = mask(text)
    assert "anna" not in masked.lower() and "%40example.se" in masked.lower()


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


@pytest.mark.parametrize(
    "uuid",
    [
        "01a24e09-a34d-7e6c-a2ae-3e7906145319",  # a listener's id (CI): 790614-5319's digits end it
        "01a24e09-a34d-7e6c-a2ae-197906145319",  # twelve digits, as YYYYMMDDXXXX
        "19811218-9876-4e6c-a2ae-3e1234567890",  # YYYYMMDD-XXXX begins it
    ],
)
def test_an_id_that_holds_an_identity_numbers_digits_is_not_masked(uuid):
    # Ids are what an operator looks for in the logs: a listener's, an order's in a path.
    assert mask(f"listener {uuid} failed") == f"listener {uuid} failed"
    assert mask(f"/esim/v1/order/{uuid}") == f"/esim/v1/order/{uuid}"
    # Beside an id, a personal number is still masked.
    assert mask(f"{uuid} 790614-5319") == f"{uuid} ********-****"


@pytest.mark.parametrize("text", ['{"client_secret": "abc123"}', "{'password': 'abc123'}"])
def test_quoted_secret_value_is_hidden(text):
    assert "abc123" not in mask(text)


def test_bearer_token_is_hidden():
    assert "eyJabc123" not in mask("Authorization: Bearer eyJabc123")


def test_a_callbacks_user_password_and_key_are_hidden():
    """A listener's callback as a delivery's log line would show it (httpx logged it so, at INFO)."""
    url = "http://hookuser:Hook-Pa55word@127.0.0.1:8501/cb?api_key=SECRETKEY123&sig=abcdef0123456789&x=1"
    assert mask(f"POST {url}") == "POST http://***@127.0.0.1:8501/cb?api_key=***&sig=***&x=1"


@pytest.mark.parametrize("rest", ["/cb?to=a@b", "?to=a@b"])
def test_a_password_with_an_at_sign_is_hidden_whole_and_what_follows_the_host_stays(rest):
    """httpx takes the authority's last "@" as its end: "p@ss" is the password, not "p"."""
    masked = mask(f"POST http://user:p@Ssword@hook.example{rest} failed")
    assert re.fullmatch(rf"POST http://\*+@hook\.example{re.escape(rest)} failed", masked), masked


def test_an_at_sign_in_a_urls_path_is_not_taken_for_its_user():
    assert mask("GET http://hook.example/cb/user@x") == "GET http://hook.example/cb/user@x"


@pytest.mark.parametrize(
    "text", ["item 1: offering iptv/basic is no longer allowed", "the basic offering", "bearer of news"]
)
def test_words_after_basic_or_bearer_in_a_sentence_stay(text):
    assert mask(text) == text


def test_a_basic_credential_is_hidden():
    assert mask("Authorization: Basic ZGVtbzpzZWNyZXQ=") == "Authorization: Basic ***"


@pytest.mark.parametrize("number", ["19811218%2D9876", "811218%2d9876", "811218%2B9876"])
def test_an_identity_number_with_its_separator_percent_encoded_is_masked(number):
    """As a partner's X-Correlation-ID may carry it: it was logged whole."""
    assert mask(f"cust-{number}") == "cust-********-****"


def test_identity_number_without_separator_is_masked():
    assert "198112189876" not in mask("personal number 198112189876 given")


@pytest.mark.parametrize(
    "number",
    ["20121212-1212", "201212121212", "121212-1212", "1212121212", "121212+1212", "191212721219", "1212721219"],
)
def test_every_spelling_of_a_number_and_its_canonical_form_is_masked(number):
    # Customers are kept by the canonical 12 digits (domain.customers.personal_identity): masked too.
    masked = mask(f'{{"personalIdentityNumber": "{number}"}}')
    assert number not in masked and number[-4:] not in masked, masked


@pytest.mark.parametrize(
    "text", ["/2.5/1212121212", "8112189876", "pin191212121212x", "id:811278-9876;", "no_8112189876_here"]
)
def test_identity_numbers_are_masked_in_ids_and_paths_as_well(text):
    # The ten-digit form, and any form next to letters: a partner may put one in a path or correlation id.
    masked = mask(text)
    assert "9876" not in masked and "1212121212" not in masked, masked


@pytest.mark.parametrize("text", ["2125551234", "1800000000", "ORD-20261124143025-0001", "69877689", "12345678901"])
def test_numbers_that_are_no_identity_number_stay(text):
    assert mask(text) == text


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


# --- fast paths ---------------------------------------------------------------------------------


def _mask_every_time(text: str) -> str:
    """mask as it was before its fast paths: every substitution on every text."""
    text = observability._URL_USERINFO.sub(r"\1***@", text)
    text = observability._EMAIL.sub(r"\1***\2\3", text)
    text = observability._IDENTITY.sub("********-****", text)
    text = observability._CREDENTIALS.sub(observability._credential, text)
    return observability._SECRET.sub(r"\1***", text)


# Pieces that make the patterns match, in odd cases too (the long s and the Kelvin sign match s and k
# case-insensitively, which str.lower() would not tell), among arbitrary text.
_PIECES = st.sampled_from(
    ["@", "a@b.cd", "jo@doe.com", "%40", "jo%40doe.com", "%4", "811218%2D9876",
     "Bearer ", "BASIC ", "beareR x", "\u017fecret", "client_\u017fecret=", "password:",
     "access_TOKEN=", "refresh_token='", "to\u212aen", "19811218-9876", "811218+9876", "198112189876", "8944",
     " ", "=", ":", '"', "'", "&", ",", "/", "é", "İ", "Token", "8111", "12189876", "8112189876", "x1912121212",
     "\u0661\u0662\u0663\u0664\u0665\u0666-\u0661\u0662\u0663\u0664", "\u0661\u0662\u0663", "https://u:p@h/",
     "://", "api_key=", "API-KEY:", "sig=", "signature=", "basic is", "\u212aey="]
)  # fmt: skip
_TEXTS = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12).map("".join)
_ASCII_TEXTS = st.lists(st.one_of(_PIECES, st.text(st.characters(max_codepoint=127), max_size=8)), max_size=12).map(
    "".join
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(_TEXTS, _ASCII_TEXTS))
def test_mask_with_its_fast_paths_hides_exactly_what_every_substitution_would(text: str) -> None:
    assert mask(text) == _mask_every_time(text)


def test_an_access_line_carries_the_request_masked_and_its_correlation_id(cid: str) -> None:
    from orderhub.web.middleware import record_request

    lines: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lines.append  # type: ignore[method-assign]
    access = logging.getLogger("orderhub.access")
    access.addHandler(handler)
    previous = access.level
    access.setLevel(logging.INFO)
    try:
        record_request("GET", "/esim/v1/order/jo@doe.com", 404, 0.01234)
    finally:
        access.removeHandler(handler)
        access.setLevel(previous)
    (line,) = lines
    entry = json.loads(JsonFormatter().format(line))
    assert entry["message"] == "GET /esim/v1/order/j***@doe.com 404"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/esim/v1/order/j***@doe.com", 404)
    assert entry["duration_ms"] == 12.34
    assert entry["correlation_id"] == cid
    assert entry["logger"] == "orderhub.access"


# --- access lines straight to the log's handler -------------------------------------------------


@pytest.fixture
def configured_log() -> Iterator[io.StringIO]:
    """The logging configure_logging sets up, its stream captured; restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging("INFO")
    (handler,) = root.handlers
    handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_access_lines_of_one_loop_turn_go_out_together_before_any_later_line(
    configured_log: io.StringIO, cid: str
) -> None:
    from orderhub.web.middleware import record_request

    async def turn() -> tuple[str, str]:
        record_request("GET", "/esim/v1/order/jo@doe.com", 404, 0.01234)
        record_request("POST", "/esim/v1/order", 201, 0.002)
        during = configured_log.getvalue()
        await asyncio.sleep(0)  # the next turn
        after = configured_log.getvalue()
        logging.getLogger("orderhub.test").warning("later")
        return during, after

    root = logging.getLogger()
    others = [handler for handler in root.handlers if not isinstance(handler, JsonLogHandler)]
    for handler in others:  # pytest's own capture, added for the test's call
        root.removeHandler(handler)
    try:
        during, after = asyncio.run(turn())
    finally:
        for handler in others:
            root.addHandler(handler)
    assert during == ""
    first, second, later = (json.loads(line) for line in configured_log.getvalue().splitlines())
    assert after.count("\n") == 2
    # The same object JsonFormatter makes of a record with these fields, masked alike.
    as_record = logging.LogRecord("orderhub.access", logging.INFO, __file__, 0, "%s %s %s",
                                  ("GET", "/esim/v1/order/jo@doe.com", 404), None)  # fmt: skip
    as_record.method, as_record.path, as_record.status, as_record.duration_ms = (
        "GET", "/esim/v1/order/jo@doe.com", 404, 12.34)  # fmt: skip
    expected = json.loads(JsonFormatter().format(as_record))
    assert {**first, "ts": None} == {**expected, "ts": None}
    assert first["path"] == "/esim/v1/order/j***@doe.com" and first["correlation_id"] == cid
    assert (second["method"], second["status"]) == ("POST", 201)
    assert later["message"] == "later"


def test_another_handler_on_the_way_gets_access_lines_through_logging(configured_log: io.StringIO) -> None:
    from orderhub.web.middleware import access_log, record_request

    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        assert direct_access_handler(access_log) is None
        record_request("GET", "/healthz", 200, 0.001)
    finally:
        logging.getLogger().removeHandler(handler)
    assert [record.getMessage() for record in seen] == ["GET /healthz 200"]
    assert json.loads(configured_log.getvalue())["path"] == "/healthz"


def test_lines_left_by_a_loop_that_stopped_go_out_with_the_next_loops_turn(configured_log: io.StringIO) -> None:
    from orderhub.web.middleware import record_request

    root = logging.getLogger()
    others = [handler for handler in root.handlers if not isinstance(handler, JsonLogHandler)]
    for handler in others:
        root.removeHandler(handler)
    try:

        async def one_line(path: str) -> None:
            record_request("GET", path, 200, 0.001)

        first = asyncio.new_event_loop()

        def line_then_stop() -> None:
            record_request("GET", "/first", 200, 0.001)
            first.stop()  # before the turn that would write the line

        first.call_soon(line_then_stop)
        first.run_forever()
        first.close()
        assert configured_log.getvalue() == ""

        async def next_turn() -> None:
            await one_line("/second")
            await asyncio.sleep(0)

        asyncio.run(next_turn())
    finally:
        for handler in others:
            root.addHandler(handler)
    assert [json.loads(line)["path"] for line in configured_log.getvalue().splitlines()] == ["/first", "/second"]


# --- correlation ids ----------------------------------------------------------------------------

# Eight digits, a dash and four digits: what the identity-number pattern looks for, and how about one
# UUID in 280 begins (orderhub makes a UUID for every request that comes without an id).
DIGITS_FIRST_UUID = "12345678-1234-4abc-8def-0123456789ab"


@pytest.mark.parametrize("uuid", [DIGITS_FIRST_UUID, DIGITS_FIRST_UUID.upper()])
def test_a_uuid_correlation_id_is_logged_as_answered(configured_log: io.StringIO, uuid: str) -> None:
    from orderhub.web.middleware import record_request

    token = correlation_id.set(uuid)
    try:
        logging.getLogger("orderhub.test").warning("with an id")
        record_request("GET", "/healthz", 200, 0.001)  # not on a loop: written at once
    finally:
        correlation_id.reset(token)
    assert [json.loads(line)["correlation_id"] for line in configured_log.getvalue().splitlines()] == [uuid, uuid]


# The second is one hex digit longer than a UUID.
@pytest.mark.parametrize("supplied", ["cust-19900101-1234", "19900101-1234-4abc-8def-0123456789abc"])
def test_a_correlation_id_that_is_not_a_uuid_is_masked(configured_log: io.StringIO, supplied: str) -> None:
    from orderhub.web.middleware import record_request

    token = correlation_id.set(supplied)
    try:
        logging.getLogger("orderhub.test").warning("with an id")
        record_request("GET", "/healthz", 200, 0.001)
    finally:
        correlation_id.reset(token)
    logged = [json.loads(line)["correlation_id"] for line in configured_log.getvalue().splitlines()]
    assert logged == [mask(supplied)] * 2
    assert "19900101" not in logged[0]


# --- what an access line remembers --------------------------------------------------------------


def test_a_path_that_comes_back_is_masked_every_time_and_a_long_one_too(configured_log: io.StringIO) -> None:
    from orderhub.web.middleware import record_request

    long_path = "/esim/v1/order/" + "x" * 300 + "/jo@doe.com"
    for path in ["/esim/v1/order/jo@doe.com", "/esim/v1/order/jo@doe.com", long_path, long_path]:
        record_request("GET", path, 404, 0.001)  # not on a loop: written at once
    logged = [json.loads(line) for line in configured_log.getvalue().splitlines()]
    assert [entry["path"] for entry in logged] == [
        "/esim/v1/order/j***@doe.com",
        "/esim/v1/order/j***@doe.com",
        mask(long_path),
        mask(long_path),
    ]
    assert all("jo@doe.com" not in entry["message"] for entry in logged)


def test_what_access_lines_remember_stays_bounded() -> None:
    for n in range(6_000):
        observability.masked_path(f"/esim/v1/order/{n}")
        observability.masked_request_correlation_id(f"cid-{n}")
    assert observability._remembered_path.cache_info().currsize <= 4_096
    assert observability._remembered_correlation_id.cache_info().currsize <= 1_024


def _timestamp_made_afresh(created: float) -> str:
    milli = int(created * 1000)
    moment = datetime.fromtimestamp(milli // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{milli % 1000:03d}+00:00"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False), min_size=1, max_size=20))
def test_a_log_timestamp_is_the_instant_to_the_millisecond_whatever_came_before(instants: list[float]) -> None:
    # Nearby instants too (the same millisecond, the next, across a second): the remembered ones.
    for created in [t for base in instants for t in (base, base + 0.0001, base + 0.001, base + 0.9995)]:
        assert observability.log_timestamp(created) == _timestamp_made_afresh(created)


def test_a_request_to_a_callback_does_not_log_its_url(configured_log: io.StringIO) -> None:
    """The hub's deliveries go through httpx, which logged every request's whole URL at INFO: a
    listener's user, password and key with it."""
    import http.server
    import threading

    import httpx

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    with http.server.HTTPServer(("127.0.0.1", 0), Listener) as server:
        threading.Thread(target=server.handle_request, daemon=True).start()
        url = f"http://hookuser:Hook-Pa55word@127.0.0.1:{server.server_port}/cb?api_key=SECRETKEY123"
        assert httpx.post(url, json={}).status_code == 201
    for handler in logging.getLogger().handlers:
        handler.flush()
    logged = configured_log.getvalue()
    assert "Hook-Pa55word" not in logged and "SECRETKEY123" not in logged, logged
