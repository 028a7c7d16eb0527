"""Where a line order (tmf-productorder and TMF622 keep the same) keeps its customer: the related party
whose role is Customer (its identification, name and characteristics), which both APIs echo."""

from __future__ import annotations

from typing import Any

from orderhub.domain.erasure import erased

# What a party says of itself without saying who it is: its role and types. Kept, so the echo still
# names a Customer party of the documented shape (id and name strings: "erased").
_PARTY_KEPT = frozenset({"role", "@referredType", "@type", "@baseType", "@schemaLocation"})
# A characteristic's name and type are the API's words; its value is the customer's.
_CHARACTERISTIC_KEPT = frozenset({"name", "valueType", "@type"})
CUSTOMER_ROLE = "Customer"


def erase_customer(request: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The request with every value of its Customer parties erased, and those values. Other parties (the
    Seller: the partner's own) stay."""
    order = request.get("order")
    parties = order.get("relatedParty") if isinstance(order, dict) else None
    if not isinstance(parties, list):
        return request, []
    found: list[str] = []
    kept = []
    for party in parties:
        if isinstance(party, dict) and party.get("role") == CUSTOMER_ROLE:
            party, values = _erased_party(party)
            found += values
        kept.append(party)
    assert isinstance(order, dict)
    return {**request, "order": {**order, "relatedParty": kept}}, found


def _erased_party(party: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    shown: dict[str, Any] = {}
    found: list[str] = []
    for name, value in party.items():
        if name in _PARTY_KEPT:
            shown[name] = value
        elif name == "characteristic" and isinstance(value, list):
            shown[name] = [erased(entry, _CHARACTERISTIC_KEPT, found) for entry in value]
        else:
            shown[name] = erased(value, found=found)
    return shown, found
