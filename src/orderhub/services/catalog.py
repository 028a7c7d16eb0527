"""Catalog use cases: importing products, and what a partner may sell."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.errors import InvalidInput, ProductNotFound
from orderhub.domain.partners import Principal
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import UnitOfWorkFactory

# Products an import writes in one transaction: fifty take a few milliseconds, so a running server's
# writes, and its readiness probe (which waits at most 0.5 s for the write lock), wait for them well
# within their bounds; a whole file of thousands held the store for seconds, and the server answered 503
# meanwhile.
IMPORT_CHUNK = 50


@dataclass
class ImportReport:
    accepted: int = 0
    # (record's line number, why it was not imported), in the file's order.
    rejected: list[tuple[int, str]] = field(default_factory=list)


def other_kind(product: Product, stored: ProductKind) -> str:
    """Why ``product`` is refused: the id is a product of another kind, sold by other commands."""
    return f"product {product.id} exists already as {_a(stored)} product, not {_a(product.kind)} one"


def _a(kind: ProductKind) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


class CatalogService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def import_products(self, products: Iterable[tuple[int, Product | str]]) -> ImportReport:
        """Insert or update products; each entry is (line number, product or the reason it could not be
        read). Written in chunks of ``IMPORT_CHUNK``, each its own transaction; a bad record (unreadable,
        invalid, its id given before in the file, or the id of a product of another kind) is reported and
        changes nothing."""
        report = ImportReport()
        first_seen: dict[str, int] = {}
        chunk: list[tuple[int, Product]] = []
        for line, product in products:
            if isinstance(product, str):
                report.rejected.append((line, product))
                continue
            problems = product.validate()
            if not problems and product.id in first_seen:
                # Which of the two was meant is the operator's to say: the first is kept, as inventory
                # import keeps the first of two rows with one ICCID.
                problems = [f"id {product.id} is given before in this file (record {first_seen[product.id]})"]
            if problems:
                report.rejected.append((line, "; ".join(problems)))
                continue
            first_seen[product.id] = line
            chunk.append((line, product))
            if len(chunk) >= IMPORT_CHUNK:
                self._import_chunk(chunk, report)
                chunk = []
        if chunk:
            self._import_chunk(chunk, report)
        report.rejected.sort()
        return report

    def _import_chunk(self, chunk: list[tuple[int, Product]], report: ImportReport) -> None:
        with self._uow() as uow:
            stored = uow.catalog.kinds(product.id for _, product in chunk)
            fresh = []
            for line, product in chunk:
                kind = stored.get(product.id)
                if kind is not None and kind is not product.kind:
                    report.rejected.append((line, other_kind(product, kind)))
                else:
                    fresh.append(product)
            if fresh:
                uow.catalog.upsert_many(fresh, self._clock())  # moves the config version once
            uow.commit()
        report.accepted += len(fresh)

    def add_product(self, product: Product) -> bool:
        """Create a product of its kind, or update one of the same kind (name, description, prices).
        True when it was created. A product of another kind is refused: it is sold elsewhere."""
        problems = product.validate()
        if problems:
            raise InvalidInput("; ".join(problems), field="product")
        with self._uow() as uow:
            stored = uow.catalog.get(product.id)
            if stored is not None and stored.kind is not product.kind:
                raise InvalidInput(other_kind(product, stored.kind), field="product")
            uow.catalog.upsert(product, self._clock())  # moves the config version: servers read it anew
            uow.commit()
        return stored is None

    def products_for(self, principal: Principal, currency: str | None = None) -> list[Product]:
        """The eSIM data products the partner sells (esim-v1's catalog); with ``currency``, those priced in
        it, with that price alone."""
        products = self._catalog_of(principal, currency)
        if currency is None:
            return products
        return [_priced_in(p, currency) for p in products if currency in p.prices]

    def product_for(self, principal: Principal, product_id: str, currency: str | None = None) -> Product:
        """One product of the partner's catalog; with ``currency``, with its price in it alone. One without
        a price in it is not found so, and the answer says why: it is in the catalog (and may be ordered
        in any currency the partner uses, at the partner's own price)."""
        product = next((p for p in self._catalog_of(principal, currency) if p.id == product_id), None)
        if product is None:
            raise ProductNotFound(f"product {product_id} is not in your catalog", field="id")
        if currency is None:
            return product
        if currency not in product.prices:
            raise ProductNotFound(f"product {product_id} is in your catalog but has no price in {currency}", field="id")
        return _priced_in(product, currency)

    def _catalog_of(self, principal: Principal, currency: str | None) -> list[Product]:
        """The partner's eSIM data products, once ``currency`` (if any) is found to be one it uses. A list
        stored before partner commands refused other kinds may name a line offering or a network product:
        never shown."""
        if currency is not None and currency not in principal.partner.currencies:
            raise InvalidInput(f"currency {currency} is not supported for this partner", field="currency")
        with self._uow(read_only=True) as uow:
            stored = uow.catalog.get_many(principal.partner.product_ids)
        return [p for p in stored if p.kind is ProductKind.ESIM_DATA]


def _priced_in(product: Product, currency: str) -> Product:
    return Product(**{**product.__dict__, "prices": {currency: product.prices[currency]}})
