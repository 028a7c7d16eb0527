"""What fulfilment made, one typed result per kind of subject; each dialect renders it its own way."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EsimResult:
    """An eSIM profile and the subscriptions started on it (a top-up has no new activation code)."""

    iccid: str
    smdp_address: str
    subscription_ids: tuple[str, ...]
    matching_id: str | None = None


@dataclass(frozen=True)
class LineResult:
    """The products started on a mobile line, one per order item (in item order)."""

    business_unit_id: str
    msisdn: str
    line_product_ids: tuple[str, ...]


FulfilmentResult = EsimResult | LineResult
