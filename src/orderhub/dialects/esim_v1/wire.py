"""esim-v1 wire models: field names exactly as partners send and read them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, field_validator

from orderhub.domain.catalog import MAX_PRICE_DECIMALS, MAX_PRICE_DIGITS, PRICE_TEXT
from orderhub.domain.order_states import OrderState


def _text_only(value: object) -> object:
    # Without this, pydantic would read a bare number, or a string of digits ("1800000000"), as a
    # Unix timestamp. Every date form it reads otherwise starts with the year and its "-".
    if not isinstance(value, str) or value[4:5] != "-":
        raise ValueError("must be an RFC 3339 date-time string such as 2030-09-13T12:00:00Z")
    return value


DateTimeText = Annotated[datetime, BeforeValidator(_text_only)]


def _decimal_text(value: object) -> object:
    # pydantic would read "1_0", Arabic-Indic digits, " 10 " and "1e3" as numbers; as text a
    # price is plain ASCII decimal digits (a JSON number is read as it is), as in the catalog.
    if isinstance(value, str) and PRICE_TEXT.fullmatch(value) is None:
        raise ValueError('must be a number, or a string of ASCII decimal digits such as "10.50"')
    return value


class _Wire(BaseModel):
    # Partners send fields we do not use (and may add more); unknown fields are ignored, not refused.
    model_config = ConfigDict(extra="ignore")


class Customer(_Wire):
    email: str = Field(min_length=3, max_length=320, json_schema_extra={"format": "email"})
    countryOfResidence: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 (checked against the code list)"
    )


class Device(_Wire):
    product_id: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    # Documented as an enum, checked by the domain (whose message names the values for the operation).
    type: str = Field(
        max_length=20,
        description="iot, ios or android (TOPUP: ios or android)",
        json_schema_extra={"enum": ["iot", "ios", "android"]},
    )


def _product_named(name: str) -> JsonValue:
    return {"required": [name], "properties": {name: {"type": "string", "minLength": 1}}}


class Subscription(_Wire):
    # The product is required, under one name or another (mapping._product_id checks it).
    model_config = ConfigDict(
        json_schema_extra={"anyOf": [_product_named(n) for n in ("product_id", "allowanceId", "id")]}
    )

    product_id: str | None = Field(default=None, max_length=64, description="Preferred product field")
    allowanceId: str | None = Field(
        default=None, max_length=64, description="Deprecated: use product_id", json_schema_extra={"deprecated": True}
    )
    id: str | None = Field(default=None, max_length=64, description="Product id as in the API's examples")
    activationDate: DateTimeText | None = None
    price: Decimal | None = Field(default=None, ge=0, max_digits=MAX_PRICE_DIGITS, decimal_places=MAX_PRICE_DECIMALS)
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217, one the partner sells in; sent with price"
    )

    _price_text = field_validator("price", mode="before")(_decimal_text)


def _stripped(value: object) -> object:
    # Surrounding spaces are no part of the ICCID: its 22 characters are counted without them.
    return value.strip() if isinstance(value, str) else value


class Esim(_Wire):
    iccid: Annotated[str | None, BeforeValidator(_stripped)] = Field(default=None, max_length=22)


def _operation_type_schema(schema: dict[str, Any]) -> None:
    # OpenAPI marks a schema deprecated, not an enum value: the deprecated spelling is a choice of its own.
    schema.pop("enum", None)
    schema.pop("type", None)
    schema["anyOf"] = [
        {"type": "string", "enum": ["NEW_ESIM", "TOPUP"]},
        {"type": "string", "const": "TOPUP_ACTIVATION", "deprecated": True},
    ]


class OrderInput(_Wire):
    operationType: Literal["NEW_ESIM", "TOPUP", "TOPUP_ACTIVATION"] = Field(
        description="TOPUP_ACTIVATION is the deprecated spelling of TOPUP", json_schema_extra=_operation_type_schema
    )
    countryCode: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 (checked against the code list)"
    )
    customer: Customer
    device: Device
    subscriptions: list[Subscription] = Field(min_length=1, max_length=15)
    esim: Esim | None = None


def _example(operation: str, **extra: Any) -> dict[str, Any]:
    """The API's own example request, as partners have it (its 2019 date made future)."""
    subscription = {
        "id": "a3u3z000000PZBhAAO",
        "activationDate": "2030-09-13T12:00:00Z",
        "price": 10,
        "currency": "USD",
    }
    device = {"product_id": "123456789", "model": "iPhone", "type": "ios"}
    customer = {"email": "john@doe.com", "countryOfResidence": "US"}
    return {"input": {"operationType": operation, "countryCode": "PT", "customer": customer, "device": device,
                      "subscriptions": [subscription], **extra}}  # fmt: skip


# In the document: a new eSIM and a top-up of the demo's eSIM (TOPUP: TOPUP_ACTIVATION is deprecated).
EXAMPLE_ORDERS = [_example("NEW_ESIM"), _example("TOPUP", esim={"iccid": "123456789"})]


class OrderRequest(_Wire):
    input: OrderInput


class OrderAccepted(BaseModel):
    id: str
    externalId: str
    status: Literal["ACCEPTED"] = "ACCEPTED"


class OrderOutput(BaseModel):
    iccid: str
    matchingId: str | None = None
    smdpUrl: str
    lpa_url: str | None = None
    subscription_id: str
    subscription_ids: list[str] | None = None


class OrderHistoryEntry(BaseModel):
    at: datetime
    # orderhub's own addition (the API's Order resource has no history): the canonical state names.
    status: OrderState = Field(description="The state the order entered (orderhub's canonical names)")
    reason: str | None = None


class OrderResource(BaseModel):
    id: str
    externalId: str
    status: Literal["FULFILLING", "COMPLETED", "FAILED"]
    input: dict
    output: OrderOutput | None = None
    failureReason: str | None = None
    createdAt: datetime
    updatedAt: datetime
    history: list[OrderHistoryEntry]


class InstallLinks(BaseModel):
    lpa_url: str
    ios: str
    android: str


class Price(BaseModel):
    price: Decimal
    currency: str


class ProductResource(BaseModel):
    id: str
    name: str
    description: str
    dataAllowanceMb: int | None
    validityDays: int | None
    footprint: list[str]
    prices: list[Price]


class SubscriptionResource(BaseModel):
    id: str
    productId: str
    orderId: str
    status: Literal["PENDING", "ACTIVE", "EXPIRED"]
    startDate: datetime
    endDate: datetime | None


class SimResource(BaseModel):
    iccid: str
    status: Literal["Released", "Downloaded", "Installed"]
    smdpUrl: str
    subscriptions: list[SubscriptionResource]


class ErrorBody(BaseModel):
    type: str
    messages: list[str]
