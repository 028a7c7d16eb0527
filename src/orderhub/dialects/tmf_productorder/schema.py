"""The productOrder bodies as the OpenAPI documents describe them (the routes read the body by hand, in
wire.py, to name each problem the way the partner's body does; these schemas only document it). TMF622's
document (dialects.tmf622.schema) builds on them."""

from __future__ import annotations

from typing import Any

from orderhub.web.openapi_answers import Json, ref

from .mapping import STATE
from .placing import MAX_HEADER_LENGTH, MIN_CREDENTIAL_LENGTH

ORDER_NUMBER = "^ORD-[0-9]{14}-[0-9]{4,}$"


def text(description: str | None = None, **extra: Any) -> Json:
    """A string as wire.py reads one: not blank, at most 200 characters."""
    schema: Json = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S", **extra}
    if description is not None:
        schema["description"] = description
    return schema


def array(items: Json, description: str | None = None, **extra: Any) -> Json:
    schema: Json = {"type": "array", "items": items, **extra}
    if description is not None:
        schema["description"] = description
    return schema


def obj(properties: Json, required: tuple[str, ...] = (), description: str | None = None) -> Json:
    schema: Json = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description is not None:
        schema["description"] = description
    return schema


CHARACTERISTIC = obj(
    {
        "name": text("MSISDN, planType or, on TMF622, businessId", examples=["MSISDN", "planType"]),
        "value": text("The MSISDN in the business unit's format; the plan type Plan, DataPlan or Addon (any case)"),
    },
    ("name", "value"),
)
OFFERING_REF = obj({"id": text(examples=["OFFER-DP-001"])}, ("id",))
_CHARACTERISTICS = array(ref("Characteristic"), "The MSISDN and planType characteristics, each name once", minItems=2)
PRODUCT = obj(
    {
        "isBundle": {"type": "boolean", "default": False},
        "@type": text(default="Product"),
        "productOffering": ref("ProductOfferingRef"),
        "productCharacteristic": _CHARACTERISTICS,
    },
    ("productOffering", "productCharacteristic"),
)
ITEM = obj(
    {
        "id": text("Unique within the order; default: the item's position, 1, 2, …", default="1"),
        "action": {"type": "string", "enum": ["add"], "default": "add"},
        "quantity": {"type": "integer", "const": 1, "description": "An item orders one product"},
        "product": ref("Product"),
    },
    ("product",),
    "One product; no items nested in an item; a productOffering on the item (TMF622's place) names the product's",
)
RELATED_PARTY = obj(
    {
        "id": text("A Seller's id, or the Customer's identification number", examples=["900770050"]),
        "role": text(examples=["Seller", "Customer"]),
        "name": text(examples=["Juan;Carlos;Perez;Gonzalez"]),
        "@referredType": text(examples=["Individual"]),
        "characteristic": array(
            obj(
                {"name": text(examples=["identificationType"]), "valueType": text(), "value": text()},
                ("name", "value"),
            ),
            minItems=1,
        ),
    },
    description="Kept as sent and shown again; the party with role Customer (and an id) is the order's customer",
)
_ITEMS = array(ref("ProductOrderItem"), "All items name the same MSISDN", minItems=1, maxItems=15)
PRODUCT_ORDER_CREATE = obj(
    {
        "category": text(examples=["esimPrepaid"]),
        "productOrderItem": _ITEMS,
        "relatedParty": array(ref("RelatedParty")),
        "requestedStartDate": {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 with an offset. Later than now: the order is pending until then (at most "
            "3,653 days ahead); now or past: provisioned at once",
        },
    },
    ("category", "productOrderItem"),
)
PRODUCT_ORDER = obj(
    {
        "id": {"type": "string", "pattern": ORDER_NUMBER, "examples": ["ORD-20261124143025-0001"]},
        "category": {"type": "string"},
        "orderDate": {"type": "string", "format": "date-time", "description": "The business unit's local time"},
        "state": {"type": "string", "enum": sorted(set(STATE.values()))},
        "description": {"type": "string"},
        "productOrderItem": array(
            obj(
                {
                    "id": {"type": "string"},
                    "action": {"type": "string"},
                    "product": obj(
                        {
                            "id": {"type": "string", "description": "The product started on the line, once delivered"},
                            "isBundle": {"type": "boolean"},
                            "@type": {"type": "string"},
                            "productOffering": ref("ProductOfferingRef"),
                            "productCharacteristic": array(ref("Characteristic"), "The MSISDN characteristic"),
                        },
                        ("isBundle", "@type", "productOffering", "productCharacteristic"),
                    ),
                },
                ("id", "action", "product"),
            )
        ),
        "relatedParty": array(ref("RelatedParty"), "As sent, when the order gave any"),
        "requestedStartDate": {"type": "string", "format": "date-time", "description": "As sent, when given"},
    },
    ("id", "category", "orderDate", "state", "description", "productOrderItem"),
)
ERROR = obj(
    {
        "code": {"type": "string", "examples": ["INVALID_REQUEST"]},
        "reason": {"type": "string", "description": "The HTTP status's reason phrase"},
        "message": {"type": "string"},
        "status": {"type": "string", "pattern": "^[0-9]{3}$", "description": "The HTTP status"},
    },
    ("code", "reason", "message", "status"),
    "TMF's error",
)

SCHEMAS: dict[str, Json] = {
    "ProductOrder_Create": PRODUCT_ORDER_CREATE,
    "ProductOrder": PRODUCT_ORDER,
    "ProductOrderItem": ITEM,
    "Product": PRODUCT,
    "ProductOfferingRef": OFFERING_REF,
    "Characteristic": CHARACTERISTIC,
    "RelatedParty": RELATED_PARTY,
    "Error": ERROR,
}

EXAMPLE = {
    "category": "esimPrepaid",
    "productOrderItem": [
        {
            "id": "1",
            "action": "add",
            "product": {
                "isBundle": False,
                "@type": "Product",
                "productOffering": {"id": "OFFER-DP-001"},
                "productCharacteristic": [
                    {"name": "MSISDN", "value": "69877689"},
                    {"name": "planType", "value": "DataPlan"},
                ],
            },
        }
    ],
}


def credential_header(name: str, description: str) -> Json:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": MIN_CREDENTIAL_LENGTH, "maxLength": MAX_HEADER_LENGTH},
    }


# The seed's three headers, all required (400 MISSING_HEADER without one).
HEADERS = [
    credential_header("client_id", "The client_id identifying the channel; at least 5 characters"),
    credential_header("client_secret", "The secret of the client_id; at least 5 characters"),
    {
        "name": "X-Correlation-ID",
        "in": "header",
        "required": True,
        "description": "Unique per transaction: the same value from the same channel answers its first order again",
        "schema": {"type": "string", "pattern": f"^[!-~]{{1,{MAX_HEADER_LENGTH}}}$"},
    },
]
