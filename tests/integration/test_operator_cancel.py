"""The operator calls off an order whose provisioning has not started (`orderhub order cancel`), on its
partner's behalf: the order ends cancelled with the reason, what it held is free again (another order
for the same product on the access is taken), and one already provisioned is refused in one line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.domain.accesses import ActivationRequest, NetworkOffering
from orderhub.domain.changes import CancellationState
from orderhub.domain.errors import OrderNotFound
from orderhub.domain.order_states import OrderState
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.auth import principal_of
from orderhub.services.order_commands import PlaceOrder
from orderhub.settings import Settings
from tests.integration.support import run_cli, sqlite_url

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(database_url=sqlite_url(tmp_path / "cancel.db")))
    built.migrate()
    network = AccessAdmin(built.uow_factory)
    network.add_product("broadband", "Broadband")
    network.add_offering(NetworkOffering("broadband", "1000-1000", "1000/1000 Mbit/s"))
    network.add_access("access-4711")
    built.partners.create_partner("nordnet", name="NordNet", roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"],
                                  co_id="NordNet")  # fmt: skip
    network.allow("nordnet", [("broadband", "1000-1000")])
    yield built
    built.close()


def gigabit(services: Services, at: datetime) -> str:
    """An activation on access-4711 placed as onapi-order places it; its id."""
    with services.uow_factory(read_only=True) as uow:
        caller = principal_of(uow, "nordnet")
    request = ActivationRequest("access-4711", (("broadband", "1000-1000"),), at)
    return asyncio.run(services.ordering.place(caller, PlaceOrder(request, {}, "onapi-order"))).order_id


def test_a_scheduled_order_is_cancelled_on_its_partners_behalf_and_frees_what_it_held(services: Services) -> None:
    scheduled = gigabit(services, datetime.now(UTC) + timedelta(days=2))

    cancellation, order = services.changes.cancel_for_operator(scheduled, reason="the CO asked by phone")

    assert (order.id, cancellation.state, cancellation.partner_id, cancellation.reason) == (
        scheduled, CancellationState.DONE, "nordnet", "the CO asked by phone"
    )  # fmt: skip
    with services.uow_factory(read_only=True) as uow:
        stored = uow.orders.get(scheduled)
        assert stored is not None and stored.state is OrderState.CANCELLED
        assert uow.orders.events(scheduled)[-1].reason == "the CO asked by phone"
    # The product is no longer "ordered already" on the access: the CO's next order for it is taken.
    taken = gigabit(services, datetime.now(UTC) + timedelta(days=3))
    with services.uow_factory(read_only=True) as uow:
        again = uow.orders.get(taken)
        assert again is not None and again.state is OrderState.SCHEDULED
    with pytest.raises(OrderNotFound):
        services.changes.cancel_for_operator("ORD-nothing", reason="x")


def test_the_command_cancels_and_says_so_and_refuses_an_order_already_provisioned(
    services: Services, tmp_path: Path
) -> None:
    scheduled = gigabit(services, datetime.now(UTC) + timedelta(days=2))
    url = sqlite_url(tmp_path / "cancel.db")

    done = run_cli("order", "cancel", scheduled, "--reason", "moved house", "--db", url, cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, f"order {scheduled} of nordnet cancelled: moved house")
    again = run_cli("order", "cancel", scheduled, "--reason", "twice", "--db", url, cwd=tmp_path)
    assert (again.returncode, again.stderr.strip()) == (
        1, f"error: order {scheduled} is not cancelled: an order that is cancelled can no longer be cancelled"
    )  # fmt: skip
    with services.uow_factory(read_only=True) as uow:
        stored = uow.orders.get(scheduled)
        assert stored is not None and stored.state is OrderState.CANCELLED
        refused = uow.cancellations.of_partners(["nordnet"], 0, 10)[0]
        assert sorted(c.state.value for c in refused) == ["done", "refused"]


def test_a_reason_in_the_orders_history_is_shown_masked_as_its_failure_line_is(
    services: Services, tmp_path: Path
) -> None:
    scheduled = gigabit(services, datetime.now(UTC) + timedelta(days=2))
    url = sqlite_url(tmp_path / "cancel.db")
    reason = "Anna Berg (anna.berg@example.se, 19850709-3477) called"
    assert run_cli("order", "cancel", scheduled, "--reason", reason, "--db", url, cwd=tmp_path).returncode == 0

    masked = "Anna Berg (a***@example.se, ********-****) called"
    shown = run_cli("order", "show", scheduled, "--db", url, cwd=tmp_path)
    as_json = run_cli("order", "show", scheduled, "--json", "--db", url, cwd=tmp_path)
    assert (shown.returncode, as_json.returncode) == (0, 0), shown.stderr + as_json.stderr
    for output in (shown.stdout, as_json.stdout):
        assert "anna.berg@" not in output and "19850709" not in output, output
    history_rows = [line for line in shown.stdout.splitlines() if "cancelled" in line and "called" in line]
    assert len(history_rows) == 1 and masked in history_rows[0], shown.stdout
    assert f"failure: {masked}" in shown.stdout
    assert json.loads(as_json.stdout)["history"][-1]["reason"] == masked


def test_a_reason_in_brackets_is_shown_in_the_history_as_given(services: Services, tmp_path: Path) -> None:
    """The history table shows a reason as written, not read as the console's markup ("[b]" dropped)."""
    scheduled = gigabit(services, datetime.now(UTC) + timedelta(days=2))
    url = sqlite_url(tmp_path / "cancel.db")
    reason = "[urgent] [b]moved house[/b]"
    assert run_cli("order", "cancel", scheduled, "--reason", reason, "--db", url, cwd=tmp_path).returncode == 0

    shown = run_cli("order", "show", scheduled, "--db", url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    history_rows = [line for line in shown.stdout.splitlines() if "│ cancelled" in line]
    assert len(history_rows) == 1 and reason in history_rows[0], shown.stdout
