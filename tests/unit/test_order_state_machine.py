"""The order state machine: allowed transitions, forbidden ones, events and final states."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from orderhub.domain.errors import CannotCancel, CannotChange
from orderhub.domain.order_states import (
    ALLOWED_TRANSITIONS,
    CHANGED_BY_PARTNER,
    DELETED_BY_PARTNER,
    EventKind,
    IllegalTransition,
    OrderEvent,
    OrderState,
)
from orderhub.domain.orders import FELL_DUE, ItemState, Operation, Order, OrderItem
from orderhub.domain.results import EsimResult

NOW = datetime(2030, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(minutes=3)
RESULT = EsimResult("89014103211118510720", "smdp.example.com", ("sub-1",), "MATCHING-ID")

ALLOWED_PAIRS = [(src, dst) for src, targets in ALLOWED_TRANSITIONS.items() for dst in sorted(targets)]
ILLEGAL_PAIRS = [(src, dst) for src, dst in product(OrderState, OrderState) if dst not in ALLOWED_TRANSITIONS[src]]
FINAL_STATES = {OrderState.COMPLETED, OrderState.PARTIAL, OrderState.FAILED, OrderState.REJECTED, OrderState.CANCELLED}


def order_in(state: OrderState) -> Order:
    return Order(
        id="ord-1",
        partner_id="partner-1",
        dialect="esim-v1",
        operation=Operation.NEW_ESIM,
        customer_id="cust-1",
        items=[OrderItem(seq=0, product_id="P1")],
        created_at=NOW,
        updated_at=NOW,
        state=state,
    )


def accepted_order() -> Order:
    return Order.accept(
        now=NOW,
        id="ord-1",
        partner_id="partner-1",
        dialect="esim-v1",
        operation=Operation.NEW_ESIM,
        customer_id="cust-1",
        items=[OrderItem(seq=0, product_id="P1")],
    )


def test_table_covers_every_state():
    assert set(ALLOWED_TRANSITIONS) == set(OrderState)


def test_pairs_partition_all_state_pairs():
    assert len(ALLOWED_PAIRS) == 19
    assert len(ALLOWED_PAIRS) + len(ILLEGAL_PAIRS) == len(OrderState) ** 2


def test_accept_starts_accepted_with_an_accepted_event():
    order = accepted_order()
    assert order.state is OrderState.ACCEPTED
    assert order.created_at == NOW
    assert order.updated_at == NOW
    assert order.new_events == [OrderEvent(at=NOW, from_state=None, to_state=OrderState.ACCEPTED)]


def test_accept_defaults_due_at_to_now_and_keeps_a_given_due_at():
    assert accepted_order().due_at == NOW
    due = NOW + timedelta(days=2)
    order = Order.accept(
        now=NOW,
        due_at=due,
        id="ord-2",
        partner_id="partner-1",
        dialect="esim-v1",
        operation=Operation.TOPUP,
        customer_id=None,
        items=[],
    )
    assert order.due_at == due


def test_an_order_due_later_is_scheduled_until_then():
    due = NOW + timedelta(hours=3)
    order = Order.accept(
        now=NOW,
        due_at=due,
        id="ord-3",
        partner_id="p",
        dialect="d",
        operation=Operation.TOPUP,
        customer_id=None,
        items=[],
    )
    assert order.state is OrderState.SCHEDULED
    assert [e.to_state for e in order.new_events] == [OrderState.ACCEPTED, OrderState.SCHEDULED]
    order.start(due)  # the worker, once it is due: due first, as when a partner's new date makes it due
    assert order.state is OrderState.IN_PROGRESS
    assert [(e.from_state, e.to_state, e.reason) for e in order.new_events[2:]] == [
        (OrderState.SCHEDULED, OrderState.ACCEPTED, FELL_DUE),
        (OrderState.ACCEPTED, OrderState.IN_PROGRESS, None),
    ]


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        # Steps neither the design nor any feature takes: a waiting order starts by way of ACCEPTED, a
        # cancellation goes through its assessment, nothing holds an order before provisioning.
        (OrderState.SCHEDULED, OrderState.IN_PROGRESS),
        (OrderState.SCHEDULED, OrderState.CANCELLED),
        (OrderState.ACCEPTED, OrderState.CANCELLED),
        (OrderState.ACCEPTED, OrderState.HELD),
        (OrderState.ASSESSING_CANCELLATION, OrderState.ACCEPTED),
    ],
)
def test_steps_outside_the_state_model_are_refused(src, dst):
    with pytest.raises(IllegalTransition):
        order_in(src).transition(dst, now=LATER)


def test_an_order_due_now_stays_accepted():
    assert accepted_order().state is OrderState.ACCEPTED


@pytest.mark.parametrize(("src", "dst"), ALLOWED_PAIRS, ids=[f"{s}->{d}" for s, d in ALLOWED_PAIRS])
def test_allowed_transition_changes_state_and_appends_event(src, dst):
    order = order_in(src)
    order.transition(dst, now=LATER, reason="why")
    assert order.state is dst
    assert order.updated_at == LATER
    assert order.new_events == [OrderEvent(at=LATER, from_state=src, to_state=dst, reason="why")]


@pytest.mark.parametrize(("src", "dst"), ILLEGAL_PAIRS, ids=[f"{s}->{d}" for s, d in ILLEGAL_PAIRS])
def test_illegal_transition_raises_and_changes_nothing(src, dst):
    order = order_in(src)
    with pytest.raises(IllegalTransition) as excinfo:
        order.transition(dst, now=LATER)
    assert excinfo.value.from_state is src
    assert excinfo.value.to_state is dst
    assert order.state is src
    assert order.new_events == []
    assert order.updated_at == NOW


@pytest.mark.parametrize("state", list(OrderState))
def test_final_states_are_final_and_have_no_way_out(state):
    assert state.is_final == (state in FINAL_STATES)
    assert state.is_final == (not ALLOWED_TRANSITIONS[state])


def test_full_happy_path_records_every_event_in_order():
    order = accepted_order()
    order.transition(OrderState.SCHEDULED, now=NOW)
    order.start(LATER)
    order.complete(RESULT, LATER)
    assert [(e.from_state, e.to_state) for e in order.new_events] == [
        (None, OrderState.ACCEPTED),
        (OrderState.ACCEPTED, OrderState.SCHEDULED),
        (OrderState.SCHEDULED, OrderState.ACCEPTED),
        (OrderState.ACCEPTED, OrderState.IN_PROGRESS),
        (OrderState.IN_PROGRESS, OrderState.COMPLETED),
    ]


def test_complete_sets_result():
    order = order_in(OrderState.IN_PROGRESS)
    order.complete(RESULT, LATER)
    assert order.state is OrderState.COMPLETED
    assert order.result == RESULT
    assert order.failure_reason is None


def test_complete_from_accepted_is_illegal_and_keeps_no_result():
    order = order_in(OrderState.ACCEPTED)
    with pytest.raises(IllegalTransition):
        order.complete(RESULT, LATER)
    assert order.result is None
    assert order.state is OrderState.ACCEPTED


def test_fail_sets_failure_reason_and_event_reason():
    order = order_in(OrderState.IN_PROGRESS)
    order.fail("no profile available", LATER)
    assert order.state is OrderState.FAILED
    assert order.failure_reason == "no profile available"
    assert order.new_events == [
        OrderEvent(
            at=LATER, from_state=OrderState.IN_PROGRESS, to_state=OrderState.FAILED, reason="no profile available"
        )
    ]


def test_fail_from_accepted_is_illegal_and_keeps_failure_reason_empty():
    order = order_in(OrderState.ACCEPTED)
    with pytest.raises(IllegalTransition):
        order.fail("boom", LATER)
    assert order.failure_reason is None


def test_start_moves_an_accepted_order_to_in_progress():
    order = order_in(OrderState.ACCEPTED)
    order.start(LATER)
    assert order.state is OrderState.IN_PROGRESS
    assert order.new_events == [OrderEvent(at=LATER, from_state=OrderState.ACCEPTED, to_state=OrderState.IN_PROGRESS)]


def test_start_moves_a_scheduled_order_through_accepted_to_in_progress():
    order = order_in(OrderState.SCHEDULED)
    order.start(LATER)
    assert order.state is OrderState.IN_PROGRESS
    assert order.new_events == [
        OrderEvent(at=LATER, from_state=OrderState.SCHEDULED, to_state=OrderState.ACCEPTED, reason=FELL_DUE),
        OrderEvent(at=LATER, from_state=OrderState.ACCEPTED, to_state=OrderState.IN_PROGRESS),
    ]


def test_start_on_in_progress_order_is_a_no_op():
    order = order_in(OrderState.IN_PROGRESS)
    order.start(LATER)
    assert order.state is OrderState.IN_PROGRESS
    assert order.new_events == []
    assert order.updated_at == NOW


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_start_on_final_order_is_illegal(state):
    order = order_in(state)
    with pytest.raises(IllegalTransition):
        order.start(LATER)
    assert order.state is state


@pytest.mark.parametrize("state", [OrderState.ACCEPTED, OrderState.SCHEDULED, OrderState.HELD])
def test_an_order_not_started_is_cancelled_through_assessment_and_pending(state):
    order = order_in(state)
    order.cancel("customer changed their mind", LATER)
    assert order.state is OrderState.CANCELLED
    assert [(e.from_state, e.to_state) for e in order.new_events] == [
        (state, OrderState.ASSESSING_CANCELLATION),
        (OrderState.ASSESSING_CANCELLATION, OrderState.PENDING_CANCELLATION),
        (OrderState.PENDING_CANCELLATION, OrderState.CANCELLED),
    ]
    assert order.new_events[-1].reason == "customer changed their mind"
    # The order keeps why it ended (TMF622's cancellationReason), and its last event shows it so.
    assert order.failure_reason == "customer changed their mind"
    assert order.as_at(order.new_events[-1]).failure_reason == "customer changed their mind"
    assert order.as_at(order.new_events[-2]).failure_reason is None


@pytest.mark.parametrize("state", [OrderState.IN_PROGRESS, *sorted(FINAL_STATES)])
def test_an_order_in_provisioning_or_finished_cannot_be_cancelled(state):
    order = order_in(state)
    with pytest.raises(CannotCancel):
        order.cancel(None, LATER)
    assert order.state is state
    assert order.new_events == []


def test_an_order_ends_as_its_items_did():
    for failed, expected in [({}, OrderState.COMPLETED), ({0: "gone"}, OrderState.FAILED)]:
        order = order_in(OrderState.IN_PROGRESS)
        order.finish(RESULT, failed, LATER)
        assert order.state is expected
        assert order.items[0].state is (ItemState.FAILED if failed else ItemState.DELIVERED)
    two = order_in(OrderState.IN_PROGRESS)
    two.items.append(OrderItem(seq=1, product_id="P2"))
    two.finish(RESULT, {1: "offering withdrawn"}, LATER)
    assert two.state is OrderState.PARTIAL
    assert two.failure_reason == "item 1: offering withdrawn"
    assert [i.state for i in two.items] == [ItemState.DELIVERED, ItemState.FAILED]


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_a_finished_order_is_deleted_with_a_note_that_moves_no_state(state):
    order = order_in(state)
    order.delete(LATER)
    assert order.state is state
    assert [(e.from_state, e.to_state, e.kind) for e in order.new_events] == [(state, state, EventKind.DELETED)]


@pytest.mark.parametrize("state", sorted(set(OrderState) - FINAL_STATES))
def test_an_open_order_cannot_be_deleted(state):
    order = order_in(state)
    with pytest.raises(CannotChange):
        order.delete(LATER)
    assert order.new_events == []


def test_each_event_says_what_kind_of_change_it_records():
    order = accepted_order()
    order.note(CHANGED_BY_PARTNER, LATER)
    order.start(LATER)
    assert [e.kind for e in order.new_events] == [EventKind.CREATED, EventKind.CHANGED, EventKind.STATE_CHANGED]
    # A partner's cancellation reason that reads like a deletion is still a state change.
    assert OrderEvent(LATER, OrderState.SCHEDULED, OrderState.CANCELLED, DELETED_BY_PARTNER).kind is (
        EventKind.STATE_CHANGED
    )
