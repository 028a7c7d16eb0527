"""Where an esim-v1 order keeps its customer: ``input.customer`` (the e-mail and country of residence,
and whatever else the partner put there, kept as sent)."""

from __future__ import annotations

from typing import Any

from orderhub.domain.erasure import erased


def erase_customer(request: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The request with every value of its customer erased (the order's GET echoes ``input`` as it is
    kept: the customer then reads ``{"email": "erased", "countryOfResidence": "erased"}``), and those values."""
    data = request.get("input")
    if not isinstance(data, dict) or "customer" not in data:
        return request, []
    found: list[str] = []
    return {**request, "input": {**data, "customer": erased(data["customer"], found=found)}}, found
