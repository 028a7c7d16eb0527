"""Fulfilment results (domain.results) as the JSON the ``orders.output`` column holds."""

from __future__ import annotations

from typing import Any

from orderhub.domain.results import AccessResult, EsimResult, FulfilmentResult, LineResult


def dump_result(result: FulfilmentResult | None) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, EsimResult):
        data: dict[str, Any] = {
            "kind": "esim",
            "iccid": result.iccid,
            "smdp_address": result.smdp_address,
            "subscription_ids": list(result.subscription_ids),
        }
        if result.matching_id is not None:
            data["matching_id"] = result.matching_id
        return data
    if isinstance(result, AccessResult):
        return {"kind": "access", "access_ref": result.access_ref, "services": [list(s) for s in result.services]}
    return {
        "kind": "line",
        "business_unit_id": result.business_unit_id,
        "msisdn": result.msisdn,
        "line_products": [[seq, product] for seq, product in result.line_products],
    }


def load_result(data: dict[str, Any] | None) -> FulfilmentResult | None:
    if not data:
        return None
    if data["kind"] == "esim":
        return EsimResult(
            iccid=data["iccid"],
            smdp_address=data["smdp_address"],
            subscription_ids=tuple(data["subscription_ids"]),
            matching_id=data.get("matching_id"),
        )
    if data["kind"] == "access":
        return AccessResult(data["access_ref"], tuple((int(seq), str(sid)) for seq, sid in data["services"]))
    products = tuple((int(seq), str(product)) for seq, product in data["line_products"])
    return LineResult(data["business_unit_id"], data["msisdn"], products)
