"""The ON-API order body and answers as the OpenAPI document describes them (wire.py reads and checks the
body by hand; the routes shape the answers)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from orderhub.web.openapi_answers import Json

from .messages import MAX_TEXT
from .wire import MOMENT_PATTERN

_ID = r"^[-0-9a-zA-Z.]{1,36}$"
# What wire.py reads as a date-time, so that a client (or a fuzzer) sends one the API takes.
_Moment = Annotated[str, Field(pattern=f"^{MOMENT_PATTERN}$", json_schema_extra={"format": "date-time"})]
# Text as wire.py reads it: at most MAX_TEXT characters and no control character; a required one more than
# spaces (\x85 is one to Python's strip, not to a JSON Schema's \s), an optional one empty or blank if not given.
_NO_CONTROL = r"[^\u0000-\u001f\u007f]"
_SOME_TEXT = rf"{_NO_CONTROL}*[^\s\u0085\u0000-\u001f\u007f]{_NO_CONTROL}*"
_RequiredText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, pattern=f"^{_SOME_TEXT}$")]
_Text = Annotated[str, Field(max_length=MAX_TEXT, pattern=f"^{_NO_CONTROL}*$")]


class ProductRef(BaseModel):
    productId: str = Field(pattern=_ID)
    offeringId: str = Field(pattern=_ID)


class InvoiceDetails(BaseModel):
    streetName: _RequiredText
    streetNumber: _Text | None = None
    streetLittera: _Text | None = None
    postalCode: str = Field(pattern=r"^[1-9][0-9]{4}$")
    city: _RequiredText


class CustomerDetails(BaseModel):
    identifiedCustomer: bool
    personalIdentityNumber: str | None = Field(
        None,
        description=(
            "Required when identifiedCustomer: YYYYMMDD-XXXX or YYYYMMDDXXXX, or YYMMDD-XXXX (+ for 100 or older)"
            " or YYMMDDXXXX; a real date, Luhn check digit"
        ),
    )
    customerFirstname: _RequiredText
    customerLastName: _RequiredText
    customerPhone: str | None = Field(None, pattern=r"^\+[0-9]{6,15}$")
    customerMobilePhone: str | None = Field(None, pattern=r"^\+[0-9]{6,15}$")
    customerEmail: Annotated[str, Field(max_length=255, json_schema_extra={"format": "email"})] | None = Field(
        None,
        description="A mailbox of 1-64 characters, @ and a domain of two or more dot-separated labels, the last of "
        "two or more characters; characters beyond ASCII allowed",
    )
    invoiceDetails: InvoiceDetails | None = None


# The example a docs page shows and "try it" sends (without one, drawn from the patterns: random letters,
# a date of month 14): an order the demo's CO Acme may place, received for a date ahead, on an access
# README's walkthroughs leave free. The specification's own example names its customer "string": refused.
EXAMPLE_ORDER: Json = {
    "coId": "Acme",
    "coAccessId": "access-free-9",
    "operation": "ACTIVATE",
    "orderDateTime": "2026-12-01T10:00:00Z",
    "requestedDateTime": "2032-06-01T08:00:00Z",
    "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
    "customerDetails": {
        "identifiedCustomer": True,
        "personalIdentityNumber": "19121212-1212",
        "customerFirstname": "Anna",
        "customerLastName": "Berg",
        "customerMobilePhone": "+46701234567",
        "customerEmail": "anna@example.se",
        "invoiceDetails": {"streetName": "Storgatan", "streetNumber": "1", "postalCode": "12345", "city": "Stockholm"},
    },
}


class OrderRequest(BaseModel):
    coId: str = Field(pattern=_ID)
    coAccessId: str = Field(pattern=_ID)
    operation: str = Field(pattern="^ACTIVATE$")
    orderDateTime: _Moment = Field(description="RFC 3339, UTC", examples=["2026-12-01T10:00:00Z"])
    requestedDateTime: _Moment = Field(description="RFC 3339, UTC; now or past: activated at once")
    products: list[ProductRef] = Field(min_length=1, max_length=10)
    customerDetails: CustomerDetails


_TEXT: Json = {"type": "string"}
ORDER_ANSWER: Json = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {
        "status": {"type": "string", "enum": ["ACTIVATED", "RECEIVED", "REJECTED"]},
        "message": {**_TEXT, "description": "For the end customer, in the CO's language"},
    },
}
ERROR_BODY: Json = {
    "type": "object",
    "required": ["cause"],
    "properties": {
        "cause": {**_TEXT, "description": "Bad <field> for an input error, as the specification's headings name it"},
        "message": {**_TEXT, "description": "Input errors (400) only: for the end customer, in the CO's language"},
    },
    "description": "ON-API's common response",
}
ENDPOINT: Json = {
    "type": "object",
    "required": ["name", "endpoint", "version", "documentation"],
    "properties": {
        "name": {**_TEXT, "examples": ["order"]},
        "endpoint": {**_TEXT, "examples": ["/2.5/sp_spec/order/"]},
        "version": {**_TEXT, "examples": ["2.5"]},
        "documentation": {"type": "string", "format": "uri-reference"},  # relative without ORDERHUB_PUBLIC_URL
    },
}
PRODUCT: Json = {
    "type": "object",
    "required": ["productId", "name", "offerings"],
    "properties": {
        "productId": _TEXT,
        "name": _TEXT,
        "offerings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["offeringId", "name"],
                "properties": {"offeringId": _TEXT, "name": _TEXT},
            },
        },
    },
}
