"""TMF622 v4's resources as this API takes and shows them, named as TM Forum's own document names them
(the routes read the bodies by hand, in wire.py; these schemas only document them)."""

from __future__ import annotations

from orderhub.dialects.tmf_productorder import schema as vendor
from orderhub.dialects.tmf_productorder.mapping import STATE
from orderhub.dialects.tmf_productorder.schema import array, obj, text
from orderhub.web.openapi_answers import Json, ref

from .mapping import _CANCELLATION_STATE, _ITEM_ENDED, _ITEM_STATE, EVENT_TYPES, NEVER_SENT_EVENT_TYPES
from .wire import _STRINGS, PATCHABLE

_DATE_TIME: Json = {"type": "string", "format": "date-time"}
_SHOWN_DATE_TIME: Json = {**_DATE_TIME, "description": "UTC, to the millisecond"}
_STRING: Json = {"type": "string"}
_OBJECTS = array({"type": "object"})

NOTE = obj(
    {"id": _STRING, "author": _STRING, "date": _DATE_TIME, "text": _STRING, "@type": _STRING},
    description="Any other member is kept as sent",
)
# ProductOrder_Create's descriptive fields, kept as sent and shown again (wire.DESCRIPTIVE).
_DESCRIPTIVE: Json = {
    **{name: _STRING for name in _STRINGS},
    "requestedStartDate": {
        **_DATE_TIME,
        "description": "Later than now: the order is pending until then (at most 3,653 days ahead)",
    },
    "requestedCompletionDate": _DATE_TIME,
    "note": array(ref("Note")),
    "channel": _OBJECTS,
    "agreement": _OBJECTS,
    "billingAccount": {"type": "object"},
}
_PRODUCT = obj(
    {
        "isBundle": {"type": "boolean", "default": False},
        "@type": text(default="Product"),
        "productOffering": ref("ProductOfferingRef"),
        "productCharacteristic": array(
            ref("Characteristic"),
            "MSISDN and planType (Plan, DataPlan, Addon), each name once; businessId when the channel orders "
            "for several business units",
            minItems=2,
        ),
    },
    ("productCharacteristic",),
)
_ITEM_CREATE: Json = {
    **obj(
        {
            "id": text("Unique within the order; default: the item's position, 1, 2, …"),
            "action": {"type": "string", "enum": ["add"], "default": "add"},
            "quantity": {"type": "integer", "const": 1, "description": "An item orders one product"},
            "productOffering": ref("ProductOfferingRef"),
            "product": ref("ProductRefOrValue"),
        },
        ("product",),
        "The offering on the item or inside its product (both: the same one); no items nested in an item",
    ),
    "anyOf": [{"required": ["productOffering"]}, {"properties": {"product": {"required": ["productOffering"]}}}],
}
PRODUCT_ORDER_CREATE = obj(
    {
        **_DESCRIPTIVE,
        "category": text(),
        "productOrderItem": array(
            ref("ProductOrderItem_Create"), "All items name the same MSISDN", minItems=1, maxItems=15
        ),
        "relatedParty": array(ref("RelatedParty")),
    },
    ("productOrderItem",),
)
PRODUCT_ORDER_UPDATE: Json = {
    **obj(
        {name: {**value, "type": [value["type"], "null"]} for name, value in _DESCRIPTIVE.items() if name in PATCHABLE},
        description="A JSON merge-patch (RFC 7396): null removes a field. requestedStartDate only while the "
        "order is acknowledged or pending; a date now or past, or null, makes it due at once",
    ),
    "minProperties": 1,
    "additionalProperties": False,
}
_ITEM = obj(
    {
        "id": _STRING,
        "action": _STRING,
        "state": {"type": "string", "enum": sorted({*_ITEM_STATE.values(), *_ITEM_ENDED.values()})},
        "productOffering": ref("ProductOfferingRef"),
        "product": obj(
            {
                "id": {"type": "string", "description": "The product started on the line, once delivered"},
                "isBundle": {"type": "boolean"},
                "@type": _STRING,
                "productOffering": ref("ProductOfferingRef"),
                "productCharacteristic": array(ref("Characteristic")),
            }
        ),
    },
    ("id", "action", "state", "productOffering", "product"),
)
PRODUCT_ORDER = obj(
    {
        "id": {"type": "string", "pattern": vendor.ORDER_NUMBER, "examples": ["ORD-20261124143025-0001"]},
        "href": {"type": "string", "format": "uri"},
        **_DESCRIPTIVE,
        "requestedStartDate": _SHOWN_DATE_TIME,
        "requestedCompletionDate": _SHOWN_DATE_TIME,
        "orderDate": _SHOWN_DATE_TIME,
        "completionDate": _SHOWN_DATE_TIME,
        "cancellationDate": _SHOWN_DATE_TIME,
        "cancellationReason": _STRING,
        "state": {"type": "string", "enum": sorted(set(STATE.values()))},
        "productOrderItem": array(ref("ProductOrderItem")),
        "relatedParty": array(ref("RelatedParty")),
        "@type": {"type": "string", "const": "ProductOrder"},
    },
    ("id", "href"),
    "With fields=, only id, href and the fields named; without, every order has orderDate, state, "
    "productOrderItem, relatedParty and @type",
)
PRODUCT_ORDER_REF = obj(
    {"id": text(), "href": _STRING, "@referredType": _STRING}, ("id",), "The order, by its id (ORD-…)"
)
CANCEL_PRODUCT_ORDER_CREATE = obj(
    {
        "productOrder": ref("ProductOrderRef"),
        "cancellationReason": {"type": ["string", "null"]},
        "requestedCancellationDate": {
            **_DATE_TIME,
            "type": ["string", "null"],
            "description": "Now or past: an order is cancelled when asked",
        },
    },
    ("productOrder",),
)
CANCEL_PRODUCT_ORDER = obj(
    {
        "id": _STRING,
        "href": {"type": "string", "format": "uri"},
        "state": {
            "type": "string",
            "enum": sorted(_CANCELLATION_STATE.values()),
            "description": "terminatedWithError: the order had gone too far; errorMessage says why",
        },
        "productOrder": ref("ProductOrderRef"),
        "creationDate": _SHOWN_DATE_TIME,
        "cancellationReason": _STRING,
        "requestedCancellationDate": _SHOWN_DATE_TIME,
        "effectiveCancellationDate": _SHOWN_DATE_TIME,
        "errorMessage": _STRING,
        "@type": {"type": "string", "const": "CancelProductOrder"},
    },
    ("id", "href"),
    "With fields=, only id, href and the fields named; without, every request has state, productOrder, "
    "creationDate and @type",
)
_EVENT_TYPE = f"({'|'.join((*EVENT_TYPES.values(), *NEVER_SENT_EVENT_TYPES))})"
_QUERY = {
    "type": ["string", "null"],
    "pattern": f"^(eventType={_EVENT_TYPE}(,{_EVENT_TYPE})*)?$",
    "description": "eventType=<type>[,<type>]: only those events; none: every event",
    "examples": ["eventType=ProductOrderStateChangeEvent"],
}
EVENT_SUBSCRIPTION_INPUT = obj(
    {
        "callback": {"type": "string", "format": "uri", "description": "The listener's URL, at a public address"},
        "query": _QUERY,
    },
    ("callback",),
)
EVENT_SUBSCRIPTION = obj({"id": _STRING, "callback": _STRING, "query": _QUERY}, ("id", "callback", "query"))

SCHEMAS: dict[str, Json] = {
    "ProductOrder_Create": PRODUCT_ORDER_CREATE,
    "ProductOrder_Update": PRODUCT_ORDER_UPDATE,
    "ProductOrder": PRODUCT_ORDER,
    "ProductOrderItem_Create": _ITEM_CREATE,
    "ProductOrderItem": _ITEM,
    "ProductRefOrValue": _PRODUCT,
    "ProductOfferingRef": vendor.OFFERING_REF,
    "Characteristic": vendor.CHARACTERISTIC,
    "RelatedParty": vendor.RELATED_PARTY,
    "Note": NOTE,
    "ProductOrderRef": PRODUCT_ORDER_REF,
    "CancelProductOrder_Create": CANCEL_PRODUCT_ORDER_CREATE,
    "CancelProductOrder": CANCEL_PRODUCT_ORDER,
    "EventSubscriptionInput": EVENT_SUBSCRIPTION_INPUT,
    "EventSubscription": EVENT_SUBSCRIPTION,
    "Error": vendor.ERROR,
}

EXAMPLE = {
    "productOrderItem": [
        {
            "id": "1",
            "action": "add",
            "productOffering": {"id": "OFFER-DP-001"},
            "product": {
                "productCharacteristic": [
                    {"name": "MSISDN", "value": "69877689"},
                    {"name": "planType", "value": "Addon"},
                ]
            },
        }
    ]
}
