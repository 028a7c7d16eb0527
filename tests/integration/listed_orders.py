"""Orders of three partners placed through each of the four APIs, on a line, an access and an eSIM, in
every kind of state, one of them deleted: what `orderhub order list` is tried on (SQLite in
test_order_list.py, PostgreSQL in tests/postgres/test_order_list.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orderhub.bootstrap import Services
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.customers import PERSONAL_IDENTITY_NUMBER, Customer, Identity
from orderhub.domain.lines import BusinessUnit
from orderhub.domain.orders import Operation, Order, OrderItem, Subject, SubjectKind
from orderhub.domain.results import EsimResult
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.line_setup import LineAdmin
from orderhub.services.ports import UnitOfWork

DAY = datetime(2026, 3, 1, tzinfo=UTC)
ICCID = "8988247000100003270"
# The customer of the failed eSIM order: none of this may show in a listing.
CUSTOMER_NAME, CUSTOMER_EMAIL, CUSTOMER_PIN = "Jane Roe", "jane.roe@example.com", "199001011234"
FAILURE = f"no profile for {CUSTOMER_EMAIL}: the inventory of batch 2026-03 is empty, import more profiles"
# The externalId its TMF622 partner gave the failed line order (and the deleted one).
EXTERNAL_ID = "PO-2026-77"
# Newest first, as listed; "line-deleted" (a cancelled TMF622 order its partner deleted) never is.
LISTED = ["access-open", "line-failed", "line-scheduled", "esim-failed", "esim-done"]


def add_orders(services: Services) -> None:
    lines = LineAdmin(services.uow_factory)
    lines.add_business_unit(BusinessUnit("GT", "Guatemala", "America/Guatemala", "[0-9]{8}", "8 digits"))
    line = Subject(SubjectKind.LINE, lines.add_line("GT", "50210001").id)
    access = Subject(SubjectKind.ACCESS, AccessAdmin(services.uow_factory).add_access("access-4711").id)
    partners = services.partners
    partners.create_partner("travel", name="Travel", roles=["RESELLER"], currencies=["USD"])
    partners.create_partner("shop", name="Shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    partners.create_partner("nordnet", name="NordNet", roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"],
                            co_id="NordNet")  # fmt: skip
    services.catalog.add_product(Product("GT-DATA-5GB", "5 GB of data", ProductKind.LINE_OFFERING))
    customer = Customer("customer-1", "travel", CUSTOMER_EMAIL, DAY, "SE", CUSTOMER_NAME,
                        Identity(PERSONAL_IDENTITY_NUMBER, CUSTOMER_PIN))  # fmt: skip
    services.database.write_now(lambda uow: uow.partners.add_customer(customer))

    def order(
        order_id: str, partner: str, dialect: str, operation: Operation, created: datetime, **fields: object
    ) -> Order:
        return Order.accept(now=created, id=order_id, partner_id=partner, dialect=dialect, operation=operation,
                            items=[OrderItem(seq=1, product_id="GT-DATA-5GB")], **fields)  # fmt: skip

    done = order("esim-done", "travel", "esim-v1", Operation.NEW_ESIM, DAY + timedelta(hours=8), customer_id=None,
                 subject=Subject(SubjectKind.ESIM, ICCID))  # fmt: skip
    done.start(done.created_at)
    done.complete(EsimResult(ICCID, "smdp.example.com", ("sub-1",)), done.created_at)
    failed_esim = order("esim-failed", "travel", "esim-v1", Operation.NEW_ESIM, DAY + timedelta(days=1, hours=9),
                        customer_id="customer-1", request={"customer": {"email": CUSTOMER_EMAIL}})  # fmt: skip
    failed_esim.start(failed_esim.created_at)
    failed_esim.fail(FAILURE, failed_esim.created_at)
    scheduled = order("line-scheduled", "shop", "tmf-productorder", Operation.LINE_PRODUCTS,
                      DAY + timedelta(days=1, hours=10), customer_id=None, subject=line,
                      reference="ORD-20260302100000-0001", due_at=DAY + timedelta(days=9))  # fmt: skip
    failed_line = order("line-failed", "shop", "tmf622", Operation.LINE_PRODUCTS, DAY + timedelta(days=2),
                        customer_id=None, subject=line, reference="ORD-20260303000000-0001",
                        request={"businessId": "GT", "order": {"externalId": EXTERNAL_ID}})  # fmt: skip
    failed_line.start(failed_line.created_at)
    failed_line.fail("the line is barred", failed_line.created_at)
    open_access = order("access-open", "nordnet", "onapi-order", Operation.ACTIVATE_SERVICE,
                        DAY + timedelta(days=2, hours=12), customer_id=None, subject=access)  # fmt: skip
    deleted = order("line-deleted", "shop", "tmf622", Operation.LINE_PRODUCTS, DAY + timedelta(days=2, hours=13),
                    customer_id=None, subject=line, reference="ORD-20260303130000-0001",
                    request={"businessId": "GT", "order": {"externalId": EXTERNAL_ID}})  # fmt: skip
    deleted.cancel("not wanted", deleted.created_at)

    def store(uow: UnitOfWork) -> None:
        for each in (done, failed_esim, scheduled, failed_line, open_access, deleted):
            uow.orders.add(each)
        uow.orders.mark_deleted(deleted, DAY + timedelta(days=3))

    services.database.write_now(store)
