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
    """The products started on a mobile line, one per delivered order item (in item order)."""

    business_unit_id: str
    msisdn: str
    # (order item seq, id of the product started on the line) for each delivered item.
    line_products: tuple[tuple[int, str], ...]

    def product_of(self, item_seq: int) -> str | None:
        return next((product for seq, product in self.line_products if seq == item_seq), None)


@dataclass(frozen=True)
class AccessResult:
    """The services activated on a network access: (order item seq, service id) per delivered item."""

    access_ref: str
    services: tuple[tuple[int, str], ...]


FulfilmentResult = EsimResult | LineResult | AccessResult
