"""The productOrder body as the OpenAPI documents describe it (the routes read the body by hand, in
wire.py, to name each problem the way the partner's body does; this model only documents it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Doc(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")


class Characteristic(_Doc):
    name: str = Field(description="MSISDN, planType (Plan, DataPlan, Addon) or, on TMF622, businessId")
    value: str


class OfferingRef(_Doc):
    id: str = Field(examples=["OFFER-DP-001"])


class Product(_Doc):
    isBundle: bool = False
    type_: str = Field("Product", alias="@type")
    productOffering: OfferingRef
    productCharacteristic: list[Characteristic] = Field(min_length=2, description="each name once")


class ProductOrderItem(_Doc):
    id: str = "1"
    action: str = Field("add", description="only add is supported")
    product: Product


class RelatedParty(_Doc):
    id: str
    role: str = Field(examples=["Seller", "Customer"])
    name: str | None = None
    referredType: str | None = Field(None, alias="@referredType")
    characteristic: list[dict[str, Any]] | None = None


class ProductOrderRequest(_Doc):
    category: str = Field(examples=["esimPrepaid"])
    productOrderItem: list[ProductOrderItem] = Field(min_length=1, max_length=15)
    relatedParty: list[RelatedParty] | None = None


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


class ErrorBody(BaseModel):
    """TMF's error: ``status`` is the HTTP status as a string."""

    code: str
    reason: str
    message: str
    status: str


# Every error status the TMF APIs answer, for the OpenAPI documents.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500, 503)
}
