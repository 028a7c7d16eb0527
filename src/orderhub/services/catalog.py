"""Catalog use cases: importing products, and what a partner may sell."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orderhub.domain.catalog import Product
from orderhub.domain.errors import InvalidInput, ProductNotFound
from orderhub.domain.partners import Principal
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class ImportReport:
    accepted: int
    rejected: list[tuple[int, str]]


class CatalogService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def import_products(self, products: Iterable[tuple[int, Product | str]]) -> ImportReport:
        """Insert or update products; each entry is (line number, product or the reason it could not be read)."""
        rejected: list[tuple[int, str]] = []
        accepted = 0
        with self._uow() as uow:
            for line, product in products:
                if isinstance(product, str):
                    rejected.append((line, product))
                    continue
                problems = product.validate()
                if problems:
                    rejected.append((line, "; ".join(problems)))
                    continue
                uow.catalog.upsert(product, self._clock())
                accepted += 1
            uow.commit()
        return ImportReport(accepted, rejected)

    def add_product(self, product: Product) -> bool:
        """Create a product of its kind, or update one of the same kind (name, description, prices).
        True when it was created. A product of another kind is refused: it is sold elsewhere."""
        problems = product.validate()
        if problems:
            raise InvalidInput("; ".join(problems), field="product")
        with self._uow() as uow:
            stored = uow.catalog.get(product.id)
            if stored is not None and stored.kind is not product.kind:
                raise InvalidInput(
                    f"product {product.id} exists already as a {stored.kind} product, not a {product.kind} one",
                    field="product",
                )
            uow.catalog.upsert(product, self._clock())  # moves the config version: servers read it anew
            uow.commit()
        return stored is None

    def products_for(self, principal: Principal, currency: str | None = None) -> list[Product]:
        if currency is not None and currency not in principal.partner.currencies:
            raise InvalidInput(f"currency {currency} is not supported for this partner", field="currency")
        with self._uow(read_only=True) as uow:
            products = uow.catalog.get_many(principal.partner.product_ids)
        if currency is None:
            return products
        return [
            Product(**{**p.__dict__, "prices": {currency: p.prices[currency]}})
            for p in products
            if currency in p.prices
        ]

    def product_for(self, principal: Principal, product_id: str, currency: str | None = None) -> Product:
        for product in self.products_for(principal, currency):
            if product.id == product_id:
                return product
        raise ProductNotFound(f"product {product_id} is not in your catalog", field="id")
