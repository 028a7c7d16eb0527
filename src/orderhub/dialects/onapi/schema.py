"""The ON-API order body as the OpenAPI document describes it (wire.py reads and checks it by hand)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

_ID = r"^[-0-9a-zA-Z.]{1,36}$"


class ProductRef(BaseModel):
    productId: str = Field(pattern=_ID)
    offeringId: str = Field(pattern=_ID)


class InvoiceDetails(BaseModel):
    streetName: str = Field(max_length=255)
    streetNumber: str | None = Field(None, max_length=255)
    streetLittera: str | None = Field(None, max_length=255)
    postalCode: str = Field(pattern=r"^[1-9][0-9]{4}$")
    city: str = Field(max_length=255)


class CustomerDetails(BaseModel):
    identifiedCustomer: bool
    personalIdentityNumber: str | None = Field(
        None,
        description=(
            "Required when identifiedCustomer: YYYYMMDD-XXXX or YYYYMMDDXXXX, or YYMMDD-XXXX (+ for 100 or older)"
            " or YYMMDDXXXX; a real date, Luhn check digit"
        ),
    )
    customerFirstname: str = Field(min_length=1, max_length=255)
    customerLastName: str = Field(min_length=1, max_length=255)
    customerPhone: str | None = Field(None, pattern=r"^\+[0-9]{6,15}$")
    customerMobilePhone: str | None = Field(None, pattern=r"^\+[0-9]{6,15}$")
    customerEmail: str | None = Field(None, max_length=255)
    invoiceDetails: InvoiceDetails | None = None


class OrderRequest(BaseModel):
    coId: str = Field(pattern=_ID)
    coAccessId: str = Field(pattern=_ID)
    operation: str = Field(pattern="^ACTIVATE$")
    orderDateTime: str = Field(description="RFC 3339, UTC", examples=["2026-12-01T10:00:00Z"])
    requestedDateTime: str = Field(description="RFC 3339, UTC; now or past: activated at once")
    products: list[ProductRef] = Field(min_length=1, max_length=10)
    customerDetails: CustomerDetails


class OrderAnswer(BaseModel):
    status: str = Field(pattern="^(ACTIVATED|RECEIVED|REJECTED)$")
    message: str


class ErrorBody(BaseModel):
    """ON-API's common response; input errors (400) add a message for the end customer."""

    cause: str
    message: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 405, 408, 409, 413, 415, 429, 500, 501, 503)
}
