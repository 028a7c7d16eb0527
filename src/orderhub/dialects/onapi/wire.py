"""The ON-API order body, read field by field in the order of the specification: the first field at
fault answers 400 with ``Bad <field>`` as the cause and a message the end customer can read. ``<field>``
is the field's name as the specification's headings spell it: ``products.offeringId`` (no index), and
the invoice fields under ``customerDetails`` (``customerDetails.postalCode``), as a CO's integration
built from the specification expects them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from orderhub.domain.accesses import ONAPI_ID, ActivationRequest
from orderhub.domain.customers import CustomerDetails, email_valid, personal_identity
from orderhub.services.idempotency import request_fingerprint
from orderhub.services.order_commands import EarlierKey

from .errors import OnapiError
from .messages import MAX_TEXT, fault_message, message

_PHONE = re.compile(r"^\+[0-9]{6,15}\Z")
_POSTAL_CODE = re.compile(r"^[1-9][0-9]{4}\Z")
# RFC 3339 in UTC, as the body's date-times are read (and the OpenAPI document states them). "-00:00" is
# UTC too (RFC 3339 §4.3: the sender does not know its local offset), as TMF622's dates take it.
MOMENT_PATTERN = r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]00:00)"
_MOMENT = re.compile(MOMENT_PATTERN)
# Control characters (C0 and DEL) belong in no field: a NUL cannot even be stored (PostgreSQL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Reader:
    def __init__(self, language: str) -> None:
        self.language = language

    def bad(self, field: str, key: str = "order") -> OnapiError:
        return OnapiError(400, f"Bad {field}", message(key, self.language), field=field)

    def text(self, data: dict[str, Any], name: str, where: str, key: str, *, required: bool = True) -> str | None:
        """The field's text; ``key``: its message (and its subject in messages.SUBJECTS) when it is
        missing or no text, the message of its fault when it holds one."""
        value = data.get(name)
        if value is None or value == "":
            if required:
                raise self.bad(where, key)
            return None
        if not isinstance(value, str):
            raise self.bad(where, key)
        # The end customer is told what to correct: a name that is there but holds a tab is not "missing".
        fault = "character" if _CONTROL.search(value) else "too_long" if len(value) > MAX_TEXT else None
        if fault is not None:
            raise OnapiError(400, f"Bad {where}", fault_message(fault, key, self.language), field=where)
        if not value.strip():
            # Blanks say as much as "" does: an optional field left blank is left out, a required one missing.
            if required:
                raise self.bad(where, key)
            return None
        return value.strip()

    def identifier(self, data: dict[str, Any], name: str, where: str) -> str:
        value = data.get(name)
        if not isinstance(value, str) or not ONAPI_ID.match(value):
            raise self.bad(where)
        return value

    def moment(self, data: dict[str, Any], name: str) -> datetime:
        value = data.get(name)
        # RFC 3339 in UTC: "Z" (or +00:00, -00:00), seconds required, fractions allowed; "t" and "z" may be
        # lower case (RFC 3339 §5.6).
        if not isinstance(value, str) or not _MOMENT.fullmatch(value):
            raise self.bad(name, "date")
        try:
            return datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise self.bad(name, "date") from None


def read_order(body: Any, language: str, today: date) -> tuple[str, ActivationRequest]:
    """The coId the body names, and the activation it asks for."""
    read = _Reader(language)
    if not isinstance(body, dict):
        raise OnapiError(400, "Bad request body", message("body", language))
    co_id = read.identifier(body, "coId", "coId")
    access_ref = read.identifier(body, "coAccessId", "coAccessId")
    if body.get("operation") != "ACTIVATE":
        raise read.bad("operation")
    read.moment(body, "orderDateTime")
    requested_at = read.moment(body, "requestedDateTime")
    products = body.get("products")
    if not isinstance(products, list) or not products:
        raise read.bad("products")
    services = []
    for product in products:
        if not isinstance(product, dict):
            raise read.bad("products")
        services.append(
            (
                read.identifier(product, "productId", "products.productId"),
                read.identifier(product, "offeringId", "products.offeringId"),
            )
        )
    customer = _customer(read, body.get("customerDetails"), today)
    return co_id, ActivationRequest(access_ref, tuple(services), requested_at, customer)


def _customer(read: _Reader, details: Any, today: date) -> CustomerDetails:
    where = "customerDetails"
    if not isinstance(details, dict):
        raise read.bad(where)
    identified = details.get("identifiedCustomer")
    if not isinstance(identified, bool):
        raise read.bad(f"{where}.identifiedCustomer")
    identity = None
    if identified:
        number = details.get("personalIdentityNumber")
        # The customer is known by the number whatever its spelling: its canonical 12 digits.
        if isinstance(number, str) and not _CONTROL.search(number):
            identity = personal_identity(number.strip(), today)
        if identity is None:
            raise read.bad(f"{where}.personalIdentityNumber", "pin")
    first = read.text(details, "customerFirstname", f"{where}.customerFirstname", "name")
    last = read.text(details, "customerLastName", f"{where}.customerLastName", "name")
    for phone in ("customerPhone", "customerMobilePhone"):
        value = read.text(details, phone, f"{where}.{phone}", "phone", required=False)
        if value is not None and not _PHONE.match(value):
            raise read.bad(f"{where}.{phone}", "phone")
    email = read.text(details, "customerEmail", f"{where}.customerEmail", "email", required=False)
    if email is not None and not email_valid(email):
        raise read.bad(f"{where}.customerEmail", "email")
    invoice = details.get("invoiceDetails")
    if invoice is not None:
        _invoice(read, invoice)
    return CustomerDetails(identity=identity, name=f"{first} {last}", email=email)


def _invoice(read: _Reader, invoice: Any) -> None:
    if not isinstance(invoice, dict):
        raise read.bad("customerDetails.invoiceDetails", "address")
    where = "customerDetails"  # the specification heads the invoice fields customerDetails.<field>
    read.text(invoice, "streetName", f"{where}.streetName", "address")
    read.text(invoice, "streetNumber", f"{where}.streetNumber", "address", required=False)
    read.text(invoice, "streetLittera", f"{where}.streetLittera", "address", required=False)
    postal = invoice.get("postalCode")
    if not isinstance(postal, str) or not _POSTAL_CODE.match(postal):
        raise read.bad(f"{where}.postalCode", "postal_code")
    read.text(invoice, "city", f"{where}.city", "address")


def natural_key(co_id: str, request: ActivationRequest, customer_details: Any) -> tuple[str, dict[str, Any]]:
    """The same order sent again is the same order: same CO, access, products, requested time and end
    customer (``customerDetails`` as sent, all of it). Another customer's order for the same services is
    a new order, which the intake's rules then answer (the product is ordered or active already), never
    the first order's answer. ``orderDateTime`` is left out: a CO retrying an order may stamp it anew,
    and the same customer's order alike in all else would only be refused next to the first (a failed
    first order included: it answers its failure, as the identical body does). The customer's data
    stands in the basis as a fingerprint only: it is personal data."""
    basis = {**_order_basis(co_id, request), "customer": request_fingerprint(customer_details)}
    return "onapi:" + request_fingerprint(basis), basis


def natural_key_before_customers(co_id: str, request: ActivationRequest, customer_details: Any) -> EarlierKey:
    """The natural key releases before 2026-12-06 stored: CO, access, products and requested time, no
    customer. Such a key names this order's first attempt only if the order it names was sent with the
    same ``customerDetails`` (another customer's order for the same services is no retry of it)."""
    basis = _order_basis(co_id, request)
    customer = request_fingerprint(customer_details)

    def same_customer(stored_request: dict[str, Any]) -> bool:
        return request_fingerprint(stored_request.get("customerDetails")) == customer

    return EarlierKey("onapi:" + request_fingerprint(basis), basis, same_customer)


def _order_basis(co_id: str, request: ActivationRequest) -> dict[str, Any]:
    return {
        "co": co_id,
        "access": request.access_ref,
        "products": sorted([list(pair) for pair in request.services]),
        "requested": request.requested_at.isoformat(),
    }


def without_order_date_time(body: dict[str, Any]) -> dict[str, Any]:
    """What an Idempotency-Key stands for: the whole body but ``orderDateTime``, which a retry may stamp
    anew (as ``natural_key`` leaves it out). Any other difference is another request (409)."""
    return {name: value for name, value in body.items() if name != "orderDateTime"}
