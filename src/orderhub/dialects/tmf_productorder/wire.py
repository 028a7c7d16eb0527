"""The productOrder body: read and checked by hand, so every problem names its field the way the
partner's body does, and the echo carries the seed's defaults."""

from __future__ import annotations

from typing import Any

from orderhub.domain.customers import CustomerDetails, Identity
from orderhub.domain.lines import LineItemRequest, LineOrderRequest, PlanType
from orderhub.web.body_values import NUL_ESCAPE, unkeepable

from .dates import parse_time
from .errors import TmfError

MSISDN = "MSISDN"
PLAN_TYPE = "planType"
REQUESTED_START = "requestedStartDate"
_PLAN_TYPES = ", ".join(plan.value for plan in PlanType)


def _bad(message: str, field: str | None = None) -> TmfError:
    """A 400 INVALID_REQUEST; ``field``: the one the message names, for the access line."""
    return TmfError(400, "INVALID_REQUEST", message, field=field)


def _text(value: Any, where: str, *, required: bool = True, default: str | None = None) -> str:
    if value is None:
        if required:
            raise _bad(f"{where} is required", where)
        assert default is not None
        return default
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{where} must be a non-empty string", where)
    if len(value) > 200:
        raise _bad(f"{where} must be at most 200 characters", where)
    return value


def refuse_nul(raw: bytes, body: Any) -> None:
    """A NUL character (JSON's \\u0000) in any string or name of the body is a 400 naming where (a name:
    the object holding it): no store keeps it (PostgreSQL text cannot hold it) and no field means it."""
    found = unkeepable(body, name_at_parent=True) if NUL_ESCAPE in raw else None
    if found is not None:
        raise _bad(f"{found[0] or 'the request body'} {found[1]}", found[0] or None)


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        raise _bad(f"{where} is required", where)
    if not isinstance(value, dict):
        raise _bad(f"{where} must be an object", where)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        raise _bad(f"{where} is required", where)
    if not isinstance(value, list) or not value:
        raise _bad(f"{where} must be a non-empty list", where)
    return value


def _characteristics(value: Any, where: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    given = _list(value, where)
    by_name: dict[str, str] = {}
    for index, entry in enumerate(given):
        entry = _object(entry, f"{where}[{index}]")
        name = _text(entry.get("name"), f"{where}[{index}].name")
        value = _text(entry.get("value"), f"{where}[{index}].value")
        # Read as a map, a name given twice would leave one value unread: each name once, same value or not.
        if name in by_name:
            raise _bad(f"{where} names the {name} characteristic twice", where)
        by_name[name] = value
    for required in (MSISDN, PLAN_TYPE):
        if required not in by_name:
            raise _bad(f"{where} must hold the {required} characteristic", where)
    return given, by_name


def _refuse_what_is_not_provisioned(item: dict[str, Any], where: str) -> None:
    """TMF622 item fields orderhub would otherwise drop without a word: an integrator ordering two would
    get one, and the items nested in an item none."""
    quantity = item.get("quantity", 1)
    if type(quantity) is not int or quantity != 1:
        raise _bad(f"{where}.quantity must be 1: an item orders one product (send one item each)", f"{where}.quantity")
    if "productOrderItem" in item:
        raise _bad(f"{where}.productOrderItem: items nested in an item are not supported", f"{where}.productOrderItem")


def _item(value: Any, index: int) -> tuple[dict[str, Any], str, LineItemRequest]:
    where = f"productOrderItem[{index}]"
    item = _object(value, where)
    _refuse_what_is_not_provisioned(item, where)
    product = _object(item.get("product"), f"{where}.product")
    is_bundle = product.get("isBundle", False)
    if not isinstance(is_bundle, bool):
        raise _bad(f"{where}.product.isBundle must be true or false", f"{where}.product.isBundle")
    offering = _object(product.get("productOffering"), f"{where}.product.productOffering")
    offering_id = _text(offering.get("id"), f"{where}.product.productOffering.id")
    if "productOffering" in item:  # TMF622's place for it: the same one, or which is ordered?
        named = _object(item["productOffering"], f"{where}.productOffering").get("id")
        if named != offering_id:
            field = f"{where}.productOffering.id"
            raise _bad(f"{field} and {where}.product.productOffering.id name different offerings", field)
    characteristics, by_name = _characteristics(
        product.get("productCharacteristic"), f"{where}.product.productCharacteristic"
    )
    plan_type = PlanType.read(by_name[PLAN_TYPE])  # in any case
    if plan_type is None:
        field = f"{where}.product.productCharacteristic[planType].value"
        raise _bad(f"{field} must be one of {_PLAN_TYPES}", field)
    action = _text(item.get("action"), f"{where}.action", required=False, default="add")
    sent_id = item.get("id")
    echo = {
        "id": None if sent_id is None else _text(sent_id, f"{where}.id"),  # None: given one by _default_ids
        "action": action,
        "product": {
            "isBundle": is_bundle,
            "@type": _text(product.get("@type"), f"{where}.product.@type", required=False, default="Product"),
            "productOffering": {"id": offering_id},
            "productCharacteristic": characteristics,
        },
    }
    return echo, by_name[MSISDN], LineItemRequest(offering_id, plan_type, action)


def read_order(body: Any, business_unit_id: str) -> tuple[LineOrderRequest, dict[str, Any]]:
    """The domain request and the body as this API echoes it (defaults filled in)."""
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    category = _text(body.get("category"), "category")
    items = _list(body.get("productOrderItem"), "productOrderItem")
    read = [_item(item, index) for index, item in enumerate(items)]
    ids = _default_ids([echo for echo, _m, _i in read])
    for index, item_id in enumerate(ids):
        if item_id in ids[:index]:
            raise _bad(f"productOrderItem[{index}].id {item_id!r} is the id of productOrderItem[{ids.index(item_id)}]")
    msisdns = {msisdn for _echo, msisdn, _item_request in read}
    if len(msisdns) > 1:
        raise _bad("all productOrderItem of one order must name the same MSISDN")
    echo: dict[str, Any] = {"category": category, "productOrderItem": [e for e, _m, _i in read]}
    related = body.get("relatedParty")
    if related is not None:
        echo["relatedParty"] = _related_parties(related)
    # TMF622's start date, which TMF-flavoured clients send here too: the order waits for it (a date now
    # or past: at once), and shows it as sent, rather than being provisioned at once without a word.
    start = body.get(REQUESTED_START)
    if start is not None:
        echo[REQUESTED_START] = start
    request = LineOrderRequest(
        business_unit_id=business_unit_id,
        msisdn=msisdns.pop(),
        items=tuple(i for _e, _m, i in read),
        requested_at=None if start is None else parse_time(start, REQUESTED_START),
        customer=_customer(related or []),
    )
    return request, echo


def _default_ids(echoes: list[dict[str, Any]]) -> list[str]:
    """Each item's id: the one sent, or its position ("1", "2"...), or, where an item sent that, the lowest
    number no item has: a default never clashes with an id the client sent. The ids, in order."""
    taken = {echo["id"] for echo in echoes if echo["id"] is not None}
    for index, echo in enumerate(echoes):
        if echo["id"] is None:
            default, number = str(index + 1), 1
            while default in taken:
                default, number = str(number), number + 1
            echo["id"] = default
            taken.add(default)
    return [echo["id"] for echo in echoes]


def _strings(entry: dict[str, Any], names: tuple[str, ...], where: str, *, required: tuple[str, ...] = ()) -> None:
    """Each of ``names`` the entry holds is a string (kept as sent); ``required`` ones must be there."""
    for name in (*required, *names):
        if name in entry or name in required:
            _text(entry.get(name), f"{where}.{name}")


def _related_parties(value: Any) -> list[dict[str, Any]]:
    """The seed's related parties: every field it names a String, characteristics a list of objects."""
    if not isinstance(value, list) or not all(isinstance(party, dict) for party in value):
        raise _bad("relatedParty must be a list of objects", "relatedParty")
    for index, party in enumerate(value):
        where = f"relatedParty[{index}]"
        _strings(party, ("id", "role", "name", "@referredType"), where)
        if "characteristic" in party:
            for at, entry in enumerate(_list(party["characteristic"], f"{where}.characteristic")):
                entry = _object(entry, f"{where}.characteristic[{at}]")
                _strings(entry, ("valueType",), f"{where}.characteristic[{at}]", required=("name", "value"))
    return value


def _customer(parties: list[dict[str, Any]]) -> CustomerDetails | None:
    """The related party with role Customer: its id is the identification number, of the type its
    ``identificationType`` characteristic names (as given; "id" when it names none)."""
    for party in parties:
        if party.get("role") != "Customer" or not isinstance(party.get("id"), str):
            continue
        kind = "id"
        for entry in party.get("characteristic") or []:
            if isinstance(entry, dict) and entry.get("name") == "identificationType" and entry.get("value"):
                kind = str(entry["value"])
        name = party.get("name")
        return CustomerDetails(Identity(kind, party["id"]), name=name if isinstance(name, str) else None)
    return None
