"""Where an onapi-order order keeps its end customer: ``customerDetails`` (identity number, names, phones,
e-mail, the invoice address), as the communication operator sent it."""

from __future__ import annotations

from typing import Any

from orderhub.domain.erasure import erased

# Says whether the customer is identified, not who they are.
_KEPT = ("identifiedCustomer",)


def erase_customer(request: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The request with every value of ``customerDetails`` erased but ``identifiedCustomer``, and those
    values. (No API answers with the order's request: the operator's `order show` reads it.)"""
    details = request.get("customerDetails")
    if details is None:
        return request, []
    found: list[str] = []
    return {**request, "customerDetails": erased(details, _KEPT, found)}, found
