"""TMF622 v4 bodies: ProductOrder_Create, the merge-patch of a ProductOrder, CancelProductOrder_Create,
and the query string of a listing; read by hand so each problem names its field."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from orderhub.dialects.tmf_productorder import wire as vendor_wire
from orderhub.dialects.tmf_productorder.dates import parse_time
from orderhub.dialects.tmf_productorder.errors import TmfError
from orderhub.domain.lines import LineOrderRequest
from orderhub.domain.order_states import OrderState

from .mapping import EVENT_TYPES, NEVER_SENT_EVENT_TYPES, STATE

BUSINESS_ID = "businessId"
# What a client may change with PATCH; the rest is the order's history or computed.
PATCHABLE = frozenset({"description", "externalId", "priority", "category", "note", "requestedStartDate",
                       "requestedCompletionDate"})  # fmt: skip
# Descriptive fields of ProductOrder_Create kept as sent and shown again.
DESCRIPTIVE = PATCHABLE | {"channel", "agreement", "billingAccount", "@baseType", "@schemaLocation"}
LIST_PARAMETERS = frozenset({"fields", "offset", "limit"})
FILTERS = frozenset({"id", "state", "orderDate", "externalId"})
MAX_LIMIT = 1000


def _bad(message: str, field: str | None = None) -> TmfError:
    """A 400 INVALID_REQUEST; ``field``: the one the message names, for the access line."""
    return TmfError(400, "INVALID_REQUEST", message, field=field)


# TMF622 v4's types of the descriptive fields: strings, date-times, lists of objects, an object.
_STRINGS = ("description", "externalId", "priority", "category", "@baseType", "@schemaLocation")
_TIMES = ("requestedStartDate", "requestedCompletionDate")
_LISTS = ("note", "channel", "agreement")
_NOTE_STRINGS = ("id", "author", "text", "@type")


def check_descriptive(body: dict[str, Any], *, removable: bool) -> None:
    """The descriptive fields of a create or a merge-patch have their TMF622 types (``removable``: a
    merge-patch's null removes a field)."""
    for name, value in body.items():
        if value is None and removable:
            continue
        if name in _STRINGS and not isinstance(value, str):
            raise _bad(f"{name} must be a string", name)
        if name in _TIMES:
            parse_time(value, name)
        if name in _LISTS:
            if not isinstance(value, list):
                raise _bad(f"{name} must be a list of objects", name)
            for index, entry in enumerate(value):
                if not isinstance(entry, dict):
                    raise _bad(f"{name}[{index}] must be an object", f"{name}[{index}]")
        if name == "billingAccount" and not isinstance(value, dict):
            raise _bad(f"{name} must be an object", name)
    for index, note in enumerate(body.get("note") or []):
        for field in _NOTE_STRINGS:
            if field in note and not isinstance(note[field], str):
                raise _bad(f"note[{index}].{field} must be a string")
        if "date" in note:
            parse_time(note["date"], f"note[{index}].date")


def business_unit_of(body: Any, partner_units: frozenset[str]) -> str:
    """The business unit an order is for: a ``businessId`` characteristic of its items, or the
    partner's only business unit."""
    named = set()
    items = body.get("productOrderItem") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else []:
        product = item.get("product") if isinstance(item, dict) else None
        characteristics = product.get("productCharacteristic") if isinstance(product, dict) else None
        for entry in characteristics if isinstance(characteristics, list) else []:
            if isinstance(entry, dict) and entry.get("name") == BUSINESS_ID and isinstance(entry.get("value"), str):
                named.add(entry["value"])
    if len(named) > 1:
        raise _bad("all productOrderItem of one order must name the same businessId")
    if named:
        return named.pop()
    if len(partner_units) == 1:
        return next(iter(partner_units))
    # None named, several to choose from: a body broken otherwise is told first what is broken in it (one
    # without items names no unit either), as a channel of one business unit is.
    read_order(body, "")
    raise _bad(
        "productOrderItem[].product.productCharacteristic must hold a businessId characteristic "
        f"(you order for several business units: {', '.join(sorted(partner_units))})"
    )


def read_order(body: Any, business_unit_id: str) -> tuple[LineOrderRequest, dict[str, Any]]:
    """The domain request and what the order keeps of the body (the items with the seed's defaults)."""
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    check_descriptive(body, removable=False)
    vendor_body = copy.deepcopy(body)
    vendor_body.setdefault("category", "productOrder")
    # TMF622 names the offering on the item; the vendor flavour on the item's product: take either,
    # and both only when they name the same one.
    items = vendor_body.get("productOrderItem")
    offered: dict[int, Any] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and isinstance(item.get("productOffering"), dict):
            offered[index] = item["productOffering"]
            product = item.setdefault("product", {})
            if isinstance(product, dict):
                inner = product.setdefault("productOffering", item["productOffering"])
                if isinstance(inner, dict) and inner.get("id") != item["productOffering"].get("id"):
                    raise _bad(
                        f"productOrderItem[{index}].productOffering.id and "
                        f"productOrderItem[{index}].product.productOffering.id name different offerings"
                    )
    request, echo = vendor_wire.read_order(vendor_body, business_unit_id)
    for index, offering in offered.items():
        echo["productOrderItem"][index]["productOffering"] = offering  # shown as sent
    if "category" not in body:
        del echo["category"]
    for name in DESCRIPTIVE:
        if name in body:
            echo[name] = body[name]
    echo.setdefault("relatedParty", [])
    # The vendor's reading took requestedStartDate as the time the order is due (and its items'
    # quantity and nesting, which it refuses as this API does).
    return request, echo


def read_patch(body: Any) -> tuple[dict[str, Any], datetime | None]:
    """The descriptive changes of a merge-patch, and the new requested start date if there is one."""
    if not isinstance(body, dict) or not body:
        raise _bad("the request body must be a non-empty JSON object (a JSON merge-patch)")
    fixed = sorted(set(body) - PATCHABLE)
    if fixed:
        raise _bad(f"{', '.join(fixed)} cannot be changed; changeable: {', '.join(sorted(PATCHABLE))}")
    check_descriptive(body, removable=True)
    start = body.get("requestedStartDate")
    if start is None:
        # A merge-patch's null removes the requested start: the order waits for nothing any more.
        return body, START_AT_ONCE if "requestedStartDate" in body else None
    return body, parse_time(start, "requestedStartDate")


# A start date long past: an order rescheduled to it is due at once, as for any date now or past.
START_AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396: null removes a member, objects merge, anything else replaces."""
    merged = dict(target)
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        elif isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = merge_patch(merged[name], value)
        else:
            merged[name] = value
    return merged


@dataclass(frozen=True)
class ListQuery:
    offset: int
    limit: int
    fields: tuple[str, ...] | None
    references: frozenset[str] | None
    external_ids: frozenset[str] | None
    states: frozenset[OrderState] | None
    created_from: datetime | None
    created_before: datetime | None


_LAST_MILLISECOND = datetime.max.replace(microsecond=999_000, tzinfo=UTC)


def _count(value: str | None, name: str, default: int, maximum: int) -> int:
    if value is None:
        return default
    # ASCII digits only: str.isdigit() also takes "²" and "①", which int() refuses, and other scripts'
    # digits, which it reads. Past the maximum's length, refused before int() is asked to read it.
    if not (value.isascii() and value.isdigit()):
        raise _bad(f"{name} must be a whole number", name)
    if len(value.lstrip("0")) > len(str(maximum)) or int(value) > maximum:
        raise _bad(f"{name} must be at most {maximum}", name)
    return int(value)


def read_fields(value: str | None) -> tuple[str, ...] | None:
    """``fields=`` (TMF630): the attributes asked for; None (all of them) when not given."""
    return tuple(f.strip() for f in value.split(",") if f.strip()) if value is not None else None


def read_params(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A listing's query parameters, each given once: a repeated one would otherwise be read as its
    last value alone, whether the client meant either value or both."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise _bad(f"{name} is given more than once; give a filter's values in one parameter: {name}=A,B", name)
        params[name] = value
    return params


def read_resource_query(pairs: Iterable[tuple[str, str]]) -> tuple[str, ...] | None:
    """The query of a GET of one resource: ``fields=`` as a listing reads it (``fields=`` alone: what
    identifies the resource), each parameter once; any other is refused, as a listing refuses a filter
    it would not apply."""
    params = read_params(pairs)
    unknown = sorted(set(params) - {"fields"})
    if unknown:
        raise _bad(f"{', '.join(unknown)} is not supported here; a single resource takes fields only", unknown[0])
    return read_fields(params.get("fields"))


def _any_of(value: str | None) -> frozenset[str] | None:
    """A TMF630 attribute filter's values: ``id=A,B`` asks for either."""
    if value is None:
        return None
    return frozenset(one.strip() for one in value.split(",") if one.strip())


def read_list_query(params: dict[str, str]) -> ListQuery:
    unknown = sorted(set(params) - LIST_PARAMETERS - FILTERS)
    if unknown:
        raise _bad(f"filtering on {', '.join(unknown)} is not supported; filters: {', '.join(sorted(FILTERS))}")
    fields = read_fields(params.get("fields"))
    states = None
    if "state" in params:
        wanted = {s.strip() for s in params["state"].split(",")}
        states = frozenset(state for state, spelled in STATE.items() if spelled in wanted)
        if not states or len(wanted) != len({STATE[s] for s in states}):
            raise _bad(f"state must be one of {', '.join(sorted(set(STATE.values())))}")
    created_from = created_before = None
    if "orderDate" in params:
        # orderDate is shown to the millisecond: an exact match is the millisecond it names.
        created_from = parse_time(params["orderDate"], "orderDate")
        # The last millisecond a datetime holds has no end within one: nothing later can be stored.
        created_before = created_from + timedelta(milliseconds=1) if created_from < _LAST_MILLISECOND else None
    return ListQuery(
        offset=_count(params.get("offset"), "offset", 0, 10**9),
        limit=_count(params.get("limit"), "limit", 100, MAX_LIMIT),
        fields=fields,
        references=_any_of(params.get("id")),
        external_ids=_any_of(params.get("externalId")),
        states=states,
        created_from=created_from,
        created_before=created_before,
    )


def read_hub_query(query: Any) -> str | None:
    """A listener's query as kept (``eventType=A,B``), or None for every event; 400 for a filter that
    orderhub would not apply (a listener would otherwise get events it asked not to get)."""
    if query is None or query == "":
        return None
    if not isinstance(query, str):
        raise _bad("query must be a string")
    name, equals, wanted = query.partition("=")
    types = [value.strip() for value in wanted.split(",")]
    # TMF630's attribute filter on the event, eventType only; any of TMF622 v4's types.
    known = (*EVENT_TYPES.values(), *NEVER_SENT_EVENT_TYPES)
    if name.strip() != "eventType" or not equals or not all(value in known for value in types):
        raise _bad(
            f"query may only choose events by type: eventType=<type>[,<type>], of {', '.join(EVENT_TYPES.values())},"
            f" or {', '.join(NEVER_SENT_EVENT_TYPES)} (accepted, never sent: orderhub asks for no information)"
        )
    return "eventType=" + ",".join(types)


# How far ahead of this clock a requested cancellation date may be: a client's clock a little ahead.
CANCELLATION_CLOCK_SKEW = timedelta(minutes=5)


def read_cancellation_date(value: Any) -> datetime | None:
    """requestedCancellationDate: now or past (an order is cancelled when asked); a date to come is
    refused rather than the order cancelled before it."""
    if value is None:
        return None
    requested = parse_time(value, "requestedCancellationDate")
    if requested > datetime.now(UTC) + CANCELLATION_CLOCK_SKEW:
        raise _bad("requestedCancellationDate must not be in the future: orderhub cancels an order when asked")
    return requested
