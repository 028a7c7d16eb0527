"""What a partner wrote reaches the operator's terminal as text: `order show` and `order list` write a
TMF622 cancellationReason's escapes and newlines out, so that it neither drives the terminal (clears the
screen, colours, retitles the window) nor forges a line of the command's own output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orderhub.bootstrap import build_services
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.lines import BusinessUnit
from orderhub.domain.orders import Operation, Order, OrderItem, Subject, SubjectKind
from orderhub.services.line_setup import LineAdmin
from orderhub.settings import Settings
from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration

# As the API stores it: TMF622 takes any string as a cancellationReason.
REASON = "moved\x1b[2J\x1b[31m\nerror: every order was deleted\x9b31m\u202e"
RAW = ("\x1b", "\x9b", "\u202e", "\nerror: every order")


def test_a_partners_cancellation_reason_is_shown_written_out(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "orderhub.db")
    services = build_services(Settings(database_url=url))
    try:
        services.migrate()
        lines = LineAdmin(services.uow_factory)
        lines.add_business_unit(BusinessUnit("GT", "Guatemala", "America/Guatemala", "[0-9]{8}", "8 digits"))
        line = lines.add_line("GT", "50210001")
        services.partners.create_partner("shop", name="Shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
        services.catalog.add_product(Product("GT-DATA-5GB", "5 GB of data", ProductKind.LINE_OFFERING))
        now = datetime.now(UTC)
        order = Order.accept(
            now=now,
            id="o-1",
            partner_id="shop",
            dialect="tmf622",
            operation=Operation.LINE_PRODUCTS,
            customer_id=None,
            subject=Subject(SubjectKind.LINE, line.id),
            due_at=now + timedelta(days=3),
            items=[OrderItem(seq=1, product_id="GT-DATA-5GB")],
        )
        services.database.write_now(lambda uow: uow.orders.add(order))
        services.changes.cancel_for_operator("o-1", reason=REASON)
    finally:
        services.close()

    for command in (["order", "show", "o-1"], ["order", "list"]):
        shown = run_cli(*command, "--db", url, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert not [raw for raw in RAW if raw in shown.stdout], shown.stdout
        assert "\\x1b[2J" in shown.stdout, shown.stdout
