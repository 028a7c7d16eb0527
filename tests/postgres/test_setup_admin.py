"""The operator's set-up of line and network orders (what `orderhub business-unit …`, `line add-product`,
`access …` and `partner update` call) on PostgreSQL: its statements, and the config version it moves. The CLI
flow itself, through real processes and then orders through a real server, runs on SQLite
(tests/integration/test_cli_setup.py): the commands only parse their options and call these."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services, build_services
from orderhub.domain.accesses import OFFERING_ATTRIBUTE, NetworkOffering
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.errors import InvalidInput
from orderhub.domain.lines import PLAN_TYPE_ATTRIBUTE, BusinessUnit, Offering, PlanType
from orderhub.domain.orders import Operation, Order, OrderItem, Subject, SubjectKind
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.line_setup import LineAdmin
from orderhub.settings import Settings


def test_business_units_their_offerings_and_network_products_are_kept_and_move_the_config_version(
    pg_url: str,
) -> None:
    services = build_services(Settings(database_url=pg_url))
    lines, network = LineAdmin(services.uow_factory), AccessAdmin(services.uow_factory)

    def version() -> int:
        with services.uow_factory(read_only=True) as uow:
            return uow.partners.config_version()

    before = version()
    lines.add_business_unit(BusinessUnit("GT", "Guatemala", "America/Guatemala", "[0-9]{8}", "8 digits"))
    assert services.catalog.add_product(Product("GT-PLAN-30D", "Plan, 30 days", ProductKind.LINE_OFFERING))
    lines.add_offering(Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 30))
    updated = lines.update_business_unit("GT", timezone="Asia/Tokyo")
    assert updated.timezone == "Asia/Tokyo" and version() > before
    ((unit, offerings),) = [(u, o) for u, o in lines.business_units() if u.id == "GT"]
    assert (unit.timezone, offerings) == ("Asia/Tokyo", [Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 30)])
    before = version()
    corrected = lines.add_offering(Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 60))  # updated (ON CONFLICT)
    assert corrected == Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 30) and version() > before
    ((_, offerings),) = [(u, o) for u, o in lines.business_units() if u.id == "GT"]
    assert offerings == [Offering("GT", "GT-PLAN-30D", PlanType.PLAN, 60)]

    assert network.add_product("broadband", "Broadband", prices={})
    assert not network.add_product("broadband", "Broadband, renamed")  # updated, not created again
    network.add_offerings([NetworkOffering("broadband", "500-500", "500/500 Mbit/s")])
    assert ("broadband", "500-500") in {(o.product_id, o.offering_id) for o in network.offerings()}
    replaced = network.add_offering(NetworkOffering("broadband", "500-500", "500/500 Mbit/s, symmetric"))
    assert replaced is not None and replaced.name == "500/500 Mbit/s"  # renamed in place (ON CONFLICT)
    assert {o.offering_id: o.name for o in network.offerings() if o.product_id == "broadband"}["500-500"] == (
        "500/500 Mbit/s, symmetric"
    )
    services.partners.create_partner("shop-gt", name="Shop GT", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    before = version()
    services.partners.set_business_units("shop-gt", ["GT"])
    assert version() > before
    with pytest.raises(InvalidInput):
        network.add_product("GT-PLAN-30D", "a line product's id")  # another kind of product
    services.close()


def test_an_offering_sold_so_by_two_operators_at_once_is_sold_once_with_the_later_validity(pg_url: str) -> None:
    services = build_services(Settings(database_url=pg_url))
    lines = LineAdmin(services.uow_factory)
    first = Offering("CR", "OFFER-ADDON-003", PlanType.DATA_PLAN, 7)  # the demo's CR sells it as an Addon only
    second = replace(first, validity_days=14)
    outcome: list[object] = []
    try:
        with services.uow_factory() as held:  # the first operator's statement, its transaction still open
            held.lines.put_offering(first)
            racing = threading.Thread(target=lambda: outcome.append(_outcome(lambda: lines.add_offering(second))))
            racing.start()
            _until_waiting_on_a_lock(services.engine)  # the second's insert waits on the first's row
            held.commit()
        racing.join(30)
        # An INSERT met the first's row and failed (IntegrityError); the upsert takes it over.
        assert outcome == [None]  # it read no offering before the first committed: "added", and no error
        ((_, offerings),) = [(u, o) for u, o in lines.business_units() if u.id == "CR"]
        assert [o for o in offerings if o.product_id == "OFFER-ADDON-003" and o.plan_type is PlanType.DATA_PLAN] == [
            second
        ]
    finally:
        services.close()


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as exc:
        return exc


def _until_waiting_on_a_lock(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        for _ in range(1000):  # up to 10 s: the thread connects first
            waiting = connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar()  # fmt: skip
            if waiting:
                return
            # pg_stat_activity is read once per transaction and kept: each look needs a transaction of its
            # own. Without, a first look before the thread waited saw no wait ever after (a flaky test).
            connection.rollback()
            time.sleep(0.01)
    raise AssertionError("the second operator's statement never waited on the first's")


def _version(services: Services) -> int:
    with services.uow_factory(read_only=True) as uow:
        return uow.partners.config_version()


def test_a_partner_updated_is_kept_and_moves_the_config_version(pg_url: str) -> None:
    services = build_services(Settings(database_url=pg_url))
    partners = services.partners
    try:
        before = _version(services)
        change = partners.update_partner("demo-co-fibra", name="Fibra AB", currencies=["SEK", "EUR"], language="en")
        assert (change.after.name, change.after.currencies, change.after.language) == ("Fibra AB", {"EUR", "SEK"}, "en")
        assert _version(services) > before
        assert {e.partner.id: e.partner for e in partners.list_partners()}["demo-co-fibra"] == change.after
        unchanged = partners.update_partner("demo-co-fibra", co_id="Fibra")  # its own coId is no other's
        assert unchanged.before == unchanged.after
        with pytest.raises(InvalidInput, match="co id Acme belongs to another partner"):
            partners.update_partner("demo-co-fibra", co_id="Acme")
    finally:
        services.close()


def test_an_offering_removed_names_the_orders_waiting_for_it_and_takes_its_grants(pg_url: str) -> None:
    services = build_services(Settings(database_url=pg_url))
    lines, network, partners = LineAdmin(services.uow_factory), AccessAdmin(services.uow_factory), services.partners
    try:
        # Orders waiting for a date, on the items of the offerings about to be withdrawn (the plan type and
        # the offering are JSON attributes of the items: read alike on PostgreSQL).
        later = datetime.now(UTC) + timedelta(days=1)
        with services.uow_factory(read_only=True) as uow:
            cr_line, pa_line = uow.lines.find_line("CR", "69877689"), uow.lines.find_line("PA", "61234567")
            access = uow.accesses.by_ref("access-free-1")
        assert cr_line is not None and pa_line is not None and access is not None
        cr, pa = Subject(SubjectKind.LINE, cr_line.id), Subject(SubjectKind.LINE, pa_line.id)
        fibre = Subject(SubjectKind.ACCESS, access.id)
        waiting = {
            "cr-data-plan": (cr, "OFFER-DP-001", {PLAN_TYPE_ATTRIBUTE: "DataPlan"}),
            "cr-plan": (cr, "OFFER-DP-001", {PLAN_TYPE_ATTRIBUTE: "Plan"}),
            "pa-data-plan": (pa, "OFFER-DP-001", {PLAN_TYPE_ATTRIBUTE: "DataPlan"}),  # another unit's
            "fibre-250": (fibre, "fiber-internet", {OFFERING_ATTRIBUTE: "250-250"}),
            "fibre-1000": (fibre, "fiber-internet", {OFFERING_ATTRIBUTE: "1000-1000"}),
        }
        for order_id, (subject, product, attributes) in waiting.items():
            on_line = subject.kind is SubjectKind.LINE
            order = Order.accept(
                now=datetime.now(UTC),
                due_at=later,
                id=order_id,
                partner_id="demo-channel-1" if on_line else "demo-co-acme",
                dialect="tmf-productorder" if on_line else "onapi-order",
                operation=Operation.LINE_PRODUCTS if on_line else Operation.ACTIVATE_SERVICE,
                customer_id=None,
                subject=subject,
                items=[OrderItem(seq=1, product_id=product, attributes=attributes)],
            )
            services.database.write_now(lambda uow, order=order: uow.orders.add(order))

        before = _version(services)
        removal = lines.remove_offering("CR", "OFFER-DP-001", PlanType.DATA_PLAN)
        assert removal.removed == Offering("CR", "OFFER-DP-001", PlanType.DATA_PLAN, 7)
        assert (removal.still_sold_as, removal.open_orders) == ((PlanType.ADDON, PlanType.PLAN), ["cr-data-plan"])
        withdrawn = network.remove_offering("fiber-internet", "250-250")
        assert (withdrawn.disallowed, withdrawn.open_orders) == (["demo-co-acme", "demo-co-fibra"], ["fibre-250"])
        assert _version(services) > before
        ((_, offerings),) = [(u, o) for u, o in lines.business_units() if u.id == "CR"]
        assert (PlanType.DATA_PLAN, "OFFER-DP-001") not in {(o.plan_type, o.product_id) for o in offerings}
        assert ("fiber-internet", "250-250") not in {(o.product_id, o.offering_id) for o in network.offerings()}
        assert {e.partner.id: e.offerings for e in partners.list_partners()}["demo-co-fibra"] == []
        assert lines.remove_offering("CR", "OFFER-DP-001", PlanType.DATA_PLAN).removed is None
        assert network.remove_offering("fiber-internet", "250-250").removed is None
    finally:
        services.close()


def test_a_co_id_given_to_two_partners_at_once_goes_to_one(pg_url: str) -> None:
    services = build_services(Settings(database_url=pg_url))
    outcome: list[object] = []
    try:
        with services.uow_factory() as held:  # the first operator's update, its transaction still open
            acme = held.partners.get("demo-co-acme")
            assert acme is not None
            held.partners.update(replace(acme, co_id="Nordic"))
            racing = threading.Thread(
                target=lambda: outcome.append(
                    _outcome(lambda: services.partners.update_partner("demo-co-fibra", co_id="Nordic"))
                )
            )
            racing.start()
            _until_waiting_on_a_lock(services.engine)  # the second's update waits on the first's index entry
            held.commit()
        racing.join(30)
        # The second looked the coId up before the first committed; the unique index refuses it, and the
        # refusal is the one line a look-up gives (it was an IntegrityError from the database).
        (refused,) = outcome
        assert isinstance(refused, InvalidInput) and refused.message == "co id Nordic belongs to another partner"
        coids = {e.partner.id: e.partner.co_id for e in services.partners.list_partners()}
        assert (coids["demo-co-acme"], coids["demo-co-fibra"]) == ("Nordic", "Fibra")
    finally:
        services.close()
