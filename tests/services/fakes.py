"""An in-memory unit of work for use-case tests: the rules run without a server or a database."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from orderhub.domain.accesses import Access, AccessService, AccessState, NetworkOffering
from orderhub.domain.customers import Customer, Identity, email_key
from orderhub.domain.esim import Subscription
from orderhub.domain.lines import BusinessUnit, Line, LineProduct, Offering, PlanType
from orderhub.domain.orders import Operation, Order, Subject
from orderhub.domain.partners import Partner
from orderhub.services.ports import UnitOfWork
from orderhub.services.records import Charged, RecentFailures, SignInLookUp, StoredCredential, StoredProfile, Window


@dataclass
class FakeLines:
    units: dict[str, BusinessUnit] = field(default_factory=dict)
    offering_list: list[Offering] = field(default_factory=list)
    lines: dict[str, Line] = field(default_factory=dict)
    products: dict[str, LineProduct] = field(default_factory=dict)

    def lock(self, key: str) -> None:
        return None

    def business_unit(self, business_unit_id: str) -> BusinessUnit | None:
        return self.units.get(business_unit_id)

    def offerings(self, business_unit_id: str) -> list[Offering]:
        return [o for o in self.offering_list if o.business_unit_id == business_unit_id]

    def find_line(self, business_unit_id: str, msisdn: str) -> Line | None:
        return next(
            (
                line
                for line in self.lines.values()
                if (line.business_unit_id, line.msisdn) == (business_unit_id, msisdn)
            ),
            None,
        )

    def get_line(self, line_id: str) -> Line | None:
        return self.lines.get(line_id)

    def add_product(self, product: LineProduct, now: datetime) -> None:
        self.products[product.id] = product

    def end_product(self, product_id: str, at: datetime) -> None:
        self.products[product_id] = replace(self.products[product_id], ends_at=at)

    def active_plan(self, line_id: str, now: datetime) -> LineProduct | None:
        # As the store reads it: the latest Plan not ended (a line's products start when provisioned).
        plans = [
            p
            for p in self.products.values()
            if p.line_id == line_id and p.plan_type is PlanType.PLAN and (p.ends_at is None or now < p.ends_at)
        ]
        return max(plans, key=lambda p: p.starts_at) if plans else None

    def products_of_order(self, order_id: str) -> list[LineProduct]:
        return sorted((p for p in self.products.values() if p.order_id == order_id), key=lambda p: p.item_seq or 0)


@dataclass
class FakePartners:
    customers: list[Customer] = field(default_factory=list)
    partners: dict[str, Partner] = field(default_factory=dict)

    def get(self, partner_id: str) -> Partner | None:
        return self.partners.get(partner_id)

    def managed_by(self, manager_id: str) -> list[str]:
        return [p.id for p in self.partners.values() if p.manager_id == manager_id]

    def business_units_of(self, partner_id: str) -> frozenset[str]:
        partner = self.partners.get(partner_id)
        return partner.business_unit_ids if partner is not None else frozenset()

    def get_customer(self, customer_id: str, *, for_order: bool = False) -> Customer | None:
        return next((c for c in self.customers if c.id == customer_id), None)

    def find_customer_by_identity(
        self, partner_ids: Iterable[str], identity: Identity, *, for_order: bool = False
    ) -> Customer | None:
        ids = set(partner_ids)
        return next((c for c in self.customers if c.partner_id in ids and c.identity == identity), None)

    def find_customer(self, partner_ids: Iterable[str], email: str, *, for_order: bool = False) -> Customer | None:
        ids = set(partner_ids)
        key = email_key(email)
        return next((c for c in self.customers if c.partner_id in ids and c.email and email_key(c.email) == key), None)

    def add_customer(self, customer: Customer) -> str:
        # As the store's: the partner's customer of the same e-mail (or identification) stands.
        existing = (
            self.find_customer_by_identity([customer.partner_id], customer.identity)
            if customer.identity is not None
            else self.find_customer([customer.partner_id], customer.email or "")
        )
        if existing is not None:
            return existing.id
        self.customers.append(customer)
        return customer.id


@dataclass
class FakeProfiles:
    profiles: dict[str, StoredProfile] = field(default_factory=dict)

    def get(self, iccid: str) -> StoredProfile | None:
        return self.profiles.get(iccid)

    def lock(self, iccid: str) -> None:
        return None


@dataclass
class FakeSubscriptions:
    subscriptions: list[Subscription] = field(default_factory=list)

    def of_order(self, order_id: str) -> list[Subscription]:
        return [s for s in self.subscriptions if s.order_id == order_id]

    def count_unexpired(self, iccid: str, now: datetime) -> int:
        return sum(1 for s in self.subscriptions if s.iccid == iccid and (s.ends_at is None or s.ends_at > now))

    def add(self, subscription: Subscription, item_seq: int, now: datetime) -> None:
        self.subscriptions.append(subscription)


@dataclass
class FakeOrders:
    orders: list[Order] = field(default_factory=list)

    def count_open_items_on(self, subject: Subject, operation: Operation) -> int:
        return sum(
            len(o.items)
            for o in self.orders
            if o.subject == subject and o.operation is operation and not o.state.is_final
        )


@dataclass
class FakeAccesses:
    offerings: dict[str, list[NetworkOffering]] = field(default_factory=dict)
    accesses: dict[str, Access] = field(default_factory=dict)
    services: list[AccessService] = field(default_factory=list)
    # access id -> the products its open orders are to activate
    ordered: dict[str, set[str]] = field(default_factory=dict)

    def locked(self, access_id: str) -> Access | None:
        return self.get(access_id)

    def locked_by_ref(self, ref: str) -> Access | None:
        return self.by_ref(ref)

    def offerings_for(self, partner_id: str) -> list[NetworkOffering]:
        return self.offerings.get(partner_id, [])

    def all_offerings(self) -> list[NetworkOffering]:
        return sorted(
            {o for granted in self.offerings.values() for o in granted}, key=lambda o: (o.product_id, o.offering_id)
        )

    def by_ref(self, ref: str) -> Access | None:
        return next((a for a in self.accesses.values() if a.ref == ref), None)

    def get(self, access_id: str) -> Access | None:
        return self.accesses.get(access_id)

    def set_state(self, access_id: str, state: AccessState, now: datetime) -> None:
        self.accesses[access_id] = replace(self.accesses[access_id], state=state)

    def active_products(self, access_id: str) -> frozenset[str]:
        return frozenset(s.product_id for s in self.services if s.access_id == access_id)

    def ordered_products(self, access_id: str) -> frozenset[str]:
        return frozenset(self.ordered.get(access_id, ()))

    def add_service(self, service: AccessService, now: datetime) -> None:
        self.services.append(service)

    def services_of_order(self, order_id: str) -> list[AccessService]:
        return [s for s in self.services if s.order_id == order_id]


@dataclass
class FakeSignIns:
    """The store's sign_in_failures table as rows by id, its sign_in_sources as times by key, and the
    credentials a sign-in reads with them."""

    credentials: dict[str, StoredCredential] = field(default_factory=dict)
    rows: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    sources: dict[str, datetime] = field(default_factory=dict)
    next_id: int = 1

    @property
    def failures(self) -> list[tuple[str, datetime]]:
        return list(self.rows.values())

    def look_up(
        self, client_id: str, keys: Sequence[str], window: Window, pair: str, known_since: datetime
    ) -> SignInLookUp:
        known = pair in self.sources and self.sources[pair] > known_since
        return SignInLookUp(self.credentials.get(client_id), self._counts(keys, window), known)

    def charge(self, keys: Sequence[str], at: datetime, window: Window, known_since: datetime) -> Charged:
        self.sources = {key: at for key, at in self.sources.items() if at >= known_since}
        self.rows = {id_: row for id_, row in self.rows.items() if row[1] >= window[0]}
        ids = tuple(range(self.next_id, self.next_id + len(keys)))
        self.next_id += len(keys)
        self.rows.update(zip(ids, ((key, at) for key in keys), strict=True))
        return Charged(ids, self._counts(keys, window))

    def take_back(self, ids: Sequence[int]) -> None:
        for id_ in ids:
            self.rows.pop(id_, None)

    def signed_in(self, ids: Sequence[int], pair: str, client_id: str, at: datetime) -> None:
        self.take_back(ids)
        self.sources[pair] = max(at, self.sources.get(pair, at))
        credential = self.credentials[client_id]
        last = max(at, credential.last_signed_in_at or at)
        self.credentials[client_id] = replace(credential, last_signed_in_at=last)

    def _counts(self, keys: Sequence[str], window: Window) -> dict[str, RecentFailures]:
        counts = {}
        since, until = window
        for key in keys:
            recent = [at for k, at in self.rows.values() if k == key and since < at <= until]
            counts[key] = RecentFailures(len(recent), min(recent, default=None))
        return counts


@dataclass
class FakeCatalog:
    validity: dict[str, int | None] = field(default_factory=dict)
    reads: int = 0

    def validity_days(self, product_ids: Iterable[str]) -> dict[str, int | None]:
        self.reads += 1
        return {product_id: self.validity[product_id] for product_id in product_ids}


@dataclass
class FakeUnitOfWork:
    lines: FakeLines = field(default_factory=FakeLines)
    partners: FakePartners = field(default_factory=FakePartners)
    profiles: FakeProfiles = field(default_factory=FakeProfiles)
    subscriptions: FakeSubscriptions = field(default_factory=FakeSubscriptions)
    orders: FakeOrders = field(default_factory=FakeOrders)
    accesses: FakeAccesses = field(default_factory=FakeAccesses)
    catalog: FakeCatalog = field(default_factory=FakeCatalog)
    sign_ins: FakeSignIns = field(default_factory=FakeSignIns)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        yield

    def as_port(self) -> UnitOfWork:
        # The fakes hold only what the use cases under test call; the rest of the port is unused.
        return cast(UnitOfWork, cast(Any, self))
