"""Property tests (Hypothesis) of the domain's parsers and of the order state machine: whatever the
input, a parser answers yes or no (never raises), and what it accepts round-trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from orderhub.dialects.esim_v1.mapping import _utc
from orderhub.dialects.tmf622.wire import parse_time
from orderhub.dialects.tmf_productorder.errors import TmfError
from orderhub.domain.catalog import Product
from orderhub.domain.customers import email_valid
from orderhub.domain.errors import CannotCancel, InvalidInput
from orderhub.domain.identifiers import (
    Iccid,
    eid_valid,
    luhn_check_digit,
    luhn_valid,
    matching_id_valid,
    personal_identity_number_valid,
)
from orderhub.domain.lines import BusinessUnit
from orderhub.domain.order_states import ALLOWED_TRANSITIONS, IllegalTransition, OrderState
from orderhub.domain.orders import Operation, Order, OrderItem

# No deadlines: this machine is shared and noisy, and speed is the benchmarks' business, not a test's.
settings.register_profile("orderhub", deadline=None)
settings.load_profile("orderhub")

TODAY = date(2026, 11, 24)
CR = BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", "[0-9]{8}", "8 digits")


@given(st.text(max_size=40))
def test_parsers_answer_any_text_without_raising(text: str) -> None:
    for check in (luhn_valid, eid_valid, matching_id_valid, email_valid, CR.msisdn_valid):
        assert isinstance(check(text), bool)
    assert isinstance(personal_identity_number_valid(text, TODAY), bool)


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_a_luhn_check_digit_makes_any_number_valid(payload: str) -> None:
    assert luhn_valid(payload + str(luhn_check_digit(payload)))
    wrong = (luhn_check_digit(payload) + 1) % 10
    assert not luhn_valid(payload + str(wrong))


@given(st.text(max_size=30))
def test_iccid_parsing_accepts_or_raises_value_error_only(text: str) -> None:
    try:
        iccid = Iccid.parse(text)
    except ValueError:
        return
    assert iccid.value.isdigit() and 19 <= len(iccid.value) <= 20


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY), st.integers(0, 999), st.booleans())
def test_every_real_birth_date_with_its_check_digit_is_a_valid_identity_number(
    born: date, serial: int, coordination: bool
) -> None:
    day = born.day + (60 if coordination else 0)
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    number = f"{born:%Y%m}{day:02d}-{serial:03d}{luhn_check_digit(nine)}"
    assert personal_identity_number_valid(number, TODAY)
    assert not personal_identity_number_valid(number[:-1] + str((int(number[-1]) + 1) % 10), TODAY)


@example(Decimal("10000000000"))
@example(Decimal("9999999999.9999"))
@example(Decimal("0E+20"))
@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_a_price_is_accepted_only_when_it_is_money(amount: object) -> None:
    assert isinstance(amount, Decimal)
    problems = Product(id="p", name="P", prices={"USD": amount}).validate()
    is_money = amount.is_finite() and 0 <= amount < 10**10 and int(amount.as_tuple().exponent) >= -4
    assert (not problems) == is_money


NOW = datetime(2030, 1, 1, tzinfo=UTC)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(list(OrderState)), max_size=12), st.booleans())
def test_no_sequence_of_requests_reaches_a_state_by_a_forbidden_step(targets: list[OrderState], cancel: bool) -> None:
    order = Order.accept(
        now=NOW,
        id="o",
        partner_id="p",
        dialect="d",
        operation=Operation.NEW_ESIM,
        customer_id=None,
        items=[OrderItem(seq=1, product_id="x")],
    )
    for step, target in enumerate(targets):
        before = order.state
        try:
            if cancel and step == len(targets) // 2:
                order.cancel("why", NOW + timedelta(seconds=step))
            else:
                order.transition(target, now=NOW + timedelta(seconds=step))
        except (IllegalTransition, CannotCancel):
            assert order.state is before
            continue
        assert order.state in ALLOWED_TRANSITIONS[before] or order.state is OrderState.CANCELLED
    # The history the order records is a path through the allowed transitions, with no gap.
    previous = None
    for event in order.new_events:
        assert event.from_state == previous
        if previous is not None:
            assert event.to_state in ALLOWED_TRANSITIONS[previous]
        previous = event.to_state
    assert previous is order.state


@given(st.text(max_size=40))
def test_tmf_dates_are_read_or_refused_with_a_400_never_anything_else(text: str) -> None:
    try:
        moment = parse_time(text, "requestedStartDate")
    except TmfError as refused:
        assert refused.status == 400
        return
    assert moment.tzinfo is not None


@given(st.datetimes(timezones=st.timezones()))
def test_esim_activation_dates_anywhere_in_the_calendar_are_read_or_refused_as_input(moment: datetime) -> None:
    try:
        converted = _utc(moment, 0)
    except InvalidInput as refused:
        assert refused.field == "input.subscriptions[0].activationDate"
        return
    assert converted is not None and converted.utcoffset() == timedelta(0)
